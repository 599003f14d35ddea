"""An installed Leerloop migrates itself: the migrations ship inside the wheel."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.slow


def test_the_wheel_carries_the_migrations_and_upgrades_a_new_database(tmp_path: Path) -> None:
    # Build from a copy: setuptools writes build/ next to the sources.
    source = tmp_path / "source"
    shutil.copytree(
        ROOT,
        source,
        ignore=shutil.ignore_patterns(
            ".*", "build", "*.egg-info", "var", "models", "__pycache__", "node_modules"
        ),
    )
    build = ["wheel", "-q", "--no-deps", "--no-build-isolation", str(source), "-w"]
    subprocess.run(  # noqa: S603
        [sys.executable, "-m", "pip", *build, str(tmp_path / "dist")],
        check=True,
        capture_output=True,
    )
    [wheel] = (tmp_path / "dist").glob("leerloop-*.whl")
    versions = sorted(p.name for p in (ROOT / "core" / "migrations" / "versions").glob("*.py"))
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        archive.extractall(tmp_path / "site")
    assert {"core/migrations/env.py", "core/migrations/script.py.mako"} <= names
    assert {f"core/migrations/versions/{v}" for v in versions} <= names

    # Run the installed code, not this checkout, in a folder without the sources.
    work = tmp_path / "elsewhere"
    work.mkdir()
    script = (
        "import asyncio, core.db as db, sys\n"
        f"assert db.__file__.startswith({str(tmp_path / 'site')!r}), db.__file__\n"
        "engine = db.create_engine('sqlite+aiosqlite:///new.db')\n"
        "asyncio.run(db.upgrade(engine))\n"
    )
    env = {"PYTHONPATH": str(tmp_path / "site"), "PATH": "/usr/bin:/bin"}
    subprocess.run(  # noqa: S603
        [sys.executable, "-c", script], cwd=work, env=env, check=True, capture_output=True
    )
    tables = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sqlite3; c = sqlite3.connect('new.db'); "
            "print(c.execute('select version_num from alembic_version').fetchone()[0])",
        ],
        cwd=work,
        check=True,
        capture_output=True,
        text=True,
    )
    # The head revision is the one named in the newest migration file (its own `revision = `).
    newest = (ROOT / "core" / "migrations" / "versions" / versions[-1]).read_text("utf-8")
    head = re.search(r'^revision = "([^"]+)"', newest, re.MULTILINE)
    assert head is not None
    assert tables.stdout.strip() == head.group(1)
