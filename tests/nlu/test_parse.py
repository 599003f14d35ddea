"""The parse result (Rasa's shape), the fallback, and the model's life cycle."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from nlu import MODEL_DIR, Intent, NluModel, is_stale, load_training_data
from nlu._data import parse_example, to_rasa_yaml
from tests.support.processes import clean_env, leerloop_executable

CASES = [
    ("hoeveel budget heb ik nog", "check_wallet"),
    ("ik zoek een cursus excel in utrecht", "find_course"),
    ("schrijf me in voor die training", "enroll_course"),
    ("bestaat het stap budget nog?", "ask_regulation"),
    ("herinner me vrijdag om 9 uur aan mijn examen", "set_reminder"),
    ("stop met die herinneringen", "stop_nudges"),
    ("module 2 is af", "report_progress"),
    ("wat is mijn volgende stap", "loop_status"),
    ("ik wil een mens spreken", "request_advisor"),
    ("verwijder al mijn gegevens", "privacy_delete"),
    ("welke gegevens hebben jullie van mij", "privacy_export"),
    ("stuur mijn team een herinnering over de cursus", "nudge_team"),
    ("hoe staat mijn team ervoor", "team_overview"),
    ("ben jij een robot", "bot_challenge"),
    ("wat voor weer wordt het morgen", "out_of_scope"),
    ("hoi", "greet"),
    ("ja graag", "affirm"),
    ("nee dank je", "deny"),
]


@pytest.mark.parametrize(("text", "intent"), CASES)
def test_everyday_sentences(nlu_model: NluModel, text: str, intent: str) -> None:
    assert nlu_model.parse(text)["intent"]["name"] == intent


def test_parse_result_has_rasas_shape(nlu_model: NluModel) -> None:
    result = nlu_model.parse("ik zoek een online cursus Excel in Utrecht")
    assert set(result) == {"text", "intent", "intent_ranking", "entities"}
    assert result["text"] == "ik zoek een online cursus Excel in Utrecht"
    assert set(result["intent"]) == {"name", "confidence"}
    assert 0.0 <= result["intent"]["confidence"] <= 1.0
    ranking = result["intent_ranking"]
    assert ranking[0] == result["intent"]
    confidences = [r["confidence"] for r in ranking]
    assert confidences == sorted(confidences, reverse=True)
    assert {r["name"] for r in ranking} <= {i.value for i in Intent}
    for entity in result["entities"]:
        assert {"entity", "value", "start", "end", "extractor"} <= set(entity)
        assert result["text"][entity["start"] : entity["end"]] == entity["text"]
    json.dumps(result)  # serialisable as it is


def test_low_confidence_becomes_nlu_fallback_with_ranking(nlu_model: NluModel) -> None:
    threshold = nlu_model.config.fallback.threshold
    result = nlu_model.parse("flap")
    if result["intent"]["name"] == "nlu_fallback":
        assert result["intent"]["confidence"] == threshold
        assert result["intent_ranking"][0]["name"] == "nlu_fallback"
        assert len(result["intent_ranking"]) > 2
    else:  # a confident answer must then be above the threshold
        assert result["intent"]["confidence"] >= threshold


def test_fallback_threshold_is_applied(nlu_model: NluModel) -> None:
    strict = nlu_model.config.model_copy(
        update={"fallback": nlu_model.config.fallback.model_copy(update={"threshold": 1.0})}
    )
    model = NluModel(
        nlu_model.nlp,
        nlu_model.extractor,
        nlu_model.concepts,
        nlu_model.classifier,
        strict,
        nlu_model.meta,
    )
    result = model.parse("hoeveel budget heb ik nog")
    assert result["intent"] == {"name": "nlu_fallback", "confidence": 1.0}
    assert result["intent_ranking"][1]["name"] == "check_wallet"


@pytest.mark.slow
def test_training_is_deterministic() -> None:
    data = load_training_data()
    subset = data.examples[::4]
    texts = [e.text for e in data.examples[1::37]]
    first = NluModel.train(data, examples=subset).parse_batch(texts)
    second = NluModel.train(data, examples=subset).parse_batch(texts)
    assert first == second


def test_saved_model_is_current_and_loads_the_same(nlu_model: NluModel) -> None:
    assert not is_stale(MODEL_DIR)
    again = NluModel.load(MODEL_DIR)
    text = "ik wil mijn vaardigheden in kaart brengen"
    assert again.parse(text)["intent_ranking"] == nlu_model.parse(text)["intent_ranking"]


def test_annotations_round_trip() -> None:
    example = parse_example("cursus [Excel](topic) in [Den Bosch](location:'s-Hertogenbosch)", "x")
    assert example.text == "cursus Excel in Den Bosch"
    assert [(e.entity, e.value, example.text[e.start : e.end]) for e in example.entities] == [
        ("topic", "Excel", "Excel"),
        ("location", "'s-Hertogenbosch", "Den Bosch"),
    ]
    assert "[Excel](topic)" in to_rasa_yaml([example])


def _nlu_cli(cwd: Path, *args: str, stdin: str = "") -> str:
    run = subprocess.run(  # noqa: S603
        [leerloop_executable(), "nlu", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=clean_env(),
        cwd=cwd,
        timeout=120,
        check=True,
    )
    return run.stdout


def test_cli_parse_reads_stdin_and_evaluate_reports_json(tmp_path: Path) -> None:
    out = _nlu_cli(tmp_path, "parse", stdin="saldo\nik wil een leerdoel stellen\n")
    lines = [json.loads(line) for line in out.splitlines()]
    assert [r["intent"]["name"] for r in lines] == ["check_wallet", "start_learning_loop"]

    test_file = tmp_path / "test.yml"
    test_file.write_text(
        'version: "3.1"\nnlu:\n- intent: check_wallet\n  examples: |\n    - wat is mijn saldo\n'
        "- intent: greet\n  examples: |\n    - goedemorgen\n"
    )
    report = json.loads(_nlu_cli(tmp_path, "evaluate", str(test_file), "--json"))
    assert {"accuracy", "macro_f1", "per_intent", "confusions"} <= set(report)
    assert report["accuracy"] == 1.0
    assert set(report["per_intent"]) == {"check_wallet", "greet"}


def test_examples_in_rasas_list_form(tmp_path: Path) -> None:
    from nlu import load_yaml

    path = tmp_path / "list_form.yml"
    path.write_text(
        'version: "3.1"\nnlu:\n- intent: greet\n  examples:\n'
        "  - text: goedemorgen\n    metadata: {sentiment: neutral}\n  - hallo daar\n"
    )
    assert [(e.text, e.intent) for e in load_yaml(path).examples] == [
        ("goedemorgen", "greet"),
        ("hallo daar", "greet"),
    ]
