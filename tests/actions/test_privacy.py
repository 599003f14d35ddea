from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.models import Channel, ConversationState, User
from core.settings import Settings
from dialogues import DialogueManager, IncomingMessage
from services import delete_user_data, export_user_data, get_or_create_user, personal_tables

pytestmark = pytest.mark.db


def test_personal_tables_are_found_from_foreign_keys() -> None:
    names = {table.name for table, _ in personal_tables()}
    assert "conversation_states" in names
    assert "organisations" not in names


async def _chat(dialogue: DialogueManager, who: str, *lines: str) -> None:
    for line in lines:
        await dialogue.handle(
            IncomingMessage(Channel.TELEGRAM, who, text=line, display_name="Anna")
        )


async def test_export_holds_profile_and_every_personal_table(
    sessions: async_sessionmaker[AsyncSession], dialogue: DialogueManager
) -> None:
    await _chat(dialogue, "100", "/start", "Ja, dat is goed")
    async with sessions() as session:
        user = await get_or_create_user(
            session=session, channel=Channel.TELEGRAM, external_id="100"
        )
        document = await export_user_data(session=session, user=user)
    json.dumps(document)  # must be JSON-serialisable as it is
    assert document["user"]["name"] == "Anna"
    assert document["user"]["consent"] is True
    assert document["user"]["external_id"] == "100"
    assert set(document["data"]) == {t.name for t, _ in personal_tables()}
    assert len(document["data"]["conversation_states"]) == 1


async def test_delete_removes_every_row_of_the_user_and_nothing_else(
    sessions: async_sessionmaker[AsyncSession], dialogue: DialogueManager
) -> None:
    await _chat(dialogue, "200", "/start", "Ja, dat is goed")
    await _chat(dialogue, "201", "/start", "Ja, dat is goed")
    async with sessions() as session, session.begin():
        user = await get_or_create_user(
            session=session, channel=Channel.TELEGRAM, external_id="200"
        )
        user_id = user.id
        assert await delete_user_data(session=session, user=user) >= 2
    async with sessions() as session:
        assert await session.get(User, user_id) is None
        for table, column in personal_tables():
            left = await session.scalar(
                select(func.count()).select_from(table).where(column == user_id)
            )
            assert left == 0, table.name
        other = await get_or_create_user(
            session=session, channel=Channel.TELEGRAM, external_id="201"
        )
        assert await session.get(ConversationState, other.id) is not None


async def test_without_consent_only_the_chat_id_is_kept(
    sessions: async_sessionmaker[AsyncSession], dialogue: DialogueManager
) -> None:
    await _chat(dialogue, "300", "/start", "Nee, liever niet")
    async with sessions() as session:
        user = await get_or_create_user(
            session=session, channel=Channel.TELEGRAM, external_id="300"
        )
        assert user.consent is False
        assert user.name is None
        assert user.region is None


async def test_stale_button_is_refused_and_question_repeated(
    dialogue: DialogueManager, settings: Settings
) -> None:
    await _chat(dialogue, "400", "/start")
    replies = await dialogue.handle(
        IncomingMessage(Channel.TELEGRAM, "400", payload="@privacy.confirm_delete:delete")
    )
    texts = "\n".join(r.text for r in replies)
    assert dialogue.responses.render("stale_button") in texts
    assert replies[-1].buttons, "the open consent question is asked again"
    assert replies[-1].buttons[0].label == dialogue.responses.render("btn_consent_yes")


async def test_export_and_delete_cover_wallet_coaching_and_nudges(
    sessions: async_sessionmaker[AsyncSession], dialogue: DialogueManager
) -> None:
    """Someone who used everything: every personal table has rows, and delete removes them all
    (the employer's team itself stays)."""
    from datetime import timedelta

    from core.db import utcnow
    from core.models import OrgKind, Team
    from services import create_organisation
    from services.nudges import add_reminder
    from services.teams import CreditOrder, create_team, credit_team

    async with sessions() as session, session.begin():
        employer, _ = await create_organisation(session=session, name="W", kind=OrgKind.EMPLOYER)
        team = await create_team(session=session, employer=employer, name="T")
        team.invite_code = "priv1"
        team_id = team.id
    await _chat(dialogue, "300", "/start team_priv1", "Ja, dat is goed", "Ja, doe mee")
    await _chat(dialogue, "300", "Ja, dat mag", "Ja, op maandagochtend")
    async with sessions() as session, session.begin():
        saved = await session.get(Team, team_id)
        assert saved is not None
        order = CreditOrder(
            amount_cents=50_000,
            expires_on=utcnow().date() + timedelta(days=60),
            description="Budget",
            idempotency_key="p1",
        )
        await credit_team(session=session, team=saved, funder="W", order=order)
    await _chat(dialogue, "300", "/cursussen vca", "Maakt niet uit", "Een cursus boeken")
    await _chat(dialogue, "300", "1. VCA Basis (€ 155)", "Ja, boek maar")
    await _chat(dialogue, "300", "/reflectie", "kok", *["3 – goed"] * 6, "koken", "drukte", "Klaar")
    await _chat(dialogue, "300", "/leerloop", "plannen", "rust", "Over 1 maand")
    await _chat(dialogue, "300", "Oefenen op mijn werk", "in de keuken", "Ja, bewaar het")
    async with sessions() as session, session.begin():
        user = await get_or_create_user(
            session=session, channel=Channel.TELEGRAM, external_id="300"
        )
        await add_reminder(session, user, "examen", utcnow() + timedelta(days=2))
        document = await export_user_data(session=session, user=user)
        for name in (
            "team_members",
            "wallet_entries",
            "bookings",
            "reflections",
            "learning_loops",
            "loop_steps",
            "nudge_preferences",
            "reminders",
        ):
            assert document["data"][name], f"{name} is not in the export"
        json.dumps(document)
        await delete_user_data(session=session, user=user)
        user_id = user.id
    async with sessions() as session:
        for table, column in personal_tables():
            left = await session.scalar(
                select(func.count()).select_from(table).where(column == user_id)
            )
            assert left == 0, table.name
        assert await session.get(Team, team_id) is not None
