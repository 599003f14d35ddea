"""`leerloop run`: HTTP API, Telegram and the scheduler in one process and one event loop.

Several processes may run on one PostgreSQL (behind one webhook URL): every process stores the
updates it receives and handles stored ones; one process per token polls; each runs the
scheduler, whose outbox claims are leased, so no message goes twice. On SIGTERM a process says
"draining" on `/readyz`, lets sends and turns underway finish, gives back what it claimed but did
not start, and stops. SQLite serves one process only and refuses a second.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import logging
import signal
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import uvicorn
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy.engine import make_url
from telegram.error import InvalidToken, NetworkError

from bot import _memory
from bot._instance import new_instance_id
from bot._services import Services
from bot.http_api import create_api
from bot.nudge_delivery import NudgeDelivery
from bot.telegram_channel import TelegramChannel
from core.settings import Settings

logger = logging.getLogger(__name__)


class _Server(uvicorn.Server):
    """uvicorn, but a SIGINT/SIGTERM lets `serve` clean up before the process ends.

    (uvicorn itself re-raises the signal when it stops, which would end the process before
    Telegram, the scheduler and the database connections are closed.)
    """

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        loop = asyncio.get_running_loop()
        handled = (signal.SIGINT, signal.SIGTERM)
        for sig in handled:
            loop.add_signal_handler(sig, self.handle_exit, sig, None)
        try:
            yield
        finally:
            for sig in handled:
                loop.remove_signal_handler(sig)


MEMORY_TRIM_SECONDS = 30


async def _trim_memory() -> None:
    await asyncio.to_thread(_memory.trim)


class StartupError(Exception):
    """Leerloop cannot start with these settings; the message says what to fix."""


@contextlib.contextmanager
def _one_process_on_sqlite(database_url: str) -> Iterator[None]:
    """SQLite serves one process: a second `leerloop run` on the same file refuses to start.

    (An OS lock on a file beside the database; it goes when the process dies, even by SIGKILL.)
    """
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        yield
        return
    path = Path(url.database).with_suffix(".run.lock")
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise StartupError(
                "another leerloop process is already running on this SQLite database; "
                "SQLite serves one process only: use PostgreSQL (DATABASE_URL=postgresql://...) "
                "to run several"
            ) from None
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


async def serve(settings: Settings) -> None:
    """Run until SIGINT/SIGTERM; stop everything cleanly afterwards."""
    _memory.limit_arenas()  # before the first worker thread
    with _one_process_on_sqlite(settings.database_url):
        await _serve(settings)


async def _serve(settings: Settings) -> None:
    services = await Services.start(settings, warm_up=True)
    instance = new_instance_id()
    telegram = TelegramChannel(services, instance=instance) if settings.telegram_enabled else None
    webhook = telegram.feed_webhook_update if telegram and settings.telegram_webhook_url else None
    draining = False

    def ready() -> str:
        if draining:
            return "draining"
        if not services.warm.is_set() or (telegram is not None and not telegram.ready):
            return "starting"
        return "ready"

    api = create_api(services, webhook=webhook, ready=ready)
    scheduler = AsyncIOScheduler(timezone=settings.tz)
    server = _Server(
        uvicorn.Config(
            api,
            host=settings.http_host,
            port=settings.http_port,
            log_config=None,
            access_log=False,  # paths can hold ids; no personal data in logs
            lifespan="off",
        )
    )
    delivery: NudgeDelivery | None = None
    try:
        scheduler.start()
        # Loading the NLU and building the search index leave freed pages behind; so do bursts.
        scheduler.add_job(
            _trim_memory,
            "interval",
            seconds=MEMORY_TRIM_SECONDS,
            max_instances=1,
            coalesce=True,
            next_run_time=datetime.now(settings.tz) + timedelta(seconds=10),
            id="memory",
        )
        if telegram is not None:
            try:
                await telegram.start()
            except InvalidToken as exc:
                raise StartupError(
                    "Telegram rejected TELEGRAM_BOT_TOKEN; check the token with @BotFather"
                ) from exc
            except NetworkError as exc:
                raise StartupError(
                    f"cannot reach the Telegram Bot API at {settings.telegram_api_base_url}"
                ) from exc
            delivery = NudgeDelivery(services, telegram.app.bot, instance=instance)
            # The schedules are rows in the database; APScheduler is only the clock.
            scheduler.add_job(
                delivery.tick,
                "interval",
                seconds=settings.nudge_tick_seconds,
                max_instances=1,
                coalesce=True,
                next_run_time=datetime.now(settings.tz),
                id="nudges",
            )
        else:
            logger.info("no TELEGRAM_BOT_TOKEN: serving the HTTP API only")
        logger.info("leerloop: http on %s:%s", settings.http_host, settings.http_port)
        await server.serve()
    finally:
        draining = True  # /readyz says 503: the load balancer sends new updates elsewhere
        if delivery is not None:
            # First: sends in flight finish and are recorded (the scheduler would cancel them).
            await delivery.stop()
        scheduler.shutdown(wait=False)
        if telegram is not None:
            await telegram.stop()
        await services.close()
        logger.info("leerloop: stopped")


async def serve_rasa_actions(settings: Settings, host: str, port: int) -> None:
    """`leerloop rasa actions`: Rasa's action server (and `/model/parse`) until SIGINT/SIGTERM."""
    from bot.rasa import create_action_server

    services = await Services.start(settings, warm_up=True)
    server = _Server(
        uvicorn.Config(
            create_action_server(services),
            host=host,
            port=port,
            log_config=None,
            access_log=False,
            lifespan="off",
        )
    )
    try:
        logger.info("leerloop: rasa action server on %s:%s", host, port)
        await server.serve()
    finally:
        await services.close()
        logger.info("leerloop: stopped")
