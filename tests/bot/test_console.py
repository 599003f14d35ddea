from __future__ import annotations

import io
import json
import stat
from pathlib import Path

import pytest

from bot.console import ConsoleChannel
from dialogues import DialogueManager

pytestmark = pytest.mark.db


async def test_buttons_by_number_and_label(dialogue: DialogueManager, tmp_path: Path) -> None:
    out = io.StringIO()
    console = ConsoleChannel(dialogue, user="sam", out=out, export_dir=tmp_path)
    await console.send("/start")
    printed = out.getvalue()
    assert "  1) Ja, dat is goed" in printed
    assert "  3) Vertel meer" in printed
    await console.send("3")  # "Vertel meer"
    assert "Wat ik bewaar:" in out.getvalue()
    await console.send("ja, DAT is goed")
    assert "Dank je!" in out.getvalue()


async def test_export_is_written_to_a_file(dialogue: DialogueManager, tmp_path: Path) -> None:
    out = io.StringIO()
    console = ConsoleChannel(dialogue, user="sam", out=out, export_dir=tmp_path)
    for line in ("/start", "1", "/privacy", "Stuur mijn gegevens"):
        await console.send(line)
    files = list(tmp_path.glob("sam/leerloop-gegevens-*.json"))
    assert len(files) == 1
    assert json.loads(files[0].read_text())["user"]["name"] == "sam"
    assert str(files[0]) in out.getvalue()
    assert stat.S_IMODE(files[0].stat().st_mode) == 0o600
    assert stat.S_IMODE(files[0].parent.stat().st_mode) == 0o700


async def test_wis_alles_removes_the_saved_files_too(
    dialogue: DialogueManager, tmp_path: Path
) -> None:
    out = io.StringIO()
    sam = ConsoleChannel(dialogue, user="sam", out=out, export_dir=tmp_path)
    other = ConsoleChannel(dialogue, user="sam-2", out=io.StringIO(), export_dir=tmp_path)
    for console in (sam, other):
        for line in ("/start", "1", "/privacy", "Stuur mijn gegevens"):
            await console.send(line)
    assert list(tmp_path.glob("sam/*.json")) and list(tmp_path.glob("sam-2/*.json"))
    await sam.send("/privacy")
    await sam.send("Wis alles")
    await sam.send("Ja, wis alles")
    assert "gewist" in out.getvalue().lower(), out.getvalue()[-500:]
    assert not (tmp_path / "sam").exists(), "the export stays on disk after the delete"
    assert list(tmp_path.glob("sam-2/*.json")), "someone else's files stay"


async def test_a_number_without_buttons_is_plain_text(
    dialogue: DialogueManager, tmp_path: Path
) -> None:
    out = io.StringIO()
    console = ConsoleChannel(dialogue, user="sam", out=out, export_dir=tmp_path)
    message = console.to_incoming("1")
    assert message.payload is None and message.text == "1"


async def test_run_reads_until_end_of_input(dialogue: DialogueManager, tmp_path: Path) -> None:
    out = io.StringIO()
    console = ConsoleChannel(dialogue, user="sam", out=out, export_dir=tmp_path)
    await console.run(io.StringIO("/start\n\n2\n"))
    text = out.getvalue()
    assert text.startswith(dialogue.responses.render("console_banner"))
    assert dialogue.responses.render("consent_refused").splitlines()[0][:30] in text
