"""Course search in Dutch: an in-memory index over the catalogue, the same on every database.

The database supplies the rows; ranking and filtering happen here, in plain Python and numpy, so
SQLite and PostgreSQL give identical results. Scoring is BM25 over weighted fields (title,
topics, skills, description, provider) on lemmas; a query word also finds its synonyms, words
one or two typos away, and the parts of a compound ("zorgcursus" -> "zorg").
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date

import numpy as np
from rapidfuzz import process
from rapidfuzz.distance import Levenshtein

from knowledge.text import (
    SYNONYM_PREFIX,
    Vocabulary,
    index_terms,
    lemma,
    synonym_token,
    terms,
    words,
)

# Field weights: a word in the title says more than one in the description.
FIELD_WEIGHTS = {"title": 3.0, "topics": 2.5, "skills": 1.2, "description": 1.0, "provider": 0.5}
K1, B = 1.2, 0.75
SYNONYM_WEIGHT = 0.6
TYPO_WEIGHT = 0.8
COMPOUND_WEIGHT = 0.7
PREFIX_WEIGHT = 0.6
VARIANT_WEIGHT = 0.7
VARIANT_MIN_LENGTH = 7
VARIANT_STEM = 6
LEVELS = ("mbo-1", "mbo-2", "mbo-3", "mbo-4", "hbo", "wo", "overig")
FORMATS = ("online", "klassikaal", "blended")


@dataclass(frozen=True)
class CourseRecord:
    """What search needs to know about a course (and what the bot shows)."""

    pk: int
    provider_id: int
    provider_name: str
    course_id: str
    title: str
    description: str = ""
    level: str | None = None
    nlqf: int | None = None
    format: str | None = None
    location: str = ""
    region: str = ""
    labour_market_region: str = ""
    price_cents: int | None = None
    duration_hours: float | None = None
    url: str | None = None
    topics: tuple[str, ...] = ()
    skills: tuple[str, ...] = ()
    skill_labels: tuple[str, ...] = ()
    skill_ancestors: frozenset[str] = frozenset()
    is_example: bool = False
    start_dates: tuple[date, ...] = ()
    lat: float | None = None
    lon: float | None = None

    def next_start(self, today: date) -> date | None:
        return next((d for d in self.start_dates if d >= today), None)


@dataclass(frozen=True)
class SearchQuery:
    """A search: free text plus filters. Empty text lists every course that passes the filters."""

    text: str = ""
    region: str | None = None  # province or labour-market region
    near: tuple[float, float] | None = None  # (lat, lon) of a place
    within_km: float = 25.0
    include_online: bool = False  # with region/near: online courses count as near
    max_price_cents: int | None = None
    levels: tuple[str, ...] = ()
    format: str | None = None
    start_before: date | None = None
    skill: str | None = None  # an ESCO skill URI; matches the group and everything under it
    provider_id: int | None = None
    distinct_titles: bool = False  # one hit per title first, repeats after (for the chat)


@dataclass(frozen=True)
class SearchHit:
    course: CourseRecord
    score: float
    next_start: date | None


@dataclass(frozen=True)
class SearchResult:
    hits: tuple[SearchHit, ...]
    total: int
    understood: tuple[str, ...] = ()  # the query words that counted (after generic words)
    unknown: tuple[str, ...] = ()  # query words that matched nothing


@dataclass
class _Postings:
    docs: np.ndarray
    weights: np.ndarray


@dataclass
class CourseIndex:
    """An immutable search index over a list of courses, built for one day (`today`)."""

    courses: Sequence[CourseRecord]
    today: date
    vocabulary: Vocabulary = field(default_factory=Vocabulary.load)

    def __post_init__(self) -> None:
        n = len(self.courses)
        self._by_pk = {course.pk: course for course in self.courses}
        self._postings: dict[str, _Postings] = {}
        field_terms: dict[str, list[Counter[str]]] = {f: [] for f in FIELD_WEIGHTS}
        for course in self.courses:
            texts = {
                "title": course.title,
                "topics": " ; ".join(course.topics),
                "skills": " ; ".join(course.skill_labels),
                "description": course.description,
                "provider": course.provider_name,
            }
            for name, text in texts.items():
                field_terms[name].append(Counter(index_terms(text, self.vocabulary)))
        doc_freq: Counter[str] = Counter()
        for i in range(n):
            seen: set[str] = set()
            for name in FIELD_WEIGHTS:
                seen.update(field_terms[name][i])
            doc_freq.update(seen)
        raw: dict[str, dict[int, float]] = defaultdict(dict)
        for name, weight in FIELD_WEIGHTS.items():
            lengths = [sum(c.values()) for c in field_terms[name]]
            average = (sum(lengths) / n) if n else 1.0
            for i, counts in enumerate(field_terms[name]):
                norm = K1 * (1 - B + B * lengths[i] / (average or 1.0))
                for term, tf in counts.items():
                    raw[term][i] = raw[term].get(i, 0.0) + weight * tf * (K1 + 1) / (tf + norm)
        for term, per_doc in raw.items():
            idf = math.log(1 + (n - doc_freq[term] + 0.5) / (doc_freq[term] + 0.5))
            docs = np.fromiter(per_doc.keys(), dtype=np.int64, count=len(per_doc))
            weights = np.fromiter(per_doc.values(), dtype=np.float64, count=len(per_doc)) * idf
            self._postings[term] = _Postings(docs, weights)
        self._words = sorted(
            t for t in self._postings if not t.startswith(SYNONYM_PREFIX) and len(t) >= 3
        )
        self._prefix_words = [w for w in self._words if len(w) >= 5]
        self._build_filters()

    def course(self, pk: int) -> CourseRecord | None:
        return self._by_pk.get(pk)

    def _build_filters(self) -> None:
        courses = self.courses
        nan = float("nan")
        self._price = np.array(
            [c.price_cents if c.price_cents is not None else -1 for c in courses], dtype=np.int64
        )
        self._level = np.array([c.level or "" for c in courses], dtype=object)
        self._format = np.array([c.format or "" for c in courses], dtype=object)
        self._region = np.array([c.region.casefold() for c in courses], dtype=object)
        self._lm_region = np.array(
            [c.labour_market_region.casefold() for c in courses], dtype=object
        )
        self._lat = np.array([c.lat if c.lat is not None else nan for c in courses], dtype=float)
        self._lon = np.array([c.lon if c.lon is not None else nan for c in courses], dtype=float)
        self._provider = np.array([c.provider_id for c in courses], dtype=np.int64)
        starts = [c.next_start(self.today) for c in courses]
        self._next_start = starts
        self._next_start_ord = np.array(
            [s.toordinal() if s else 10**7 for s in starts], dtype=np.int64
        )

    # ------------------------------------------------------------------ query

    def _expand(self, word: str) -> list[tuple[str, float]]:
        """The index terms one query word stands for, with how much each counts."""
        expansions: dict[str, float] = {}

        def add(term: str, weight: float) -> None:
            if term in self._postings and weight > expansions.get(term, 0.0):
                expansions[term] = weight

        add(word, 1.0)
        for _, _, groups in self.vocabulary.synonym_groups([word]):
            for group in groups:
                add(synonym_token(group), SYNONYM_WEIGHT)
        known = word in self._postings
        if len(word) >= 4 and (not known or len(word) >= VARIANT_MIN_LENGTH):
            limit = 1 if len(word) <= 6 else 2
            for candidate, distance, _ in process.extract(
                word,
                self._words,
                scorer=Levenshtein.distance,
                score_cutoff=limit,
                limit=5,
            ):
                if not known:  # a typo
                    add(candidate, TYPO_WEIGHT * (1.0 if distance <= 1 else 0.75))
                elif candidate[:VARIANT_STEM] == word[:VARIANT_STEM]:
                    # another form of the same word: "administratie" ~ "administratief"
                    add(candidate, VARIANT_WEIGHT)
        if not known and len(word) >= 4 and not expansions:
            for head in range(3, len(word) - 2):  # a compound of two known words
                parts = (word[:head], word[head:])
                found = [p for p in parts if p in self._postings]
                if not found or any(
                    p not in self._postings and p not in self.vocabulary.generic for p in parts
                ):
                    continue
                for part in found:
                    add(part, COMPOUND_WEIGHT)
                    for _, _, groups in self.vocabulary.synonym_groups([part]):
                        for group in groups:
                            add(synonym_token(group), COMPOUND_WEIGHT * SYNONYM_WEIGHT)
                break
        if len(word) >= 5:  # the start of a compound: "verpleeg" -> "verpleegkunde"
            for candidate in self._prefix_words:
                if candidate != word and candidate.startswith(word):
                    add(candidate, PREFIX_WEIGHT)
        return sorted(expansions.items())

    def query_words(self, text: str) -> list[tuple[str, str]]:
        """(word, lemma) of each query word that carries a topic (not a bare number)."""
        return [
            (w, lemma(w))
            for w in words(text)
            if not w.isdigit()
            and w not in self.vocabulary.generic
            and lemma(w) not in self.vocabulary.generic
        ]

    def search(self, query: SearchQuery, *, offset: int = 0, limit: int = 10) -> SearchResult:
        n = len(self.courses)
        km = _distance_km(query.near, self._lat, self._lon) if query.near else np.zeros(n)
        km = np.nan_to_num(km, nan=np.inf)
        mask = self._mask(query, km)
        query_words = self.query_words(query.text)
        understood: list[str] = []
        unknown: list[str] = []
        if query_words:
            scores = np.zeros(n)
            lemmas = terms(query.text)
            phrase_groups = self.vocabulary.synonym_groups(lemmas)
            for start, end, groups in phrase_groups:  # multi-word synonyms ("power bi")
                if end - start > 1:
                    for group in groups:
                        self._add(scores, [(synonym_token(group), SYNONYM_WEIGHT)])
            for word, word_lemma in query_words:
                expansions = dict(self._expand(word_lemma))
                if word != word_lemma:
                    for term, weight in self._expand(word):
                        expansions[term] = max(weight, expansions.get(term, 0.0))
                if expansions:
                    understood.append(word_lemma)
                    self._add(scores, expansions.items())
                else:
                    unknown.append(word)
            mask &= scores > 0
            # Equally good matches: the nearest first (with `near`), then the soonest start.
            order = np.lexsort((np.arange(n), self._next_start_ord, km, -np.round(scores, 9)))
        else:
            scores = np.zeros(n)
            order = np.lexsort((np.arange(n), self._next_start_ord, km))
        selected = [int(i) for i in order if mask[i]]
        if query.distinct_titles:
            seen: set[str] = set()
            first: list[int] = []
            repeats: list[int] = []
            for i in selected:
                title = self.courses[i].title.casefold()
                (repeats if title in seen else first).append(i)
                seen.add(title)
            selected = first + repeats
        page = selected[offset : offset + limit]
        hits = tuple(
            SearchHit(self.courses[i], float(round(scores[i], 6)), self._next_start[i])
            for i in page
        )
        return SearchResult(hits, len(selected), tuple(understood), tuple(unknown))

    def _add(self, scores: np.ndarray, expansions: Iterable[tuple[str, float]]) -> None:
        best = np.zeros_like(scores)
        for term, weight in expansions:
            postings = self._postings[term]
            best[postings.docs] = np.maximum(best[postings.docs], postings.weights * weight)
        scores += best

    def _mask(self, query: SearchQuery, km: np.ndarray) -> np.ndarray:
        n = len(self.courses)
        mask = np.ones(n, dtype=bool)
        if query.max_price_cents is not None:
            mask &= (self._price >= 0) & (self._price <= query.max_price_cents)
        if query.levels:
            mask &= np.isin(self._level, list(query.levels))
        if query.format is not None:
            mask &= self._format == query.format
        if query.provider_id is not None:
            mask &= self._provider == query.provider_id
        if query.start_before is not None:
            mask &= self._next_start_ord <= query.start_before.toordinal()
        if query.skill is not None:
            mask &= np.array([query.skill in c.skill_ancestors for c in self.courses], dtype=bool)
        place_mask: np.ndarray | None = None
        if query.region:
            wanted = query.region.casefold()
            place_mask = (self._region == wanted) | (self._lm_region == wanted)
        if query.near is not None:
            near = km <= query.within_km
            place_mask = near if place_mask is None else (place_mask | near)
        if place_mask is not None:
            if query.include_online:
                place_mask |= self._format == "online"
            mask &= place_mask
        return mask


def _distance_km(origin: tuple[float, float], lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    """Great-circle distance in km (haversine) from one point to many."""
    lat1, lon1 = np.radians(origin[0]), np.radians(origin[1])
    lat2, lon2 = np.radians(lat), np.radians(lon)
    a = (
        np.sin((lat2 - lat1) / 2) ** 2
        + np.cos(lat1) * np.cos(lat2) * np.sin((lon2 - lon1) / 2) ** 2
    )
    result: np.ndarray = 6371.0 * 2 * np.arcsin(np.sqrt(a))
    return result
