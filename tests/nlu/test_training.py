"""Training pieces: the classifiers compared in config.yml and the concept-swap augmentation."""

from __future__ import annotations

import pytest

from nlu import NluModel, evaluate, load_training_data
from nlu._concepts import ConceptMatcher, concept_surfaces, concept_table
from nlu._config import load_config
from nlu._data import Example
from nlu._text import blank_dutch

INTENTS = ("check_wallet", "find_course", "stop_nudges", "privacy_delete", "greet")


@pytest.mark.parametrize(
    "kind",
    [
        "char_word_logreg",  # the one config.yml uses: always
        pytest.param("logreg_ensemble", marks=pytest.mark.slow),
        pytest.param("spacy_textcat", marks=pytest.mark.slow),
    ],
)
def test_each_classifier_learns_unseen_examples(kind: str) -> None:
    """Every classifier config.yml can choose trains and scores examples it never saw."""
    data = load_training_data()
    per_intent = {i: [e for e in data.examples if e.intent == i] for i in INTENTS}
    train = [e for examples in per_intent.values() for e in examples[:40]]
    test = [e for examples in per_intent.values() for e in examples[40:60]]
    config = load_config()
    config = config.model_copy(
        update={"classifier": config.classifier.model_copy(update={"kind": kind})}
    )
    model = NluModel.train(data, config, examples=train)
    assert type(model.classifier).name == kind  # type: ignore[attr-defined]
    assert sorted(model.classifier.labels) == sorted(INTENTS)
    report = evaluate(model, test)
    assert report["accuracy"] >= 0.8, (kind, report["accuracy"], report["confusions"])


def test_concept_swap_keeps_the_intent_and_swaps_a_word_of_the_same_concept() -> None:
    data = load_training_data()
    nlp = blank_dutch()
    matcher = ConceptMatcher(concept_table(nlp, data))
    surfaces = concept_surfaces(data)
    examples = [
        Example("hoeveel saldo heb ik nog", "check_wallet"),
        Example("zet alle meldingen uit", "stop_nudges"),
        Example("12345", "inform"),  # no concept word: no copy
    ]
    copies = matcher.paraphrase(examples, nlp, surfaces, seed=1)
    assert [c.intent for c in copies] == ["check_wallet", "stop_nudges"]
    assert copies == matcher.paraphrase(examples, nlp, surfaces, seed=1)  # seeded
    money = {p.casefold() for p in surfaces["money"]}
    wallet = copies[0].text
    assert wallet.startswith("hoeveel ") and wallet.endswith(" heb ik nog")
    swapped = wallet.removeprefix("hoeveel ").removesuffix(" heb ik nog")
    assert swapped != "saldo" and swapped.casefold() in money
    assert copies[1].text != examples[1].text
