"""The trained TF-IDF + logistic-regression classifier as plain numpy, for parsing only.

scikit-learn (and the part of SciPy it imports) costs a running bot about 70 MiB and makes
every parse pay for input validation. Prediction itself is small: count the n-grams that are in
the vocabulary, TF-IDF them (sublinear tf, l2 norm) and take the softmax of one matrix product.
`export` writes what that needs from a fitted `CharWordLogReg`; `LinearIntentClassifier`
computes the same probabilities (tests/nlu check them against scikit-learn).
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

if TYPE_CHECKING:
    from nlu._classifier import CharWordLogReg, Features

FILE = "linear.npz"
_WHITE_SPACES = re.compile(r"\s\s+")  # as scikit-learn's CountVectorizer


def _char_wb_ngrams(text: str, min_n: int, max_n: int) -> list[str]:
    """scikit-learn's `char_wb` analyzer (lower case, n-grams inside space-padded words)."""
    text = _WHITE_SPACES.sub(" ", text.lower())
    grams: list[str] = []
    append = grams.append
    for word in text.split():
        padded = f" {word} "
        length = len(padded)
        for n in range(min_n, max_n + 1):
            offset = 0
            append(padded[offset : offset + n])
            while offset + n < length:
                offset += 1
                append(padded[offset : offset + n])
            if offset == 0:  # a short word counts once
                break
    return grams


def _word_ngrams(text: str, pattern: re.Pattern[str], min_n: int, max_n: int) -> list[str]:
    """scikit-learn's `word` analyzer with a token pattern and an n-gram range."""
    tokens = pattern.findall(text.lower())
    if max_n == 1:
        return list(tokens) if min_n == 1 else []
    grams = list(tokens) if min_n == 1 else []
    start = max(min_n, 2)
    for n in range(start, min(max_n + 1, len(tokens) + 1)):
        for i in range(len(tokens) - n + 1):
            grams.append(" ".join(tokens[i : i + n]))
    return grams


class _View:
    def __init__(
        self,
        name: str,
        vocabulary: dict[str, int],
        idf: npt.NDArray[np.float64],
        ngrams: tuple[int, int],
        token_pattern: str | None,
        offset: int,
    ) -> None:
        self.name = name
        self.vocabulary = vocabulary
        self.idf = idf
        self.ngrams = ngrams
        self.pattern = re.compile(token_pattern) if token_pattern else None
        self.offset = offset

    def features(self, text: str) -> tuple[list[int], list[float]]:
        """Column indices and l2-normalised sublinear TF-IDF values of one text."""
        if self.pattern is None:
            grams = _char_wb_ngrams(text, *self.ngrams)
        else:
            grams = _word_ngrams(text, self.pattern, *self.ngrams)
        counts = Counter(self.vocabulary[g] for g in grams if g in self.vocabulary)
        columns = sorted(counts)
        values = [(math.log(counts[c]) + 1.0) * float(self.idf[c]) for c in columns]
        norm = math.sqrt(sum(v * v for v in values))
        if norm > 0:
            values = [v / norm for v in values]
        return [c + self.offset for c in columns], values


class LinearIntentClassifier:
    """Parse-time twin of `CharWordLogReg` (numpy only; cannot be trained)."""

    name = "char_word_logreg"

    def __init__(
        self,
        labels: list[str],
        views: list[_View],
        weights: npt.NDArray[np.float64],  # (features, classes)
        intercept: npt.NDArray[np.float64],
    ) -> None:
        self.labels = labels
        self.views = views
        self.weights = weights
        self.intercept = intercept

    def fit(self, inputs: list[Features], labels: list[str]) -> None:
        raise TypeError("a loaded classifier cannot be trained; train a CharWordLogReg")

    def predict_proba(self, inputs: list[Features]) -> npt.NDArray[np.float64]:
        rows = np.empty((len(inputs), len(self.labels)), dtype=np.float64)
        for i, features in enumerate(inputs):
            columns: list[int] = []
            values: list[float] = []
            for view in self.views:
                c, v = view.features(getattr(features, view.name))
                columns += c
                values += v
            scores = self.intercept.copy()
            if columns:
                scores += np.asarray(values) @ self.weights[columns]
            scores -= scores.max()
            np.exp(scores, out=scores)
            rows[i] = scores / scores.sum()
        return rows

    @classmethod
    def load(cls, directory: Path) -> LinearIntentClassifier:
        with np.load(directory / FILE, allow_pickle=False) as data:
            meta: dict[str, Any] = json.loads(str(data["meta"]))
            views = []
            offset = 0
            for spec in meta["views"]:
                vocabulary_terms = [str(t) for t in data[f"{spec['name']}_terms"]]
                vocabulary = {t: i for i, t in enumerate(vocabulary_terms)}
                views.append(
                    _View(
                        spec["name"],
                        vocabulary,
                        np.asarray(data[f"{spec['name']}_idf"], dtype=np.float64),
                        (int(spec["ngrams"][0]), int(spec["ngrams"][1])),
                        spec["token_pattern"],
                        offset,
                    )
                )
                offset += len(vocabulary)
            weights = np.ascontiguousarray(data["weights"], dtype=np.float64)
            intercept = np.asarray(data["intercept"], dtype=np.float64)
        return cls(list(meta["labels"]), views, weights, intercept)


def export(classifier: CharWordLogReg, directory: Path) -> None:
    """Write what `LinearIntentClassifier` needs from a fitted classifier."""
    arrays: dict[str, Any] = {}
    specs = []
    for name in classifier.views:
        vectoriser = classifier.chars if name == "chars" else classifier.words
        if vectoriser.analyzer not in ("char_wb", "word") or not vectoriser.sublinear_tf:
            raise ValueError(f"cannot export the {name} view: {vectoriser}")
        by_index = sorted(vectoriser.vocabulary_.items(), key=lambda item: item[1])
        arrays[f"{name}_terms"] = np.array([t for t, _ in by_index], dtype=str)
        arrays[f"{name}_idf"] = vectoriser.idf_
        specs.append(
            {
                "name": name,
                "ngrams": list(vectoriser.ngram_range),
                "token_pattern": vectoriser.token_pattern
                if vectoriser.analyzer == "word"
                else None,
            }
        )
    model = classifier.model
    if model.coef_.shape[0] != len(classifier.labels):
        raise ValueError("only a multinomial regression over three or more intents is exported")
    arrays["weights"] = np.ascontiguousarray(model.coef_.T)
    arrays["intercept"] = model.intercept_
    arrays["meta"] = np.array(json.dumps({"labels": classifier.labels, "views": specs}))
    np.savez(directory / FILE, **arrays)
