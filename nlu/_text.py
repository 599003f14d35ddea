"""The spaCy side of the pipeline: a blank Dutch tokenizer with the lookup lemmatizer.

A small component sets every token's NORM to its lemma folded to lower case without accents,
so matching and features ignore inflection ("cursussen" ~ "cursus") and accents ("één" ~ "een").

The lemmas are spaCy's Dutch lookup table (spacy-lookups-data), kept in numpy arrays
(`CompactLemmatizer`): the same answers as spaCy's lookup lemmatizer in a few MiB instead of
the ~90 MiB its Python dictionary takes in every running bot.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import spacy
from spacy.language import Language
from spacy.strings import get_string_id
from spacy.tokens import Doc

from nlu._normalise import fold

NORM_COMPONENT = "leerloop_norm"
LEMMA_COMPONENT = "leerloop_lemmas"
_LEMMA_FILE = "lemmas.npz"


class CompactLemmatizer:
    """spaCy's Dutch lookup lemmatizer (`lemma_lookup`: lower-cased word -> lemma) in arrays."""

    def __init__(self) -> None:
        self.keys: npt.NDArray[np.uint64] = np.zeros(0, dtype=np.uint64)  # sorted string ids
        self.ends: npt.NDArray[np.uint32] = np.zeros(0, dtype=np.uint32)  # lemma i: blob slice
        self.blob = b""

    @classmethod
    def from_items(cls, items: Iterable[tuple[int, str]]) -> CompactLemmatizer:
        """From (string id, lemma) pairs, as in a spaCy `Table`."""
        pairs = sorted(items)
        table = cls()
        table.keys = np.array([k for k, _ in pairs], dtype=np.uint64)
        encoded = [v.encode("utf-8") for _, v in pairs]
        table.ends = np.cumsum([len(e) for e in encoded], dtype=np.uint64).astype(np.uint32)
        table.blob = b"".join(encoded)
        return table

    def __len__(self) -> int:
        return len(self.keys)

    def get(self, text: str) -> str:
        """The lemma of `text` in lower case, or that itself (as spaCy's Dutch lemmatizer)."""
        text = text.lower()
        key = np.uint64(get_string_id(text))
        i = int(self.keys.searchsorted(key))
        if i == len(self.keys) or self.keys[i] != key:
            return text
        start = int(self.ends[i - 1]) if i else 0
        return self.blob[start : int(self.ends[i])].decode("utf-8")

    def __call__(self, doc: Doc) -> Doc:
        for token in doc:
            if token.lemma == 0:  # not set by the tokenizer (spaCy's overwrite=False)
                token.lemma_ = self.get(token.text)
        return doc

    def to_disk(self, path: Path, *, exclude: Iterable[str] = ()) -> None:
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        blob = np.frombuffer(self.blob, dtype=np.uint8)
        np.savez(path / _LEMMA_FILE, keys=self.keys, ends=self.ends, blob=blob)

    def from_disk(self, path: Path, *, exclude: Iterable[str] = ()) -> CompactLemmatizer:
        with np.load(Path(path) / _LEMMA_FILE, allow_pickle=False) as data:
            self.keys = np.asarray(data["keys"], dtype=np.uint64)
            self.ends = np.asarray(data["ends"], dtype=np.uint32)
            self.blob = data["blob"].tobytes()
        return self


@Language.factory(LEMMA_COMPONENT)
def _make_lemmatizer(nlp: Language, name: str) -> CompactLemmatizer:
    return CompactLemmatizer()


@Language.component(NORM_COMPONENT)
def _norm(doc: Doc) -> Doc:
    for token in doc:
        token.norm_ = fold(token.lemma_ or token.text)
    return doc


def blank_dutch() -> Language:
    """A new pipeline: tokenizer, lookup lemmatizer (spacy-lookups-data), folded norms."""
    nlp = spacy.blank("nl")
    nlp.add_pipe("lemmatizer", config={"mode": "lookup"})
    nlp.initialize()
    table: Any = nlp.get_pipe("lemmatizer").lookups.get_table("lemma_lookup")  # type: ignore[attr-defined]
    compact = CompactLemmatizer.from_items(table.items())
    nlp.remove_pipe("lemmatizer")
    nlp.add_pipe(LEMMA_COMPONENT)
    nlp.add_pipe(NORM_COMPONENT)
    nlp.initialize()
    lemmatizer = nlp.get_pipe(LEMMA_COMPONENT)
    assert isinstance(lemmatizer, CompactLemmatizer)
    lemmatizer.keys, lemmatizer.ends, lemmatizer.blob = compact.keys, compact.ends, compact.blob
    return nlp


def norms(doc: Doc) -> list[str]:
    return [t.norm_ for t in doc if not t.is_punct and not t.is_space]
