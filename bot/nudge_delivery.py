"""The delivery engine: turns due schedules into outbox rows and sends them over Telegram.

APScheduler calls `tick()` every few seconds (the schedules themselves are rows in the
database, so a restart loses none). A tick plans personal nudges, due reminders and campaigns,
then sends due outbox rows: it claims small slices under a lease (this process, until when) right
before sending, keeps at most `NUDGE_CONCURRENCY` underway and writes each outcome right after
its send. A clean stop lets the sends underway finish and gives back what was claimed but not
sent, so nothing is sent twice; after a crash, another process takes the rows back once their
lease has run out, so at most the messages literally underway (≤ the concurrency) go twice.
Several processes share one outbox this way without taking each other's rows.
429 is waited out by the rate limiter; 403 marks the user blocked and skips them; other
errors are retried with backoff, then marked failed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from telegram.error import BadRequest, Forbidden, RetryAfter, TelegramError
from telegram.ext import ExtBot

from actions.formatting import day, euro
from bot._instance import new_instance_id
from bot._services import Services
from bot.telegram_channel import send_reply
from core.db import utcnow
from core.models import OutboxStatus
from dialogues import Button, Reply, ResponseCatalogue, RunCommand, encode
from services.nudges import plan_personal, plan_reminders, queue_campaigns
from services.outbox import (
    Outgoing,
    block_user,
    claim_due,
    mark_final,
    mark_retry,
    mark_sent,
    release,
    renew,
)

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
_BUTTONS = {
    "nudge": (("btn_nudge_done", "done"), ("btn_nudge_later", "later"), ("btn_nudge_stop", "stop")),
    "reminder": (
        ("btn_nudge_done", "done"),
        ("btn_nudge_later", "later"),
        ("btn_nudge_stop", "stop"),
    ),
    "campaign": (("btn_nudge_stop", "stop"),),
}


class NudgeDelivery:
    def __init__(
        self,
        services: Services,
        bot: ExtBot[Any],
        *,
        clock: Callable[[], datetime] = utcnow,
        responses: ResponseCatalogue | None = None,
        instance: str | None = None,
    ) -> None:
        self.services = services
        self.bot = bot
        self.clock = clock
        self.responses = responses or services.dialogue.responses
        settings = services.settings
        self.zone = settings.timezone
        self.concurrency = settings.nudge_concurrency
        self.lease = timedelta(seconds=settings.lease_seconds)
        self.chat_interval = timedelta(seconds=settings.telegram_chat_interval)
        self.instance = instance or new_instance_id()
        self.paid = settings.telegram_allow_paid_broadcast
        self._stopping = False
        self._running: asyncio.Task[None] | None = None
        self.sent = 0
        # SQLite has one writer at a time: queue this process's outbox writes here instead of
        # letting sixteen connections fight over the file lock (and time out under load).
        sqlite = services.engine.dialect.name == "sqlite"
        self._writes: asyncio.Lock | contextlib.nullcontext[None] = (
            asyncio.Lock() if sqlite else contextlib.nullcontext()
        )

    @contextlib.asynccontextmanager
    async def _write(self) -> AsyncIterator[AsyncSession]:
        """One short transaction on the outbox."""
        async with self._writes, self.services.sessions() as session, session.begin():
            yield session

    async def recover(self) -> None:
        """Nothing to undo at start: rows of a process that died come back when their lease
        runs out, and rows of a live process are never taken (see `services.outbox`)."""

    async def tick(self) -> None:
        """Plan what is due, then send everything due (the scheduler's job); not while the
        process is still warming up (the first tick after it does)."""
        if self._stopping or not self.services.warm.is_set():
            return
        self._running = asyncio.current_task()
        try:
            now = self.clock()
            async with self._write() as session:
                await plan_reminders(session, now)
                await plan_personal(session, now, self.zone)
                await queue_campaigns(session, now, self.zone)
            await self._drain()
        finally:
            self._running = None

    async def _drain(self) -> None:
        """Keep up to `concurrency` messages underway, claiming small slices as places free up.

        Only what is literally underway is claimed, so a hard crash can send at most
        `concurrency` messages twice (sent, but the outcome not yet written).
        """
        underway: set[asyncio.Task[None]] = set()
        renewing = asyncio.create_task(self._renew_leases())
        try:
            await self._send_all(underway)
        finally:
            if underway:
                await asyncio.wait(underway)
            renewing.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await renewing

    async def _renew_leases(self) -> None:
        """Every third of a lease, extend this process's leases (only a dead process loses them)."""
        while True:
            await asyncio.sleep(self.lease.total_seconds() / 3)
            async with self._write() as session:
                await renew(session, self.instance, self.clock() + self.lease)

    async def _send_all(self, underway: set[asyncio.Task[None]]) -> None:
        while not self._stopping:
            free = self.concurrency - len(underway)
            if not underway or free >= max(1, self.concurrency // 2):
                async with self._write() as session:
                    claimed = await claim_due(
                        session,
                        self.clock(),
                        free,
                        owner=self.instance,
                        lease=self.lease,
                        chat_interval=self.chat_interval,
                    )
                underway.update(asyncio.create_task(self._send_one(m)) for m in claimed)
            if not underway:
                break
            done, _ = await asyncio.wait(underway, return_when=asyncio.FIRST_COMPLETED)
            underway -= done
            for task in done:
                if task.exception() is not None:
                    logger.error("nudges: a send failed", exc_info=task.exception())

    async def stop(self) -> None:
        """Stop taking new messages; let the ones being sent finish and be recorded."""
        self._stopping = True
        running = self._running
        if running is not None and running is not asyncio.current_task():
            await asyncio.wait({running}, timeout=30)

    async def _send_one(self, message: Outgoing) -> None:
        """Send one claimed message and write its outcome at once."""
        if self._stopping:  # not sent yet: give it back for the next process
            async with self._write() as session:
                await release(session, [message.id], self.instance)
            return
        result = await self._deliver(message)
        await self._record(result)

    # ------------------------------------------------------------------ one message

    def render(self, message: Outgoing) -> Reply:
        """The neutral reply for an outbox row; the channel renders it like any chat reply."""
        payload = message.payload
        values: dict[str, Any] = dict(payload.get("values", {}))
        if "amount_cents" in values:
            values["amount"] = euro(int(values["amount_cents"]))
        if isinstance(values.get("date"), str):
            values["date"] = day(date.fromisoformat(values["date"]))
        for name, part in (payload.get("parts") or {}).items():
            values[name] = self.responses.render(part["key"], part.get("values", {}))
        text = self.responses.render(payload["key"], values)
        buttons = tuple(
            Button(
                self.responses.render(label),
                encode(RunCommand("nudge", f"{verb} {message.id}")),
            )
            for label, verb in _BUTTONS.get(message.kind, ())
        )
        return Reply(text=text, buttons=buttons)

    async def _deliver(self, message: Outgoing) -> _Result:
        reply = self.render(message)
        try:
            await send_reply(self.bot, int(message.chat_id), reply, broadcast=True, paid=self.paid)
        except Forbidden:
            return _Result(message, OutboxStatus.BLOCKED, "forbidden")
        except RetryAfter as exc:  # still too many after the limiter's retries
            pause = exc.retry_after
            seconds = pause if isinstance(pause, int | float) else pause.total_seconds()
            retry_at = self.clock() + timedelta(seconds=seconds)
            return _Result(message, OutboxStatus.QUEUED, "retry_after", retry_at)
        except BadRequest as exc:
            return _Result(message, OutboxStatus.FAILED, f"bad request: {exc.message}")
        except TelegramError as exc:  # network trouble, server errors: try again later
            if message.attempts >= MAX_ATTEMPTS:
                return _Result(message, OutboxStatus.FAILED, type(exc).__name__)
            retry_at = self.clock() + timedelta(seconds=2**message.attempts)
            return _Result(message, OutboxStatus.QUEUED, type(exc).__name__, retry_at)
        return _Result(message, OutboxStatus.SENT)

    async def _record(self, result: _Result) -> None:
        """Write one message's outcome (right after its send)."""
        now = self.clock()
        message = result.message
        async with self._write() as session:
            if result.status == OutboxStatus.SENT:
                await mark_sent(session, message.id, now)
                self.sent += 1
                return
            logger.info("nudges: message %d not sent (%s)", message.id, result.error)
            if result.retry_at is not None:
                await mark_retry(session, message.id, result.retry_at, result.error or "")
                return
            await mark_final(session, message.id, result.status, result.error or "")
            if result.status == OutboxStatus.BLOCKED:
                await block_user(session, message.user_id)


@dataclass(frozen=True)
class _Result:
    message: Outgoing
    status: OutboxStatus
    error: str | None = None
    retry_at: datetime | None = None
