"""The dialogue manager: one incoming message in, the bot's replies out.

Each message runs in one database transaction: load the user's state (frames whose flow or step
no longer exists are dropped), route the message (a button payload, the answer to the waiting
question, a command, an intent, or fallback), run flow steps until the bot waits for the user
again, forget the slots whose lifetime ended, save the state. A restart loses no conversation.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from actions import ActionContext, ActionRegistry, Attachment, Say, default_actions
from core.db import utcnow
from core.models import ConversationState, User
from core.settings import Settings
from dialogues._answers import (
    AnswerPhrases,
    Choice,
    Matched,
    Unsure,
    is_yes_or_no,
    match_answer,
    split_greeting,
)
from dialogues._flows import END, Ask, Flow, FlowSet, Step
from dialogues._messages import Button, IncomingMessage, Reply
from dialogues._payloads import Answer, ChooseIntent, Payload, RunCommand, decode, encode
from dialogues._responses import ResponseCatalogue
from dialogues._slots import Lifetime, SlotType, SlotView, contract_broken
from dialogues._state import DialogueState, Frame
from knowledge import Knowledge
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
# A question that names a scheme ("geldt het levenlanglerenkrediet voor bbl?") is a request for
# the regulation answer at a lower confidence, wherever the user is (a named regulation is rarely
# the answer to another question).
REGULATION_INTENT = "ask_regulation"
REGULATION_ENTITY = "regulation"
NAMED_REGULATION_CONFIDENCE = 0.5
# At a question with buttons, a typed line that is no answer may start another flow only when
# the NLU is this sure it is a request of its own (else the question is asked again).
TAKE_OVER_CONFIDENCE = 0.75
NOT_REQUESTS = frozenset({"affirm", "deny", "out_of_scope", "greet", "nlu_fallback"})
FALLBACK_FLOW = "fallback"
ACKNOWLEDGE_FLOW = "acknowledge"
OUT_OF_SCOPE_FLOW = "out_of_scope"
MENU_ACTION = "menu_suggestions"  # an action that picks the buttons of a short menu
SHORT_MENU_SIZE = 3
CONFUSED = 2  # fallbacks in a row after which the whole menu is shown
CONSENT_FLOW = "consent"
NLU_FALLBACK = "nlu_fallback"
_COMMAND_RE = re.compile(r"^/(?P<command>[A-Za-z_]{1,32})(?:@\w+)?(?:\s+(?P<args>.*))?$", re.DOTALL)


@dataclass(frozen=True)
class Understanding:
    """What the NLU made of a text (Rasa's parse result, reduced to what dialogues need)."""

    intent: str
    confidence: float
    ranking: tuple[tuple[str, float], ...] = ()
    entities: tuple[dict[str, Any], ...] = ()


class Interpreter(Protocol):
    async def understand(self, text: str, now: datetime | None = None) -> Understanding:
        """Parse `text`; relative dates and times ("vandaag", "over een uur") count from
        `now`, the dialogue's clock in the user's time zone."""
        ...


def answer_payload(flow: str, step: str, value: str) -> str:
    return encode(Answer(flow, step, value))


def command_payload(command: str, args: str = "") -> str:
    return encode(RunCommand(command, args))


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
    understood: dict[str, Understanding] = field(default_factory=dict)
    menu_shown: bool = False

    def flush(self, buttons: tuple[Button, ...] = ()) -> None:
        if self.texts or buttons:
            self.replies.append(Reply(text="\n\n".join(self.texts), buttons=buttons))
        self.texts = []
        for attachment in self.attachments:
            self.replies.append(Reply(text=attachment.caption, attachment=attachment))
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
        actions: ActionRegistry | None = None,
        clock: Callable[[], datetime] = utcnow,
        knowledge: Knowledge | None = None,
    ) -> None:
        self.sessions = sessions
        self.settings = settings
        self.flows = flows or FlowSet.load()
        self.responses = responses or ResponseCatalogue.load()
        self.interpreter = interpreter
        self.actions = actions or default_actions()
        self.answers = AnswerPhrases.load()
        self.clock = clock
        # The app passes its own; a manager made on its own (a test) gets a fresh one.
        self.knowledge = knowledge or Knowledge()

    # ----------------------------------------------------------------- public

    async def handle(
        self,
        message: IncomingMessage,
        *,
        before_commit: Callable[[AsyncSession, list[Reply]], Awaitable[None]] | None = None,
        after_delete: Callable[[], None] | None = None,
    ) -> list[Reply]:
        """Process one message from a user and return what the bot says back.

        `before_commit` runs in the turn's transaction with its replies (a channel's inbox
        records "handled" there, so a turn never runs twice for one update). `after_delete`
        runs once the turn that deleted the user's data has committed: a channel removes
        what it keeps of them outside the database (the console's saved files).
        """
        # On SQLite, turns take the one write connection in turn (core/db.py): first come,
        # first served, never "database is locked". PostgreSQL runs them side by side.
        async with self.sessions() as session, session.begin():
            user = await get_or_create_user(
                session=session, channel=message.channel, external_id=message.external_id
            )
            if user.blocked:  # they write again, so they no longer block us
                user.blocked = False
            row = await session.get(ConversationState, user.id, with_for_update=True)
            state = DialogueState.from_json(row.state if row else None)
            # The user's own time: "today" in every action and in the NLU is their today.
            now = self.clock().astimezone(self.settings.tz)
            turn = _Turn(session, user, state, message, now)
            if self._repair(state):
                self._say(turn, "conversation_changed")
                await self._menu(turn, full=False)
            await self._route(turn)
            if not turn.replies and not turn.texts and not turn.attachments:
                # A flow that ends without a word ("Klaar") still gets an answer.
                self._say(turn, "acknowledged")
                await self._menu(turn, full=False)
            turn.flush()
            if not turn.user_deleted:
                self._forget(turn)
                state.turns += 1
                if row is None:
                    session.add(ConversationState(user_id=user.id, state=state.to_json()))
                else:
                    row.state = state.to_json()
            if before_commit is not None:
                await before_commit(session, turn.replies)
        if turn.user_deleted and after_delete is not None:
            after_delete()
        return turn.replies

    async def understand(self, turn: _Turn, text: str) -> Understanding | None:
        """What the NLU makes of `text`, parsed once per turn however often it is asked."""
        if self.interpreter is None:
            return None
        if text not in turn.understood:
            # Relative dates and times ("vandaag", "over een uur") count from the turn's clock.
            turn.understood[text] = await self.interpreter.understand(text, now=turn.now)
        return turn.understood[text]

    def command_menu(self) -> list[tuple[str, str]]:
        """(command, description) pairs for a channel's command menu."""
        return [(e.command, self.responses.render(e.description)) for e in self.flows.menu()]

    # ---------------------------------------------------------------- routing

    async def _route(self, turn: _Turn) -> None:
        message = turn.message
        top = turn.state.top
        if message.payload is not None:
            payload = decode(message.payload)
            if payload is None:
                self._say(turn, "stale_button")
                self._reprompt(turn)
            else:
                await self._pressed(turn, payload)
            return

        raw = (message.text or "").strip()
        if command := _COMMAND_RE.match(raw):
            await self._command(turn, command["command"].lower(), (command["args"] or "").strip())
            return

        if not raw:
            await self._start(turn, self.flows.get(FALLBACK_FLOW), None)
            return

        # "goedemiddag, ik zoek een cursus boekhouden": the greeting is manners, the rest the
        # request.
        _, request = split_greeting(raw, self.answers)
        text = request or raw

        resumed = turn.state.engine.pop("resumed", False)
        if resumed and top is not None and top.waiting and self._free_text(top):
            # "Zullen we verdergaan?" — "ja" means go on, not "ja" as the answer.
            kind = is_yes_or_no(text, self.answers)
            if kind == "affirm":
                self._reprompt(turn)
                return
            if kind == "deny":
                turn.state.stack.pop()
                self._say(turn, "resume_declined")
                await self._run(turn)
                if not turn.state.stack:
                    await self._menu(turn, full=False)
                return

        if top is not None and top.waiting:
            step = self.flows.get(top.flow).step(top.step)
            outcome = await self._match_option(turn, step, text)
            if isinstance(outcome, str):
                await self._answer(turn, top, outcome)
                return
            if isinstance(outcome, Unsure):
                self._say(turn, "answer_which")
                self._prompt(turn, self.flows.get(top.flow), step, only=outcome.values)
                return
        elif is_yes_or_no(text, self.answers) is not None:
            await self._start(turn, self.flows.get(ACKNOWLEDGE_FLOW), None)
            return

        understanding = await self.understand(turn, text)
        on_buttons = top is not None and top.waiting and not self._free_text(top)
        if understanding is not None:
            found = self.flows.by_intent(understanding.intent)
            if found is not None and (not on_buttons or self._takes_over(understanding)):
                flow, entry = found
                await self._start(
                    turn, flow, entry, fill=lambda: self._fill(turn, flow, text, understanding)
                )
                return
            if (
                not on_buttons
                and understanding.intent == NLU_FALLBACK
                and turn.state.engine.get("confused", 0) < CONFUSED  # else: the whole menu
                and self._clarify(turn, understanding)
            ):
                return

        if top is not None and top.waiting:
            self._say(turn, "reprompt")
            self._reprompt(turn)
            return
        await self._start(turn, self.flows.get(FALLBACK_FLOW), None)

    def _free_text(self, frame: Frame) -> bool:
        ask = self.flows.get(frame.flow).step(frame.step).ask
        return ask is not None and ask.free_text

    @staticmethod
    def _names_regulation(understanding: Understanding) -> bool:
        return (
            understanding.intent == REGULATION_INTENT
            and understanding.confidence >= NAMED_REGULATION_CONFIDENCE
            and any(e.get("entity") == REGULATION_ENTITY for e in understanding.entities)
        )

    @classmethod
    def _takes_over(cls, understanding: Understanding) -> bool:
        if cls._names_regulation(understanding):
            return True
        return (
            understanding.intent not in NOT_REQUESTS
            and understanding.confidence >= TAKE_OVER_CONFIDENCE
        )

    async def _pressed(self, turn: _Turn, payload: Payload) -> None:
        """A button: the answer to the waiting question, an intent, or a command."""
        top = turn.state.top
        match payload:
            case Answer(flow, step, value):
                if top is not None and top.waiting and (top.flow, top.step) == (flow, step):
                    await self._answer(turn, top, value)
                else:
                    self._say(turn, "stale_button")
                    self._reprompt(turn)
            case ChooseIntent(intent):  # a button of a clarifying question
                await self._chosen(turn, intent)
            case RunCommand(command, args):
                await self._command(turn, command, args)

    async def _chosen(self, turn: _Turn, intent: str) -> None:
        """The intent picked under a clarifying question, with what was typed before it."""
        found = self.flows.by_intent(intent)
        said = turn.state.engine.pop("clarified", None)
        if found is None:
            await self._start(turn, self.flows.get(FALLBACK_FLOW), None)
            return
        flow, entry = found
        meant = await self.understand(turn, said) if isinstance(said, str) else None
        if meant is None or not isinstance(said, str):
            await self._start(turn, flow, entry)
            return
        # What they typed still counts: "excel in Zwolle" searches excel in Zwolle.
        chosen = Understanding(intent, 1.0, meant.ranking, meant.entities)
        await self._start(turn, flow, entry, fill=lambda: self._fill(turn, flow, said, chosen))

    async def _command(self, turn: _Turn, command: str, args: str) -> None:
        found = self.flows.by_command(command)
        if found is None:  # a command that does not exist: show every command there is
            turn.state.engine["confused"] = CONFUSED
            await self._start(turn, self.flows.get(FALLBACK_FLOW), None)
            return
        flow, entry = found

        def fill() -> None:
            for slot in flow.entities.values():  # a command starts the flow afresh
                self._set(turn, slot, None)
            if flow.utterance_slot is not None:
                self._set(turn, flow.utterance_slot, args)

        await self._start(turn, flow, entry, fill=fill)

    def _fill(self, turn: _Turn, flow: Flow, text: str, understanding: Understanding) -> None:
        """Slots the flow wants from the sentence that started it."""
        for slot in flow.entities.values():
            self._set(turn, slot, None)
        for entity in understanding.entities:
            wanted = flow.entities.get(str(entity.get("entity")))
            if wanted is not None and turn.state.slots.get(wanted) is None:
                value = entity.get("value")
                if self.flows.slots[wanted].type is SlotType.DICT:
                    # The whole entity, as the NLU resolved it ("elke twee weken" ->
                    # {"value": "every 2 week", "unit": "week", "every": 2}).
                    value = {"value": value, **(entity.get("additional_info") or {})}
                self._set(turn, wanted, value)
        if flow.utterance_slot is not None:
            self._set(turn, flow.utterance_slot, text)

    def _clarify(self, turn: _Turn, understanding: Understanding) -> bool:
        """Not sure what was meant: ask, with the two likeliest intents as buttons."""
        candidates = [
            name
            for name, _ in understanding.ranking
            if name != NLU_FALLBACK and self.flows.by_intent(name) is not None
        ][:2]
        if not candidates:
            return False
        engine = turn.state.engine
        engine["confused"] = engine.get("confused", 0) + 1  # not understood: that counts too
        if turn.user.consent:  # kept to the next message only with consent, like every text
            engine["clarified"] = turn.message.text
        self._say(turn, "clarify")
        buttons = [
            Button(self.responses.render(f"intent_{name}"), encode(ChooseIntent(name)))
            for name in candidates
        ]
        buttons.append(Button(self.responses.render("btn_something_else"), command_payload("help")))
        turn.flush(tuple(buttons))
        return True

    async def _match_option(self, turn: _Turn, step: Step, text: str) -> str | Unsure | None:
        """The option value a typed answer stands for (the shared matcher, `_answers.py`), the
        text itself for a free answer, `Unsure` when two buttons fit, or None: no answer."""
        ask = step.ask
        if ask is None:
            return None
        choices = self._choices(turn, ask)
        outcome = match_answer(text, choices, phrases=self.answers)
        if outcome is None and any(c.intents for c in choices):
            meant = await self.understand(turn, text)
            if meant is not None:
                outcome = match_answer(
                    text,
                    choices,
                    phrases=self.answers,
                    intent=meant.intent,
                    confidence=meant.confidence,
                )
        if isinstance(outcome, Matched):
            return outcome.value
        if ask.free_text:
            meant = await self.understand(turn, text)
            if meant is not None and (
                (meant.intent in INTERRUPTING_INTENTS and meant.confidence >= INTERRUPT_CONFIDENCE)
                or self._names_regulation(meant)
            ):
                return None  # a request, not an answer: route it like any other message
            return text
        return outcome

    def _choices(self, turn: _Turn, ask: Ask) -> list[Choice]:
        """The buttons of a question as the user sees them, in order."""
        slots = self._view(turn)
        dynamic = [Choice(value, label) for value, label in self._dynamic_options(turn, ask)]
        fixed = [
            Choice(
                o.value,
                self.responses.render(o.label, self._slot_values(turn)),
                o.label,
                tuple(str(i) for i in o.intents),
            )
            for o in ask.options
            if o.shown(slots)
        ]
        return dynamic + fixed

    async def _understand(self, turn: _Turn, text: str) -> Understanding | None:
        """The interpreter's parse, with dates relative to the turn's clock."""
        if self.interpreter is None:
            return None
        return await self.interpreter.understand(text, now=turn.now)

    # ------------------------------------------------------------------ flows

    async def _start(
        self,
        turn: _Turn,
        flow: Flow,
        entry: str | None,
        fill: Callable[[], None] | None = None,
    ) -> None:
        stack = turn.state.stack
        while stack and stack[-1].waiting and not self._resumable(stack[-1]):
            stack.pop()
        if flow.resets_stack:
            stack.clear()
        elif stack and stack[-1].flow == flow.name:
            stack.pop()  # asking for the flow you are in starts it again
        self._forget_ended_flows(turn)  # a flow started again starts with empty slots
        engine = turn.state.engine
        lost = flow.name in (FALLBACK_FLOW, OUT_OF_SCOPE_FLOW)
        engine["confused"] = engine.get("confused", 0) + 1 if lost else 0
        if not engine["confused"]:
            del engine["confused"]
        if fill is not None:
            fill()
        stack.append(Frame(flow=flow.name, step=entry or flow.steps[0].id))
        await self._run(turn)

    def _resumable(self, frame: Frame) -> bool:
        ask = self.flows.get(frame.flow).step(frame.step).ask
        return ask is None or ask.resume

    async def _answer(self, turn: _Turn, frame: Frame, value: str) -> None:
        flow = self.flows.get(frame.flow)
        step = flow.step(frame.step)
        assert step.ask is not None
        self._set(turn, step.ask.slot, value)
        frame.waiting = False
        self._advance(turn, frame, flow)
        await self._run(turn)

    def _advance(self, turn: _Turn, frame: Frame, flow: Flow) -> None:
        nxt = flow.next_step_id(frame.step, self._view(turn))
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
                turn.state.engine["resumed"] = True
                return
            flow = self.flows.get(frame.flow)
            if flow.requires_consent:
                asked_for = turn.state.engine.pop("consent_asked_for", None)
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
        turn.state.engine["consent_asked_for"] = flow.name
        consent = self.flows.get(CONSENT_FLOW)
        turn.state.stack.append(Frame(flow=consent.name, step=consent.steps[0].id))

    async def _execute(self, turn: _Turn, frame: Frame, flow: Flow, step: Step) -> bool:
        """Run one step; True when the flow now waits for the user."""
        if step.action is not None:
            result = await self.actions.get(step.action)(self._context(turn))
            for name, value in result.slots.items():
                self._set(turn, name, value, by=step.action)
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
            self._set(turn, step.ask.slot, None)
            frame.waiting = True
            self._prompt(turn, flow, step)
            return True
        if step.menu:
            await self._menu(turn, full=step.menu == "full")
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
        return self.responses.render(key, {**self._slot_values(turn), **rendered}, turn.state.turns)

    @staticmethod
    def _dynamic_options(turn: _Turn, ask: Ask) -> list[tuple[str, str]]:
        if ask.options_from is None:
            return []
        items = turn.state.slots.get(ask.options_from) or []
        return [(str(item["value"]), str(item["label"])) for item in items]

    def _prompt(
        self, turn: _Turn, flow: Flow, step: Step, only: tuple[str, ...] | None = None
    ) -> None:
        assert step.ask is not None
        self._say(turn, step.ask.prompt)
        buttons = [
            Button(label=c.label, payload=answer_payload(flow.name, step.id, c.value))
            for c in self._choices(turn, step.ask)
            if only is None or c.value in only
        ]
        turn.flush(tuple(buttons))

    def _reprompt(self, turn: _Turn) -> None:
        top = turn.state.top
        if top is not None and top.waiting:
            flow = self.flows.get(top.flow)
            self._prompt(turn, flow, flow.step(top.step))

    async def _menu(self, turn: _Turn, *, full: bool) -> None:
        """The menu, once a turn: everything (with /help, or after real confusion), or a short
        line with the three buttons that fit the moment."""
        if turn.menu_shown:
            return
        turn.menu_shown = True
        entries = self.flows.menu()
        if full or turn.state.engine.get("confused", 0) >= CONFUSED:
            lines = [f"/{e.command} – {self.responses.render(e.description)}" for e in entries]
            turn.texts.append("\n".join(lines))
            shown = [e for e in entries if e.button]
        else:
            by_command = {e.command: e for e in entries}
            shown = [by_command[c] for c in await self._suggestions(turn) if c in by_command]
            shown = shown[:SHORT_MENU_SIZE] or [e for e in entries if e.button][:SHORT_MENU_SIZE]
            self._say(turn, "menu_more_hint")
        turn.flush(
            tuple(Button(self.responses.render(e.label), command_payload(e.command)) for e in shown)
        )

    async def _suggestions(self, turn: _Turn) -> list[str]:
        """The commands that fit this user now (the action `menu_suggestions`, if any)."""
        if MENU_ACTION not in self.actions.names():
            return []
        result = await self.actions.get(MENU_ACTION)(self._context(turn))
        return [str(c) for c in result.slots.get("menu_suggestions") or []]

    def _context(self, turn: _Turn) -> ActionContext:
        return ActionContext(
            session=turn.session,
            user=turn.user,
            slots=self._view(turn),
            settings=self.settings,
            now=turn.now,
            knowledge=self.knowledge,
            display_name=turn.message.display_name,
            render=lambda say: self._render(turn, say.key, say.values),
        )

    # ------------------------------------------------------------------ slots

    def _view(self, turn: _Turn) -> SlotView:
        return SlotView(turn.state.slots, self.flows.slots)

    def _slot_values(self, turn: _Turn) -> dict[str, Any]:
        """Declared slots with their defaults filled in, for texts."""
        values = {name: spec.default for name, spec in self.flows.slots.items()}
        values.update(turn.state.slots)
        return values

    def _set(self, turn: _Turn, name: str, value: Any, by: str | None = None) -> None:
        """Set a declared slot to a value of its type (None empties it); `by` is the action
        that asks for it, which the slot's `set_by` must name."""
        spec = self.flows.slots.get(name)
        if spec is None:
            contract_broken(f"slot {name!r} is set but not declared in any flow")
        elif not spec.accepts(value):
            contract_broken(f"slot {name!r} is {spec.type}, not {type(value).__name__}")
        elif by is not None and by not in spec.set_by:
            contract_broken(f"action {by!r} sets slot {name!r}, but its set_by does not say so")
        if value is None:
            turn.state.slots.pop(name, None)
        else:
            turn.state.slots[name] = value

    def _forget_ended_flows(self, turn: _Turn) -> None:
        """A flow slot lives while a flow that declares it is on the stack."""
        active = {frame.flow for frame in turn.state.stack}
        for name in list(turn.state.slots):
            spec = self.flows.slots.get(name)
            if spec is None:
                del turn.state.slots[name]  # no flow declares it (any more)
            elif spec.lifetime is Lifetime.FLOW and not (
                self.flows.declared_by.get(name, frozenset()) & active
            ):
                del turn.state.slots[name]

    def _forget(self, turn: _Turn) -> None:
        """At the end of a turn: turn slots, slots of ended flows, and — without consent —
        everything personal the user typed. Only the chat id and the place in the
        conversation outlive the turn for someone who did not agree."""
        self._forget_ended_flows(turn)
        consent = turn.user.consent
        for name in list(turn.state.slots):
            spec = self.flows.slots[name]
            if spec.lifetime is Lifetime.TURN or (spec.personal and not consent):
                del turn.state.slots[name]

    def _repair(self, state: DialogueState) -> bool:
        """Drop frames whose flow or step no longer exists (a deploy renamed them); True when
        something was dropped."""
        kept = []
        for frame in state.stack:
            flow = self.flows.find(frame.flow)
            if flow is None or not flow.has_step(frame.step):
                state.repaired = True
                continue
            if frame.waiting and flow.step(frame.step).ask is None:
                state.repaired = True
                continue
            kept.append(frame)
        state.stack = kept
        if state.engine.get("consent_asked_for") not in (None, *self.flows.flows):
            state.engine.pop("consent_asked_for")
        return state.repaired


async def load_state(session: AsyncSession, user_id: int) -> DialogueState:
    """The saved dialogue state of a user (for tests and the privacy overview)."""
    row = await session.get(ConversationState, user_id)
    return DialogueState.from_json(row.state if row else None)
