"""Outbox claims with leases (SQLite and PostgreSQL): a live process's rows are never taken,
an expired lease is, one person has one message underway at a time, and counts stay truthful."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.models import Channel, OutboxMessage, OutboxStatus, User
from services.outbox import campaign_counts, claim_due, mark_sent, release

NOW = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)
LEASE = timedelta(seconds=30)


async def _rows(session: AsyncSession, people: int, per_person: int = 1) -> list[int]:
    ids = []
    for n in range(people):
        user = User(channel=Channel.TELEGRAM, external_id=str(61_000 + n), consent=True)
        session.add(user)
        await session.flush()
        for k in range(per_person):
            row = OutboxMessage(
                user_id=user.id,
                dedupe_key=f"lease-test:{n}:{k}",
                kind="nudge",
                payload={"key": "x"},
                due_at=NOW - timedelta(minutes=1),
            )
            session.add(row)
            await session.flush()
            ids.append(row.id)
    return ids


async def test_a_live_lease_is_never_taken_an_expired_one_is(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions() as session, session.begin():
        await _rows(session, 4)
        first = await claim_due(session, NOW, 3, owner="a", lease=LEASE)
        assert len(first) == 3
        # Another process starting now gets only the row nobody holds.
        second = await claim_due(session, NOW + timedelta(seconds=1), 10, owner="b", lease=LEASE)
        assert len(second) == 1
        assert {m.id for m in first}.isdisjoint(m.id for m in second)
        assert (
            await claim_due(session, NOW + timedelta(seconds=29), 10, owner="b", lease=LEASE) == []
        )
        await mark_sent(session, first[0].id, NOW + timedelta(seconds=2))
        # "a" died: after its lease ran out, "b" takes back what "a" had not recorded (and its
        # own row whose lease ran out as well).
        later = NOW + timedelta(seconds=32)
        taken = await claim_due(session, later, 10, owner="b", lease=LEASE)
        assert sorted(m.id for m in taken) == sorted(m.id for m in [*first[1:], *second])
        assert all(m.attempts == 2 for m in taken)
        for message in taken:
            await mark_sent(session, message.id, later)
        await mark_sent(session, first[0].id, later)  # a late second record counts once
        rows = [await session.get(OutboxMessage, m.id) for m in first]
        assert all(r is not None and r.status == OutboxStatus.SENT for r in rows)
        assert rows[0] is not None and rows[0].sent_at == NOW + timedelta(seconds=2)


async def test_one_message_per_person_underway_and_a_second_apart(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions() as session, session.begin():
        await _rows(session, 1, per_person=3)
        interval = timedelta(seconds=1)
        [one] = await claim_due(session, NOW, 10, owner="a", lease=LEASE, chat_interval=interval)
        assert (
            await claim_due(session, NOW, 10, owner="b", lease=LEASE, chat_interval=interval) == []
        )
        await mark_sent(session, one.id, NOW)
        soon = NOW + timedelta(milliseconds=500)
        assert (
            await claim_due(session, soon, 10, owner="b", lease=LEASE, chat_interval=interval) == []
        )
        after = NOW + timedelta(seconds=1, milliseconds=1)
        assert (
            len(await claim_due(session, after, 10, owner="b", lease=LEASE, chat_interval=interval))
            == 1
        )


async def test_released_rows_go_back_without_an_attempt(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions() as session, session.begin():
        await _rows(session, 2)
        claimed = await claim_due(session, NOW, 2, owner="a", lease=LEASE)
        assert await release(session, [m.id for m in claimed], "someone else") == 0
        assert await release(session, [m.id for m in claimed], "a") == 2
        again = await claim_due(session, NOW, 2, owner="b", lease=LEASE)
        assert [m.attempts for m in again] == [1, 1]


async def test_counts_report_attempts_and_count_a_resend_once(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    from core.models import OrgKind, Team
    from services import create_organisation
    from services.nudges import create_campaign
    from services.teams import create_team

    async with sessions() as session, session.begin():
        employer, _ = await create_organisation(session=session, name="L", kind=OrgKind.EMPLOYER)
        team = await create_team(session=session, employer=employer, name="T")
        campaign = await create_campaign(session, team, "Hoi", NOW)
        assert isinstance(team, Team)
        ids = await _rows(session, 2)
        for row_id in ids:
            row = await session.get(OutboxMessage, row_id)
            assert row is not None
            row.campaign_id = campaign.id
        await session.flush()
        claimed = await claim_due(session, NOW, 2, owner="a", lease=LEASE)
        await mark_sent(session, claimed[0].id, NOW)
        retaken = await claim_due(session, NOW + LEASE, 2, owner="b", lease=LEASE)
        for message in retaken:
            await mark_sent(session, message.id, NOW + LEASE)
        counts = await campaign_counts(session, campaign.id)
        assert counts["sent"] == 2 and counts["total"] == 2 and counts["queued"] == 0
        assert counts["attempts"] == 3
