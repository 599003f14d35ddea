"""The Telegram channel (python-telegram-bot 22): updates in, neutral replies out.

Polling for development, a webhook (checked by the FastAPI app with Telegram's secret-token
header) for production. Either way every update is first stored in the inbox
(`services.inbox`, unique by `update_id`) and then handled from there: exactly once per update,
one chat's updates in order, different chats at once, across any number of processes. Only one
process per token polls (it holds a PostgreSQL advisory lock). The Bot API base URL is
configurable for local Bot API servers and tests.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
from asyncio import FIRST_COMPLETED
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta
from functools import partial
from typing import Any, TypeVar

from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
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
    ExtBot,
    MessageHandler,
    filters,
)

from bot._http_request import AiohttpRequest
from bot._instance import new_instance_id
from bot._rate_limit import LOW, PriorityRateLimiter, shared_limits
from bot._services import Services
from core.db import utcnow
from core.models import Channel, UpdateStatus
from core.text_input import CHAT_TEXT_LIMIT, clean_chat_text
from dialogues import Attachment, AttachmentKind, Button, IncomingMessage, Reply
from services import inbox, mark_blocked

logger = logging.getLogger(__name__)

PHOTO_CAPTION_LIMIT = 1024  # Telegram's limit for a photo's caption
ALLOWED_UPDATES = ("message", "callback_query")
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


async def send_reply(
    bot: ExtBot[Any],
    chat_id: int,
    reply: Reply,
    *,
    broadcast: bool = False,
    paid: bool = False,
    choose_text: str = "",
) -> None:
    """The one Telegram rendering of a neutral `Reply`, for chat replies and broadcasts alike
    (nudges and campaigns pass `broadcast=True`: the rate limiter's background class, and the
    delivery engine records their failures itself). A long text goes as several messages split
    between paragraphs (buttons under the last); a caption too long for a file follows it."""
    extra: dict[str, Any] = {}
    if broadcast:
        extra["rate_limit_args"] = {"priority": LOW}
        if paid:
            extra["allow_paid_broadcast"] = True
    attempts = 1 if broadcast else SEND_ATTEMPTS
    if reply.attachment is not None:
        attachment = reply.attachment
        caption, rest = reply.text, ""
        if _units(caption) > PHOTO_CAPTION_LIMIT:  # the full text follows the file
            caption, rest = "", reply.text
        upload = InputFile(attachment.content, filename=attachment.filename)
        method = bot.send_photo if attachment.kind == AttachmentKind.PHOTO else bot.send_document
        await _send(partial(method, chat_id, upload, caption=caption or None, **extra), attempts)
        if rest:
            await send_reply(
                bot,
                chat_id,
                Reply(text=rest, buttons=reply.buttons),
                broadcast=broadcast,
                paid=paid,
                choose_text=choose_text,
            )
        return
    parts = split_message(reply.text) if reply.text.strip() else []
    if not parts and reply.buttons and choose_text:  # buttons need a text to hang under
        parts = [choose_text]
    for index, part in enumerate(parts):
        markup = _keyboard(reply) if index == len(parts) - 1 else None
        await _send(
            partial(bot.send_message, chat_id, part, reply_markup=markup, **extra), attempts
        )


async def _send(call: Callable[[], Awaitable[T]], attempts: int) -> T:
    """One Bot API call, tried again after a 429 or a network error. Logs say what failed,
    never what was in the message."""
    for attempt in range(1, attempts + 1):
        try:
            return await call()
        except RetryAfter as exc:
            if attempt == attempts:
                raise
            delay = exc.retry_after
            seconds = delay.total_seconds() if hasattr(delay, "total_seconds") else delay
            logger.warning("telegram: 429 on a reply, waiting %ss", seconds)
            await asyncio.sleep(float(seconds))
        except Forbidden:
            raise
        except BadRequest as exc:
            logger.error("telegram: a message was refused (%s)", _reason(exc))
            raise
        except NetworkError as exc:
            if attempt == attempts:
                raise
            logger.warning("telegram: a send failed (%s), retrying", type(exc).__name__)
            await asyncio.sleep(0.5 * attempt)
    raise AssertionError("unreachable")


def _encode_replies(replies: list[Reply]) -> list[Any]:
    """Replies as JSON, kept in the inbox until they are sent."""
    encoded: list[Any] = []
    for reply in replies:
        item: dict[str, Any] = {
            "text": reply.text,
            "buttons": [[b.label, b.payload] for b in reply.buttons],
        }
        if reply.attachment is not None:
            a = reply.attachment
            item["attachment"] = {
                "filename": a.filename,
                "content": inbox.encode_bytes(a.content),
                "mime_type": a.mime_type,
                "kind": a.kind.value,
                "caption": a.caption,
            }
        encoded.append(item)
    return encoded


def _decode_replies(encoded: list[Any]) -> list[Reply]:
    replies = []
    for item in encoded:
        attachment = None
        if item.get("attachment"):
            a = item["attachment"]
            attachment = Attachment(
                filename=a["filename"],
                content=inbox.decode_bytes(a["content"]),
                mime_type=a["mime_type"],
                kind=AttachmentKind(a["kind"]),
                caption=a["caption"],
            )
        buttons = tuple(Button(label, payload) for label, payload in item["buttons"])
        replies.append(Reply(text=item["text"], buttons=buttons, attachment=attachment))
    return replies


class TelegramChannel:
    """Builds the PTB application and connects it to the dialogue manager through the inbox."""

    max_concurrent = 64  # updates of different chats handled at once by one process
    poll_seconds = 0.5  # how often to look for updates another process stored
    leader_retry_seconds = 2.0

    def __init__(self, services: Services, *, instance: str | None = None) -> None:
        settings = services.settings
        if settings.telegram_bot_token is None:
            raise ValueError("TELEGRAM_BOT_TOKEN is not set")
        self.services = services
        self.max_concurrent = settings.telegram_concurrent_updates
        self.instance = instance or new_instance_id()
        self.lease = timedelta(seconds=settings.lease_seconds)
        self.ready = False
        self.polling = False
        self._stopping = False
        self._wake = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._handler_task: asyncio.Task[Any] | None = None
        self._leader: AsyncConnection | None = None
        sqlite = services.engine.dialect.name == "sqlite"
        self._writes: asyncio.Lock | contextlib.nullcontext[None] = (
            asyncio.Lock() if sqlite else contextlib.nullcontext()
        )
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
        """Connect, publish the Dutch command menu, register the webhook or start polling
        (one process per token polls), and handle stored updates."""
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
                allowed_updates=list(ALLOWED_UPDATES),
            )
            logger.info("telegram: webhook registered")
        else:
            self._tasks.append(asyncio.create_task(self._poll_when_leader()))
        self._tasks.append(asyncio.create_task(self._handle_stored()))
        self._tasks.append(asyncio.create_task(self._renew_leases()))
        self.ready = True

    async def stop(self) -> None:
        """Stop polling and taking stored updates; let the ones underway finish (drain)."""
        self.ready = False
        self._stopping = True
        self._wake.set()
        for task in self._tasks:
            if task is not self._handler_task:
                task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._leader is not None:
            await self._leader.close()
            self._leader = None
        if self.app.running:
            await self.app.stop()
        await self.app.shutdown()

    async def feed_webhook_update(self, data: dict[str, object]) -> None:
        """Store an update that arrived on the webhook (before Telegram hears 200)."""
        if not isinstance(data.get("update_id"), int):
            raise ValueError("an update has an integer update_id")
        async with self._write() as session:
            await inbox.store(session, dict(data), utcnow())
        self._wake.set()

    # ------------------------------------------------------ polling, one process per token

    async def _poll_when_leader(self) -> None:
        """Poll only while this process holds the token's lock (PostgreSQL advisory lock; on
        SQLite there is only one process). A dead leader's lock goes with its connection."""
        engine = self.services.engine
        while not self._stopping:
            if engine.dialect.name == "postgresql":
                conn = await engine.connect()
                key = int.from_bytes(
                    hashlib.sha256(self.app.bot.token.encode()).digest()[:8], "big", signed=True
                )
                got = await conn.scalar(text("SELECT pg_try_advisory_lock(:k)"), {"k": key})
                await conn.commit()
                if not got:
                    await conn.close()
                    await asyncio.sleep(self.leader_retry_seconds)
                    continue
                self._leader = conn
            logger.info("telegram: polling (this process holds the token)")
            self.polling = True
            try:
                await self._poll()
            finally:
                self.polling = False
            return

    async def _poll(self) -> None:
        """getUpdates; each batch is stored before the next call tells Telegram it was received."""
        offset: int | None = None
        while not self._stopping:
            try:
                updates = await self.app.bot.get_updates(
                    offset=offset, timeout=10, allowed_updates=list(ALLOWED_UPDATES)
                )
            except TelegramError as exc:
                logger.warning("telegram: polling failed (%s); trying again", type(exc).__name__)
                await asyncio.sleep(1.0)
                continue
            if not updates:
                continue
            try:
                async with self._write() as session:
                    for update in updates:
                        await inbox.store(session, update.to_dict(), utcnow())
            except SQLAlchemyError as exc:  # not stored: ask for the same updates again
                logger.warning("telegram: could not store updates (%s)", type(exc).__name__)
                await asyncio.sleep(1.0)
                continue
            offset = updates[-1].update_id + 1
            self._wake.set()

    # ---------------------------------------------------------- handling stored updates

    async def _handle_stored(self) -> None:
        """Claim stored updates (oldest open one per chat) and handle them concurrently."""
        self._handler_task = asyncio.current_task()
        underway: set[asyncio.Task[None]] = set()
        waker: asyncio.Task[bool] | None = None
        try:
            while not self._stopping:
                free = self.max_concurrent - len(underway)
                if free > 0:
                    self._wake.clear()
                    try:
                        async with self._write() as session:
                            claimed = await inbox.claim(
                                session, utcnow(), free, owner=self.instance, lease=self.lease
                            )
                    except SQLAlchemyError as exc:  # database busy or away: look again soon
                        logger.warning("telegram: inbox not reachable (%s)", type(exc).__name__)
                        await asyncio.sleep(self.poll_seconds)
                        continue
                    underway.update(asyncio.create_task(self._handle_one(u)) for u in claimed)
                    if len(claimed) == free:
                        continue
                if waker is None or waker.done():
                    waker = asyncio.create_task(self._wake.wait())
                done, _ = await asyncio.wait(
                    {waker, *underway}, timeout=self.poll_seconds, return_when=FIRST_COMPLETED
                )
                underway -= done
        finally:
            if waker is not None:
                waker.cancel()
            if underway:
                await asyncio.wait(underway, timeout=30)

    async def _renew_leases(self) -> None:
        """Every third of a lease, extend this process's leases on the updates it handles."""
        while not self._stopping:
            await asyncio.sleep(self.lease.total_seconds() / 3)
            try:
                async with self._write() as session:
                    await inbox.renew(session, self.instance, utcnow() + self.lease)
            except SQLAlchemyError as exc:
                logger.warning("telegram: could not renew leases (%s)", type(exc).__name__)

    async def _handle_one(self, stored: inbox.StoredUpdate) -> None:
        """One update: the turn (once), its replies, then done."""
        update = Update.de_json(stored.payload, self.app.bot)
        chat = update.effective_chat
        try:
            if stored.status == UpdateStatus.HANDLED and stored.replies is not None:
                replies = _decode_replies(stored.replies)
            else:
                replies = await self._turn(update, stored.update_id)
            if chat is not None and replies:
                await self._send_replies(chat.id, replies)
        except Exception as exc:
            await self._failed(update, exc)
        finally:
            for _ in range(5):  # the turn is committed: insist on recording the end
                try:
                    async with self._write() as session:
                        await inbox.mark_done(session, stored.update_id, utcnow())
                    break
                except SQLAlchemyError:
                    await asyncio.sleep(1.0)
            self._wake.set()  # the chat's next update may be waiting

    async def _turn(self, update: Update, update_id: int | None) -> list[Reply]:
        message = update.effective_message
        if update.callback_query is None and message is not None and message.text is not None:
            cleaned = clean_chat_text(message.text)
            if cleaned.empty or cleaned.too_long:
                # Nothing reaches the dialogue: the question it waits for stays open.
                key = "input_empty" if cleaned.empty else "input_too_long"
                text = self.services.dialogue.responses.render(key, {"limit": CHAT_TEXT_LIMIT})
                return [Reply(text=text)]
        incoming = await self._incoming(update)
        if incoming is None:
            return []

        async def handled(session: AsyncSession, replies: list[Reply]) -> None:
            if update_id is not None:
                await inbox.mark_handled(session, update_id, _encode_replies(replies))

        replies = await self.services.dialogue.handle(incoming, before_commit=handled)
        if update.callback_query is not None:  # the press is processed: now the cosmetic edit
            await self._mark_choice(update.callback_query)
        return replies

    @contextlib.asynccontextmanager
    async def _write(self) -> AsyncIterator[AsyncSession]:
        async with self._writes, self.services.sessions() as session, session.begin():
            yield session

    # -------------------------------------------------------------- handlers

    async def on_text(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Pass a typed message (or command) to the dialogue manager."""
        await self._answer(update)

    async def on_button(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Answer a button press, mark the choice in the message, pass it on."""
        await self._answer(update)

    async def _answer(self, update: Update) -> None:
        chat = update.effective_chat
        replies = await self._turn(update, None)
        if chat is not None:
            await self._send_replies(chat.id, replies)

    async def _incoming(self, update: Update) -> IncomingMessage | None:
        """The neutral message for a typed text or a button press (which is answered here)."""
        chat = update.effective_chat
        if chat is None:
            return None
        user = update.effective_user
        cleaned_name = clean_chat_text(user.first_name, limit=100).text if user is not None else ""
        name = cleaned_name or None
        query = update.callback_query
        if query is not None:
            try:
                await query.answer()
            except TelegramError as exc:  # an old press (query too old) is still processed
                logger.info("telegram: answering a button press failed (%s)", type(exc).__name__)
            return IncomingMessage(
                channel=Channel.TELEGRAM,
                external_id=str(chat.id),
                payload=query.data,
                display_name=name,
            )
        message = update.effective_message
        if message is None or message.text is None:
            return None
        return IncomingMessage(
            channel=Channel.TELEGRAM,
            external_id=str(chat.id),
            text=clean_chat_text(message.text).text,
            display_name=name,
        )

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

    async def _send_replies(self, chat_id: int, replies: list[Reply]) -> None:
        """Render neutral replies for Telegram and send them."""
        choose = self.services.dialogue.responses.render("input_choose")
        for reply in replies:
            await send_reply(self.app.bot, chat_id, reply, choose_text=choose)

    async def _failed(self, update: Update, error: Exception) -> None:
        """A stored update failed: the same as PTB's error handler does for a direct one."""
        context = ContextTypes.DEFAULT_TYPE.from_error(update, error, self.app)  # type: ignore[arg-type]
        await self.on_error(update, context)

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
