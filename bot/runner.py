"""`leerloop run`: HTTP API, Telegram and the scheduler in one process and one event loop."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Iterator
from datetime import datetime

import uvicorn
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from telegram.error import InvalidToken, NetworkError

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


class StartupError(Exception):
    """Leerloop cannot start with these settings; the message says what to fix."""


async def serve(settings: Settings) -> None:
    """Run until SIGINT/SIGTERM; stop everything cleanly afterwards."""
    services = await Services.start(settings, warm_up=True)
    telegram = TelegramChannel(services) if settings.telegram_enabled else None
    webhook = telegram.feed_webhook_update if telegram and settings.telegram_webhook_url else None
    api = create_api(services, webhook=webhook)
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
            delivery = NudgeDelivery(services, telegram.app.bot)
            await delivery.recover()
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
