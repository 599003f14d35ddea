"""schemathesis (`--checks all`) against the real app over HTTP, with each token kind, on SQLite
and PostgreSQL: no server error, no answer the OpenAPI document does not describe.

Slow (a few minutes): `make test-slow` and CI run it. The summary of every run is printed
(`pytest -s` shows it), with the number of cases.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import uvicorn

from bot import Services
from bot._interpreter import NluInterpreter
from bot.http_api import create_api
from core.models import OrgKind
from core.settings import Settings
from services import create_organisation
from services.teams import create_team
from tests.support.databases import DATABASES, migrated_postgres, migrated_sqlite, postgres_url
from tests.support.processes import free_port

pytestmark = [pytest.mark.slow, pytest.mark.db]

CONFIG = Path(__file__).with_name("schemathesis.toml")
MAX_EXAMPLES = 25


@pytest.fixture(params=DATABASES)
async def fresh_db(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """A database of its own: the fuzzer commits what it creates."""
    if request.param == "sqlite":
        async with migrated_sqlite(tmp_path) as url:
            yield url
    else:
        server = postgres_url()
        assert server is not None
        async with migrated_postgres(server) as url:
            yield url


@pytest.fixture
async def api_server(
    fresh_db: str, interpreter: NluInterpreter
) -> AsyncIterator[tuple[str, Services]]:
    settings = Settings(_env_file=None, DATABASE_URL=fresh_db)
    services = await Services.start(settings, interpreter=interpreter)
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            create_api(services),
            host="127.0.0.1",
            port=port,
            log_config=None,
            access_log=False,
            lifespan="off",
        )
    )
    task = asyncio.create_task(server.serve())
    for _ in range(400):  # uvicorn has no "started" event to wait on
        if server.started:
            break
        await asyncio.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}", services
    finally:
        server.should_exit = True
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await services.close()


async def _token(services: Services, kind: OrgKind) -> str:
    async with services.sessions() as session, session.begin():
        org, token = await create_organisation(session=session, name=f"fuzz {kind}", kind=kind)
        if kind == OrgKind.EMPLOYER:  # a team of its own, so team ids are not all 404
            await create_team(session=session, employer=org, name="Fuzzteam")
    return token


@pytest.mark.parametrize("kind", [OrgKind.EMPLOYER, OrgKind.INSTITUTION, OrgKind.ADMIN])
async def test_schemathesis_all_checks(
    api_server: tuple[str, Services], kind: OrgKind, tmp_path: Path
) -> None:
    base_url, services = api_server
    token = await _token(services, kind)
    st = Path(sys.executable).with_name("schemathesis")
    proc = await asyncio.create_subprocess_exec(
        str(st),
        "--config-file",
        str(CONFIG),
        "run",
        f"{base_url}/openapi.json",
        "--checks",
        "all",
        "--header",
        f"Authorization: Bearer {token}",
        "--max-examples",
        str(MAX_EXAMPLES),
        "--phases",
        "examples,coverage,fuzzing,stateful",
        "--seed",
        "15",
        "--workers",
        "1",  # CPython 3.11's ast.parse is not thread-safe under hypothesis' lambda reprs
        "--no-color",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        cwd=tmp_path,
    )
    out, _ = await proc.communicate()
    report = out.decode(errors="replace")
    summary = report[report.rfind("SUMMARY") :] if "SUMMARY" in report else report[-3000:]
    print(f"\n--- schemathesis, {kind} token ---\n{summary}")
    cases = re.search(r"(\d+) generated", report)
    assert cases is not None and int(cases.group(1)) > 100, summary
    assert proc.returncode == 0, report[-20000:]
