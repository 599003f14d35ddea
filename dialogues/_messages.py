"""Neutral messages between the channels and the dialogue manager."""

from __future__ import annotations

from dataclasses import dataclass

from actions import Attachment, AttachmentKind
from core.models import Channel

__all__ = ["Attachment", "AttachmentKind", "Button", "IncomingMessage", "Reply"]


@dataclass(frozen=True)
class IncomingMessage:
    """One thing a user did: typed text, a command, or a button press (`payload`)."""

    channel: Channel
    external_id: str
    text: str | None = None
    payload: str | None = None
    display_name: str | None = None


@dataclass(frozen=True)
class Button:
    label: str
    payload: str


@dataclass(frozen=True)
class Reply:
    """A message from the bot: text, optional buttons (rows of one), optional file."""

    text: str
    buttons: tuple[Button, ...] = ()
    attachment: Attachment | None = None
