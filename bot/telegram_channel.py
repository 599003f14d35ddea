"""The Telegram channel (python-telegram-bot 22): updates in, neutral replies out.

Polling for development, a webhook (checked by the FastAPI app with Telegram's secret-token
header) for production. The Bot API base URL is configurable for local Bot API servers and tests.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from functools import partial
from typing import TypeVar

from telegram import (
    BotCommand,
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputFile,
    Message,
    Update,
)
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError
from telegram.ext import (
    ApplicationBuilder,
    CallbackQueryHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from bot._http_request import AiohttpRequest
from bot._rate_limit import PriorityRateLimiter
from bot._services import Services
from core.models import Channel
from core.text_input import CHAT_TEXT_LIMIT, clean_chat_text
from dialogues import AttachmentKind, IncomingMessage, Reply
from services import mark_blocked

logger = logging.getLogger(__name__)

PHOTO_CAPTION_LIMIT = 1024  # Telegram's limit for a photo's caption
MESSAGE_LIMIT = 4096  # Telegram's limit for a message text (counted in UTF-16 code units)
SEND_ATTEMPTS = 3  # a send that fails for the network or a 429 is tried this often

T = TypeVar("T")


def _units(text: str) -> int:
    """Length as Telegram counts it (UTF-16 code units: an emoji outside the BMP counts 2)."""
    return len(text.encode("utf-16-le")) // 2


def _cut(text: str, limit: int) -> tuple[str, str]:
    """The longest head of `text` within `limit` units, broken at a space when one is near."""
    low, high = 0, len(text)
    while low < high:  # binary search on characters for the unit limit
        mid = (low + high + 1) // 2
        if _units(text[:mid]) <= limit:
            low = mid
        else:
            high = mid - 1
    head = text[:low]
    space = head.rfind(" ")
    if space > low // 2:
        head = head[:space]
    return head, text[len(head) :].lstrip(" ")


def split_message(text: str, limit: int = MESSAGE_LIMIT) -> list[str]:
    """Split a reply into messages of at most `limit` units: between paragraphs first, then
    between lines, then between words; nothing is lost and no part is empty."""
    parts: list[str] = []
    current = ""
    for separator_pieces in _pieces(text, limit):
        piece = separator_pieces
        candidate = f"{current}\n\n{piece}" if current else piece
        if _units(candidate) <= limit:
            current = candidate
        else:
            if current:
                parts.append(current)
            current = piece
    if current:
        parts.append(current)
    return parts or [text]


def _pieces(text: str, limit: int) -> list[str]:
    """Paragraphs, each no longer than `limit` (long ones split by line, then by word)."""
    pieces: list[str] = []
    for paragraph in (p.strip("\n") for p in text.split("\n\n")):
        if not paragraph.strip():
            continue
        if _units(paragraph) <= limit:
            pieces.append(paragraph)
            continue
        block = ""
        for line in paragraph.split("\n"):
            candidate = f"{block}\n{line}" if block else line
            if _units(candidate) <= limit:
                block = candidate
                continue
            if block:
                pieces.append(block)
            while _units(line) > limit:
                head, line = _cut(line, limit)
                pieces.append(head)
            block = line
        if block:
            pieces.append(block)
    return pieces


def _reason(exc: TelegramError) -> str:
    """Telegram's reason for refusing a request, without anything the user wrote."""
    message = exc.message.split(":", 1)[0] if ":" in exc.message else exc.message
    return f"{type(exc).__name__}: {message[:80]}"


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
                    max_per_second=settings.telegram_max_per_second,
                    chat_interval=settings.telegram_chat_interval,
                    group_per_minute=settings.telegram_group_per_minute,
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
        """Clean a typed message (or command) at the boundary and pass it on."""
        message = update.effective_message
        chat = update.effective_chat
        if message is None or chat is None or message.text is None:
            return
        cleaned = clean_chat_text(message.text)
        if cleaned.empty or cleaned.too_long:
            # Nothing reaches the dialogue: the question it waits for stays open.
            key = "input_empty" if cleaned.empty else "input_too_long"
            text = self.services.dialogue.responses.render(key, {"limit": CHAT_TEXT_LIMIT})
            await self._deliver(chat.id, [Reply(text=text)])
            return
        replies = await self._handle(update, chat.id, text=cleaned.text)
        await self._deliver(chat.id, replies)

    async def on_button(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Process a button press first; only then mark the choice in the old message."""
        query = update.callback_query
        chat = update.effective_chat
        if query is None or chat is None:
            return
        try:
            await query.answer()
        except TelegramError as exc:  # an old press (query too old) is still processed
            logger.info("telegram: answering a button press failed (%s)", type(exc).__name__)
        replies = await self._handle(update, chat.id, payload=query.data)
        await self._mark_choice(query)
        await self._deliver(chat.id, replies)

    async def _mark_choice(self, query: CallbackQuery) -> None:
        """Keep the question, drop its buttons and show what was chosen (cosmetic: a failure
        here is logged and never undoes the press)."""
        message = query.message
        if not isinstance(message, Message) or not message.text:
            return
        rows = message.reply_markup.inline_keyboard if message.reply_markup else ()
        label = next((b.text for row in rows for b in row if b.callback_data == query.data), None)
        if label is None:
            return
        marked = f"{message.text}\n\n→ {label}"
        try:
            if _units(marked) <= MESSAGE_LIMIT:
                await query.edit_message_text(marked)
            else:  # no room for the label: only take the buttons away
                await query.edit_message_reply_markup(reply_markup=None)
        except TelegramError as exc:
            logger.info("telegram: marking a chosen button failed (%s)", type(exc).__name__)

    async def _handle(
        self, update: Update, chat_id: int, *, text: str | None = None, payload: str | None = None
    ) -> list[Reply]:
        """Hand the neutral message to the dialogue manager; return its replies."""
        user = update.effective_user
        name = clean_chat_text(user.first_name, limit=100).text if user is not None else ""
        incoming = IncomingMessage(
            channel=Channel.TELEGRAM,
            external_id=str(chat_id),
            text=text,
            payload=payload,
            display_name=name or None,
        )
        return await self.services.dialogue.handle(incoming)

    async def _deliver(self, chat_id: int, replies: list[Reply]) -> None:
        """Send the replies in order; a long text goes as several messages (buttons under the
        last one). A send that keeps failing is reported to the user, not dropped."""
        bot = self.app.bot
        for reply in replies:
            if reply.attachment is not None:
                attachment = reply.attachment
                caption = reply.text
                extra = ""
                if _units(caption) > PHOTO_CAPTION_LIMIT:  # the full text follows the file
                    caption, extra = "", reply.text
                upload = InputFile(attachment.content, filename=attachment.filename)
                if attachment.kind == AttachmentKind.PHOTO:
                    send = partial(bot.send_photo, chat_id, upload, caption=caption or None)
                else:
                    send = partial(bot.send_document, chat_id, upload, caption=caption or None)
                await self._send(send, chat_id)
                if extra:
                    await self._deliver(chat_id, [Reply(text=extra, buttons=reply.buttons)])
                continue
            parts = split_message(reply.text) if reply.text.strip() else []
            if not parts and reply.buttons:  # buttons need a text to hang under
                parts = [self.services.dialogue.responses.render("input_choose")]
            for index, part in enumerate(parts):
                markup = _keyboard(reply) if index == len(parts) - 1 else None
                await self._send(
                    partial(bot.send_message, chat_id, part, reply_markup=markup), chat_id
                )

    async def _send(self, call: Callable[[], Awaitable[T]], chat_id: int) -> T:
        """One Bot API call, tried again after a 429 or a network error. Logs say what failed,
        never what was in the message."""
        for attempt in range(1, SEND_ATTEMPTS + 1):
            try:
                return await call()
            except RetryAfter as exc:
                if attempt == SEND_ATTEMPTS:
                    raise
                delay = exc.retry_after
                seconds = delay.total_seconds() if hasattr(delay, "total_seconds") else delay
                logger.warning("telegram: 429 on a reply, waiting %ss", seconds)
                await asyncio.sleep(float(seconds))
            except Forbidden:
                raise
            except BadRequest as exc:
                logger.error("telegram: a reply was refused (%s)", _reason(exc))
                raise
            except NetworkError as exc:
                if attempt == SEND_ATTEMPTS:
                    raise
                logger.warning("telegram: a reply failed (%s), retrying", type(exc).__name__)
                await asyncio.sleep(0.5 * attempt)
        raise AssertionError("unreachable")

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
