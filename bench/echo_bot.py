"""The framework floor: a bare python-telegram-bot echo bot (same PTB, same fake Bot API).

Run by bench/load.py as `python -m bench.echo_bot`; reads TELEGRAM_BOT_TOKEN and
TELEGRAM_API_BASE_URL. PTB's defaults except that updates are handled concurrently, as
Leerloop does, so the floor is the framework and not one-at-a-time handling.
"""

from __future__ import annotations

import os

from telegram import Update
from telegram.ext import ApplicationBuilder, ContextTypes, MessageHandler, filters


async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Send the text back."""
    message = update.effective_message
    if message is not None and message.text is not None:
        await context.bot.send_message(chat_id=message.chat_id, text=message.text)


def main() -> None:
    root = os.environ["TELEGRAM_API_BASE_URL"]
    app = (
        ApplicationBuilder()
        .token(os.environ["TELEGRAM_BOT_TOKEN"])
        .base_url(f"{root}/bot")
        .base_file_url(f"{root}/file/bot")
        .concurrent_updates(True)
        .build()
    )
    app.add_handler(MessageHandler(filters.TEXT, echo))
    app.run_polling(allowed_updates=["message"], stop_signals=None, close_loop=False)


if __name__ == "__main__":
    main()
