"""Scores on data the model was not trained on: a held-out split and unrelated sentences."""

from __future__ import annotations

from pathlib import Path

import pytest
from sklearn.model_selection import train_test_split

from nlu import NluModel, evaluate, load_training_data, load_yaml
from nlu._data import _key

UNRELATED = Path(__file__).parent / "unrelated_sentences.txt"


@pytest.mark.slow
def test_held_out_split() -> None:
    """Train on 80%, score the other 20%: catches a pipeline that stops generalising."""
    data = load_training_data()
    labels = [e.intent for e in data.examples]
    train, test = train_test_split(data.examples, test_size=0.2, random_state=7, stratify=labels)
    model = NluModel.train(data, examples=train)
    report = evaluate(model, test)
    assert set(report["per_intent"]) == set(data.intents)
    assert report["macro_f1"] >= 0.85, report["macro_f1"]


def _unrelated() -> list[str]:
    lines = UNRELATED.read_text(encoding="utf-8").splitlines()
    return [line for line in lines if line.strip() and not line.startswith("#")]


def test_unrelated_sentences_are_not_in_the_training_data() -> None:
    training = {e.text.casefold() for e in load_training_data().examples}
    sentences = _unrelated()
    assert len(sentences) >= 100
    assert not [s for s in sentences if s.casefold() in training]


def test_unrelated_sentences_rarely_get_a_domain_intent(nlu_model: NluModel) -> None:
    results = nlu_model.parse_batch(_unrelated())
    domain = [
        (r["text"], r["intent"]["name"])
        for r in results
        if r["intent"]["name"] not in ("out_of_scope", "nlu_fallback")
    ]
    assert len(domain) / len(results) <= 0.05, domain


HELD_OUT = Path(__file__).parent / "held_out.yml"


def test_held_out_sentences_are_not_in_the_training_data() -> None:
    training = {_key(e.text) for e in load_training_data().examples}
    held_out = load_yaml(HELD_OUT).examples
    assert len(held_out) >= 100
    assert not [e.text for e in held_out if _key(e.text) in training]


def test_held_out_typical_sentences(nlu_model: NluModel) -> None:
    """Plain, typical requests for every intent, none of them trained on."""
    held_out = load_yaml(HELD_OUT).examples
    report = evaluate(nlu_model, held_out)
    assert set(report["per_intent"]) == {e.intent for e in held_out}
    assert report["macro_f1"] >= 0.95, report["confusions"]
