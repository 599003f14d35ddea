"""Evaluation: accuracy, macro-F1, per-intent scores, top confusions; k-fold cross-validation;
entity precision and recall on annotated examples."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

from sklearn.metrics import accuracy_score, f1_score, precision_recall_fscore_support
from sklearn.model_selection import StratifiedKFold

from nlu._config import NluConfig, load_config
from nlu._data import Example, TrainingData, load_training_data
from nlu._model import NluModel


def intent_report(gold: Sequence[str], predicted: Sequence[str]) -> dict[str, Any]:
    labels = sorted(set(gold))
    precision, recall, f1, support = precision_recall_fscore_support(
        gold, predicted, labels=labels, zero_division=0
    )
    confusions = Counter((g, p) for g, p in zip(gold, predicted, strict=True) if g != p)
    return {
        "examples": len(gold),
        "accuracy": round(float(accuracy_score(gold, predicted)), 4),
        "macro_f1": round(
            float(f1_score(gold, predicted, labels=labels, average="macro", zero_division=0)), 4
        ),
        "per_intent": {
            label: {
                "precision": round(float(p), 4),
                "recall": round(float(r), 4),
                "f1": round(float(f), 4),
                "support": int(s),
            }
            for label, p, r, f, s in zip(labels, precision, recall, f1, support, strict=True)
        },
        "confusions": [
            {"intent": g, "predicted": p, "count": n} for (g, p), n in confusions.most_common(15)
        ],
    }


def entity_report(model: NluModel, examples: Sequence[Example]) -> dict[str, Any]:
    """Span-level precision/recall/F1 per entity type over annotated examples."""
    annotated = [e for e in examples if e.entities]
    tp: Counter[str] = Counter()
    fp: Counter[str] = Counter()
    fn: Counter[str] = Counter()
    for example, parsed in zip(
        annotated, model.parse_batch([e.text for e in annotated]), strict=True
    ):
        gold = {(e.entity, e.start, e.end) for e in example.entities}
        found = {(e["entity"], e["start"], e["end"]) for e in parsed["entities"]}
        for entity, *_ in gold & found:
            tp[entity] += 1
        for entity, *_ in found - gold:
            fp[entity] += 1
        for entity, *_ in gold - found:
            fn[entity] += 1
    report = {}
    for entity in sorted(set(tp) | set(fn)):
        p = tp[entity] / (tp[entity] + fp[entity]) if tp[entity] + fp[entity] else 0.0
        r = tp[entity] / (tp[entity] + fn[entity]) if tp[entity] + fn[entity] else 0.0
        f = 2 * p * r / (p + r) if p + r else 0.0
        report[entity] = {
            "precision": round(p, 4),
            "recall": round(r, 4),
            "f1": round(f, 4),
            "support": tp[entity] + fn[entity],
        }
    return report


def evaluate(model: NluModel, examples: Sequence[Example]) -> dict[str, Any]:
    """Score `model` on labelled examples it was (ideally) not trained on."""
    predicted = [r["intent"]["name"] for r in model.parse_batch([e.text for e in examples])]
    report = intent_report([e.intent for e in examples], predicted)
    report["fallback_rate"] = round(predicted.count("nlu_fallback") / max(len(predicted), 1), 4)
    report["entities"] = entity_report(model, examples)
    return report


def cross_validate(
    folds: int = 5, data: TrainingData | None = None, config: NluConfig | None = None
) -> dict[str, Any]:
    """Stratified k-fold cross-validation: train on k-1 folds, predict the held-out fold."""
    data = data or load_training_data()
    config = config or load_config()
    examples = data.examples
    labels = [e.intent for e in examples]
    predicted = [""] * len(examples)
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=config.random_seed)
    for train_index, test_index in splitter.split(examples, labels):
        model = NluModel.train(data, config, examples=[examples[i] for i in train_index])
        parsed = model.parse_batch([examples[i].text for i in test_index])
        for i, result in zip(test_index, parsed, strict=True):
            predicted[i] = result["intent"]["name"]
    report = intent_report(labels, predicted)
    report["folds"] = folds
    report["fallback_rate"] = round(predicted.count("nlu_fallback") / len(predicted), 4)
    return report


def format_report(report: dict[str, Any]) -> str:
    """A plain-text table of a report."""
    lines = [
        f"examples: {report['examples']}   accuracy: {report['accuracy']:.4f}   "
        f"macro-F1: {report['macro_f1']:.4f}   fallback: {report.get('fallback_rate', 0):.2%}",
        "",
        f"{'intent':<22}{'precision':>10}{'recall':>10}{'f1':>10}{'support':>9}",
    ]
    for intent, s in report["per_intent"].items():
        lines.append(
            f"{intent:<22}{s['precision']:>10.3f}{s['recall']:>10.3f}{s['f1']:>10.3f}"
            f"{s['support']:>9}"
        )
    if report["confusions"]:
        lines += ["", "top confusions (gold -> predicted: count):"]
        lines += [
            f"  {c['intent']} -> {c['predicted']}: {c['count']}" for c in report["confusions"]
        ]
    if report.get("entities"):
        lines += ["", f"{'entity':<22}{'precision':>10}{'recall':>10}{'f1':>10}{'support':>9}"]
        for entity, s in report["entities"].items():
            lines.append(
                f"{entity:<22}{s['precision']:>10.3f}{s['recall']:>10.3f}"
                f"{s['f1']:>10.3f}{s['support']:>9}"
            )
    return "\n".join(lines)
