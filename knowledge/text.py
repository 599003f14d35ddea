"""Dutch text for search: fold, tokenise, lemmatise, synonyms and words without a topic.

Lemmas come from spaCy's Dutch lookup table (`spacy-lookups-data`), the same resource the NLU's
lemmatizer uses; loading the table directly keeps indexing fast (no pipeline per course).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from core.yaml_files import load_yaml

DATA_DIR = Path(__file__).resolve().parent / "data"
_TOKEN_RE = re.compile(r"[a-z0-9]+")
SYNONYM_PREFIX = "~"


def fold(text: str) -> str:
    """Lower case without accents: "Één café" -> "een cafe"."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


class _VocabularyFile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    synonyms: list[list[str]]
    generic: list[str]


class _LemmaTable:
    """Folded word -> folded lemma, in arrays: the same answers as a dict of the 213,000
    entries in a tenth of the memory (the dict alone took ~35 MiB of every running bot).

    Keys are the words' `hash()` (64 bits, fixed within a process; the table is built per
    process), sorted for binary search; a lemma is a slice of one UTF-8 blob.
    """

    def __init__(self, table: dict[str, str]) -> None:
        import numpy as np

        folded = {fold(k): fold(v) for k, v in table.items()}  # a later key wins, as in a dict
        pairs = sorted((hash(k), v) for k, v in folded.items() if k != v)
        del folded
        encoded = [v.encode("utf-8") for _, v in pairs]
        self._keys = np.array([k for k, _ in pairs], dtype=np.int64)
        self._ends = np.cumsum([len(e) for e in encoded], dtype=np.int64)
        self._blob = b"".join(encoded)

    def get(self, word: str) -> str:
        key = hash(word)
        i = int(self._keys.searchsorted(key))
        if i == len(self._keys) or int(self._keys[i]) != key:
            return word
        start = int(self._ends[i - 1]) if i else 0
        return self._blob[start : int(self._ends[i])].decode("utf-8")


def _read_lemma_lookup() -> dict[str, str]:
    import spacy_lookups_data
    import srsly

    path = Path(spacy_lookups_data.__file__).parent / "data" / "nl_lemma_lookup.json.gz"
    table: dict[str, str] = srsly.read_gzip_json(path)
    return table


@cache
def _lemma_table() -> _LemmaTable:
    return _LemmaTable(_read_lemma_lookup())


def lemma_table_words() -> set[str]:
    """Every word and lemma in spaCy's Dutch lemma table, folded (for build tools; not kept)."""
    return {fold(word) for pair in _read_lemma_lookup().items() for word in pair}


def lemma(token: str) -> str:
    return _lemma_table().get(token)


@dataclass(frozen=True)
class Vocabulary:
    """Synonym groups (as phrases of lemmas) and generic words."""

    phrases: dict[tuple[str, ...], frozenset[int]]
    generic: frozenset[str]
    longest_phrase: int

    @classmethod
    @cache
    def load(cls, path: Path = DATA_DIR / "synonyms.yml") -> Vocabulary:
        data = _VocabularyFile.model_validate(load_yaml(path))
        phrases: dict[tuple[str, ...], set[int]] = {}
        for group_id, group in enumerate(data.synonyms):
            for phrase in group:
                key = tuple(lemma(t) for t in _TOKEN_RE.findall(fold(phrase)))
                phrases.setdefault(key, set()).add(group_id)
        generic = frozenset(lemma(t) for w in data.generic for t in _TOKEN_RE.findall(fold(w)))
        return cls(
            phrases={k: frozenset(v) for k, v in phrases.items()},
            generic=generic,
            longest_phrase=max(len(k) for k in phrases),
        )

    def synonym_groups(self, terms: list[str]) -> list[tuple[int, int, frozenset[int]]]:
        """(start, end, groups) of every synonym phrase in a list of lemmas."""
        found = []
        for start in range(len(terms)):
            for size in range(min(self.longest_phrase, len(terms) - start), 0, -1):
                groups = self.phrases.get(tuple(terms[start : start + size]))
                if groups:
                    found.append((start, start + size, groups))
                    break
        return found


def terms(text: str) -> list[str]:
    """The lemmas of a text, in order: "Cursussen Verzorgende" -> ["cursus", "verzorgende"]."""
    return [lemma(t) for t in _TOKEN_RE.findall(fold(text))]


def synonym_token(group: int) -> str:
    return f"{SYNONYM_PREFIX}{group}"


def words(text: str) -> list[str]:
    """The folded words of a text, not lemmatised."""
    return _TOKEN_RE.findall(fold(text))


def index_terms(text: str, vocabulary: Vocabulary) -> list[str]:
    """What a text is indexed under: its lemmas, a word's own form where the lemma differs
    (the lookup table sometimes maps a noun to a verb), and one token per synonym group."""
    surface = words(text)
    lemmas = [lemma(w) for w in surface]
    own_forms = [w for w, lem in zip(surface, lemmas, strict=True) if w != lem]
    extra = [
        synonym_token(g)
        for _, _, groups in vocabulary.synonym_groups(lemmas)
        for g in sorted(groups)
    ]
    return lemmas + own_forms + extra
