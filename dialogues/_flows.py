"""Flows as data: the schema of `dialogues/flows/*.yml`, loading and cross-checks.

A flow is a list of steps. A step runs, in order: its `action`, its `say` texts, then either its
`ask` (the flow waits for the answer), its `menu`, or a `call` of another flow; afterwards `next`
picks the following step (default: the next one in the list; `end` ends the flow).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from nlu import Intent

FLOWS_DIR = Path(__file__).resolve().parent / "flows"
END = "end"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Condition(_Strict):
    """`when` holds slot values that must all match; an empty `when` always matches."""

    when: dict[str, Any] = Field(default_factory=dict)
    goto: str

    def matches(self, slots: dict[str, Any]) -> bool:
        return all(slots.get(k) == v for k, v in self.when.items())


class Option(_Strict):
    value: str = Field(pattern=r"^[a-z0-9_]{1,24}$")
    label: str
    intents: tuple[Intent, ...] = ()
    when: dict[str, Any] = Field(default_factory=dict)

    def shown(self, slots: dict[str, Any]) -> bool:
        return all(slots.get(k) == v for k, v in self.when.items())


class Ask(_Strict):
    """A question. Buttons come from `options` (fixed) and/or `options_from`: a slot an action
    filled with `[{"value": ..., "label": ...}]` (labels there are literal text, e.g. titles)."""

    slot: str
    prompt: str
    options: tuple[Option, ...] = ()
    options_from: str | None = None
    free_text: bool = False
    # A "what next?" question is not worth coming back to: when another flow starts on top of
    # it, it is dropped instead of offered again afterwards.
    resume: bool = True

    @model_validator(mode="after")
    def _has_answers(self) -> Ask:
        if not self.options and not self.free_text and self.options_from is None:
            raise ValueError("an ask needs options, options_from or free_text: true")
        return self


class Step(_Strict):
    id: str = Field(pattern=r"^[a-z0-9_]{1,24}$")
    action: str | None = None
    say: tuple[str, ...] = ()
    ask: Ask | None = None
    menu: bool = False
    call: str | None = None
    next: str | tuple[Condition, ...] | None = None

    @field_validator("say", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return (value,) if isinstance(value, str) else value

    @model_validator(mode="after")
    def _one_wait(self) -> Step:
        if sum((self.ask is not None, self.menu, self.call is not None)) > 1:
            raise ValueError(f"step {self.id}: use at most one of ask, menu, call")
        return self


class Trigger(_Strict):
    command: str | None = Field(default=None, pattern=r"^[a-z_]{1,32}$")
    intent: Intent | None = None
    step: str | None = None

    @model_validator(mode="after")
    def _one_kind(self) -> Trigger:
        if (self.command is None) == (self.intent is None):
            raise ValueError("a trigger has either a command or an intent")
        return self


class MenuEntry(_Strict):
    """How a flow appears in /help and in Telegram's command menu."""

    command: str
    label: str
    description: str
    order: int = 50
    button: bool = True  # also a button under the menu (else only listed as a command)


class Flow(_Strict):
    """A conversation. When an intent starts it, `entities` copies recognised entities into
    slots (entity name -> slot; the slots are cleared first) and `utterance_slot` keeps the
    sentence itself, so an action can read what the user asked for."""

    name: str = Field(pattern=r"^[a-z_]{1,32}$")
    description: str = ""
    triggers: tuple[Trigger, ...] = ()
    entities: dict[str, str] = Field(default_factory=dict)
    utterance_slot: str | None = None
    menu: MenuEntry | None = None
    resets_stack: bool = False
    requires_consent: bool = False
    steps: tuple[Step, ...]

    @model_validator(mode="after")
    def _steps_link(self) -> Flow:
        ids = [s.id for s in self.steps]
        if not ids:
            raise ValueError(f"flow {self.name} has no steps")
        if len(set(ids)) != len(ids):
            raise ValueError(f"flow {self.name} has duplicate step ids")
        for step in self.steps:
            targets: list[str] = []
            if isinstance(step.next, str):
                targets.append(step.next)
            elif step.next:
                targets.extend(c.goto for c in step.next)
            for target in targets:
                if target != END and target not in ids:
                    raise ValueError(f"flow {self.name} step {step.id}: unknown next {target!r}")
        for trigger in self.triggers:
            if trigger.step is not None and trigger.step not in ids:
                raise ValueError(
                    f"flow {self.name}: trigger starts at unknown step {trigger.step!r}"
                )
        return self

    def step(self, step_id: str) -> Step:
        for step in self.steps:
            if step.id == step_id:
                return step
        raise KeyError(f"flow {self.name} has no step {step_id!r}")

    def next_step_id(self, step_id: str, slots: dict[str, Any]) -> str:
        step = self.step(step_id)
        if isinstance(step.next, str):
            return step.next
        if step.next:
            for condition in step.next:
                if condition.matches(slots):
                    return condition.goto
            return END
        index = [s.id for s in self.steps].index(step_id)
        return self.steps[index + 1].id if index + 1 < len(self.steps) else END


