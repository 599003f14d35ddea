"""The dialogue manager: one incoming message in, the bot's replies out.

Each message runs in one database transaction: load the user's state, route the message
(answer to the waiting question, a command, an intent, or fallback), run flow steps until the
bot waits for the user again, save the state. A restart therefore loses no conversation.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from actions import ActionContext, Attachment, Say, get_action
from core.db import utcnow
from core.models import ConversationState, User
from core.settings import Settings
from dialogues._flows import END, Ask, Flow, FlowSet, Step
from dialogues._messages import Button, IncomingMessage, Reply
from dialogues._responses import ResponseCatalogue
from dialogues._state import DialogueState, Frame
from services import get_or_create_user

logger = logging.getLogger(__name__)

MAX_STEPS_PER_TURN = 50
# While the bot waits for a free-text answer, these requests still interrupt it (answered, then
# the question is offered again) when the NLU is this sure; anything else is the answer.
INTERRUPTING_INTENTS = frozenset(
    {
        "help",
        "check_wallet",
        "wallet_history",
        "privacy_export",
        "privacy_delete",
        "stop_nudges",
        "ask_regulation",
        "request_advisor",
    }
)
INTERRUPT_CONFIDENCE = 0.9
FALLBACK_FLOW = "fallback"
CONSENT_FLOW = "consent"
NLU_FALLBACK = "nlu_fallback"
_INTENT_RE = re.compile(r"^#(?P<intent>[a-z_]+)$")
_ANSWER_RE = re.compile(r"^@(?P<flow>[a-z_]+)\.(?P<step>[a-z0-9_]+):(?P<value>[a-z0-9_-]+)$")
_COMMAND_RE = re.compile(r"^/(?P<command>[A-Za-z_]{1,32})(?:@\w+)?(?:\s+(?P<args>.*))?$", re.DOTALL)


@dataclass(frozen=True)
class Understanding:
    """What the NLU made of a text (Rasa's parse result, reduced to what dialogues need)."""

    intent: str
    confidence: float
    ranking: tuple[tuple[str, float], ...] = ()
    entities: tuple[dict[str, Any], ...] = ()


class Interpreter(Protocol):
    async def understand(self, text: str) -> Understanding: ...


def answer_payload(flow: str, step: str, value: str) -> str:
    return f"@{flow}.{step}:{value}"


def _normalise(text: str) -> str:
    return " ".join(text.casefold().split()).strip(" .!?")


@dataclass
class _Turn:
    session: AsyncSession
    user: User
    state: DialogueState
    message: IncomingMessage
    now: datetime
    replies: list[Reply] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)
    attachments: list[Attachment] = field(default_factory=list)
    user_deleted: bool = False
    steps_run: int = 0

    def flush(self, buttons: tuple[Button, ...] = ()) -> None:
        if self.texts or buttons:
            self.replies.append(Reply(text="\n\n".join(self.texts), buttons=buttons))
        self.texts = []
        for attachment in self.attachments:
            self.replies.append(Reply(text="", attachment=attachment))
        self.attachments = []


