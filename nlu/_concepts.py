"""Concept features: lookup tables named `concept_*` (nlu/data/concepts.yml) mark words of a
concept in the text; the classifier sees `__concept_<name>__` tokens (as Rasa's lookup-table
features do for DIET). Also: training-time augmentation with typos and with a concept word
swapped for another word of the same concept ("ik wil mijn saldo zien" -> "ik wil mijn
tegoed zien"), so the classifier learns the concept, not only the words the examples use."""

from __future__ import annotations

import random
from collections.abc import Sequence

from spacy.language import Language
from spacy.tokens import Doc

from nlu._data import Example, TrainingData
from nlu._phrases import PhraseIndex

PREFIX = "concept_"


def concept_surfaces(data: TrainingData) -> dict[str, list[str]]:
    """Concept name -> its phrases as written in the `concept_*` lookup tables."""
    surfaces: dict[str, list[str]] = {}
    for name, phrases in data.lookups.items():
        if name.startswith(PREFIX):
            surfaces.setdefault(name.removeprefix(PREFIX), []).extend(phrases)
    return surfaces


def concept_table(nlp: Language, data: TrainingData) -> dict[str, list[str]]:
    """Folded-lemma phrase -> concept names."""
    table: dict[str, list[str]] = {}
    for concept, phrases in concept_surfaces(data).items():
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

    def paraphrase(
        self,
        examples: Sequence[Example],
        nlp: Language,
        surfaces: dict[str, list[str]],
        seed: int,
    ) -> list[Example]:
        """One copy of each example with a concept phrase swapped for another phrase of the
        same concept (examples without a concept phrase get none; entities are dropped)."""
        rng = random.Random(seed)  # noqa: S311  (augmentation, not security)
        out = []
        for example, doc in zip(examples, nlp.pipe(e.text for e in examples), strict=True):
            found = list(self.index.matches(doc))
            if not found:
                continue
            start, end, concepts = rng.choice(found)
            phrase = rng.choice(surfaces[rng.choice(concepts)])
            begin, finish = doc[start].idx, doc[end - 1].idx + len(doc[end - 1].text)
            if doc.text[begin:finish].casefold() == phrase.casefold():
                continue
            out.append(Example(f"{doc.text[:begin]}{phrase}{doc.text[finish:]}", example.intent))
        return out


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
