"""The console channel: `leerloop chat` reads lines from stdin and prints the bot's replies.

Buttons show as numbered options; answer by number or by the label.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import sys
from pathlib import Path
from typing import TextIO

from core.models import Channel
from core.text_input import CHAT_TEXT_LIMIT, clean_chat_text
from dialogues import AttachmentKind, Button, DialogueManager, IncomingMessage, Reply

DEFAULT_CONSOLE_USER = "console"


class ConsoleChannel:
    def __init__(
        self,
        dialogue: DialogueManager,
        *,
        user: str = DEFAULT_CONSOLE_USER,
        out: TextIO = sys.stdout,
        export_dir: Path,
    ) -> None:
        self.dialogue = dialogue
        self.user = user
        self.out = out
        self.export_dir = export_dir
        self._buttons: tuple[Button, ...] = ()
        self._explained_buttons = False

    @property
    def user_dir(self) -> Path:
        """Where the files sent to this user are saved (exports, pictures)."""
        safe_user = "".join(c for c in self.user if c.isalnum() or c in "-_") or "user"
        return self.export_dir / safe_user

    def forget_files(self) -> None:
        """The user's data is deleted: so are the files saved for them."""
        shutil.rmtree(self.user_dir, ignore_errors=True)

    def to_incoming(self, line: str) -> IncomingMessage:
        """Turn a typed line into a neutral message; a number or label picks a shown button."""
        text = clean_chat_text(line).text
        payload = None
        if self._buttons:
            if text.isdigit() and 1 <= int(text) <= len(self._buttons):
                payload = self._buttons[int(text) - 1].payload
            else:
                for button in self._buttons:
                    if button.label.casefold() == text.casefold():
                        payload = button.payload
        return IncomingMessage(
            channel=Channel.CONSOLE,
            external_id=self.user,
            text=None if payload else text,
            payload=payload,
            display_name=None if self.user == DEFAULT_CONSOLE_USER else self.user,
        )

    def render(self, reply: Reply) -> None:
        if reply.text:
            print(f"Leerloop: {reply.text}", file=self.out)
        if reply.attachment is not None:
            # A folder of the user's own, readable by them only, removed with "Wis alles".
            self.user_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
            self.user_dir.chmod(0o700)
            path = self.user_dir / reply.attachment.filename
            # Only the person who chats may read what is saved about them (0600, not 0644).
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "wb") as file:
                file.write(reply.attachment.content)
            path.chmod(0o600)
            key = (
                "console_picture_saved"
                if reply.attachment.kind == AttachmentKind.PHOTO
                else "console_file_saved"
            )
            saved = self.dialogue.responses.render(key, {"path": str(path)})
            print(f"Leerloop: {saved}", file=self.out)
        if reply.buttons:
            for number, button in enumerate(reply.buttons, start=1):
                print(f"  {number}) {button.label}", file=self.out)
            if not self._explained_buttons:
                print(f"  ({self.dialogue.responses.render('console_choose')})", file=self.out)
                self._explained_buttons = True
            self._buttons = reply.buttons

    async def send(self, line: str) -> list[Reply]:
        """Handle one typed line and print the replies."""
        cleaned = clean_chat_text(line)
        if cleaned.empty or cleaned.too_long:  # the boundary answers; the dialogue waits
            key = "input_empty" if cleaned.empty else "input_too_long"
            reply = Reply(text=self.dialogue.responses.render(key, {"limit": CHAT_TEXT_LIMIT}))
            self.render(reply)
            self.out.flush()
            return [reply]
        message = self.to_incoming(line)
        replies = await self.dialogue.handle(message, after_delete=self.forget_files)
        self._buttons = ()  # numbers only ever refer to the latest buttons
        for reply in replies:
            self.render(reply)
        self.out.flush()
        return replies

    async def run(self, lines: TextIO = sys.stdin) -> None:
        """Chat until end of input."""
        print(self.dialogue.responses.render("console_banner"), file=self.out)
        interactive = lines.isatty()
        loop = asyncio.get_running_loop()
        while True:
            if interactive:
                print("> ", end="", file=self.out, flush=True)
            line = await loop.run_in_executor(None, lines.readline)
            if not line:
                break
            if not line.strip():
                continue
            await self.send(line)