class DialogueManager:
    """Runs the flows in `dialogues/flows/` for every incoming message."""

    def __init__(
        self,
        *,
        sessions: async_sessionmaker[AsyncSession],
        settings: Settings,
        flows: FlowSet | None = None,
        responses: ResponseCatalogue | None = None,
        interpreter: Interpreter | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.sessions = sessions
        self.settings = settings
        self.flows = flows or FlowSet.load()
        self.responses = responses or ResponseCatalogue.load()
        self.interpreter = interpreter
        self.clock = clock

    # ----------------------------------------------------------------- public

    async def handle(self, message: IncomingMessage) -> list[Reply]:
        """Process one message from a user and return what the bot says back."""
        async with self.sessions() as session, session.begin():
            user = await get_or_create_user(
                session=session, channel=message.channel, external_id=message.external_id
            )
            if user.blocked:  # they write again, so they no longer block us
                user.blocked = False
            row = await session.get(ConversationState, user.id, with_for_update=True)
            state = DialogueState.from_json(row.state if row else None)
            turn = _Turn(session, user, state, message, self.clock())
            await self._route(turn)
            turn.flush()
            if not turn.user_deleted:
                state.turns += 1
                if row is None:
                    session.add(ConversationState(user_id=user.id, state=state.to_json()))
                else:
                    row.state = state.to_json()
        return turn.replies

    def command_menu(self) -> list[tuple[str, str]]:
        """(command, description) pairs for a channel's command menu."""
        return [(e.command, self.responses.render(e.description)) for e in self.flows.menu()]

    # ---------------------------------------------------------------- routing

    async def _route(self, turn: _Turn) -> None:
        message = turn.message
        raw = (message.payload or message.text or "").strip()
        top = turn.state.top

        if answer := _ANSWER_RE.match(raw):
            if (
                top is not None
                and top.waiting
                and top.flow == answer["flow"]
                and top.step == answer["step"]
            ):
                await self._answer(turn, top, answer["value"])
            else:
                self._say(turn, "stale_button")
                self._reprompt(turn)
            return

        if chosen := _INTENT_RE.match(raw):  # a button of a clarifying question
            found = self.flows.by_intent(chosen["intent"])
            if found is not None:
                await self._start(turn, *found)
            else:
                await self._start(turn, self.flows.get(FALLBACK_FLOW), None)
            return

        if command := _COMMAND_RE.match(raw):
            found = self.flows.by_command(command["command"].lower())
            if found is None:
                await self._start(turn, self.flows.get(FALLBACK_FLOW), None)
                return
            turn.state.slots["command_args"] = (command["args"] or "").strip()
            for slot in found[0].entities.values():  # a command starts the flow afresh
                turn.state.slots.pop(slot, None)
            if found[0].utterance_slot is not None:
                turn.state.slots[found[0].utterance_slot] = turn.state.slots["command_args"]
            await self._start(turn, *found)
            return

        if not raw:
            await self._start(turn, self.flows.get(FALLBACK_FLOW), None)
            return

        if top is not None and top.waiting:
            step = self.flows.get(top.flow).step(top.step)
            value = await self._match_option(turn, step, raw)
            if value is not None:
                await self._answer(turn, top, value)
                return

        understanding = await self.interpreter.understand(raw) if self.interpreter else None
        if understanding is not None:
            found = self.flows.by_intent(understanding.intent)
            if found is not None:
                self._fill_from_utterance(turn, found[0], raw, understanding)
                await self._start(turn, *found)
                return
            if understanding.intent == NLU_FALLBACK and self._clarify(turn, understanding):
                return

        if top is not None and top.waiting:
            self._say(turn, "reprompt")
            self._reprompt(turn)
            return
        await self._start(turn, self.flows.get(FALLBACK_FLOW), None)

    @staticmethod
    def _fill_from_utterance(
        turn: _Turn, flow: Flow, text: str, understanding: Understanding
    ) -> None:
        """Slots the flow wants from the sentence that started it."""
        slots = turn.state.slots
        for slot in flow.entities.values():
            slots.pop(slot, None)
        for entity in understanding.entities:
            wanted = flow.entities.get(str(entity.get("entity")))
            if wanted is not None and wanted not in slots:
                slots[wanted] = entity.get("value")
        if flow.utterance_slot is not None:
            slots[flow.utterance_slot] = text

    def _clarify(self, turn: _Turn, understanding: Understanding) -> bool:
        """Not sure what was meant: ask, with the two likeliest intents as buttons."""
        candidates = [
            name
            for name, _ in understanding.ranking
            if name != NLU_FALLBACK and self.flows.by_intent(name) is not None
        ][:2]
        if not candidates:
            return False
        self._say(turn, "clarify")
        buttons = [
            Button(self.responses.render(f"intent_{name}"), f"#{name}") for name in candidates
        ]
        buttons.append(Button(self.responses.render("btn_something_else"), "/help"))
        turn.flush(tuple(buttons))
        return True

    async def _match_option(self, turn: _Turn, step: Step, text: str) -> str | None:
        """The option value a typed answer stands for, or the text itself for a free answer."""
        ask = step.ask
        if ask is None:
            return None
        wanted = _normalise(text)
        for option in ask.options:
            if not option.shown(turn.state.slots):
                continue
            label = _normalise(self.responses.render(option.label, turn.state.slots))
            if wanted in (label, option.value):
                return option.value
        for value, label in self._dynamic_options(turn, ask):
            if wanted in (_normalise(label), value):
                return value
        if ask.free_text:
            if self.interpreter is not None:
                meant = await self.interpreter.understand(text)
                if (
                    meant.intent in INTERRUPTING_INTENTS
                    and meant.confidence >= INTERRUPT_CONFIDENCE
                ):
                    return None  # a request, not an answer: route it like any other message
            return text
        if self.interpreter is not None:
            intent = (await self.interpreter.understand(text)).intent
            for option in ask.options:
                if intent in option.intents and option.shown(turn.state.slots):
                    return option.value
        return None

    # ------------------------------------------------------------------ flows

    async def _start(self, turn: _Turn, flow: Flow, entry: str | None) -> None:
        stack = turn.state.stack
        while stack and stack[-1].waiting and not self._resumable(stack[-1]):
            stack.pop()
        if flow.resets_stack:
            stack.clear()
        elif stack and stack[-1].flow == flow.name:
            stack.pop()  # asking for the flow you are in starts it again
        stack.append(Frame(flow=flow.name, step=entry or flow.steps[0].id))
        await self._run(turn)

    def _resumable(self, frame: Frame) -> bool:
        ask = self.flows.get(frame.flow).step(frame.step).ask
        return ask is None or ask.resume

    async def _answer(self, turn: _Turn, frame: Frame, value: str) -> None:
        flow = self.flows.get(frame.flow)
        step = flow.step(frame.step)
        assert step.ask is not None
        turn.state.slots[step.ask.slot] = value
        frame.waiting = False
        self._advance(turn, frame, flow)
        await self._run(turn)

    def _advance(self, turn: _Turn, frame: Frame, flow: Flow) -> None:
        nxt = flow.next_step_id(frame.step, turn.state.slots)
        if nxt == END:
            turn.state.stack.remove(frame)
        else:
            frame.step = nxt

    async def _run(self, turn: _Turn) -> None:
        """Run steps until the bot waits for the user or no flow is left."""
        stack = turn.state.stack
        while stack and not turn.user_deleted:
            frame = stack[-1]
            if frame.waiting:  # an interrupted flow: offer to go on with it
                self._say(turn, "resume")
                self._reprompt(turn)
                return
            flow = self.flows.get(frame.flow)
            if flow.requires_consent:
                asked_for = turn.state.slots.pop("_consent_asked_for", None)
                if not turn.user.consent:
                    stack.pop() if asked_for == flow.name else self._ask_consent(turn, flow)
                    continue
            turn.steps_run += 1
            if turn.steps_run > MAX_STEPS_PER_TURN:
                raise RuntimeError(f"flow {flow.name} loops without waiting for the user")
            step = flow.step(frame.step)
            if await self._execute(turn, frame, flow, step):
                return
            if step.call is not None:
                called = self.flows.get(step.call)
                self._advance(turn, frame, flow)
                # The caller resumes at its next step, not at a waiting prompt.
                stack.append(Frame(flow=called.name, step=called.steps[0].id))
                continue
            self._advance(turn, frame, flow)

    def _ask_consent(self, turn: _Turn, flow: Flow) -> None:
        """Put the consent question before a flow that stores personal data.

        If the user says no, the flow is dropped when the consent flow returns to it.
        """
        turn.state.slots["_consent_asked_for"] = flow.name
        consent = self.flows.get(CONSENT_FLOW)
        turn.state.stack.append(Frame(flow=consent.name, step=consent.steps[0].id))

    async def _execute(self, turn: _Turn, frame: Frame, flow: Flow, step: Step) -> bool:
        """Run one step; True when the flow now waits for the user."""
        if step.action is not None:
            ctx = ActionContext(
                session=turn.session,
                user=turn.user,
                slots=turn.state.slots,
                settings=self.settings,
                now=turn.now,
                display_name=turn.message.display_name,
            )
            result = await get_action(step.action)(ctx)
            turn.state.slots.update(result.slots)
            for say in result.say:
                self._say(turn, say.key, say.values)
            turn.attachments.extend(result.attachments)
            if result.user_deleted:
                turn.user_deleted = True
                turn.state.stack.clear()
        for key in step.say:
            self._say(turn, key)
        if turn.user_deleted:
            return True
        if step.ask is not None:
            turn.state.slots.pop(step.ask.slot, None)
            frame.waiting = True
            self._prompt(turn, flow, step)
            return True
        if step.menu:
            self._menu(turn)
        return False

    # -------------------------------------------------------------- rendering

    def _say(self, turn: _Turn, key: str, values: dict[str, Any] | None = None) -> None:
        turn.texts.append(self._render(turn, key, values))

    def _render(self, turn: _Turn, key: str, values: dict[str, Any] | None) -> str:
        """A text. A value that is a `Say` (a text part) is rendered first; a list of `Say`s
        becomes their texts, one per line."""

        def part(value: Any) -> Any:
            if isinstance(value, Say):
                return self._render(turn, value.key, value.values)
            if isinstance(value, list) and value and all(isinstance(v, Say) for v in value):
                return "\n".join(part(v) for v in value)
            return value

        rendered = {name: part(value) for name, value in (values or {}).items()}
        return self.responses.render(key, {**turn.state.slots, **rendered}, turn.state.turns)

    @staticmethod
    def _dynamic_options(turn: _Turn, ask: Ask) -> list[tuple[str, str]]:
        if ask.options_from is None:
            return []
        items = turn.state.slots.get(ask.options_from) or []
        return [(str(item["value"]), str(item["label"])) for item in items]

    def _prompt(self, turn: _Turn, flow: Flow, step: Step) -> None:
        assert step.ask is not None
        self._say(turn, step.ask.prompt)
        dynamic = [
            Button(label=label, payload=answer_payload(flow.name, step.id, value))
            for value, label in self._dynamic_options(turn, step.ask)
        ]
        fixed = [
            Button(
                label=self.responses.render(o.label, turn.state.slots),
                payload=answer_payload(flow.name, step.id, o.value),
            )
            for o in step.ask.options
            if o.shown(turn.state.slots)
        ]
        turn.flush(tuple(dynamic + fixed))

    def _reprompt(self, turn: _Turn) -> None:
        top = turn.state.top
        if top is not None and top.waiting:
            flow = self.flows.get(top.flow)
            self._prompt(turn, flow, flow.step(top.step))

    def _menu(self, turn: _Turn) -> None:
        entries = self.flows.menu()
        lines = [
            f"/{e.command} – {self.responses.render(e.description, turn.state.slots)}"
            for e in entries
        ]
        turn.texts.append("\n".join(lines))
        turn.flush(
            tuple(
                Button(self.responses.render(e.label, turn.state.slots), f"/{e.command}")
                for e in entries
                if e.button
            )
        )


async def load_state(session: AsyncSession, user_id: int) -> DialogueState:
    """The saved dialogue state of a user (for tests and the privacy overview)."""
    row = await session.get(ConversationState, user_id)
    return DialogueState.from_json(row.state if row else None)
