"""The database wallet as a Hypothesis state machine, on one engine for the whole run.

Each run is a new worker on the same SQLite database; rules credit (with expiry, sometimes an
earmark), book, cancel, complete and let days pass through the real service functions, and a
plain model of the ledger follows along. After every rule: the balance equals the model and the
sum, in SQL, of the rows of live lots; no lot is overdrawn; credits are idempotent.
"""

from __future__ import annotations

import asyncio
import itertools
from datetime import date, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from core.db import Base, create_engine, session_factory
from core.models import Booking, BookingStatus, Channel, FundSource, User, WalletEntry
from services.ledger import Shortfall
from services.wallet import (
    book,
    cancel_booking,
    complete_booking,
    credit,
    eligible_for,
    spendable,
)

START = date(2026, 11, 27)
SAFETY = "Veiligheid op het werk"

_loop = asyncio.new_event_loop()
_engine: AsyncEngine | None = None
_workers = itertools.count()


def _run(coro: Any) -> Any:
    return _loop.run_until_complete(coro)


def _sessions() -> async_sessionmaker[AsyncSession]:
    global _engine
    if _engine is None:
        _engine = create_engine("sqlite+aiosqlite:///:memory:")

        async def create() -> None:
            assert _engine is not None
            async with _engine.begin() as conn:
                await conn.run_sync(Base.metadata.create_all)

        _run(create())
    return session_factory(_engine)


class WalletMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.sessions = _sessions()
        self.today = START
        self.user_id = 0
        self.keys: dict[str, int] = {}  # idempotency key -> amount credited with it
        self.reserved: list[int] = []

    @initialize()
    def new_worker(self) -> None:
        async def make() -> int:
            async with self.sessions() as session, session.begin():
                user = User(channel=Channel.CONSOLE, external_id=f"m{next(_workers)}")
                session.add(user)
                await session.flush()
                return user.id

        self.user_id = _run(make())

    async def _user(self, session: AsyncSession) -> User:
        user = await session.get(User, self.user_id)
        assert user is not None
        return user

    @rule(
        cents=st.integers(1, 100_000),
        days=st.one_of(st.none(), st.integers(1, 400)),
        safety_only=st.booleans(),
        key=st.sampled_from(["a", "b", "c", "d", "e", "f"]),
    )
    def credit_money(self, cents: int, days: int | None, safety_only: bool, key: str) -> None:
        async def go() -> None:
            async with self.sessions() as session, session.begin():
                await credit(
                    session=session,
                    user=await self._user(session),
                    amount_cents=cents,
                    source=FundSource.EMPLOYER,
                    funder="Werkgever",
                    expires_on=self.today + timedelta(days=days) if days else None,
                    earmark="veiligheid" if safety_only else None,
                    idempotency_key=f"{self.user_id}-{key}",
                )

        _run(go())
        self.keys.setdefault(key, cents)  # a repeated key changes nothing

    @rule(price=st.integers(0, 120_000), safety=st.booleans())
    def book_course(self, price: int, safety: bool) -> None:
        title = SAFETY if safety else "Excel"
        eligible = eligible_for(title)

        async def go() -> None:
            async with self.sessions() as session, session.begin():
                user = await self._user(session)
                have = await spendable(session, user, self.today, eligible)
                result = await book(
                    session=session,
                    user=user,
                    title=title,
                    price_cents=price,
                    today=self.today,
                    eligible=eligible,
                )
                assert isinstance(result, Shortfall) == (have < price)
                if not isinstance(result, Shortfall):
                    self.reserved.append(result.id)

        _run(go())

    @precondition(lambda self: bool(self.reserved))
    @rule(which=st.integers(0, 50), settle=st.booleans())
    def end_booking(self, which: int, settle: bool) -> None:
        booking_id = self.reserved.pop(which % len(self.reserved))

        async def go() -> None:
            async with self.sessions() as session, session.begin():
                user = await self._user(session)
                if settle:
                    await complete_booking(
                        session=session, user=user, booking_id=booking_id, today=self.today
                    )
                else:
                    await cancel_booking(session=session, user=user, booking_id=booking_id)

        _run(go())

    @rule(days=st.integers(1, 120))
    def days_pass(self, days: int) -> None:
        self.today += timedelta(days=days)

    @invariant()
    def the_ledger_holds(self) -> None:
        if not self.user_id:
            return

        async def check() -> None:
            async with self.sessions() as session:
                user = await self._user(session)
                balance = await spendable(session, user, self.today)
                lot = WalletEntry.__table__.alias("lot")
                live = await session.scalar(
                    select(func.coalesce(func.sum(WalletEntry.amount_cents), 0))
                    .select_from(WalletEntry)
                    .join(lot, lot.c.id == func.coalesce(WalletEntry.lot_id, WalletEntry.id))
                    .where(
                        WalletEntry.user_id == user.id,
                        lot.c.expires_on.is_(None) | (lot.c.expires_on > self.today),
                    )
                )
                assert balance == live
                assert balance >= 0
                per_lot = await session.execute(
                    select(func.sum(WalletEntry.amount_cents))
                    .where(WalletEntry.user_id == user.id)
                    .group_by(func.coalesce(WalletEntry.lot_id, WalletEntry.id))
                )
                assert all(total >= 0 for (total,) in per_lot.all())
                credited = await session.scalar(
                    select(func.count())
                    .select_from(WalletEntry)
                    .where(WalletEntry.user_id == user.id, WalletEntry.lot_id.is_(None))
                )
                assert credited == len(self.keys)
                reserved = await session.scalar(
                    select(func.count())
                    .select_from(Booking)
                    .where(Booking.user_id == user.id, Booking.status == BookingStatus.RESERVED)
                )
                assert reserved == len(self.reserved)

        _run(check())


WalletMachine.TestCase.settings = settings(
    max_examples=60,
    stateful_step_count=20,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
TestWalletOnTheDatabase = WalletMachine.TestCase


class LongerWalletMachine(WalletMachine):
    """The same machine, ten times as many runs: CI's slow suite."""


LongerWalletMachine.TestCase.settings = settings(
    max_examples=600,
    stateful_step_count=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
TestWalletOnTheDatabaseLonger = pytest.mark.slow(LongerWalletMachine.TestCase)
