"""The Telegram channel (python-telegram-bot 22): updates in, neutral replies out.

Polling for development, a webhook (checked by the FastAPI app with Telegram's secret-token
header) for production. The Bot API base URL is configurable for local Bot API servers and tests.
"""

from __future__ import annotations

import logging

from telegram import (
    BotCommand,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputFile,
    Message,
    Update,
)
from telegram.error import Forbidden, TelegramError
from telegram.ext import (
    ApplicationBuilder,
    CallbackQueryHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from bot._http_request import AiohttpRequest
from bot._rate_limit import PriorityRateLimiter, shared_limits
from bot._services import Services
from core.models import Channel
from dialogues import AttachmentKind, IncomingMessage, Reply
from services import mark_blocked

logger = logging.getLogger(__name__)

PHOTO_CAPTION_LIMIT = 1024  # Telegram's limit for a photo's caption


def _keyboard(reply: Reply) -> InlineKeyboardMarkup | None:
    if not reply.buttons:
        return None
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(b.label, callback_data=b.payload)] for b in reply.buttons]
    )


class TelegramChannel:
    """Builds the PTB application and connects it to the dialogue manager."""

    def __init__(self, services: Services) -> None:
        settings = services.settings
        if settings.telegram_bot_token is None:
            raise ValueError("TELEGRAM_BOT_TOKEN is not set")
        self.services = services
        root = settings.telegram_api_base_url
        self.app = (
            ApplicationBuilder()
            .token(settings.telegram_bot_token.get_secret_value())
            .base_url(f"{root}/bot")
            .base_file_url(f"{root}/file/bot")
            .rate_limiter(
                PriorityRateLimiter(
                    broadcast_per_second=settings.telegram_max_per_second,
                    chat_interval=settings.telegram_chat_interval,
                    group_per_minute=settings.telegram_group_per_minute,
                    chat_burst=settings.telegram_chat_burst,
                    allow_paid_broadcast=settings.telegram_allow_paid_broadcast,
                    shared=shared_limits(
                        engine=services.engine,
                        redis_url=(
                            settings.redis_url.get_secret_value() if settings.redis_url else None
                        ),
                        token=settings.telegram_bot_token.get_secret_value(),
                    ),
                )
            )
            # aiohttp under python-telegram-bot: far less CPU per message than httpx, and room
            # for many sends at once (nudges); the long poll gets its own connection.
            .request(AiohttpRequest(connection_pool_size=max(8, settings.nudge_concurrency + 4)))
            .get_updates_request(AiohttpRequest(connection_pool_size=1))
            .build()
        )
        self.app.add_handler(CallbackQueryHandler(self.on_button))
        self.app.add_handler(MessageHandler(filters.TEXT, self.on_text))
        self.app.add_error_handler(self.on_error)

    # ------------------------------------------------------------- lifecycle

    async def start(self) -> None:
        """Connect, publish the Dutch command menu, then poll or register the webhook."""
        settings = self.services.settings
        await self.app.initialize()
        await self.app.bot.set_my_commands(
            [BotCommand(cmd, desc) for cmd, desc in self.services.dialogue.command_menu()]
        )
        await self.app.start()
        if settings.telegram_webhook_url:
            assert settings.telegram_webhook_secret is not None
            await self.app.bot.set_webhook(
                url=settings.telegram_webhook_url,
                secret_token=settings.telegram_webhook_secret.get_secret_value(),
                allowed_updates=["message", "callback_query"],
            )
            logger.info("telegram: webhook registered")
        else:
            assert self.app.updater is not None
            await self.app.updater.start_polling(allowed_updates=["message", "callback_query"])
            logger.info("telegram: polling")

    async def stop(self) -> None:
        if self.app.updater is not None and self.app.updater.running:
            await self.app.updater.stop()
        if self.app.running:
            await self.app.stop()
        await self.app.shutdown()

    async def feed_webhook_update(self, data: dict[str, object]) -> None:
        """Queue an update that arrived on the webhook."""
        update = Update.de_json(data, self.app.bot)
        await self.app.update_queue.put(update)

    # -------------------------------------------------------------- handlers

    async def on_text(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Pass a typed message (or command) to the dialogue manager."""
        message = update.effective_message
        chat = update.effective_chat
        if message is None or chat is None or message.text is None:
            return
        await self._converse(update, chat.id, text=message.text)

    async def on_button(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Answer a button press, mark the choice in the message, pass it on."""
        query = update.callback_query
        chat = update.effective_chat
        if query is None or chat is None:
            return
        await query.answer()
        if isinstance(query.message, Message) and query.message.text:
            label = next(
                (
                    b.text
                    for row in (
                        query.message.reply_markup.inline_keyboard
                        if query.message.reply_markup
                        else ()
                    )
                    for b in row
                    if b.callback_data == query.data
                ),
                None,
            )
            if label is not None:
                # Keep the question, drop the buttons and show what was chosen.
                await query.edit_message_text(f"{query.message.text}\n\n→ {label}")
        await self._converse(update, chat.id, payload=query.data)

    async def _converse(
        self, update: Update, chat_id: int, *, text: str | None = None, payload: str | None = None
    ) -> None:
        """Hand the neutral message to the dialogue manager and send its replies."""
        user = update.effective_user
        incoming = IncomingMessage(
            channel=Channel.TELEGRAM,
            external_id=str(chat_id),
            text=text,
            payload=payload,
            display_name=user.first_name if user is not None else None,
        )
        replies = await self.services.dialogue.handle(incoming)
        bot = self.app.bot
        for reply in replies:
            if reply.attachment is not None and reply.attachment.kind == AttachmentKind.PHOTO:
                await bot.send_photo(
                    chat_id=chat_id,
                    photo=InputFile(reply.attachment.content, filename=reply.attachment.filename),
                    caption=reply.text[:PHOTO_CAPTION_LIMIT] or None,
                )
            elif reply.attachment is not None:
                await bot.send_document(
                    chat_id=chat_id,
                    document=InputFile(
                        reply.attachment.content, filename=reply.attachment.filename
                    ),
                    caption=reply.text or None,
                )
            else:
                await bot.send_message(
                    chat_id=chat_id, text=reply.text, reply_markup=_keyboard(reply)
                )

    async def on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Log the failure without personal data and tell the user something went wrong."""
        error = context.error
        chat_id = (
            update.effective_chat.id
            if isinstance(update, Update) and update.effective_chat
            else None
        )
        if isinstance(error, Forbidden):
            logger.warning("telegram: chat blocked the bot; marking it")
            if chat_id is not None:
                async with self.services.sessions() as session, session.begin():
                    await mark_blocked(
                        session=session, channel=Channel.TELEGRAM, external_id=str(chat_id)
                    )
            return
        logger.error(
            "telegram: handling an update failed (%s)",
            type(error).__name__,
            exc_info=(type(error), error, error.__traceback__) if error else None,
        )
        if chat_id is None:
            return
        try:
            await context.bot.send_message(
                chat_id=chat_id, text=self.services.dialogue.responses.render("error_generic")
            )
        except TelegramError:
            logger.warning("telegram: could not send the error message")
