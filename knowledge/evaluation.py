"""Search quality: nDCG@k and MRR over labelled queries (graded relevance per course title)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict

from core.yaml_files import load_yaml
from knowledge.search import CourseIndex, SearchQuery


class LabelledQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    query: str
    filters: dict[str, Any] = {}
    relevant: dict[str, int]


def load_queries(path: Path) -> list[LabelledQuery]:
    return [LabelledQuery.model_validate(q) for q in load_yaml(path)]


def _dcg(gains: Sequence[int]) -> float:
    return float(sum((2**g - 1) / math.log2(i + 2) for i, g in enumerate(gains)))


@dataclass
class QualityReport:
    ndcg_at_k: float
    mrr: float
    k: int
    per_query: list[dict[str, Any]] = field(default_factory=list)


def evaluate(index: CourseIndex, queries: Sequence[LabelledQuery], k: int = 5) -> QualityReport:
    """Mean nDCG@k and MRR; every course whose title is labelled counts with that grade."""
    ndcgs: list[float] = []
    reciprocal: list[float] = []
    per_query = []
    for labelled in queries:
        filters = dict(labelled.filters)
        query = SearchQuery(text=labelled.query, **filters)
        result = index.search(query, limit=max(k, 50))
        gains = [labelled.relevant.get(h.course.title, 0) for h in result.hits]
        mask_all = index.search(SearchQuery(**filters), limit=len(index.courses))
        ideal = sorted(
            (labelled.relevant.get(h.course.title, 0) for h in mask_all.hits), reverse=True
        )
        best = _dcg(ideal[:k])
        ndcg = _dcg(gains[:k]) / best if best else 0.0
        rank = next((i + 1 for i, g in enumerate(gains) if g > 0), None)
        ndcgs.append(ndcg)
        reciprocal.append(1 / rank if rank else 0.0)
        per_query.append({"query": labelled.query, "ndcg": round(ndcg, 3), "first_hit": rank})
    n = len(queries) or 1
    return QualityReport(sum(ndcgs) / n, sum(reciprocal) / n, k, per_query)
