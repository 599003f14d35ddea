"""Issue 19.5: a chart of the skill ratings after a reflection (compared with last time) and of
the wallet, as a photo with a caption in words; the text summary stays. matplotlib is only
imported when a chart is drawn."""

from __future__ import annotations

import io
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from actions import AttachmentKind
from actions.charts import (
    MoneyBar,
    MoneyChartTexts,
    SkillBar,
    SkillChartTexts,
    money_chart,
    skills_chart,
)
from bot.console import ConsoleChannel
from core.settings import Settings
from tests.support.chat import Chat, employer_team, give

PNG = b"\x89PNG\r\n\x1a\n"
AMS = ZoneInfo("Europe/Amsterdam")
NOW = datetime(2026, 12, 7, 10, 0, tzinfo=AMS)
TEXTS = SkillChartTexts("Zo schat je jezelf in", "nu", "vorige keer", ("a", "b", "c", "d"))


def _size(png: bytes) -> tuple[int, int]:
    assert png.startswith(PNG)
    return int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")


def test_the_skills_chart_is_a_png_that_grows_with_the_skills() -> None:
    few = skills_chart([SkillBar("Samenwerken", 3, 2), SkillBar("Plannen", 2, None)], TEXTS)
    many = skills_chart([SkillBar(f"Vaardigheid {n}", n % 4 + 1) for n in range(8)], TEXTS)
    (w1, h1), (w2, h2) = _size(few), _size(many)
    assert w1 == w2 and h2 > h1


def test_the_money_chart_is_a_png() -> None:
    bars = [
        MoneyBar("13 april 2026", 50_000, "Werkgever", True),
        MoneyBar("1 mei 2027", 30_000, "Fonds"),
    ]
    width, height = _size(money_chart(bars, MoneyChartTexts("Leerbudget", "euro", "binnenkort")))
    assert width > 300 and height > 100


def test_importing_the_bot_does_not_import_matplotlib() -> None:
    code = "import sys, bot.cli, actions, dialogues; print('matplotlib' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)  # noqa: S603
    assert out.stdout.strip() == "False"


async def _reflect(chat: Chat, ratings: list[str]) -> None:
    await chat.say("/reflectie")
    if "Ja, dat klopt" in chat.buttons:
        await chat.press("Ja, dat klopt")
    else:
        await chat.say("ik werk als magazijnmedewerker")
    for rating in ratings:
        await chat.press(next(label for label in chat.buttons if label.startswith(rating)))
    while any(label.startswith("1 ") for label in chat.buttons):  # more groups than ratings
        await chat.press("Weet ik niet")
    await chat.say("dat ik nieuwe collega's inwerk")
    await chat.say("de drukte voor de feestdagen")


@pytest.mark.db
async def test_after_a_reflection_a_chart_compared_with_last_time(
    sessions: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    chat = Chat.make(sessions, settings, None, NOW - timedelta(days=60))
    await chat.start()
    await _reflect(chat, ["2", "2", "3"])
    first = [r for r in chat.replies if r.attachment]
    assert len(first) == 1 and first[0].attachment is not None
    assert first[0].attachment.kind == AttachmentKind.PHOTO
    assert first[0].attachment.content.startswith(PNG)
    assert "was" not in first[0].text
    assert "Dank je wel!" in chat.text  # the text summary stays
    chat.clock.now = NOW
    await _reflect(chat, ["3", "2", "4"])
    [photo] = [r for r in chat.replies if r.attachment]
    assert photo.attachment is not None and photo.attachment.content.startswith(PNG)
    caption = photo.text
    assert "van 1 (nog niet) tot 4 (heel goed)" in caption
    assert ": 3 (was 2)" in caption and ": 4 (was 3)" in caption, caption
    assert "weet ik niet" in caption.lower()


@pytest.mark.db
async def test_the_wallet_overview_comes_with_a_chart_of_funders_and_expiry(
    sessions: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    chat = Chat.make(sessions, settings, None, NOW)
    await chat.start()
    await chat.say("/saldo")
    assert not any(r.attachment for r in chat.replies)  # nothing to draw
    team = await employer_team(sessions, "Magazijn", await chat.user())
    await give(sessions, team, 50_000, NOW.date() + timedelta(days=30), "a", today=NOW.date())
    await give(sessions, team, 20_000, NOW.date() + timedelta(days=300), "b", today=NOW.date())
    await chat.say("/saldo")
    [photo] = [r for r in chat.replies if r.attachment]
    assert photo.attachment is not None and photo.attachment.kind == AttachmentKind.PHOTO
    assert photo.attachment.content.startswith(PNG) and photo.text


@pytest.mark.db
async def test_the_console_saves_the_picture_and_says_where(
    sessions: async_sessionmaker[AsyncSession], settings: Settings, tmp_path: Path
) -> None:
    chat = Chat.make(sessions, settings, None, NOW)
    out = io.StringIO()
    console = ConsoleChannel(chat.manager, user="tester", out=out, export_dir=tmp_path)
    await chat.start()
    team = await employer_team(sessions, "Magazijn", await chat.user())
    await give(sessions, team, 50_000, NOW.date() + timedelta(days=30), "a", today=NOW.date())
    await give(sessions, team, 20_000, NOW.date() + timedelta(days=300), "b", today=NOW.date())
    await console.send("/saldo")
    [saved] = list(tmp_path.glob("tester/*.png"))
    assert saved.read_bytes().startswith(PNG)
    assert f"Plaatje opgeslagen: {saved}" in out.getvalue()
