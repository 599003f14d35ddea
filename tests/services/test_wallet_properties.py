"""Property-based tests of the learning wallet (hypothesis).

Random sequences of credits (with expiry and sometimes an earmark), bookings, cancellations,
completions and days passing. After every step: the balance equals the sum of the rows of live
lots, it is never negative, no lot is overdrawn, and a booking took the soonest-expiring
eligible money first. Run on the rules (1,000 sequences); the database functions are driven by
the state machine in test_wallet_machine.py.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from services.ledger import (
    Eligible,
    Lot,
    Movement,
    Shortfall,
    available,
    is_live,
    plan_release,
    plan_reservation,
    remaining,
)

START = date(2026, 11, 27)
EARMARKS = (None, None, None, "veiligheid")

credit_op = st.tuples(
    st.just("credit"),
    st.integers(1, 100_000),
    st.one_of(st.none(), st.integers(1, 400)),
    st.sampled_from(EARMARKS),
)
book_op = st.tuples(st.just("book"), st.integers(0, 120_000), st.booleans())
cancel_op = st.tuples(st.just("cancel"), st.integers(0, 50))
settle_op = st.tuples(st.just("settle"), st.integers(0, 50))
wait_op = st.tuples(st.just("wait"), st.integers(1, 120))
operations = st.lists(
    st.one_of(credit_op, credit_op, book_op, book_op, cancel_op, settle_op, wait_op),
    min_size=1,
    max_size=25,
)


def _eligible(course_is_safety: bool) -> Eligible:
    return lambda lot: lot.earmark is None or course_is_safety


def _check_order(
    lots: list[Lot],
    before: list[Movement],
    plan: list[tuple[int, int]],
    today: date,
    eligible: Eligible,
) -> None:
    """Soonest-expiring money first: when a lot is used, every eligible live lot that expires
    sooner (or as soon, earmarked) is empty afterwards."""
    taken = dict(plan)
    after = {lot.id: remaining(lot, before) - taken.get(lot.id, 0) for lot in lots}
    live = [lot for lot in lots if is_live(lot, today) and eligible(lot)]
    for used in (lot for lot in live if lot.id in taken):
        for other in live:
            sooner = (other.expires_on or date.max) < (used.expires_on or date.max)
            if sooner:
                assert after[other.id] == 0, f"lot {other.id} expires sooner but was skipped"


@dataclass
class Model:
    today: date = START
    lots: list[Lot] = field(default_factory=list)
    moves: list[Movement] = field(default_factory=list)
    bookings: dict[int, str] = field(default_factory=dict)

    def invariants(self) -> None:
        live_rows = sum(remaining(lot, self.moves) for lot in self.lots if is_live(lot, self.today))
        balance = available(self.lots, self.moves, self.today)
        assert balance == live_rows
        assert balance >= 0
        for lot in self.lots:
            assert 0 <= remaining(lot, self.moves) <= lot.amount_cents


@settings(max_examples=1000, deadline=None)
@given(operations)
def test_ledger_rules_hold_for_any_sequence(ops: list[tuple]) -> None:  # type: ignore[type-arg]
    m = Model()
    for op in ops:
        kind = op[0]
        if kind == "credit":
            _, cents, days, earmark = op
            expires = m.today + timedelta(days=days) if days else None
            m.lots.append(Lot(len(m.lots) + 1, cents, expires, earmark))
        elif kind == "book":
            _, price, safety = op
            eligible = _eligible(safety)
            before = list(m.moves)
            have = available(m.lots, m.moves, m.today, eligible)
            plan = plan_reservation(m.lots, m.moves, m.today, price, eligible)
            if isinstance(plan, Shortfall):
                assert have < price
                assert plan.missing_cents == price - have
            else:
                assert have >= price
                assert sum(c for _, c in plan) == price
                _check_order(m.lots, before, plan, m.today, eligible)
                booking = len(m.bookings) + 1
                m.bookings[booking] = "reserved"
                m.moves += [Movement(lot_id, -c, booking) for lot_id, c in plan]
        elif kind in ("cancel", "settle"):
            reserved = [b for b, s in m.bookings.items() if s == "reserved"]
            if not reserved:
                continue
            booking = reserved[op[1] % len(reserved)]
            if kind == "cancel":
                held = -sum(x.amount_cents for x in m.moves if x.booking_id == booking)
                released = plan_release(m.moves, booking)
                assert sum(c for _, c in released) == held
                m.moves += [Movement(lot_id, c, booking) for lot_id, c in released]
                m.bookings[booking] = "cancelled"
            else:
                m.bookings[booking] = "completed"
        else:
            m.today += timedelta(days=op[1])
        m.invariants()
