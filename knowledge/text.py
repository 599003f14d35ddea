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

import yaml
from pydantic import BaseModel, ConfigDict

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


@cache
def _lemma_table() -> dict[str, str]:
    import spacy_lookups_data
    import srsly

    path = Path(spacy_lookups_data.__file__).parent / "data" / "nl_lemma_lookup.json.gz"
    table: dict[str, str] = srsly.read_gzip_json(path)
    return {fold(k): fold(v) for k, v in table.items()}


def lemma(token: str) -> str:
    return _lemma_table().get(token, token)


@dataclass(frozen=True)
class Vocabulary:
    """Synonym groups (as phrases of lemmas) and generic words."""

    phrases: dict[tuple[str, ...], frozenset[int]]
    generic: frozenset[str]
    longest_phrase: int

    @classmethod
    @cache
    def load(cls, path: Path = DATA_DIR / "synonyms.yml") -> Vocabulary:
        data = _VocabularyFile.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))
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
