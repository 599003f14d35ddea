"""The real Telegram application over HTTP against the fake Bot API on 127.0.0.1."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from bot.telegram_channel import TelegramChannel
from core.models import Channel, OrgKind, Team, User
from services import create_organisation, personal_tables
from services.teams import CreditOrder, create_team, credit_team
from tests.support import FakeTelegram
from tests.support.fake_telegram import SentMessage
from tests.support.processes import LeerloopProcess, clean_env, free_port
from tests.support.turns import answer_to_one_turn

pytestmark = pytest.mark.e2e

CHAT = 5551234


async def _user(bot: TelegramChannel, chat_id: int) -> User | None:
    async with bot.services.sessions() as session:
        stmt = select(User).where(
            User.channel == Channel.TELEGRAM, User.external_id == str(chat_id)
        )
        return (await session.execute(stmt)).scalar_one_or_none()


async def test_start_consent_button_then_help(
    fake_telegram: FakeTelegram, telegram_bot: TelegramChannel
) -> None:
    commands = [c["command"] for c in fake_telegram.commands]
    assert commands == [
        "reflectie",
        "leerloop",
        "voortgang",
        "loopbaan",
        "saldo",
        "cursussen",
        "regelingen",
        "advies",
        "herinneringen",
        "stop",
        "team",
        "portaal",
        "privacy",
        "help",
    ]
    assert all(c["description"] for c in fake_telegram.commands)

    fake_telegram.push_text(CHAT, "/start")
    [welcome] = await fake_telegram.wait_for_messages(CHAT, 1)
    assert welcome.text is not None and "Hoi! Ik ben Leerloop" in welcome.text
    assert [label for label, _ in welcome.buttons] == [
        "Ja, dat is goed",
        "Nee, liever niet",
        "Vertel meer",
    ]
    user = await _user(telegram_bot, CHAT)
    assert user is not None and user.name is None  # nothing but the chat id before consent

    fake_telegram.push_button(welcome, "Ja, dat is goed")
    messages = await fake_telegram.wait_for_messages(CHAT, 2)
    assert messages[1].text is not None and "Dank je!" in messages[1].text
    assert fake_telegram.method_calls("answerCallbackQuery")
    [edit] = fake_telegram.edits
    assert edit["text"].endswith("→ Ja, dat is goed")
    user = await _user(telegram_bot, CHAT)
    assert user is not None and user.consent and user.name == "Anna"

    fake_telegram.push_text(CHAT, "/help")
    messages = await fake_telegram.wait_for_messages(CHAT, 3)
    assert messages[2].text is not None and "/privacy" in messages[2].text
    assert [label for label, _ in messages[2].buttons] == [
        "Reflectie",
        "Leerloop",
        "Ander werk",
        "Leerbudget",
        "Cursus zoeken",
        "Regelingen",
    ]


async def test_course_search_and_regulation_by_buttons(
    fake_telegram: FakeTelegram, telegram_bot: TelegramChannel
) -> None:
    """Find a course with a typo, then ask about STAP: ended, with what is open now."""
    fake_telegram.push_text(CHAT, "/cursussen")
    [ask_what] = await fake_telegram.wait_for_messages(CHAT, 1)
    assert ask_what.text is not None and "Wat wil je leren?" in ask_what.text
    fake_telegram.push_text(CHAT, "heftruk")
    messages = await fake_telegram.wait_for_messages(CHAT, 2)
    fake_telegram.push_button(messages[1], "Online")
    messages = await fake_telegram.wait_for_messages(CHAT, 3)
    results = messages[2]
    assert results.text is not None
    assert "1. Heftruckcertificaat" in results.text
    assert "online" in results.text and "Meer info: https://" in results.text
    assert "Klaar" in [label for label, _ in results.buttons]

    fake_telegram.push_text(CHAT, "/regelingen")
    messages = await fake_telegram.wait_for_messages(CHAT, 4)
    assert "Levenlanglerenkrediet" in [label for label, _ in messages[3].buttons]
    fake_telegram.push_text(CHAT, "STAP")
    messages = await fake_telegram.wait_for_messages(CHAT, 5)
    stap = messages[4].text or ""
    assert "STAP-budget bestaat niet meer" in stap
    assert "Dit kan nu wel:" in stap
    assert "Gecontroleerd op 1 december 2026" in stap
    assert "• Ontwikkeladvies" not in stap


async def test_join_a_team_by_deep_link_and_see_the_credit(
    fake_telegram: FakeTelegram, telegram_bot: TelegramChannel
) -> None:
    """t.me/<bot>?start=team_<code> arrives as "/start team_<code>"."""
    services = telegram_bot.services
    async with services.sessions() as session, session.begin():
        employer, _ = await create_organisation(
            session=session, name="Bakkerij Jansen", kind=OrgKind.EMPLOYER
        )
        team = await create_team(session=session, employer=employer, name="Bakkers")
        code, team_id = team.invite_code, team.id
    fake_telegram.push_text(CHAT, f"/start team_{code}")
    [welcome] = await fake_telegram.wait_for_messages(CHAT, 1)
    fake_telegram.push_button(welcome, "Ja, dat is goed")
    messages = await fake_telegram.wait_for_messages(CHAT, 2)
    assert "team Bakkers" in (messages[1].text or "")
    fake_telegram.push_button(messages[1], "Ja, doe mee")
    messages = await fake_telegram.wait_for_messages(CHAT, 3)
    fake_telegram.push_button(messages[2], "Nee, alleen totalen")
    messages = await fake_telegram.wait_for_messages(CHAT, 4)
    assert "Je bent lid van Bakkers!" in (messages[3].text or "")
    async with services.sessions() as session, session.begin():
        saved = await session.get(Team, team_id)
        assert saved is not None
        order = CreditOrder(
            amount_cents=30_000,
            expires_on=date.today() + timedelta(days=20),
            description="Leerbudget",
            idempotency_key="e2e",
        )
        await credit_team(session=session, team=saved, funder="Bakkerij Jansen", order=order)
    fake_telegram.push_text(CHAT, "/saldo")
    messages = await fake_telegram.wait_for_messages(CHAT, 5)
    balance = messages[4].text or ""
    assert "Je kunt nu € 300 uitgeven" in balance
    assert "€ 300 van Bakkerij Jansen vervalt op" in balance


class _Chat:
    """One user talking to the bot over the fake Bot API, a turn at a time."""

    def __init__(self, fake: FakeTelegram, chat_id: int, bot: TelegramChannel) -> None:
        self.fake = fake
        self.chat_id = chat_id
        self.bot = bot
        self.last_with_buttons: SentMessage | None = None

    async def _turn(self, push: Callable[[], object]) -> str:
        before = len(self.fake.messages_to(self.chat_id))
        push()
        # The bot may send more than one message for one turn (paced after a burst, as
        # Telegram wants): wait until the turn is done, not for a guessed moment of quiet.
        new = await answer_to_one_turn(self.fake, self.bot, self.chat_id, before)
        with_buttons = [m for m in new if m.buttons]
        if with_buttons:
            self.last_with_buttons = with_buttons[-1]
        return "\n".join(m.text or "" for m in new)

    async def say(self, text: str) -> str:
        return await self._turn(lambda: self.fake.push_text(self.chat_id, text))

    async def press(self, label: str) -> str:
        message = self.last_with_buttons
        assert message is not None, "no buttons to press"
        assert label in [b for b, _ in message.buttons], (label, message.buttons)
        return await self._turn(lambda: self.fake.push_button(message, label))


async def test_new_user_reflects_runs_a_loop_with_a_course_and_sees_the_achievement(
    fake_telegram: FakeTelegram, telegram_bot: TelegramChannel
) -> None:
    """/start → reflection → learning loop with a course (booked) → steps → closing →
    the achievement in the wallet, all over HTTP against the fake Bot API."""
    chat = _Chat(fake_telegram, CHAT, telegram_bot)
    assert "Vind je dat goed?" in await chat.say("/start")
    assert "Dank je!" in await chat.press("Ja, dat is goed")
    assert "Wat voor werk doe je?" in await chat.say("/reflectie")
    assert "Je werkt als kok." in await chat.say("kok")
    for label in ("3 – goed", "4 – heel goed", "2 – een beetje", "3 – goed", "2 – een beetje"):
        await chat.press(label)
    assert "Waar ben je trots op" in await chat.press("1 – nog niet")
    await chat.say("mijn eigen recepten")
    summary = await chat.say("weet ik niet")
    assert "Hier ben je sterk in:" in summary and "Hier kun je nog groeien:" in summary

    assert "Wat wil je leren" in await chat.press("Leerdoel maken")
    await chat.say("beter plannen met Excel")
    await chat.say("minder overwerk")
    assert "Hoe wil je het leren?" in await chat.press("Over 3 maanden")
    assert chat.last_with_buttons is not None
    course = next(b for b, _ in chat.last_with_buttons.buttons if b.startswith("Excel"))
    assert "Hoe ga je het gebruiken" in await chat.press(course)
    plan = await chat.say("het weekrooster maken")
    assert "Je plan:" in plan and "1. Inschrijven voor Excel voor op het werk" in plan
    assert "Wil je de cursus nu boeken" in await chat.press("Ja, bewaar het")
    booked_prompt = await chat.press("Ja, boek maar")
    # An empty wallet: the booking cannot be paid, which the bot says with what could help.
    assert "Excel voor op het werk kost" in booked_prompt
    assert "tekort" in booked_prompt
    await chat.press("Klaar")

    for _ in range(4):
        assert "is afgevinkt" in await chat.say("/afvinken")
    closing = await chat.say("/afvinken")
    assert "Wat heb je geleerd?" in closing
    await chat.say("formules en grafieken")
    done = await chat.say("ik maak het rooster nu in Excel")
    assert 'Je leerloop "beter plannen met Excel" is af!' in done
    await chat.press("Klaar")
    wallet = await chat.say("/saldo")
    assert "🏅 Leerloop afgerond: beter plannen met Excel" in wallet


async def test_privacy_export_and_delete(
    fake_telegram: FakeTelegram, telegram_bot: TelegramChannel
) -> None:
    fake_telegram.push_text(CHAT, "/start")
    [welcome] = await fake_telegram.wait_for_messages(CHAT, 1)
    fake_telegram.push_button(welcome, "Ja, dat is goed")
    await fake_telegram.wait_for_messages(CHAT, 2)

    fake_telegram.push_text(CHAT, "/privacy")
    overview = (await fake_telegram.wait_for_messages(CHAT, 3))[-1]
    fake_telegram.push_button(overview, "Stuur mijn gegevens")
    messages = await fake_telegram.wait_for_messages(CHAT, 5)
    document = next(m for m in messages if m.document is not None)
    assert document.document is not None
    filename, content = document.document
    assert filename.startswith("leerloop-gegevens-") and filename.endswith(".json")
    exported = json.loads(content)
    assert exported["user"]["external_id"] == str(CHAT)
    assert exported["user"]["name"] == "Anna"
    assert "conversation_states" in exported["data"]

    user = await _user(telegram_bot, CHAT)
    assert user is not None
    user_id = user.id
    fake_telegram.push_text(CHAT, "/privacy")
    overview = (await fake_telegram.wait_for_messages(CHAT, 6))[-1]
    fake_telegram.push_button(overview, "Wis alles")
    confirm = (await fake_telegram.wait_for_messages(CHAT, 7))[-1]
    fake_telegram.push_button(confirm, "Ja, wis alles")
    done = (await fake_telegram.wait_for_messages(CHAT, 8))[-1]
    assert done.text is not None and "alles is gewist" in done.text

    assert await _user(telegram_bot, CHAT) is None
    async with telegram_bot.services.sessions() as session:
        for table, column in personal_tables():
            rows = (await session.execute(select(table).where(column == user_id))).all()
            assert rows == [], table.name


async def test_rate_limited_reply_is_retried(
    fake_telegram: FakeTelegram, telegram_bot: TelegramChannel
) -> None:
    fake_telegram.fail_next("sendMessage", 429, retry_after=1)
    fake_telegram.push_text(CHAT, "/help")
    [reply] = await fake_telegram.wait_for_messages(CHAT, 1, timeout=15)
    assert reply.text is not None and "/privacy" in reply.text
    assert len(fake_telegram.method_calls("sendMessage")) == 2


async def test_blocked_user_is_marked_and_unmarked(
    fake_telegram: FakeTelegram, telegram_bot: TelegramChannel
) -> None:
    fake_telegram.fail_next("sendMessage", 403)
    fake_telegram.push_text(CHAT, "/help")
    await fake_telegram.wait_until(lambda: len(fake_telegram.method_calls("sendMessage")) == 1)

    async def blocked() -> bool | None:
        user = await _user(telegram_bot, CHAT)
        return user.blocked if user else None

    for _ in range(200):  # the error handler marks the user shortly after the 403
        if await blocked():
            break
        await asyncio.sleep(0.025)
    assert await blocked() is True
    assert fake_telegram.messages_to(CHAT) == []  # no error message is pushed at a blocked user

    fake_telegram.push_text(CHAT, "/help")  # writing again means they unblocked us
    await fake_telegram.wait_for_messages(CHAT, 1)
    assert await blocked() is False


def _process(tmp_path: Path, fake: FakeTelegram, **extra: str) -> LeerloopProcess:
    settings = {
        "TELEGRAM_BOT_TOKEN": fake.token,
        "TELEGRAM_API_BASE_URL": fake.base_url,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'proc.db'}",
        "HTTP_PORT": str(free_port()),
    }
    env = clean_env(**{**settings, **extra})
    return LeerloopProcess(tmp_path, env)


async def test_conversation_survives_a_process_restart(
    fake_telegram: FakeTelegram, tmp_path: Path
) -> None:
    first = await _process(tmp_path, fake_telegram).start()
    try:
        fake_telegram.push_text(CHAT, "/start")
        [welcome] = await fake_telegram.wait_for_messages(CHAT, 1, timeout=20)
    finally:
        assert await first.stop() == 0
    second = await _process(tmp_path, fake_telegram).start()
    try:
        fake_telegram.push_button(welcome, "Ja, dat is goed")
        messages = await fake_telegram.wait_for_messages(CHAT, 2, timeout=20)
        assert messages[1].text is not None and "Dank je!" in messages[1].text
    finally:
        assert await second.stop() == 0
    log = (tmp_path / "leerloop.log").read_text()
    assert fake_telegram.token not in log  # the token is in every Bot API URL: never log it
    assert "Anna" not in log


async def test_webhook_checks_the_secret_token(fake_telegram: FakeTelegram, tmp_path: Path) -> None:
    proc = _process(
        tmp_path,
        fake_telegram,
        TELEGRAM_WEBHOOK_URL="https://leerloop.example/telegram/webhook",
        TELEGRAM_WEBHOOK_SECRET="s3cret-token_1",
    )
    await proc.start()
    url = f"http://127.0.0.1:{proc.port}/telegram/webhook"
    try:
        await fake_telegram.wait_until(lambda: fake_telegram.webhook_url is not None)
        assert fake_telegram.webhook_secret == "s3cret-token_1"
        assert fake_telegram.method_calls("getUpdates") == []
        update = fake_telegram.make_update(
            {
                "message": {
                    "message_id": 1,
                    "date": 1_700_000_000,
                    "chat": {"id": CHAT, "type": "private"},
                    "from": {"id": CHAT, "is_bot": False, "first_name": "Anna"},
                    "text": "/start",
                    "entities": [{"type": "bot_command", "offset": 0, "length": 6}],
                }
            }
        )
        async with httpx.AsyncClient() as client:
            missing = await client.post(url, json=update)
            wrong = await client.post(
                url, json=update, headers={"X-Telegram-Bot-Api-Secret-Token": "nope"}
            )
            assert (missing.status_code, wrong.status_code) == (403, 403)
            assert missing.json()["error"]["status"] == 403
            assert fake_telegram.messages_to(CHAT) == []
            ok = await client.post(
                url, json=update, headers={"X-Telegram-Bot-Api-Secret-Token": "s3cret-token_1"}
            )
            assert ok.status_code == 200
        [welcome] = await fake_telegram.wait_for_messages(CHAT, 1, timeout=20)
        assert welcome.text is not None and "Hoi! Ik ben Leerloop" in welcome.text
    finally:
        assert await proc.stop() == 0


async def test_a_wrong_token_is_a_clear_error(fake_telegram: FakeTelegram, tmp_path: Path) -> None:
    proc = _process(tmp_path, fake_telegram, TELEGRAM_BOT_TOKEN="999:not-the-right-token")
    with pytest.raises(AssertionError, match="rejected TELEGRAM_BOT_TOKEN"):
        await proc.start()
    assert proc.proc is not None
    assert proc.proc.returncode == 2
