"""YAML conversation tests: user lines (or button presses) and what the bot must do.

A case file holds a list of cases::

    - name: consent via the button
      steps:
        - user: /start
          says: [welcome, privacy_notice]      # response keys; their text must be in the replies
          buttons: [btn_consent_yes, btn_consent_no, btn_consent_more]
          flow: consent                         # flow on top of the stack afterwards (null: none)
        - press: btn_consent_yes                # press the button with this label
          says: [consent_thanks]
        - restart: true                         # a new dialogue manager on the same database
        - user: hallo
          not_says: [welcome]

Other checks: `contains` / `not_contains` (literal text), `attachment: true`, `consent: true|false`,
`user_exists: true|false`.

Employers: a case may list `teams` (name, invite_code, manager_code), made before the first
step; a step may be an employer action instead of a user line:
`credit: {team: <invite_code>, amount_cents: 50000, expires_in_days: 30, key: k1}`.
"""

from __future__ import annotations

import string
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.db import utcnow
from core.models import Channel, OrgKind, Team
from core.settings import Settings
from dialogues import DialogueManager, IncomingMessage, Reply, ResponseCatalogue, load_state
from services import create_organisation, find_user
from services.teams import CreditOrder, create_team, credit_team


class TeamSetup(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    invite_code: str
    manager_code: str


class CreditStep(BaseModel):
    model_config = ConfigDict(extra="forbid")
    team: str
    amount_cents: int
    expires_in_days: int
    key: str
    earmark: str | None = None


class Step(BaseModel):
    model_config = ConfigDict(extra="forbid")
    user: str | None = None
    press: str | None = None
    restart: bool = False
    credit: CreditStep | None = None
    as_user: str | None = None  # this step comes from another user (for multi-user cases)
    says: list[str] = []
    not_says: list[str] = []
    contains: list[str] = []
    not_contains: list[str] = []
    buttons: list[str] | None = None
    flow: str | None = "__any__"
    attachment: bool | None = None
    consent: bool | None = None
    user_exists: bool | None = None


class Case(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    user: str = "tester"
    nlu: bool = False  # understand free text with the trained NLU model
    teams: list[TeamSetup] = []
    steps: list[Step]


def load_cases(directory: Path) -> list[tuple[str, Case]]:
    cases = []
    for path in sorted(directory.glob("*.yml")):
        for raw in yaml.safe_load(path.read_text(encoding="utf-8")):
            case = Case.model_validate(raw)
            cases.append((f"{path.stem}: {case.name}", case))
    return cases


def fixed_part(responses: ResponseCatalogue, key: str) -> str:
    """The longest literal piece of a response (placeholders vary), to look for in replies."""
    template = responses.variants(key)[0]
    pieces = [literal for literal, *_ in string.Formatter().parse(template) if literal.strip()]
    return max(pieces, key=len).strip() if pieces else ""


@dataclass
class ConversationRunner:
    sessions: async_sessionmaker[AsyncSession]
    settings: Settings
    manager: DialogueManager
    last_buttons: dict[str, str] = field(default_factory=dict)

    async def run(self, case: Case) -> None:
        await self._make_teams(case.teams)
        for number, step in enumerate(case.steps, start=1):
            where = f"step {number} ({step.user or step.press or 'restart'})"
            if step.credit is not None:
                await self._credit(step.credit)
                continue
            if step.restart:
                self.manager = DialogueManager(
                    sessions=self.sessions,
                    settings=self.settings,
                    interpreter=self.manager.interpreter,
                )
                continue
            user = step.as_user or case.user
            replies = await self._send(user, step, where)
            await self._check(user, step, replies, where)

    async def _make_teams(self, teams: list[TeamSetup]) -> None:
        if not teams:
            return
        async with self.sessions() as session, session.begin():
            employer, _ = await create_organisation(
                session=session, name="Werkgever Test", kind=OrgKind.EMPLOYER
            )
            for setup in teams:
                team = await create_team(session=session, employer=employer, name=setup.name)
                team.invite_code = setup.invite_code
                team.manager_code = setup.manager_code

    async def _credit(self, step: CreditStep) -> None:
        async with self.sessions() as session, session.begin():
            team = await session.scalar(select(Team).where(Team.invite_code == step.team))
            assert team is not None, f"no team {step.team}"
            order = CreditOrder(
                amount_cents=step.amount_cents,
                expires_on=utcnow().date() + timedelta(days=step.expires_in_days),
                description="Opleidingsbudget",
                idempotency_key=step.key,
                earmark=step.earmark,
            )
            await credit_team(session=session, team=team, funder="Werkgever Test", order=order)

    async def _send(self, user: str, step: Step, where: str) -> list[Reply]:
        if step.press is not None:
            label = (
                self.manager.responses.render(step.press)
                if step.press in self.manager.responses
                else step.press
            )
            assert label in self.last_buttons, (
                f"{where}: no button {label!r} in {list(self.last_buttons)}"
            )
            message = IncomingMessage(
                Channel.CONSOLE, user, payload=self.last_buttons[label], display_name=user
            )
        else:
            message = IncomingMessage(Channel.CONSOLE, user, text=step.user, display_name=user)
        replies = await self.manager.handle(message)
        with_buttons = [r for r in replies if r.buttons]
        self.last_buttons = (
            {b.label: b.payload for b in with_buttons[-1].buttons} if with_buttons else {}
        )
        return replies

    async def _check(self, user: str, step: Step, replies: list[Reply], where: str) -> None:
        responses = self.manager.responses
        said = "\n".join(r.text for r in replies)
        for key in step.says:
            assert fixed_part(responses, key) in said, f"{where}: expected {key!r} in:\n{said}"
        for key in step.not_says:
            assert fixed_part(responses, key) not in said, f"{where}: did not expect {key!r}"
        for literal in step.contains:
            assert literal in said, f"{where}: expected {literal!r} in:\n{said}"
        for literal in step.not_contains:
            assert literal not in said, f"{where}: did not expect {literal!r} in:\n{said}"
        if step.buttons is not None:
            expected = [responses.render(k) if k in responses else k for k in step.buttons]
            assert list(self.last_buttons) == expected, (
                f"{where}: buttons {list(self.last_buttons)}"
            )
        if step.attachment is not None:
            assert any(r.attachment for r in replies) == step.attachment, f"{where}: attachment"
        async with self.sessions() as session:
            found = await find_user(session=session, channel=Channel.CONSOLE, external_id=user)
            if step.user_exists is not None:
                assert (found is not None) == step.user_exists, f"{where}: user_exists"
            if step.consent is not None:
                assert found is not None and found.consent == step.consent, f"{where}: consent"
            if step.flow != "__any__":
                state = await load_state(session, found.id) if found else None
                top = state.top.flow if state and state.top else None
                assert top == step.flow, f"{where}: flow on top is {top!r}, expected {step.flow!r}"
