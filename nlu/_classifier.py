"""Intent classifiers, compared by cross-validation (see config.yml):

- `char_word_logreg`: TF-IDF over character n-grams of the folded text (robust to typos and
  missing accents) and over lemma n-grams with entity and concept tokens, then multinomial
  logistic regression (deterministic, calibrated enough for a fallback threshold);
- `logreg_ensemble`: the average of three such regressions, one on both views, one on the
  characters only, one on the lemmas only (each view is regularised on its own, so neither
  drowns the other);
- `spacy_textcat`: spaCy's bag-of-words text categoriser over the same lemma stream.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Protocol

import joblib
import numpy as np
import numpy.typing as npt
import spacy
from spacy.training import Example as SpacyExample
from spacy.util import fix_random_seed, minibatch  # type: ignore[attr-defined]

from nlu import _linear
from nlu._config import ClassifierSettings

# scikit-learn and SciPy are imported where a classifier is built or trained, not at parse
# time: a saved char_word_logreg model parses with numpy alone (nlu/_linear.py).

Probabilities = npt.NDArray[np.float64]


@dataclass(frozen=True)
class Features:
    chars: str  # folded text
    words: str  # folded lemmas and entity-type tokens, space separated


class IntentClassifier(Protocol):
    labels: list[str]

    def fit(self, inputs: list[Features], labels: list[str]) -> None: ...

    def predict_proba(self, inputs: list[Features]) -> Probabilities: ...


View = Literal["chars", "words"]


class CharWordLogReg:
    name = "char_word_logreg"

    def __init__(
        self, settings: ClassifierSettings, seed: int, views: tuple[View, ...] = ("chars", "words")
    ) -> None:
        self.settings = settings
        self.seed = seed
        self.views = views
        self.labels: list[str] = []
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import LogisticRegression

        self.chars = TfidfVectorizer(
            analyzer="char_wb",
            ngram_range=settings.char_ngrams,
            sublinear_tf=True,
            min_df=1,
            dtype=np.float64,
        )
        self.words = TfidfVectorizer(
            analyzer="word",
            ngram_range=settings.word_ngrams,
            token_pattern=r"\S+",  # noqa: S106  (a regex, not a password)
            sublinear_tf=True,
            dtype=np.float64,
        )
        self.model = LogisticRegression(C=settings.C, max_iter=5000, random_state=seed)

    def _matrix(self, inputs: list[Features], *, fit: bool = False):  # type: ignore[no-untyped-def]
        from scipy.sparse import hstack

        blocks = []
        for view in self.views:
            vectoriser = self.chars if view == "chars" else self.words
            texts = [getattr(f, view) for f in inputs]
            blocks.append(vectoriser.fit_transform(texts) if fit else vectoriser.transform(texts))
        return hstack(blocks).tocsr()

    def fit(self, inputs: list[Features], labels: list[str]) -> None:
        self.model.fit(self._matrix(inputs, fit=True), labels)
        self.labels = [str(c) for c in self.model.classes_]

    def predict_proba(self, inputs: list[Features]) -> Probabilities:
        result: Probabilities = self.model.predict_proba(self._matrix(inputs))
        return result


class LogRegEnsemble:
    name = "logreg_ensemble"

    def __init__(self, settings: ClassifierSettings, seed: int) -> None:
        self.members = [
            CharWordLogReg(settings, seed),
            CharWordLogReg(settings, seed, views=("chars",)),
            CharWordLogReg(settings, seed, views=("words",)),
        ]
        self.labels: list[str] = []

    def fit(self, inputs: list[Features], labels: list[str]) -> None:
        for member in self.members:
            member.fit(inputs, labels)
        self.labels = self.members[0].labels

    def predict_proba(self, inputs: list[Features]) -> Probabilities:
        result: Probabilities = np.mean([m.predict_proba(inputs) for m in self.members], axis=0)
        return result


class SpacyTextcat:
    name = "spacy_textcat"

    def __init__(self, settings: ClassifierSettings, seed: int) -> None:
        self.settings = settings
        self.seed = seed
        self.labels: list[str] = []
        self.nlp = spacy.blank("nl")
        self.textcat = self.nlp.add_pipe(
            "textcat",
            config={
                "model": {
                    "@architectures": "spacy.TextCatBOW.v3",
                    "exclusive_classes": True,
                    "ngram_size": 2,
                    "no_output_layer": False,
                    "length": 262144,
                }
            },
        )

    def fit(self, inputs: list[Features], labels: list[str]) -> None:
        fix_random_seed(self.seed)
        self.labels = sorted(set(labels))
        for label in self.labels:
            self.textcat.add_label(label)  # type: ignore[attr-defined]
        examples = [
            SpacyExample.from_dict(
                self.nlp.make_doc(_text(f)), {"cats": {lab: float(lab == y) for lab in self.labels}}
            )
            for f, y in zip(inputs, labels, strict=True)
        ]
        optimizer = self.nlp.initialize(lambda: examples)
        rng = random.Random(self.seed)  # noqa: S311  (shuffling, not security)
        for _ in range(self.settings.textcat_epochs):
            rng.shuffle(examples)
            for batch in minibatch(examples, size=16):  # type: ignore[no-untyped-call]
                self.nlp.update(batch, sgd=optimizer, drop=0.1)

    def predict_proba(self, inputs: list[Features]) -> Probabilities:
        rows = []
        for doc in self.nlp.pipe(_text(f) for f in inputs):
            rows.append([doc.cats[label] for label in self.labels])
        return np.asarray(rows, dtype=np.float64)


def _text(features: Features) -> str:
    # An utterance of only punctuation has no words; textcat needs at least one token.
    return features.words or features.chars.strip() or "_"


def make_classifier(settings: ClassifierSettings, seed: int) -> IntentClassifier:
    if settings.kind == "spacy_textcat":
        return SpacyTextcat(settings, seed)
    if settings.kind == "logreg_ensemble":
        return LogRegEnsemble(settings, seed)
    return CharWordLogReg(settings, seed)


def save_classifier(classifier: IntentClassifier, directory: Path) -> None:
    joblib.dump(classifier, directory / "classifier.joblib")
    if isinstance(classifier, CharWordLogReg):
        _linear.export(classifier, directory)


def load_classifier(directory: Path, *, trainable: bool = False) -> IntentClassifier:
    """The saved classifier; for parsing only, the numpy twin when there is one."""
    if not trainable and (directory / _linear.FILE).exists():
        return _linear.LinearIntentClassifier.load(directory)
    loaded: IntentClassifier = joblib.load(directory / "classifier.joblib")
    return loaded
