"""The numpy twin of the classifier gives scikit-learn's probabilities, without scikit-learn."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np

from nlu import NluModel, load_training_data
from nlu._classifier import CharWordLogReg, load_classifier
from nlu._linear import LinearIntentClassifier
from nlu._model import MODEL_DIR


def test_same_probabilities_as_scikit_learn(nlu_model: NluModel) -> None:
    trained = load_classifier(MODEL_DIR, trainable=True)
    assert isinstance(trained, CharWordLogReg)
    twin = load_classifier(MODEL_DIR)
    assert isinstance(twin, LinearIntentClassifier)
    texts = [e.text for e in load_training_data().examples]
    texts += ["", "!!!", "ik  wil\teen   cursus", "Wat is STAP?", "xyzzy qwerty", "ëén café"]
    features = nlu_model.featurise(texts)
    expected = trained.predict_proba(features)
    got = twin.predict_proba(features)
    assert twin.labels == trained.labels
    assert np.abs(expected - got).max() < 1e-9
    assert (expected.argmax(axis=1) == got.argmax(axis=1)).all()


def test_parsing_does_not_import_scikit_learn() -> None:
    script = (
        "import sys; from nlu import NluModel; m = NluModel.load(); "
        "m.parse('ik zoek een cursus excel in Zwolle'); "
        "print(sorted(n for n in ('sklearn', 'scipy.stats') if n in sys.modules))"
    )
    out = subprocess.run(  # noqa: S603
        [sys.executable, "-c", script],
        check=True,
        capture_output=True,
        text=True,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert out.stdout.strip() == "[]"


def test_compact_lemmas_are_spacys_lemmas() -> None:
    import spacy

    from nlu._text import LEMMA_COMPONENT, blank_dutch

    ours = blank_dutch()
    assert "lemmatizer" not in ours.pipe_names and LEMMA_COMPONENT in ours.pipe_names
    reference = spacy.blank("nl")
    reference.add_pipe("lemmatizer", config={"mode": "lookup"})
    reference.initialize()
    texts = [e.text for e in load_training_data().examples]
    texts += ["De Cursussen GINGEN door", "één café", "xyzzy", "Zwolle's"]
    compared = 0
    for mine, theirs in zip(ours.pipe(texts), reference.pipe(texts), strict=True):
        assert [t.lemma_ for t in mine] == [t.lemma_ for t in theirs], mine.text
        compared += len(mine)
    assert compared > 10_000
