"""The flows and texts as data: they load, link up, and every text is there."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from pydantic import ValidationError

import actions
from dialogues import Flow, FlowSet, ResponseCatalogue

FLOWS = FlowSet.load()
RESPONSES = ResponseCatalogue.load()


def test_flows_reference_only_existing_texts_actions_and_flows() -> None:
    assert FLOWS.check(responses=RESPONSES.names(), actions=actions.default_actions().names()) == []


def test_required_flows_exist() -> None:
    for name in ("onboarding", "consent", "help", "privacy", "fallback"):
        assert name in FLOWS.flows
    assert FLOWS.by_command("start") is not None
    assert FLOWS.by_command("privacy") is not None
    found = FLOWS.by_intent("privacy_delete")
    assert found is not None and found[1] == "confirm_delete"


def test_every_response_is_used() -> None:
    used: set[str] = set()
    root = Path(actions.__file__).parent.parent
    # The project's own packages: not tests, nor a venv (.venv, the Rasa venv .rasa-venv).
    packages = [d for d in root.iterdir() if d.is_dir() and not d.name.startswith(".")]
    for path in (p for d in packages if d.name != "tests" for p in d.rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        used.update(k for k in RESPONSES.names() if f'"{k}"' in text or f"'{k}'" in text)
    for flow in FLOWS.flows.values():
        dumped = flow.model_dump_json()
        used.update(k for k in RESPONSES.names() if f'"{k}"' in dumped)
    # Clarifying questions name routed intents by their `intent_<name>` label.
    used.update(f"intent_{intent}" for intent in FLOWS._intents)
    assert RESPONSES.names() - used == set()


def test_texts_use_informal_je() -> None:
    for key in RESPONSES.names():
        for text in RESPONSES.variants(key):
            words = {w.strip(".,:?!()").lower() for w in text.split()}
            assert not words & {"u", "uw"}, f"{key} uses the formal 'u'"


def test_a_typo_in_a_next_step_is_an_error() -> None:
    data = yaml.safe_load("""
    name: broken
    steps:
      - id: one
        say: welcome
        next: tow
      - id: two
        say: welcome
    """)
    with pytest.raises(ValidationError, match="unknown next 'tow'"):
        Flow.model_validate(data)


def test_unknown_fields_and_intents_are_errors() -> None:
    with pytest.raises(ValidationError):
        Flow.model_validate({"name": "x", "steps": [{"id": "a", "sayy": "welcome"}]})
    with pytest.raises(ValidationError):
        Flow.model_validate(
            {
                "name": "x",
                "triggers": [{"intent": "no_such_intent"}],
                "steps": [{"id": "a", "say": "welcome"}],
            }
        )


def test_missing_placeholder_value_is_an_error() -> None:
    with pytest.raises(KeyError, match="since"):
        RESPONSES.render("privacy_overview_minimal", {})
    assert "01-01-2026" in RESPONSES.render("privacy_overview_minimal", {"since": "01-01-2026"})