class FlowSet:
    """All flows, indexed by name, command and intent."""

    def __init__(self, flows: list[Flow]) -> None:
        self.flows: dict[str, Flow] = {}
        self._commands: dict[str, tuple[Flow, str]] = {}
        self._intents: dict[Intent, tuple[Flow, str]] = {}
        for flow in flows:
            if flow.name in self.flows:
                raise ValueError(f"flow {flow.name!r} is defined twice")
            self.flows[flow.name] = flow
            for trigger in flow.triggers:
                entry = (flow, trigger.step or flow.steps[0].id)
                if trigger.command is not None:
                    if trigger.command in self._commands:
                        raise ValueError(f"command /{trigger.command} starts two flows")
                    self._commands[trigger.command] = entry
                if trigger.intent is not None:
                    if trigger.intent in self._intents:
                        raise ValueError(f"intent {trigger.intent} starts two flows")
                    self._intents[trigger.intent] = entry

    @classmethod
    def load(cls, directory: Path = FLOWS_DIR) -> FlowSet:
        flows = []
        for path in sorted(directory.glob("*.yml")):
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
            try:
                flows.append(Flow.model_validate(data))
            except ValueError as exc:
                raise ValueError(f"{path.name}: {exc}") from exc
        return cls(flows)

    def get(self, name: str) -> Flow:
        return self.flows[name]

    def by_command(self, command: str) -> tuple[Flow, str] | None:
        return self._commands.get(command)

    def by_intent(self, intent: str) -> tuple[Flow, str] | None:
        try:
            return self._intents.get(Intent(intent))
        except ValueError:
            return None

    def menu(self) -> list[MenuEntry]:
        entries = [f.menu for f in self.flows.values() if f.menu is not None]
        return sorted(entries, key=lambda e: (e.order, e.command))

    def check(self, *, responses: frozenset[str], actions: frozenset[str]) -> list[str]:
        """Every problem a flow has with texts, actions and other flows (empty when all is well)."""
        problems: list[str] = []
        for flow in self.flows.values():
            keys: list[str] = []
            if flow.menu:
                keys += [flow.menu.label, flow.menu.description]
                if self.by_command(flow.menu.command) is None:
                    problems.append(
                        f"{flow.name}: menu command /{flow.menu.command} has no trigger"
                    )
            for step in flow.steps:
                keys += list(step.say)
                if step.ask:
                    keys.append(step.ask.prompt)
                    keys += [o.label for o in step.ask.options]
                if step.action and step.action not in actions:
                    problems.append(f"{flow.name}.{step.id}: unknown action {step.action!r}")
                if step.call and step.call not in self.flows:
                    problems.append(f"{flow.name}.{step.id}: calls unknown flow {step.call!r}")
            problems += [f"{flow.name}: unknown response {k!r}" for k in keys if k not in responses]
        # A clarifying question names intents by their label: every routed intent needs one.
        problems += [
            f"intent {intent} has no label intent_{intent}"
            for intent in self._intents
            if f"intent_{intent}" not in responses
        ]
        return problems
