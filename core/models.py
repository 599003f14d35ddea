"""ORM models shared by every layer: users, organisations, conversation state.

Tables that hold personal data point to `users.id` with `ON DELETE CASCADE`; the privacy
actions find them through that foreign key, so a new table of personal data is exported and
deleted without extra code.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Boolean, Enum, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, UTCDateTime, utcnow


class Channel(StrEnum):
    TELEGRAM = "telegram"
    CONSOLE = "console"


class Role(StrEnum):
    WORKER = "worker"
    MANAGER = "manager"
    ADMIN = "admin"


class OrgKind(StrEnum):
    EMPLOYER = "employer"
    INSTITUTION = "institution"
    ADMIN = "admin"


def _str_enum(enum: type[StrEnum]) -> Enum:
    return Enum(
        enum,
        native_enum=False,
        length=32,
        values_callable=lambda members: [m.value for m in members],
        validate_strings=True,
    )


class User(Base):
    """A person talking to Leerloop on one channel. Without consent only the chat id is kept."""

    __tablename__ = "users"
    __table_args__ = (UniqueConstraint("channel", "external_id", name="uq_users_channel_external"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    channel: Mapped[Channel] = mapped_column(_str_enum(Channel))
    external_id: Mapped[str] = mapped_column(String(64))
    name: Mapped[str | None] = mapped_column(String(100), default=None)
    role: Mapped[Role] = mapped_column(_str_enum(Role), default=Role.WORKER)
    consent: Mapped[bool] = mapped_column(Boolean, default=False)
    consent_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    region: Mapped[str | None] = mapped_column(String(80), default=None)
    blocked: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class Organisation(Base):
    """An employer, institution or admin that uses the HTTP API with a bearer token."""

    __tablename__ = "organisations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[OrgKind] = mapped_column(_str_enum(OrgKind))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class ConversationState(Base):
    """The dialogue state of one user (flow stack and slots), saved after every turn."""

    __tablename__ = "conversation_states"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    state: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
