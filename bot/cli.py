"""The `leerloop` command line."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from bot import _cli_kb
from bot._logging import configure_logging
from core.db import create_engine, session_factory, upgrade, utcnow
from core.models import Organisation, OrgKind
from core.settings import Settings, get_settings
from services import create_organisation
from services.portal import create_signin_code, signin_url

if TYPE_CHECKING:
    from bot._services import Services

logger = logging.getLogger(__name__)

TELEGRAM_HINT = (
    "No TELEGRAM_BOT_TOKEN set: starting the console chat. To connect Telegram, get a token "
    "from @BotFather and run: TELEGRAM_BOT_TOKEN=... make run"
)


def _configure_logging(settings: Settings) -> None:
    secrets = [
        s.get_secret_value()
        for s in (settings.telegram_bot_token, settings.telegram_webhook_secret)
        if s is not None
    ]
    configure_logging(settings.log_level, secrets)
    # httpx logs every request URL at INFO, and Bot API URLs contain the bot token.
    for noisy in ("httpx", "httpcore", "apscheduler", "aiosqlite", "alembic", "spacy"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


async def _chat(settings: Settings, user: str | None) -> None:
    from bot._services import Services
    from bot.console import DEFAULT_CONSOLE_USER, ConsoleChannel

    services = await Services.start(settings)
    try:
        if user is None:  # the demo user: show a wallet with money in a new database
            await _demo_wallet(services)
        console = ConsoleChannel(
            services.dialogue,
            user=user or DEFAULT_CONSOLE_USER,
            export_dir=Path(settings.export_dir),
        )
        await console.run()
    finally:
        await services.close()


async def _demo_wallet(services: Services) -> None:
    from bot.console import DEFAULT_CONSOLE_USER
    from core.db import utcnow
    from core.models import Channel
    from services import get_or_create_user
    from services.wallet import ensure_demo_wallet

    async with services.sessions() as session, session.begin():
        user = await get_or_create_user(
            session=session, channel=Channel.CONSOLE, external_id=DEFAULT_CONSOLE_USER
        )
        await ensure_demo_wallet(session=session, user=user, today=utcnow().date())


async def _db_upgrade(settings: Settings) -> None:
    engine = create_engine(settings.database_url)
    try:
        await upgrade(engine)
    finally:
        await engine.dispose()


async def _org_create(settings: Settings, name: str, kind: OrgKind) -> tuple[int, str]:
    engine = create_engine(settings.database_url)
    try:
        await upgrade(engine)
        async with session_factory(engine)() as session, session.begin():
            org, token = await create_organisation(session=session, name=name, kind=kind)
            return org.id, token
    finally:
        await engine.dispose()


async def _portal_link(settings: Settings, org_id: int) -> tuple[str, str] | None:
    """A one-time sign-in link for an organisation: (url, organisation name), or None."""
    engine = create_engine(settings.database_url)
    try:
        await upgrade(engine)
        async with session_factory(engine)() as session, session.begin():
            org = await session.get(Organisation, org_id)
            if org is None:
                return None
            code = await create_signin_code(
                session, org, utcnow(), minutes=settings.portal_link_minutes
            )
            return signin_url(settings.portal_url, code), org.name
    finally:
        await engine.dispose()


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="leerloop", description="Leerloop, coach voor leren en werk"
    )
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("run", help="HTTP API + Telegram + scheduler in one process")
    sub.add_parser("start", help="`run` when TELEGRAM_BOT_TOKEN is set, otherwise `chat`")
    chat = sub.add_parser("chat", help="chat in the terminal (reads stdin until end of input)")
    chat.add_argument("--user", help="chat as this user (default: the demo console user)")
    db = sub.add_parser("db", help="database tasks")
    db_sub = db.add_subparsers(dest="db_command", required=True)
    db_sub.add_parser("upgrade", help="apply all migrations")
    org = sub.add_parser("org", help="organisations and API tokens")
    org_sub = org.add_subparsers(dest="org_command", required=True)
    create = org_sub.add_parser("create", help="create an organisation; prints its token once")
    create.add_argument("--name", required=True)
    create.add_argument("--kind", required=True, choices=[k.value for k in OrgKind])
    create.add_argument("--json", action="store_true", help='print {"id": ..., "token": ...}')
    portal = sub.add_parser("portal", help="the web portal")
    portal_sub = portal.add_subparsers(dest="portal_command", required=True)
    link = portal_sub.add_parser("link", help="print a one-time sign-in link for an organisation")
    link.add_argument("--org", type=int, required=True, help="organisation id")
    link.add_argument("--json", action="store_true", help="print JSON")
    nlu = sub.add_parser("nlu", help="train, use and evaluate the Dutch NLU")
    nlu_sub = nlu.add_subparsers(dest="nlu_command", required=True)
    train = nlu_sub.add_parser("train", help="train from nlu/data/ and config.yml (seeded)")
    train.add_argument(
        "--if-stale",
        action="store_true",
        help="only when the model is missing or older than its data/config/code",
    )
    parse = nlu_sub.add_parser("parse", help="parse TEXT, or one utterance per stdin line")
    parse.add_argument("text", nargs="?", help="the utterance (default: read stdin)")
    evaluate = nlu_sub.add_parser("evaluate", help="score labelled examples (Rasa NLU YAML)")
    evaluate.add_argument(
        "path",
        nargs="?",
        type=Path,
        help="test data, a file or a folder of .yml files (with --cv: the training data)",
    )
    evaluate.add_argument("--json", action="store_true", help="print the report as JSON")
    evaluate.add_argument("--cv", type=int, metavar="K", help="K-fold cross-validation instead")
    _cli_kb.add_parser(sub)
    _add_rasa_parser(sub)
    return parser


def _add_rasa_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from bot.rasa._export import DEFAULT_ACTION_URL, DEFAULT_EPOCHS, DEFAULT_NLU_URL, NluMode

    rasa = sub.add_parser("rasa", help="work with a Rasa 3.6 assistant")
    rasa_sub = rasa.add_subparsers(dest="rasa_command", required=True)
    actions = rasa_sub.add_parser(
        "actions", help="serve Rasa's action server (/webhook) and /model/parse"
    )
    actions.add_argument("--host", default="127.0.0.1")
    actions.add_argument("--port", type=int, default=5055, help="default: 5055, as rasa-sdk")
    export = rasa_sub.add_parser("export", help="write a Rasa 3.6 project from Leerloop's data")
    export.add_argument("dir", type=Path)
    export.add_argument(
        "--nlu",
        choices=[m.value for m in NluMode],
        default=NluMode.LEERLOOP.value,
        help="leerloop: Rasa asks Leerloop's /model/parse (default); diet: Rasa's own pipeline",
    )
    export.add_argument("--nlu-url", default=DEFAULT_NLU_URL, help=f"default: {DEFAULT_NLU_URL}")
    export.add_argument(
        "--action-url", default=DEFAULT_ACTION_URL, help=f"default: {DEFAULT_ACTION_URL}"
    )
    export.add_argument(
        "--epochs", type=int, default=DEFAULT_EPOCHS, help="DIET epochs (with --nlu diet)"
    )


def _rasa(args: argparse.Namespace, settings: Settings) -> int:
    """The `leerloop rasa ...` commands."""
    if args.rasa_command == "actions":
        from bot.runner import serve_rasa_actions

        asyncio.run(serve_rasa_actions(settings, args.host, args.port))
        return 0
    from bot.rasa import ExportOptions, NluMode, export_project

    options = ExportOptions(
        nlu=NluMode(args.nlu),
        nlu_url=args.nlu_url,
        action_url=args.action_url,
        # Rasa reads ${VAR} from its environment: the token itself is never written down.
        token="${RASA_TOKEN}" if settings.rasa_token else None,
        epochs=args.epochs,
    )
    for path in export_project(args.dir, options):
        print(path)
    return 0


def _nlu(args: argparse.Namespace) -> int:
    """The `leerloop nlu ...` commands (the NLU contract in the design)."""
    import nlu

    if args.nlu_command == "train":
        if args.if_stale and not nlu.is_stale():
            print("nlu model is up to date")
            return 0
        model = nlu.NluModel.train()
        path = model.save()
        print(
            f"trained on {model.meta['examples']} examples in {model.meta['training_seconds']} s;"
            f" saved to {path}"
        )
        return 0

    if args.nlu_command == "parse":
        model = nlu.load_or_train()
        lines = [args.text] if args.text is not None else (line.rstrip("\n") for line in sys.stdin)
        for line in lines:
            if line.strip() or args.text is not None:
                print(json.dumps(model.parse(line), ensure_ascii=False), flush=True)
        return 0

    files = None
    if args.path is not None:
        if not args.path.exists():
            print(f"leerloop nlu evaluate: no such file: {args.path}", file=sys.stderr)
            return 2
        files = sorted(args.path.glob("*.yml")) if args.path.is_dir() else [args.path]
    if args.cv:  # trains its own models, one per fold
        report = nlu.cross_validate(args.cv, nlu.load_training_data(files))
    elif files is None:
        print("leerloop nlu evaluate: give a test file, or --cv K", file=sys.stderr)
        return 2
    else:
        examples = [e for f in files for e in nlu.load_yaml(f).examples]
        report = nlu.evaluate(nlu.load_or_train(), examples)
    print(
        json.dumps(report, ensure_ascii=False, indent=2) if args.json else nlu.format_report(report)
    )
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = get_settings()
    except ValueError as exc:
        print(f"leerloop: configuration error: {exc}", file=sys.stderr)
        return 2
    _configure_logging(settings)

    command = args.command
    if command == "start":
        if settings.telegram_enabled:
            command = "run"
        else:
            print(TELEGRAM_HINT, file=sys.stderr)
            command = "chat"
            args.user = None
    if command == "chat":  # the terminal is the conversation: only warnings between the lines
        logging.getLogger().setLevel(max(logging.getLogger().level, logging.WARNING))
    try:
        if command == "run":
            from bot.runner import StartupError, serve

            try:
                asyncio.run(serve(settings))
            except StartupError as exc:
                print(f"leerloop: {exc}", file=sys.stderr)
                return 2
        elif command == "chat":
            asyncio.run(_chat(settings, args.user))
        elif command == "db":
            asyncio.run(_db_upgrade(settings))
            print("database is up to date")
        elif command == "nlu":
            try:
                return _nlu(args)
            except ValueError as exc:  # bad training/test data or settings: say what, no traceback
                print(f"leerloop nlu: {exc}", file=sys.stderr)
                return 2
        elif command == "kb":
            return asyncio.run(_cli_kb.run(args, settings))
        elif command == "rasa":
            return _rasa(args, settings)
        elif command == "org":
            org_id, token = asyncio.run(_org_create(settings, args.name, OrgKind(args.kind)))
            if args.json:
                print(json.dumps({"id": org_id, "token": token}))
            else:
                print(f"organisation {org_id} created. Its API token (shown only now):\n{token}")
        elif command == "portal":
            found = asyncio.run(_portal_link(settings, args.org))
            if found is None:
                print(f"leerloop portal: no organisation {args.org}", file=sys.stderr)
                return 1
            url, name = found
            minutes = settings.portal_link_minutes
            if args.json:
                print(json.dumps({"url": url, "organisation": name, "valid_minutes": minutes}))
            else:
                print(f"sign-in link for {name} (works once, for {minutes} minutes):\n{url}")
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
