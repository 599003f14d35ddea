"""The contract between flows, actions and saved state (issue 14): declared slots with a type
and a lifetime, one payload codec, saved conversations that survive a deploy, one parse a turn."""

from __future__ import annotations

import shutil
import warnings
from datetime import datetime
from pathlib import Path

import pytest
import yaml
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

import actions
from actions import ActionRegistry
from bot._interpreter import NluInterpreter
from core.models import Channel, ConversationState
from core.settings import Settings
from dialogues import (
    MAX_PAYLOAD_BYTES,
    Answer,
    ChooseIntent,
    DialogueManager,
    Flow,
    FlowSet,
    IncomingMessage,
    PayloadTooLong,
    ResponseCatalogue,
    RunCommand,
    SlotContractWarning,
    Understanding,
    decode,
    encode,
    load_state,
)
from dialogues._flows import FLOWS_DIR
from services import find_user

pytestmark = pytest.mark.db

RESPONSES = ResponseCatalogue.load()


def _flow(**extra: object) -> dict[str, object]:
    return {"name": "demo", "steps": [{"id": "one", "say": "welcome"}], **extra}


# ------------------------------------------------------------------ declarations


def test_a_flow_that_branches_on_an_undeclared_slot_is_refused() -> None:
    data = _flow(
        steps=[
            {"id": "one", "say": "welcome", "next": [{"when": {"typo_slot": True}, "goto": "end"}]}
        ]
    )
    with pytest.raises(ValidationError, match="undeclared slots: typo_slot"):
        Flow.model_validate(data)
    data["slots"] = {"typo_slot": {"type": "bool"}}
    assert Flow.model_validate(data).slots["typo_slot"].type == "bool"


def test_an_ask_and_an_entity_need_declared_slots_too() -> None:
    asking = _flow(
        steps=[{"id": "one", "ask": {"slot": "answer", "prompt": "welcome", "free_text": True}}]
    )
    with pytest.raises(ValidationError, match="undeclared slots: answer"):
        Flow.model_validate(asking)
    with pytest.raises(ValidationError, match="undeclared slots: place"):
        Flow.model_validate(_flow(entities={"location": "place"}))


def test_two_flows_that_mean_different_things_by_one_slot_are_refused() -> None:
    one = Flow.model_validate(_flow(name="one", slots={"x": {"type": "bool"}}))
    two = Flow.model_validate(_flow(name="two", slots={"x": {"type": "text"}}))
    with pytest.raises(ValueError, match="slot 'x' is declared differently"):
        FlowSet([one, two])


def test_typed_text_is_personal_and_defaults_must_fit_the_type() -> None:
    flow = Flow.model_validate(_flow(slots={"said": {"type": "text"}}))
    assert flow.slots["said"].personal
    with pytest.raises(ValidationError, match="not of type bool"):
        Flow.model_validate(_flow(slots={"flag": {"type": "bool", "default": "yes"}}))


def test_slot_tests_in_conditions() -> None:
    flow = Flow.model_validate(
        _flow(
            slots={"topic": {"type": "text"}, "kind": {"type": "str"}},
            steps=[
                {
                    "id": "one",
                    "say": "welcome",
                    "next": [
                        {"when": {"topic": {"set": False}}, "goto": "ask"},
                        {"when": {"kind": {"in": ["a", "b"]}}, "goto": "end"},
                        {"goto": "ask"},
                    ],
                },
                {"id": "ask", "say": "welcome"},
            ],
        )
    )
    assert flow.next_step_id("one", {"topic": None, "kind": "a"}) == "ask"
    assert flow.next_step_id("one", {"topic": "excel", "kind": "b"}) == "end"
    assert flow.next_step_id("one", {"topic": "excel", "kind": "c"}) == "ask"


def test_every_flow_text_fills_in_only_declared_slots_and_set_by_names_real_actions() -> None:
    flows = FlowSet.load()
    problems = flows.check(
        responses=RESPONSES.names(),
        actions=actions.default_actions().names(),
        placeholders=RESPONSES.placeholders,
    )
    assert problems == []


def test_actions_are_registered_explicitly() -> None:
    registry = actions.default_actions()
    used = {s.action for f in FlowSet.load().flows.values() for s in f.steps if s.action}
    assert used <= registry.names()
    with pytest.raises(KeyError, match="unknown action 'nope'"):
        registry.get("nope")
    # The same module twice is the same name twice: refused, not silently overwritten.
    with pytest.raises(ValueError, match="defined twice"):
        ActionRegistry.collect((actions.loops, actions.loops))


# ------------------------------------------------------------------ payloads


def test_payloads_round_trip_within_telegrams_limit() -> None:
    for payload in (
        Answer("learning_loop", "offer_booking", "book"),
        ChooseIntent("privacy_export"),
        RunCommand("nudge", "done 123"),
        RunCommand("help"),
    ):
        raw = encode(payload)
        assert len(raw.encode()) <= MAX_PAYLOAD_BYTES
        assert decode(raw) == payload
    with pytest.raises(PayloadTooLong):
        encode(RunCommand("nudge", "x" * 70))


