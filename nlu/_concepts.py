"""Concept features: lookup tables named `concept_*` (nlu/data/concepts.yml) mark words of a
concept in the text; the classifier sees `__concept_<name>__` tokens (as Rasa's lookup-table
features do for DIET). Also: training-time augmentation with typos."""

from __future__ import annotations

import random
from collections.abc import Sequence

from spacy.language import Language
from spacy.tokens import Doc

from nlu._data import Example, TrainingData
from nlu._phrases import PhraseIndex

PREFIX = "concept_"


def concept_table(nlp: Language, data: TrainingData) -> dict[str, list[str]]:
    """Folded-lemma phrase -> concept names, from the `concept_*` lookup tables."""
    table: dict[str, list[str]] = {}
    for name, phrases in data.lookups.items():
        if not name.startswith(PREFIX):
            continue
        concept = name.removeprefix(PREFIX)
        for doc in nlp.pipe(phrases):
            key = " ".join(t.norm_ for t in doc)
            if concept not in table.setdefault(key, []):
                table[key].append(concept)
    return table


class ConceptMatcher:
    def __init__(self, table: dict[str, list[str]]) -> None:
        self.table = table
        self.index = PhraseIndex(table)

    def tokens(self, doc: Doc) -> list[str]:
        return [f"__concept_{c}__" for _, _, concepts in self.index.matches(doc) for c in concepts]


def _typo(word: str, rng: random.Random) -> str:
    i = rng.randrange(1, len(word) - 1)
    kind = rng.randrange(3)
    if kind == 0:  # swap two letters
        return word[:i] + word[i + 1] + word[i] + word[i + 2 :]
    if kind == 1:  # drop a letter
        return word[:i] + word[i + 1 :]
    return word[:i] + word[i] + word[i:]  # double a letter


def augment(examples: Sequence[Example], seed: int) -> list[Example]:
    """The examples plus one copy of each with a typo in a longer word (entities dropped)."""
    rng = random.Random(seed)  # noqa: S311  (augmentation, not security)
    out = list(examples)
    for example in examples:
        words = example.text.split(" ")
        candidates = [i for i, w in enumerate(words) if len(w) >= 5 and w.isalpha()]
        if not candidates:
            continue
        i = rng.choice(candidates)
        words[i] = _typo(words[i], rng)
        out.append(Example(" ".join(words), example.intent))
    return out
