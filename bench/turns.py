"""How many turns each flow takes: a happy path per flow, typed and tapped as a worker would,
through the real dialogue manager on a fresh SQLite database (seeded), without the NLU.

Run: .venv/bin/python -m bench.turns
A turn is one message or button press from the user; counted from the message that starts the
flow to the one after which no flow waits any more.
"""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path

from bot import Services
from core.db import utcnow
from core.models import Channel, Organisation, OrgKind
from core.settings import Settings
from dialogues import DialogueManager, IncomingMessage, Reply, load_state
from services.teams import CreditOrder, create_team, credit_team

PATHS: dict[str, list[str]] = {
    "onboarding + consent + nudges": ["/start", "Ja, dat is goed", "Ja, op maandagochtend"],
    "join_team (deep link, after consent)": [
        "/start team_bench",
        "Ja, doe mee",
        "Nee, alleen totalen",
    ],
    "reflect_skills": [
        "/reflectie",
        "ik werk als kok",
        "3 – goed",
        "4 – heel goed",
        "2 – een beetje",
        "3 – goed",
        "2 – een beetje",
        "3 – goed",
        "mijn eigen recepten",
        "de drukte",
        "Klaar",
    ],
    "explore_careers": ["/loopbaan", "Klaar"],
    "learning_loop (course)": [
        "/leerloop",
        "werken met Excel",
        "sneller plannen",
        "Over 3 maanden",
        "Excel voor op het werk (€ 230)",
        "het rooster maken",
        "Ja, bewaar het",
        "Later",
    ],
    "loop_status": ["/voortgang", "Klaar"],
    "report_progress (one step)": ["/afvinken"],
    "find_course (what and where asked)": ["/cursussen", "excel", "Online", "Klaar"],
    "find_course (all in one sentence)": ["/cursussen excel", "Online", "Klaar"],
    "enroll_course (after a search)": [
        "/cursussen vca",
        "Maakt niet uit",
        "Een cursus boeken",
        "1. VCA Basis (€ 155)",
        "Ja, boek maar",
    ],
    "check_wallet": ["/saldo", "Klaar"],
    "wallet_history": ["/geschiedenis"],
    "bookings (cancel)": ["/boekingen", "VCA Basis (€ 155)", "Annuleren", "Ja, annuleren"],
    "ask_regulation": ["/regelingen", "Levenlanglerenkrediet", "Klaar"],
    "request_advisor": ["/advies", "Zwolle"],
    "reminders (change the day)": ["/herinneringen", "Dag", "woensdag"],
    "stop_nudges": ["/stop", "Klaar"],
    "privacy (export)": ["/privacy", "Stuur mijn gegevens"],
}


async def _run() -> dict[str, int]:
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(
            _env_file=None,
            DATABASE_URL=f"sqlite+aiosqlite:///{Path(tmp) / 'turns.db'}",
            LEERLOOP_EXPORT_DIR=str(Path(tmp) / "exports"),
        )
        services = await Services.start(settings, interpreter=None)
        manager = DialogueManager(sessions=services.sessions, settings=settings)
        async with services.sessions() as session, session.begin():
            employer = Organisation(
                name="Werkgever",
                kind=OrgKind.EMPLOYER,
                token_hash="0" * 64,
            )
            session.add(employer)
            await session.flush()
            team = await create_team(session=session, employer=employer, name="Bench")
            team.invite_code = "bench"
        results: dict[str, int] = {}
        buttons: dict[str, str] = {}
        for name, path in PATHS.items():
            turns = 0
            for line in path:
                payload = buttons.get(line)
                message = IncomingMessage(
                    Channel.CONSOLE,
                    "bench",
                    text=None if payload else line,
                    payload=payload,
                    display_name="bench",
                )
                replies: list[Reply] = await manager.handle(message)
                turns += 1
                with_buttons = [r for r in replies if r.buttons]
                buttons = (
                    {b.label: b.payload for b in with_buttons[-1].buttons} if with_buttons else {}
                )
                if name.startswith("join_team") and turns == 3:
                    await _credit(services)
            async with services.sessions() as session:
                from services import find_user

                user = await find_user(
                    session=session, channel=Channel.CONSOLE, external_id="bench"
                )
                assert user is not None
                state = await load_state(session, user.id)
            waiting = [f.flow for f in state.stack if f.waiting]
            if waiting:
                said = "\n".join(r.text for r in replies) + f"\nbuttons: {list(buttons)}"
                raise AssertionError(f"{name}: still waiting in {waiting} after {path}:\n{said}")
            results[name] = turns
        await services.close()
        return results


async def _credit(services: Services) -> None:
    from datetime import timedelta

    from sqlalchemy import select

    from core.models import Team

    async with services.sessions() as session, session.begin():
        team = await session.scalar(select(Team).where(Team.invite_code == "bench"))
        assert team is not None
        order = CreditOrder(
            amount_cents=100_000,
            expires_on=utcnow().date() + timedelta(days=90),
            description="Budget",
            idempotency_key="bench",
        )
        await credit_team(session=session, team=team, funder="Werkgever", order=order)


def main() -> None:
    results = asyncio.run(_run())
    width = max(len(n) for n in results)
    for name, turns in results.items():
        print(f"{name:<{width}}  {turns:2d} turns")


if __name__ == "__main__":
    main()
