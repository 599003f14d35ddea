"""A chat with the real dialogue manager and NLU on a clock the test sets, plus employer money.

For tests that check what a person sees and what ends up in the database after a few lines."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.models import Channel, OrgKind, Team, TeamRole, User
from core.settings import Settings
from dialogues import DialogueManager, IncomingMessage, Interpreter, Reply
from services import create_organisation, find_user
from services.teams import CreditOrder, create_team, credit_team, join_team


class Clock:
    """The dialogue's clock, moved by the test."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now.astimezone(UTC)


@dataclass
class Chat:
    sessions: async_sessionmaker[AsyncSession]
    manager: DialogueManager
    clock: Clock
    who: str = "tester"
    buttons: dict[str, str] = field(default_factory=dict)
    replies: list[Reply] = field(default_factory=list)

    @classmethod
    def make(
        cls,
        sessions: async_sessionmaker[AsyncSession],
        settings: Settings,
        interpreter: Interpreter | None,
        now: datetime,
        who: str = "tester",
    ) -> Chat:
        clock = Clock(now)
        manager = DialogueManager(
            sessions=sessions, settings=settings, interpreter=interpreter, clock=clock
        )
        return cls(sessions, manager, clock, who)

    @property
    def text(self) -> str:
        """Everything the bot said in the last turn."""
        return "\n".join(r.text for r in self.replies)

    async def say(self, text: str) -> str:
        return await self._send(IncomingMessage(Channel.CONSOLE, self.who, text=text))

    async def press(self, label: str) -> str:
        assert label in self.buttons, f"no button {label!r} in {list(self.buttons)}"
        return await self._send(
            IncomingMessage(Channel.CONSOLE, self.who, payload=self.buttons[label])
        )

    async def _send(self, message: IncomingMessage) -> str:
        self.replies = await self.manager.handle(message)
        with_buttons = [r for r in self.replies if r.buttons]
        self.buttons = (
            {b.label: b.payload for b in with_buttons[-1].buttons} if with_buttons else {}
        )
        return self.text

    async def start(self, *, nudges: str = "Nee, liever niet") -> None:
        """/start, consent, and an answer to the nudge question."""
        await self.say("/start")
        await self.press("Ja, dat is goed")
        if nudges in self.buttons:
            await self.press(nudges)

    async def user(self) -> User:
        async with self.sessions() as session:
            found = await find_user(session=session, channel=Channel.CONSOLE, external_id=self.who)
            assert found is not None
            return found


async def employer_team(
    sessions: async_sessionmaker[AsyncSession], name: str = "Team", *members: User
) -> int:
    async with sessions() as session, session.begin():
        employer, _ = await create_organisation(
            session=session, name=f"Werkgever {name}", kind=OrgKind.EMPLOYER
        )
        team = await create_team(session=session, employer=employer, name=name)
        for member in members:
            user = await session.get(User, member.id)
            assert user is not None
            await join_team(
                session=session, team=team, user=user, role=TeamRole.MEMBER, share_progress=False
            )
        return team.id


async def give(
    sessions: async_sessionmaker[AsyncSession],
    team_id: int,
    cents: int,
    expires_on: date | None,
    key: str,
    *,
    today: date,
    earmark: object = None,
) -> None:
    """The employer credits every member of the team."""
    async with sessions() as session, session.begin():
        team = await session.scalar(select(Team).where(Team.id == team_id))
        assert team is not None
        order = CreditOrder(
            amount_cents=cents,
            expires_on=expires_on or today + timedelta(days=3650),
            description="Opleidingsbudget",
            idempotency_key=key,
            earmark=earmark,  # type: ignore[arg-type]
        )
        await credit_team(session=session, team=team, funder="Werkgever Test", order=order)
