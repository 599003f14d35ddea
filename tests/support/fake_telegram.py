"""A fake Telegram Bot API server on 127.0.0.1 (aiohttp) that records what the bot sends.

It is strict where Telegram is: a text of more than 4,096 UTF-16 units or an empty one, a
caption over 1,024, callback data over 64 bytes, an empty button label and an edit that changes
nothing are refused with Telegram's 400 answers.

It speaks the Bot API's HTTP protocol (`/bot<token>/<method>`, form, JSON or multipart
bodies, `{"ok": ..., "result": ...}` answers), long-polls `getUpdates`, and can answer
429 with `retry_after` or 403 on demand, or like Telegram's flood control whenever more than
`max_per_second` messages arrive in one second; it reports messages per second.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import socket
import time
from collections import defaultdict, deque
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

CAPTION_LIMIT = 1024
TEXT_LIMIT = 4096  # characters of a message text, counted as UTF-16 code units
CALLBACK_DATA_LIMIT = 64  # bytes of a button's callback_data
BUTTON_TEXT_LIMIT = 64  # characters of a button label (longer ones are cut by real clients)


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


BOT_USER = {
    "id": 424242,
    "is_bot": True,
    "first_name": "Leerloop",
    "username": "leerloop_test_bot",
    "can_join_groups": False,
    "can_read_all_group_messages": False,
    "supports_inline_queries": False,
}


@dataclass
class SentMessage:
    chat_id: int
    message_id: int
    text: str | None
    buttons: list[tuple[str, str]] = field(default_factory=list)
    document: tuple[str, bytes] | None = None
    method: str = "sendMessage"
    at: float = field(default_factory=time.monotonic)


class FakeTelegram:
    def __init__(self, token: str = "123456:TEST-token", max_poll_seconds: float = 0.5) -> None:
        self.token = token
        # Long polls are cut short so a bot under test stops quickly (PTB waits for the poll).
        self.max_poll_seconds = max_poll_seconds
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.sent: list[SentMessage] = []
        # The same messages per chat, and a wake-up per chat: waiting for one person's reply
        # stays cheap when thousands of messages went out (benchmarks ask many times a second).
        self.by_chat: dict[int, list[SentMessage]] = defaultdict(list)
        self._arrived: dict[int, asyncio.Event] = defaultdict(asyncio.Event)
        self.edits: list[dict[str, Any]] = []
        self.refused: list[tuple[str, str]] = []  # (method, Telegram's reason) of 400 answers
        self._texts: dict[tuple[int, int], str] = {}  # (chat, message) -> its current text
        self.commands: list[dict[str, Any]] = []
        self.webhook_url: str | None = None
        self.webhook_secret: str | None = None
        self._updates: list[dict[str, Any]] = []
        self._update_ids = itertools.count(1)
        self._message_ids = itertools.count(1000)
        self._new_update = asyncio.Event()
        self._failures: dict[str, deque[tuple[int, int | None]]] = defaultdict(deque)
        self.blocked_chats: set[int] = set()
        # Like Telegram's flood control: more than this many messages in one second -> 429.
        self.max_per_second: int | None = None
        # Which chats count toward it (None: all). A benchmark counts only broadcast chats, as
        # replies to people chatting are limited per chat, not by the bulk 30/s.
        self.flood_chats: range | None = None
        self.too_many: int = 0
        self.too_many_at: list[float] = []  # when each flood-control 429 was answered
        self._recent: deque[float] = deque()
        self._runner: web.AppRunner | None = None
        self.port = 0

    # ---------------------------------------------------------------- server

    @property
    def base_url(self) -> str:
        """What goes in TELEGRAM_API_BASE_URL."""
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> FakeTelegram:
        app = web.Application(client_max_size=50 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        # Control routes, for a benchmark that runs this server in another process.
        app.router.add_get("/_control/stats", self._stats)
        app.router.add_get("/_control/wait", self._wait_route)
        app.router.add_post("/_control/config", self._config)
        app.router.add_post("/_control/push", self._push_route)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        self.port = sock.getsockname()[1]
        await web.SockSite(self._runner, sock).start()
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    # --------------------------------------------------------------- control

    def fail_next(
        self, method: str, status: int, *, retry_after: int | None = None, times: int = 1
    ) -> None:
        """Answer the next `times` calls of `method` with an error (429 or 403)."""
        for _ in range(times):
            self._failures[method].append((status, retry_after))

    async def _stats(self, request: web.Request) -> web.Response:
        chat = request.query.get("chat_id")
        if chat is not None:
            return web.json_response({"count": len(self.messages_to(int(chat)))})
        return web.json_response(
            {
                "sent": [[m.chat_id, m.at] for m in self.sent],
                "too_many": self.too_many,
                "too_many_at": self.too_many_at,
                "max_in_any_second": self.max_in_any_second(),
                "per_second": self.rate(),
            }
        )

    async def _wait_route(self, request: web.Request) -> web.Response:
        """Long poll: answers once `count` messages went to `chat_id` (or after `timeout` s)."""
        chat, count = int(request.query["chat_id"]), int(request.query["count"])
        timeout = float(request.query.get("timeout", "10"))
        arrived = await self.wait_count(chat, count, time.monotonic() + timeout)
        return web.json_response({"count": len(self.by_chat[chat]), "arrived": arrived})

    async def _config(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.max_per_second = body.get("max_per_second")
        if body.get("flood_chats"):
            first, last = body["flood_chats"]
            self.flood_chats = range(int(first), int(last))
        return web.json_response({"ok": True})

    async def _push_route(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.push_text(int(body["chat_id"]), str(body["text"]))
        return web.json_response({"ok": True})

    def block_chat(self, chat_id: int) -> None:
        """This user blocked the bot: messages to them get 403."""
        self.blocked_chats.add(chat_id)

    def push_text(self, chat_id: int, text: str, *, first_name: str = "Anna") -> dict[str, Any]:
        """Queue a text message from a user, as getUpdates will deliver it."""
        return self._queue(self.text_update(chat_id, text, first_name=first_name))

    def push_button(
        self, message: SentMessage, label: str, *, first_name: str = "Anna"
    ) -> dict[str, Any]:
        """Queue a press on the button with `label` under a message the bot sent."""
        return self._queue(self.button_update(message, label, first_name=first_name))

    def text_update(self, chat_id: int, text: str, *, first_name: str = "Anna") -> dict[str, Any]:
        """The update Telegram makes of a typed message (not queued: for `process_update`)."""
        message: dict[str, Any] = {
            "message_id": next(self._message_ids),
            "date": int(time.time()),
            "chat": {"id": chat_id, "type": "private", "first_name": first_name},
            "from": {"id": chat_id, "is_bot": False, "first_name": first_name},
            "text": text,
        }
        if text.startswith("/"):
            length = len(text.split()[0])
            message["entities"] = [{"type": "bot_command", "offset": 0, "length": length}]
        return self.make_update({"message": message})

    def button_update(
        self, message: SentMessage, label: str, *, first_name: str = "Anna"
    ) -> dict[str, Any]:
        """The update Telegram makes of a press on the button with `label` (not queued)."""
        data = dict(message.buttons)[label]
        keyboard = [[{"text": t, "callback_data": d}] for t, d in message.buttons]
        return self.make_update(
            {
                "callback_query": {
                    "id": str(next(self._message_ids)),
                    "from": {"id": message.chat_id, "is_bot": False, "first_name": first_name},
                    "chat_instance": "ci",
                    "data": data,
                    "message": {
                        "message_id": message.message_id,
                        "date": int(time.time()),
                        "chat": {"id": message.chat_id, "type": "private"},
                        "from": BOT_USER,
                        "text": message.text,
                        "reply_markup": {"inline_keyboard": keyboard},
                    },
                }
            }
        )

    def make_update(self, payload: dict[str, Any]) -> dict[str, Any]:
        return {"update_id": next(self._update_ids), **payload}

    def _queue(self, update: dict[str, Any]) -> dict[str, Any]:
        self._updates.append(update)
        self._new_update.set()
        return update

    def max_in_any_second(self, chats: range | None = None) -> int:
        """The most messages accepted in any one-second window (sliding), as Telegram counts."""
        stamps = sorted(m.at for m in self.sent if chats is None or m.chat_id in chats)
        best, start = 0, 0
        for end, stamp in enumerate(stamps):
            while stamp - stamps[start] >= 1.0:
                start += 1
            best = max(best, end - start + 1)
        return best

    def rate(self, chats: range | None = None) -> float:
        """Messages per second from the first to the last accepted one."""
        stamps = sorted(m.at for m in self.sent if chats is None or m.chat_id in chats)
        if len(stamps) < 2 or stamps[-1] == stamps[0]:
            return 0.0
        return (len(stamps) - 1) / (stamps[-1] - stamps[0])

    def messages_to(self, chat_id: int) -> list[SentMessage]:
        return list(self.by_chat.get(chat_id, ()))

    def _record(self, message: SentMessage) -> None:
        self.sent.append(message)
        self.by_chat[message.chat_id].append(message)
        self._arrived[message.chat_id].set()

    async def wait_count(self, chat_id: int, count: int, deadline: float) -> bool:
        """Wait until `count` messages went to `chat_id` in total; False at the deadline."""
        event = self._arrived[chat_id]
        while len(self.by_chat[chat_id]) < count:
            event.clear()
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(event.wait(), timeout=left)
        return True

    def method_calls(self, method: str) -> list[dict[str, Any]]:
        return [params for name, params in self.calls if name == method]

    async def wait_for_messages(
        self, chat_id: int, count: int, timeout: float = 10.0
    ) -> list[SentMessage]:
        """Wait until the bot has sent `count` messages in total to `chat_id`."""
        if not await self.wait_count(chat_id, count, time.monotonic() + timeout):
            raise AssertionError(
                f"expected {count} messages to {chat_id}, got "
                f"{[m.text for m in self.messages_to(chat_id)]}"
            )
        return self.messages_to(chat_id)

    async def wait_until(self, predicate: Any, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while not predicate():
            if time.monotonic() > deadline:
                raise AssertionError("condition not reached in time")
            await asyncio.sleep(0.02)

    # -------------------------------------------------------------- protocol

    async def _params(self, request: web.Request) -> dict[str, Any]:
        params: dict[str, Any] = dict(request.query)
        if request.content_type == "application/json":
            params.update(await request.json())
        elif request.can_read_body:
            form = await request.post()
            for key, value in form.items():
                if isinstance(value, web.FileField):
                    params[key] = (value.filename, value.file.read())
                else:
                    params[key] = value
        for key, value in list(params.items()):
            if isinstance(value, str) and value[:1] in "[{":
                with contextlib.suppress(ValueError):
                    params[key] = json.loads(value)
        return params

    async def _handle(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return web.json_response(
                {"ok": False, "error_code": 401, "description": "Unauthorized"}, status=401
            )
        method = request.match_info["method"]
        params = await self._params(request)
        self.calls.append((method, params))
        if self._failures[method.lower()] or self._failures[method]:
            queue = self._failures[method] or self._failures[method.lower()]
            status, retry_after = queue.popleft()
            if status == 429:
                return web.json_response(
                    {
                        "ok": False,
                        "error_code": 429,
                        "description": f"Too Many Requests: retry after {retry_after}",
                        "parameters": {"retry_after": retry_after or 1},
                    },
                    status=429,
                )
            return web.json_response(
                {
                    "ok": False,
                    "error_code": status,
                    "description": "Forbidden: bot was blocked by the user",
                },
                status=status,
            )
        if method.lower() in ("sendmessage", "sendphoto"):
            refused = self._refuse(int(params["chat_id"]))
            if refused is not None:
                return refused
        problem = self._check_limits(method.lower(), params)
        if problem is not None:
            self.refused.append((method, problem))
            body = {"ok": False, "error_code": 400, "description": f"Bad Request: {problem}"}
            return web.json_response(body, status=400)
        handler = getattr(self, f"_m_{method.lower()}", None)
        if handler is None:
            return web.json_response(
                {"ok": False, "error_code": 404, "description": "Not Found: method not found"},
                status=404,
            )
        result = await handler(params)
        return web.json_response({"ok": True, "result": result})

    def _check_limits(self, method: str, params: dict[str, Any]) -> str | None:
        """What real Telegram would refuse in this request, in its words, or None."""
        if method in ("sendmessage", "editmessagetext"):
            text = str(params.get("text") or "")
            if not text.strip():
                return "message text is empty"
            if utf16_len(text) > TEXT_LIMIT:
                return "message is too long"
        caption = str(params.get("caption") or "")
        if method in ("sendphoto", "senddocument") and utf16_len(caption) > CAPTION_LIMIT:
            return "message caption is too long"
        markup = params.get("reply_markup")
        if isinstance(markup, dict):
            for row in markup.get("inline_keyboard", []):
                for button in row:
                    if not str(button.get("text") or "").strip():
                        return "text buttons are unallowed in the inline keyboard"
                    data = button.get("callback_data")
                    if data is not None and not 1 <= len(str(data).encode()) <= CALLBACK_DATA_LIMIT:
                        return "BUTTON_DATA_INVALID"
        if method == "editmessagetext":
            key = (int(params["chat_id"]), int(params["message_id"]))
            if self._texts.get(key) == params.get("text") and not params.get("reply_markup"):
                return "message is not modified"
        return None

    async def _m_getme(self, params: dict[str, Any]) -> Any:
        return BOT_USER

    async def _m_getupdates(self, params: dict[str, Any]) -> Any:
        offset = int(params.get("offset") or 0)
        if offset:
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
        timeout = min(float(params.get("timeout") or 0), self.max_poll_seconds)
        if not self._updates and timeout:
            self._new_update.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._new_update.wait(), timeout=timeout)
        return self._updates[:100]

    def _message(self, chat_id: int, text: str | None, params: dict[str, Any]) -> dict[str, Any]:
        message_id = next(self._message_ids)
        message: dict[str, Any] = {
            "message_id": message_id,
            "date": int(time.time()),
            "chat": {"id": chat_id, "type": "private"},
            "from": BOT_USER,
        }
        if text is not None:
            message["text"] = text
            self._texts[(chat_id, message_id)] = text
        if isinstance(params.get("reply_markup"), dict):
            message["reply_markup"] = params["reply_markup"]
        return message

    @staticmethod
    def _buttons(params: dict[str, Any]) -> list[tuple[str, str]]:
        markup = params.get("reply_markup")
        if not isinstance(markup, dict):
            return []
        return [(b["text"], b["callback_data"]) for row in markup["inline_keyboard"] for b in row]

    def _refuse(self, chat_id: int) -> web.Response | None:
        if chat_id in self.blocked_chats:
            return web.json_response(
                {
                    "ok": False,
                    "error_code": 403,
                    "description": "Forbidden: bot was blocked by the user",
                },
                status=403,
            )
        counted = self.flood_chats is None or chat_id in self.flood_chats
        if self.max_per_second is not None and counted:
            now = time.monotonic()
            while self._recent and now - self._recent[0] >= 1.0:
                self._recent.popleft()
            if len(self._recent) >= self.max_per_second:
                self.too_many += 1
                self.too_many_at.append(now)
                return web.json_response(
                    {
                        "ok": False,
                        "error_code": 429,
                        "description": "Too Many Requests: retry after 1",
                        "parameters": {"retry_after": 1},
                    },
                    status=429,
                )
            self._recent.append(now)
        return None

    async def _m_sendmessage(self, params: dict[str, Any]) -> Any:
        chat_id = int(params["chat_id"])
        message = self._message(chat_id, params["text"], params)
        self._record(
            SentMessage(chat_id, message["message_id"], params["text"], self._buttons(params))
        )
        return message

    async def _m_senddocument(self, params: dict[str, Any]) -> Any:
        chat_id = int(params["chat_id"])
        filename, content = params["document"]
        message = self._message(chat_id, None, params)
        message["document"] = {
            "file_id": f"f{message['message_id']}",
            "file_unique_id": "u",
            "file_name": filename,
        }
        if params.get("caption"):
            message["caption"] = params["caption"]
        self._record(
            SentMessage(
                chat_id,
                message["message_id"],
                params.get("caption"),
                document=(filename, content),
                method="sendDocument",
            )
        )
        return message

    async def _m_sendphoto(self, params: dict[str, Any]) -> Any:
        chat_id = int(params["chat_id"])
        photo = params["photo"]
        if not isinstance(photo, tuple):  # a file_id or URL instead of an upload
            raise self._bad_request("photo must be uploaded as a file in this fake")
        filename, content = photo
        message = self._message(chat_id, None, params)
        message["photo"] = [
            {
                "file_id": f"p{message['message_id']}",
                "file_unique_id": "up",
                "width": 1,
                "height": 1,
            }
        ]
        if params.get("caption"):
            if len(params["caption"]) > CAPTION_LIMIT:
                raise self._bad_request("message caption is too long")
            message["caption"] = params["caption"]
        self._record(
            SentMessage(
                chat_id,
                message["message_id"],
                params.get("caption"),
                document=(filename, content),
                method="sendPhoto",
            )
        )
        return message

    @staticmethod
    def _bad_request(description: str) -> web.HTTPBadRequest:
        """Telegram's answer to a wrong request (raise it from a method handler)."""
        body = {"ok": False, "error_code": 400, "description": f"Bad Request: {description}"}
        return web.HTTPBadRequest(text=json.dumps(body), content_type="application/json")

    async def _m_answercallbackquery(self, params: dict[str, Any]) -> Any:
        return True

    async def _m_editmessagetext(self, params: dict[str, Any]) -> Any:
        self.edits.append(params)
        key = (int(params["chat_id"]), int(params["message_id"]))
        self._texts[key] = params["text"]
        return self._message(int(params["chat_id"]), params["text"], params)

    async def _m_editmessagereplymarkup(self, params: dict[str, Any]) -> Any:
        self.edits.append(params)
        return self._message(int(params["chat_id"]), None, params)

    async def _m_setmycommands(self, params: dict[str, Any]) -> Any:
        self.commands = list(params["commands"])
        return True

    async def _m_setwebhook(self, params: dict[str, Any]) -> Any:
        self.webhook_url = params["url"]
        self.webhook_secret = params.get("secret_token")
        return True

    async def _m_deletewebhook(self, params: dict[str, Any]) -> Any:
        self.webhook_url = None
        return True
