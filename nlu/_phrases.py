"""Phrase lookup on folded lemmas: a dict from token tuples to values, scanned by n-gram.

(spaCy's PhraseMatcher keeps a Doc per pattern: 120 MiB for the ESCO tables. A dict of
tuples finds the same matches in a few microseconds with a fraction of the memory.)
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Generic, TypeVar

from spacy.tokens import Doc

V = TypeVar("V")


class PhraseIndex(Generic[V]):
    def __init__(self, table: Mapping[str, V]) -> None:
        self.table = dict(table)
        self._index = {tuple(key.split(" ")): value for key, value in table.items() if key}
        self._longest = max((len(k) for k in self._index), default=0)

    def matches(self, doc: Doc) -> Iterator[tuple[int, int, V]]:
        """(start token, end token, value) for every phrase in the doc, overlapping ones too."""
        norms = [token.norm_ for token in doc]
        for start in range(len(norms)):
            for end in range(start + 1, min(start + self._longest, len(norms)) + 1):
                value = self._index.get(tuple(norms[start:end]))
                if value is not None:
                    yield start, end, value
