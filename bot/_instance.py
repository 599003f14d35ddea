"""Who this process is, for leases held in the shared database (outbox rows, inbox updates)."""

from __future__ import annotations

import os
import secrets
import socket


def new_instance_id() -> str:
    """Host, process id and a random part: unique even when a pid is reused after a restart."""
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{secrets.token_hex(4)}"
