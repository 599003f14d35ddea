"""20 abusive inputs in 5 places, over HTTP against the strict fake Bot API: every input gets a
reply that Telegram accepts, none gets "Oeps", and the conversation goes on afterwards."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import pytest

from bot.telegram_channel import TelegramChannel, split_message
from tests.support import FakeTelegram
from tests.support.fake_telegram import SentMessage

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

ABUSIVE = [
    "a" * 4096,  # as long as Telegram lets anyone type
    "Ik wil " + "heel " * 790 + "graag leren",
    "  \u200b  ",  # nothing readable: as close to empty as Telegram delivers
    "👍",
    "🎉🎉🎉🔥💯",
    "👩\u200d💻👨\u200d👩\u200d👧",
    "\u200b\u200c\u200d\ufeff",
    "ex\u200bcel cur\u200dsus",
    "\u202eesruc lecxe",
    "مرحبا أريد دورة في المحاسبة",
    "ik wil\x00 excel leren",
    "\x00\x01\x02\x1b[31m",
    "<b>vet</b> *ster* _onder_ `code` [link](http://x.nl) ||spoiler||",
    "<script>alert(1)</script> &lt;b&gt;",
    "'; DROP TABLE users; --",
    "1 OR 1=1; SELECT * FROM wallet_entries",
    "{goal} {{slot}} %s %(name)s {0!r}",
    "/start team_' OR '1'='1",
    "\n\n\n\t\t  ja  \n\n",
    "25:99 99999999999999999999",
]
OOPS = "Oeps"


class _User:
    def __init__(self, fake: FakeTelegram, chat_id: int) -> None:
        self.fake = fake
        self.chat_id = chat_id

    async def turn(self, push: Callable[[], object]) -> list[SentMessage]:
        before = len(self.fake.messages_to(self.chat_id))
        push()
        await self.fake.wait_for_messages(self.chat_id, before + 1, timeout=60)
        while True:  # one turn can send several messages
            count = len(self.fake.messages_to(self.chat_id))
            await asyncio.sleep(0.15)
            if len(self.fake.messages_to(self.chat_id)) == count:
                return self.fake.messages_to(self.chat_id)[before:]

    async def say(self, text: str) -> list[SentMessage]:
        return await self.turn(lambda: self.fake.push_text(self.chat_id, text))

    async def press(self, message: SentMessage, label: str) -> list[SentMessage]:
        return await self.turn(lambda: self.fake.push_button(message, label))


def _with_buttons(messages: list[SentMessage]) -> SentMessage:
    return next(m for m in reversed(messages) if m.buttons)


async def _free_text(user: _User) -> None:
    replies = await user.say("/leerloop")
    assert any("?" in (m.text or "") for m in replies)


async def _buttons_question(user: _User) -> None:
    assert _with_buttons(await user.say("/herinneringen")).buttons


async def _course_search(user: _User) -> None:
    replies = await user.say("/cursussen")
    assert any("Wat wil je leren?" in (m.text or "") for m in replies)


async def _reminder_time(user: _User) -> None:
    menu = _with_buttons(await user.say("/herinneringen"))
    asked = await user.press(menu, "Tijd")
    assert _with_buttons(asked).buttons


async def _menu(user: _User) -> None:
    assert _with_buttons(await user.say("/help")).buttons


PLACES: dict[str, Callable[[_User], Awaitable[None]]] = {
    "free text in a flow": _free_text,
    "a question with buttons": _buttons_question,
    "a course search": _course_search,
    "a reminder time": _reminder_time,
    "the menu": _menu,
}


@pytest.mark.parametrize("place", list(PLACES))
async def test_abusive_inputs_never_lose_a_reply_or_stick(
    fake_telegram: FakeTelegram, telegram_bot: TelegramChannel, place: str
) -> None:
    user = _User(fake_telegram, 6000 + list(PLACES).index(place))
    welcome = _with_buttons(await user.say("/start"))
    await user.press(welcome, "Ja, dat is goed")
    enter = PLACES[place]
    for text in ABUSIVE:
        await enter(user)  # also proves the last input left nothing stuck
        replies = await user.say(text)
        said = [m.text or "" for m in replies]
        assert said and all(s.strip() for s in said), (place, text[:40])
        assert not any(OOPS in s for s in said), (place, text[:40], said)
    await enter(user)
    assert fake_telegram.refused == []  # Telegram would have accepted every message


async def test_a_press_under_a_long_message_is_processed_first(
    fake_telegram: FakeTelegram, telegram_bot: TelegramChannel
) -> None:
    """No room for "→ label" under a 4,090-character message: the press still counts."""
    user = _User(fake_telegram, 6100)
    welcome = _with_buttons(await user.say("/start"))
    long = SentMessage(welcome.chat_id, welcome.message_id, "x" * 4090, welcome.buttons)
    replies = await user.press(long, "Ja, dat is goed")
    assert any("Dank je!" in (m.text or "") for m in replies)
    assert fake_telegram.refused == []
    assert fake_telegram.edits[-1].get("reply_markup") in (None, "", {})


def test_split_message_keeps_every_word_within_the_limit() -> None:
    paragraphs = [f"Stap {i}: " + "oefenen " * 60 for i in range(40)]
    text = "\n\n".join(paragraphs) + "\n\n" + "🎉" * 3000 + "\n\n" + "z" * 9000
    parts = split_message(text)
    assert all(0 < len(p.encode("utf-16-le")) // 2 <= 4096 for p in parts)
    assert "".join(parts).replace("\n", "").replace(" ", "") == text.replace("\n", "").replace(
        " ", ""
    )
    assert parts[0].startswith("Stap 0:") and parts[0].rstrip().endswith("oefenen")