def test_buttons_sent_before_the_codec_still_work() -> None:
    assert decode("@consent.ask:agree") == Answer("consent", "ask", "agree")
    assert decode("#check_wallet") == ChooseIntent("check_wallet")
    assert decode("/nudge later 12") == RunCommand("nudge", "later 12")
    assert decode("9z:whatever") is None
    assert decode("hallo") is None


def test_every_button_of_every_flow_fits() -> None:
    for flow in FlowSet.load().flows.values():
        for step in flow.steps:
            for option in step.ask.options if step.ask else ():
                encode(Answer(flow.name, step.id, option.value))  # raises when too long


# ------------------------------------------------------------------ lifetimes


async def _say(dialogue: DialogueManager, who: str, text: str | None = None, **kw: str) -> str:
    replies = await dialogue.handle(IncomingMessage(Channel.CONSOLE, who, text=text, **kw))
    return "\n".join(r.text for r in replies)


async def _slots(sessions: async_sessionmaker[AsyncSession], who: str) -> dict[str, object]:
    async with sessions() as session:
        user = await find_user(session=session, channel=Channel.CONSOLE, external_id=who)
        assert user is not None
        return (await load_state(session, user.id)).slots


async def test_flow_slots_are_forgotten_when_the_flow_ends(
    sessions: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    dialogue = DialogueManager(sessions=sessions, settings=settings)
    await _say(dialogue, "ends", "/cursussen")
    await _say(dialogue, "ends", "excel")
    assert "course_what" in await _slots(sessions, "ends")  # asked where: still searching
    await _say(dialogue, "ends", "online")
    done = await dialogue.handle(IncomingMessage(Channel.CONSOLE, "ends", text="/help"))
    assert done
    slots = await _slots(sessions, "ends")
    # The search ended: its slots are gone, only what outlives a flow stays (the results, to
    # book one later).
    assert not {"course_topic", "course_place", "course_what", "_course_where"} & set(slots)
    assert slots.get("course_results")


async def test_without_consent_nothing_typed_outlives_the_turn(
    sessions: async_sessionmaker[AsyncSession], settings: Settings, interpreter: NluInterpreter
) -> None:
    dialogue = DialogueManager(sessions=sessions, settings=settings, interpreter=interpreter)
    await _say(dialogue, "pim", "/start")
    await _say(dialogue, "pim", "Nee, liever niet")
    await _say(dialogue, "pim", "ik ben Pim de Vries, bsn 123456782, ik woon in Almere")
    await _say(dialogue, "pim", "ik werk als pastoraal werker")
    async with sessions() as session:
        user = await find_user(session=session, channel=Channel.CONSOLE, external_id="pim")
        assert user is not None and not user.consent
        row = await session.get(ConversationState, user.id)
        saved = str(row.state if row else "")
        profile = (user.name, user.region, user.occupation_uri, user.occupation_label)
    for typed in ("Pim", "123456782", "Almere", "pastoraal"):
        assert typed.casefold() not in saved.casefold(), typed
    assert profile == (None, None, None, None)


async def test_withdrawing_consent_forgets_the_occupation(
    sessions: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    dialogue = DialogueManager(sessions=sessions, settings=settings)
    await _say(dialogue, "wd", "/start")
    await _say(dialogue, "wd", payload=encode(Answer("consent", "ask", "agree")))
    await _say(dialogue, "wd", "/reflectie")
    await _say(dialogue, "wd", "verpleegkundige")
    async with sessions() as session:
        user = await find_user(session=session, channel=Channel.CONSOLE, external_id="wd")
        assert user is not None and user.occupation_uri
    await _say(dialogue, "wd", "/privacy")
    await _say(dialogue, "wd", payload=encode(Answer("privacy", "choose", "withdraw")))
    async with sessions() as session:
        user = await find_user(session=session, channel=Channel.CONSOLE, external_id="wd")
        assert user is not None
        assert (user.consent, user.occupation_uri, user.occupation_label) == (False, None, None)
    assert not {"work_uri", "work_label", "work_isco", "work_text"} & set(
        await _slots(sessions, "wd")
    )


# ------------------------------------------------------------------ deploys


def _flows_with(tmp_path: Path, flow: str, old: str, new: str) -> FlowSet:
    """The flows as they are, but with one step of one flow renamed (a deploy)."""
    folder = tmp_path / "flows"
    shutil.copytree(FLOWS_DIR, folder)
    path = folder / f"{flow}.yml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    for step in data["steps"]:
        if step["id"] == old:
            step["id"] = new
        nxt = step.get("next")
        if nxt == old:
            step["next"] = new
        elif isinstance(nxt, list):
            for condition in nxt:
                if condition["goto"] == old:
                    condition["goto"] = new
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return FlowSet.load(folder)


async def test_a_renamed_step_under_a_saved_conversation_is_dropped_kindly(
    sessions: async_sessionmaker[AsyncSession], settings: Settings, tmp_path: Path
) -> None:
    before = DialogueManager(sessions=sessions, settings=settings)
    assert "Wat wil je leren?" in await _say(before, "deploy", "/cursussen")
    after = DialogueManager(
        sessions=sessions,
        settings=settings,
        flows=_flows_with(tmp_path, "find_course", "ask_what", "ask_topic"),
    )
    replies = await after.handle(IncomingMessage(Channel.CONSOLE, "deploy", text="excel"))
    text = "\n".join(r.text for r in replies)
    assert RESPONSES.render("conversation_changed") in text
    assert any(b.payload == encode(RunCommand("help")) for r in replies for b in r.buttons) or (
        "/help" in text
    )
    # And the user is not locked out: every later message works.
    assert RESPONSES.render("help_intro") in await _say(after, "deploy", "/help")
    assert "Wat wil je leren?" in await _say(after, "deploy", "/cursussen")


async def test_a_removed_flow_under_a_saved_conversation_is_dropped_kindly(
    sessions: async_sessionmaker[AsyncSession], settings: Settings, tmp_path: Path
) -> None:
    before = DialogueManager(sessions=sessions, settings=settings)
    await _say(before, "gone", "/cursussen")  # find_course waits for an answer
    folder = tmp_path / "flows"
    shutil.copytree(FLOWS_DIR, folder)
    # find_course is gone, and everything that called it calls the help menu instead.
    (folder / "find_course.yml").unlink()
    for path in folder.glob("*.yml"):
        path.write_text(
            path.read_text(encoding="utf-8").replace("call: find_course", "call: help"),
            encoding="utf-8",
        )
    flows = FlowSet.load(folder)
    assert "find_course" not in flows.flows
    after = DialogueManager(sessions=sessions, settings=settings, flows=flows)
    with warnings.catch_warnings():
        warnings.simplefilter("error", SlotContractWarning)
        reply = await _say(after, "gone", "excel")
    assert RESPONSES.render("conversation_changed") in reply
    assert RESPONSES.render("help_intro") in await _say(after, "gone", "/help")


# ------------------------------------------------------------------ one parse a turn


class _Counting:
    """The real NLU, counting how often it is asked."""

    def __init__(self, inner: NluInterpreter) -> None:
        self.inner = inner
        self.calls: list[str] = []

    async def understand(self, text: str, now: datetime | None = None) -> Understanding:
        self.calls.append(text)
        return await self.inner.understand(text, now)


async def test_each_text_is_parsed_once_per_turn(
    sessions: async_sessionmaker[AsyncSession], settings: Settings, interpreter: NluInterpreter
) -> None:
    counting = _Counting(interpreter)
    dialogue = DialogueManager(sessions=sessions, settings=settings, interpreter=counting)
    await _say(dialogue, "once", "/start")
    counting.calls.clear()
    await _say(dialogue, "once", "ja hoor, prima")  # a typed answer: no NLU needed at all
    assert counting.calls == []
    for line in ("hoeveel budget heb ik nog?", "ik zoek een cursus excel", "misschien later"):
        counting.calls.clear()
        await _say(dialogue, "once", line)
        assert counting.calls == [line]


# ------------------------------------------------------------------ bugs the contract fixed


@pytest.mark.parametrize("work", ["pastoraal werker", "passagiersassistent"])
async def test_a_job_that_starts_like_pas_is_not_i_dont_know(
    sessions: async_sessionmaker[AsyncSession], settings: Settings, work: str
) -> None:
    dialogue = DialogueManager(sessions=sessions, settings=settings)
    who = f"pas-{work[:5]}"
    await _say(dialogue, who, "/start")
    await _say(dialogue, who, payload=encode(Answer("consent", "ask", "agree")))
    await _say(dialogue, who, "/loopbaan")
    reply = await _say(dialogue, who, work)
    assert RESPONSES.render("work_unknown_ok") not in reply
    assert "weet" not in reply.split("\n")[0].casefold()


@pytest.mark.parametrize(
    ("line", "days"),
    [
        ("herinner me elke maand op maandag om 9 uur", 30),
        ("stuur me om de drie weken een herinnering", 21),
        ("herinner me elke twee weken op vrijdag", 14),
        ("elke dag om 8 uur een herinnering graag", 1),
    ],
)
async def test_how_often_is_taken_as_the_nlu_resolved_it(
    sessions: async_sessionmaker[AsyncSession],
    settings: Settings,
    interpreter: NluInterpreter,
    line: str,
    days: int,
) -> None:
    from core.models import NudgePreference

    dialogue = DialogueManager(sessions=sessions, settings=settings, interpreter=interpreter)
    who = f"often-{days}"
    await _say(dialogue, who, "/start")
    await _say(dialogue, who, payload=encode(Answer("consent", "ask", "agree")))
    await _say(dialogue, who, line)
    async with sessions() as session:
        user = await find_user(session=session, channel=Channel.CONSOLE, external_id=who)
        assert user is not None
        pref = await session.get(NudgePreference, user.id)
        assert pref is not None and pref.every_days == days
