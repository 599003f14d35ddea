"""The delivery engine: turns due schedules into outbox rows and sends them over Telegram.

APScheduler calls `tick()` every few seconds (the schedules themselves are rows in the
database, so a restart loses none). A tick plans personal nudges, due reminders and campaigns,
then sends due outbox rows in batches: each batch of rows is marked "sending" and committed before
the sends, and the outcomes are written after them in one transaction, so nothing is sent twice
after a clean stop (`stop()` lets the batch in flight finish); after a crash, rows still
"sending" are sent again (at least once).
429 is waited out by the rate limiter; 403 marks the user blocked and skips them; other
errors are retried with backoff, then marked failed.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import BadRequest, Forbidden, RetryAfter, TelegramError
from telegram.ext import ExtBot

from actions.formatting import day, euro
from bot._rate_limit import LOW
from bot._services import Services
from core.db import utcnow
from core.models import OutboxStatus
from dialogues import ResponseCatalogue
from services.nudges import plan_personal, plan_reminders, queue_campaigns
from services.outbox import (
    Outgoing,
    block_user,
    claim_due,
    mark_final,
    mark_retry,
    mark_sent,
    requeue_interrupted,
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
    ) -> None:
        self.services = services
        self.bot = bot
        self.clock = clock
        self.responses = responses or services.dialogue.responses
        settings = services.settings
        self.zone = settings.timezone
        self.batch = settings.nudge_batch
        self.concurrency = asyncio.Semaphore(settings.nudge_concurrency)
        self._stopping = False
        self._running: asyncio.Task[None] | None = None
        self.sent = 0

    async def recover(self) -> None:
        """At start: rows a crashed process left "sending" go back in the queue."""
        async with self.services.sessions() as session, session.begin():
            count = await requeue_interrupted(session)
        if count:
            logger.warning(
                "nudges: %d messages were in flight at the last stop; sending again", count
            )

    async def tick(self) -> None:
        """Plan what is due, then send everything due (the scheduler's job)."""
        if self._stopping:
            return
        self._running = asyncio.current_task()
        try:
            now = self.clock()
            async with self.services.sessions() as session, session.begin():
                await plan_reminders(session, now)
                await plan_personal(session, now, self.zone)
                await queue_campaigns(session, now, self.zone)
            while not self._stopping:
                async with self.services.sessions() as session, session.begin():
                    claimed = await claim_due(session, self.clock(), self.batch)
                if not claimed:
                    break
                results = await asyncio.gather(*(self._deliver(m) for m in claimed))
                await self._record(list(results))
        finally:
            self._running = None

    async def stop(self) -> None:
        """Stop taking new messages; let the ones being sent finish and be recorded."""
        self._stopping = True
        running = self._running
        if running is not None and running is not asyncio.current_task():
            await asyncio.wait({running}, timeout=30)

    # ------------------------------------------------------------------ one message

    def render(self, message: Outgoing) -> tuple[str, InlineKeyboardMarkup | None]:
        payload = message.payload
        values: dict[str, Any] = dict(payload.get("values", {}))
        if "amount_cents" in values:
            values["amount"] = euro(int(values["amount_cents"]))
        if isinstance(values.get("date"), str):
            values["date"] = day(date.fromisoformat(values["date"]))
        for name, part in (payload.get("parts") or {}).items():
            values[name] = self.responses.render(part["key"], part.get("values", {}))
        text = self.responses.render(payload["key"], values)
        buttons = [
            [
                InlineKeyboardButton(
                    self.responses.render(label), callback_data=f"/nudge {verb} {message.id}"
                )
            ]
            for label, verb in _BUTTONS.get(message.kind, ())
        ]
        return text, InlineKeyboardMarkup(buttons) if buttons else None

    async def _deliver(self, message: Outgoing) -> _Result:
        async with self.concurrency:
            if self._stopping:  # not sent yet: leave it for the next start
                return _Result(message, OutboxStatus.QUEUED, "stopping", self.clock())
            text, keyboard = self.render(message)
            try:
                await self.bot.send_message(
                    chat_id=int(message.chat_id),
                    text=text,
                    reply_markup=keyboard,
                    rate_limit_args={"priority": LOW},
                )
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

    async def _record(self, results: list[_Result]) -> None:
        """Write a batch's outcomes in one transaction."""
        now = self.clock()
        async with self.services.sessions() as session, session.begin():
            for result in results:
                message = result.message
                if result.status == OutboxStatus.SENT:
                    await mark_sent(session, message.id, now)
                    self.sent += 1
                    continue
                if result.error != "stopping":
                    logger.info("nudges: message %d not sent (%s)", message.id, result.error)
                if result.retry_at is not None:
                    await mark_retry(session, message.id, result.retry_at, result.error or "")
                    continue
                await mark_final(session, message.id, result.status, result.error or "")
                if result.status == OutboxStatus.BLOCKED:
                    await block_user(session, message.user_id)


@dataclass(frozen=True)
class _Result:
    message: Outgoing
    status: OutboxStatus
    error: str | None = None
    retry_at: datetime | None = None
