"""The NLU model: train, save, load, parse (Rasa's parse-result shape)."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import joblib
import spacy
from spacy.language import Language

from nlu._classifier import (
    Features,
    IntentClassifier,
    load_classifier,
    make_classifier,
    save_classifier,
)
from nlu._concepts import ConceptMatcher, augment, concept_surfaces, concept_table
from nlu._config import CONFIG_FILE, NluConfig, load_config
from nlu._data import DATA_DIR, Example, TrainingData, fingerprint, load_training_data
from nlu._entities import EntityConfig, EntityExtractor
from nlu._normalise import fold
from nlu._text import blank_dutch, norms
from nlu.intents import Intent

logger = logging.getLogger(__name__)

MODEL_DIR = Path(__file__).resolve().parent / "models" / "current"
MODEL_FORMAT = 2  # 2: numpy classifier twin and compact lemma table
AMSTERDAM = ZoneInfo("Europe/Amsterdam")
RANKING_LENGTH = 10


def source_files() -> list[Path]:
    """Everything a trained model depends on: data, config.yml and the NLU code."""
    code = Path(__file__).resolve().parent
    return [*DATA_DIR.iterdir(), CONFIG_FILE, *code.glob("*.py")]


def current_fingerprint() -> str:
    return fingerprint(p for p in source_files() if p.is_file())


class NluModel:
    def __init__(
        self,
        nlp: Language,
        extractor: EntityExtractor,
        concepts: ConceptMatcher,
        classifier: IntentClassifier,
        config: NluConfig,
        meta: dict[str, Any],
    ) -> None:
        self.nlp = nlp
        self.extractor = extractor
        self.concepts = concepts
        self.classifier = classifier
        self.config = config
        self.meta = meta

    # ---------------------------------------------------------------- training

    @classmethod
    def train(
        cls,
        data: TrainingData | None = None,
        config: NluConfig | None = None,
        *,
        examples: Sequence[Example] | None = None,
    ) -> NluModel:
        """Train on `examples` (default: all of `data`); deterministic for a given seed."""
        started = time.perf_counter()
        data = data or load_training_data()
        config = config or load_config()
        nlp = blank_dutch()
        extractor = EntityExtractor.build(
            nlp, data, EntityConfig(config.entities.regulations, config.entities.course_formats)
        )
        concepts = ConceptMatcher(concept_table(nlp, data))
        model = cls(
            nlp,
            extractor,
            concepts,
            make_classifier(config.classifier, config.random_seed),
            config,
            {},
        )
        originals = list(examples if examples is not None else data.examples)
        train_on = (
            augment(originals, config.random_seed)
            if config.classifier.augment_typos
            else list(originals)
        )
        if config.classifier.augment_synonyms:
            train_on += concepts.paraphrase(
                originals, nlp, concept_surfaces(data), config.random_seed
            )
        model.classifier.fit(
            model.featurise([e.text for e in train_on]), [e.intent for e in train_on]
        )
        model.meta = {
            "format": MODEL_FORMAT,
            "fingerprint": current_fingerprint(),
            "trained_at": datetime.now(UTC).isoformat(),
            "training_seconds": round(time.perf_counter() - started, 2),
            "examples": len(originals),
            "training_rows": len(train_on),
            "intents": model.classifier.labels,
            "classifier": config.classifier.kind,
        }
        return model

    # -------------------------------------------------------------- inference

    def _features(self, text: str, now: datetime | None = None) -> tuple[Features, Any]:
        doc = self.nlp(text)
        entities = self.extractor.extract(doc, now or _now())
        entity_types = [f"__{e['entity']}__" for e in entities]
        words = norms(doc) + entity_types + self.concepts.tokens(doc)
        # In the character view an entity is its type: "cursus in Zwolle" and "cursus in
        # Venlo" look the same, so a place or job the examples never named changes nothing.
        masked = fold(text)
        for e in sorted(entities, key=lambda e: -int(e["start"])):
            masked = f"{masked[: e['start']]}{e['entity']}{masked[e['end'] :]}"
        return Features(chars=masked, words=" ".join(words)), doc

    def featurise(self, texts: Sequence[str]) -> list[Features]:
        return [self._features(t)[0] for t in texts]

    def parse(self, text: str, now: datetime | None = None) -> dict[str, Any]:
        """Rasa's parse result for one utterance."""
        return self.parse_batch([text], now)[0]

    def parse_batch(
        self, texts: Sequence[str], now: datetime | None = None
    ) -> list[dict[str, Any]]:
        if not texts:
            return []
        now = now or _now()
        featured = [self._features(t, now) for t in texts]
        probabilities = self.classifier.predict_proba([f for f, _ in featured])
        results = []
        fallback = self.config.fallback
        for text, (_, doc), row in zip(texts, featured, probabilities, strict=True):
            scored = sorted(
                ((float(p), label) for label, p in zip(self.classifier.labels, row, strict=True)),
                key=lambda pair: (-pair[0], pair[1]),
            )[:RANKING_LENGTH]
            ranking: list[dict[str, Any]] = [
                {"name": n, "confidence": round(c, 4)} for c, n in scored
            ]
            # Decide on the unrounded scores: 0.99996 is below a threshold of 1.0.
            top, second = scored[0][0], (scored[1][0] if len(scored) > 1 else 0.0)
            intent = dict(ranking[0])
            if top < fallback.threshold or top - second < fallback.ambiguity_threshold:
                intent = {"name": Intent.NLU_FALLBACK.value, "confidence": fallback.threshold}
                ranking = [intent, *ranking]
            results.append(
                {
                    "text": text,
                    "intent": intent,
                    "intent_ranking": ranking,
                    "entities": self.extractor.extract(doc, now, intent=scored[0][1]),
                }
            )
        return results

    # ------------------------------------------------------------ persistence

    def save(self, directory: Path = MODEL_DIR) -> Path:
        directory.mkdir(parents=True, exist_ok=True)
        tmp = directory.with_name(directory.name + ".tmp")
        if tmp.exists():
            _remove_tree(tmp)
        tmp.mkdir(parents=True)
        self.nlp.to_disk(tmp / "spacy")
        joblib.dump(self.extractor.by_norm, tmp / "lookups.joblib", compress=3)
        joblib.dump(self.concepts.table, tmp / "concepts.joblib")
        save_classifier(self.classifier, tmp)
        (tmp / "config.json").write_text(self.config.model_dump_json(indent=2))
        (tmp / "meta.json").write_text(json.dumps(self.meta, indent=2))
        _remove_tree(directory)
        tmp.rename(directory)  # the old model is replaced in one step
        return directory

    @classmethod
    def load(cls, directory: Path = MODEL_DIR) -> NluModel:
        import nlu._text  # noqa: F401  (registers the norm component before loading)

        meta = json.loads((directory / "meta.json").read_text())
        if meta.get("format") != MODEL_FORMAT:
            raise ValueError(f"model format {meta.get('format')} is not {MODEL_FORMAT}: retrain")
        nlp = spacy.load(directory / "spacy")
        extractor = EntityExtractor(joblib.load(directory / "lookups.joblib"))
        concepts = ConceptMatcher(joblib.load(directory / "concepts.joblib"))
        config = NluConfig.model_validate_json((directory / "config.json").read_text())
        return cls(nlp, extractor, concepts, load_classifier(directory), config, meta)


def _now() -> datetime:
    return datetime.now(AMSTERDAM)


def _remove_tree(path: Path) -> None:
    if not path.exists():
        return
    for child in sorted(path.rglob("*"), key=lambda p: len(p.parts), reverse=True):
        child.unlink() if child.is_file() or child.is_symlink() else child.rmdir()
    path.rmdir()


def is_stale(directory: Path = MODEL_DIR) -> bool:
    """True when there is no model, or it was trained from other data, config or code."""
    meta_file = directory / "meta.json"
    if not meta_file.exists():
        return True
    meta = json.loads(meta_file.read_text())
    return bool(
        meta.get("format") != MODEL_FORMAT or meta.get("fingerprint") != current_fingerprint()
    )


def load_or_train(directory: Path = MODEL_DIR) -> NluModel:
    """The saved model, trained first when it is missing or stale."""
    if is_stale(directory):
        logger.info("nlu: training the model (missing or stale)")
        NluModel.train().save(directory)
    return NluModel.load(directory)
