"""Flows as data: the schema of `dialogues/flows/*.yml`, loading and cross-checks.

A flow declares its slots (`dialogues/_slots.py`) and is a list of steps. A step runs, in order:
its `action`, its `say` texts, then either its `ask` (the flow waits for the answer), its `menu`,
or a `call` of another flow; afterwards `next` picks the following step (default: the next one
in the list; `end` ends the flow). Conditions read declared slots only; the loader refuses a flow
that reads, asks for or fills a slot it does not declare.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from core.yaml_files import load_yaml
from dialogues._payloads import MAX_PAYLOAD_BYTES, Answer, encode
from dialogues._slots import SlotSpec
from nlu import Intent

FLOWS_DIR = Path(__file__).resolve().parent / "flows"
END = "end"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Test(_Strict):
    """A test on one slot other than equality: `{set: true}` (has a value), `{in: [a, b]}`,
    `{not: value}`."""

    set: bool | None = None
    in_: tuple[Any, ...] | None = Field(default=None, alias="in")
    not_: Any = Field(default=None, alias="not")

    @model_validator(mode="after")
    def _one_test(self) -> Test:
        given = [name for name in ("set", "in_", "not_") if name in self.model_fields_set]
        if len(given) != 1:
            raise ValueError("a slot test has exactly one of set, in, not")
        return self

    def holds(self, value: Any) -> bool:
        if "set" in self.model_fields_set:
            return (value not in (None, "", [], {})) == self.set
        if "in_" in self.model_fields_set:
            return value in (self.in_ or ())
        return bool(value != self.not_)


def _holds(when: dict[str, Any], slots: Mapping[str, Any]) -> bool:
    for name, wanted in when.items():
        value = slots[name]
        if isinstance(wanted, Test):
            if not wanted.holds(value):
                return False
        elif value != wanted:
            return False
    return True


def _tests(when: dict[str, Any]) -> dict[str, Any]:
    return {k: Test.model_validate(v) if isinstance(v, dict) else v for k, v in when.items()}


class Condition(_Strict):
    """`when` holds slot values (or tests) that must all match; an empty `when` always matches."""

    when: dict[str, Any] = Field(default_factory=dict)
    goto: str

    @field_validator("when", mode="after")
    @classmethod
    def _parse_tests(cls, when: dict[str, Any]) -> dict[str, Any]:
        return _tests(when)

    def matches(self, slots: Mapping[str, Any]) -> bool:
        return _holds(self.when, slots)


class Option(_Strict):
    value: str = Field(pattern=r"^[a-z0-9_]{1,24}$")
    label: str
    intents: tuple[Intent, ...] = ()
    when: dict[str, Any] = Field(default_factory=dict)

    @field_validator("when", mode="after")
    @classmethod
    def _parse_tests(cls, when: dict[str, Any]) -> dict[str, Any]:
        return _tests(when)

    def shown(self, slots: Mapping[str, Any]) -> bool:
        return _holds(self.when, slots)


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
    # The menu: `true` is the short one (a line and three buttons that fit the moment, or the
    # whole menu after real confusion); `full` always lists everything (/help).
    menu: bool | Literal["full"] = False
    call: str | None = None
    next: str | tuple[Condition, ...] | None = None

    @field_validator("say", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return (value,) if isinstance(value, str) else value

    @model_validator(mode="after")
    def _one_wait(self) -> Step:
        if sum((self.ask is not None, bool(self.menu), self.call is not None)) > 1:
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

    name: str = Field(pattern=r"^[a-z_]{1,24}$")
    description: str = ""
    slots: dict[str, SlotSpec] = Field(default_factory=dict)
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
        undeclared = sorted(set(self.slots_read()) - set(self.slots))
        if undeclared:
            raise ValueError(f"flow {self.name} uses undeclared slots: {', '.join(undeclared)}")
        for step in self.steps:
            for option in step.ask.options if step.ask else ():
                payload = encode(Answer(self.name, step.id, option.value))
                if len(payload.encode()) > MAX_PAYLOAD_BYTES:
                    raise ValueError(f"flow {self.name} step {step.id}: button payload too long")
        return self

    def slots_read(self) -> dict[str, str]:
        """Every slot the flow's YAML names, with where (for error messages)."""
        used: dict[str, str] = {}
        for entity_slot in self.entities.values():
            used.setdefault(entity_slot, "entities")
        if self.utterance_slot:
            used.setdefault(self.utterance_slot, "utterance_slot")
        for step in self.steps:
            where = f"step {step.id}"
            if step.ask:
                used.setdefault(step.ask.slot, where)
                if step.ask.options_from:
                    used.setdefault(step.ask.options_from, where)
                for option in step.ask.options:
                    for name in option.when:
                        used.setdefault(name, where)
            if isinstance(step.next, tuple):
                for condition in step.next:
                    for name in condition.when:
                        used.setdefault(name, where)
        return used

    def step(self, step_id: str) -> Step:
        for step in self.steps:
            if step.id == step_id:
                return step
        raise KeyError(f"flow {self.name} has no step {step_id!r}")

    def has_step(self, step_id: str) -> bool:
        return any(step.id == step_id for step in self.steps)

    def next_step_id(self, step_id: str, slots: Mapping[str, Any]) -> str:
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
        # Every declared slot once, and which flows declare it (a flow slot lives while one of
        # them is on the stack).
        self.slots: dict[str, SlotSpec] = {}
        self.declared_by: dict[str, frozenset[str]] = {}
        for flow in flows:
            if flow.name in self.flows:
                raise ValueError(f"flow {flow.name!r} is defined twice")
            self.flows[flow.name] = flow
            for name, spec in flow.slots.items():
                known = self.slots.get(name)
                if known is not None and not known.same_as(spec):
                    raise ValueError(
                        f"slot {name!r} is declared differently in {flow.name} and in "
                        f"{', '.join(sorted(self.declared_by.get(name, {'the engine'})))}"
                    )
                self.slots[name] = spec
                self.declared_by[name] = self.declared_by.get(name, frozenset()) | {flow.name}
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
            data = load_yaml(path)
            try:
                flows.append(Flow.model_validate(data))
            except ValueError as exc:
                raise ValueError(f"{path.name}: {exc}") from exc
        return cls(flows)

    def get(self, name: str) -> Flow:
        return self.flows[name]

    def find(self, name: str) -> Flow | None:
        return self.flows.get(name)

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

    def check(
        self,
        *,
        responses: frozenset[str],
        actions: frozenset[str],
        placeholders: Callable[[str], set[str]] | None = None,
    ) -> list[str]:
        """Every problem a flow has with texts, actions, slots and other flows (empty when all
        is well). With `placeholders`, a text a step says by itself may only fill in declared
        slots (an action's texts get their values from the action)."""
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
            if placeholders is not None:
                for key in keys:
                    if key in responses:
                        problems += [
                            f"{flow.name}: text {key!r} fills in undeclared slot {{{name}}}"
                            for name in sorted(placeholders(key))
                            if name not in self.slots
                        ]
            for name, spec in flow.slots.items():
                problems += [
                    f"{flow.name}: slot {name!r} is set by unknown action {a!r}"
                    for a in spec.set_by
                    if a not in actions
                ]
        # A clarifying question names intents by their label: every routed intent needs one.
        problems += [
            f"intent {intent} has no label intent_{intent}"
            for intent in self._intents
            if f"intent_{intent}" not in responses
        ]
        return problems
