"""Command line: ``halfbie`` (``python -m bot``) runs the bot; ``halfbie sync`` forces a sync."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
from collections.abc import Sequence

import discord
from dotenv import load_dotenv

from bot import __version__
from bot.config import ROOT, ConfigError, Settings, load_settings
from bot.store import StoreOpenError

log = logging.getLogger("bot")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="halfbie", description="Halfbie, the All of Us Are Dead fan-server bot."
    )
    parser.add_argument("--version", action="version", version=f"halfbie {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.add_parser("run", help="run the bot (the default)")
    sub.add_parser("sync", help="sync the slash commands to Discord now, then exit")
    return parser


def _fail(message: str) -> int:
    print(f"halfbie: {message}", file=sys.stderr)
    return 2


async def _run(settings: Settings, *, sync_only: bool) -> int:
    from bot.client import create_bot  # discord.py's import cost only when we run

    bot = create_bot(settings, sync="force" if sync_only else "auto")
    loop = asyncio.get_running_loop()
    closing: set[asyncio.Task[None]] = set()

    def stop(signum: signal.Signals) -> None:
        log.info("Received %s: closing the gateway and the database", signum.name)
        task = asyncio.create_task(bot.close())
        closing.add(task)
        task.add_done_callback(closing.discard)

    for signum in (signal.SIGINT, signal.SIGTERM):
        # Client.run only handles KeyboardInterrupt; SIGTERM must close the gateway and store too.
        loop.add_signal_handler(signum, stop, signum)
    try:
        async with bot:
            if sync_only:
                await bot.login(settings.token)  # setup_hook syncs (forced)
                return 0
            await bot.start(settings.token)
    except discord.LoginFailure:
        return _fail(
            "DISCORD_TOKEN was refused by Discord: copy the token again from the Developer Portal into .env"
        )
    except StoreOpenError as exc:
        return _fail(str(exc))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    command = args.command or "run"
    load_dotenv(ROOT / ".env")  # values already in the environment win
    try:
        settings = load_settings()
    except ConfigError as exc:
        return _fail(str(exc))
    discord.utils.setup_logging(level=settings.log_level_number, root=True)
    return asyncio.run(_run(settings, sync_only=command == "sync"))


if __name__ == "__main__":
    sys.exit(main())
