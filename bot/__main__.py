"""Command line: ``halfbie`` (``python -m bot``) runs the bot; ``halfbie sync`` forces a sync.

``halfbie run --shards 0-3 --shard-count 16`` runs only those shards of the bot, one of
several processes sharing one PostgreSQL database (see :mod:`bot.shards`).

The host's data tools need no token and never log in:

- ``halfbie export --guild ID [--out FILE]`` writes one server's data as JSON;
- ``halfbie import FILE [--replace]`` loads it (into this host's database);
- ``halfbie backup PATH`` copies the whole database, consistent, while the bot runs;
- ``halfbie copy-store --to URL [--replace]`` copies every server's data to another
  database (SQLite to PostgreSQL, or back), checked table by table (see
  :mod:`bot.store.copy`).

``export``, ``backup`` and ``copy-store`` open the database as it is (never creating or
upgrading it), so they are safe beside a running bot of any version (``copy-store``
writes only to its target, and wants the bot stopped, or it misses what comes after).
Every refusal is one line on stderr and exit status 2.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import sqlite3
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import aiohttp
import discord
from dotenv import load_dotenv

from bot import __version__
from bot.config import ROOT, Config, ConfigError, load_config
from bot.http import HttpError
from bot.logs import setup_logging
from bot.store import Store, StoreError, StoreOpenError, TransferError
from bot.store.copy import copy_between
from bot.store.transfer import dumps, loads

log = logging.getLogger("bot")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="halfbie", description="Halfbie, the All of Us Are Dead fan-server bot."
    )
    parser.add_argument("--version", action="version", version=f"halfbie {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    run = sub.add_parser("run", help="run the bot (the default)")
    run.add_argument(
        "--shards",
        metavar="IDS",
        help="run only these shards, e.g. 0-3 or 0,2,5 (overrides HALFBIE_SHARDS; needs --shard-count)",
    )
    run.add_argument(
        "--shard-count",
        metavar="N",
        help="the bot's total number of shards, the same in every process (overrides HALFBIE_SHARD_COUNT)",
    )
    sub.add_parser("sync", help="sync the slash commands to Discord now, then exit")
    export = sub.add_parser("export", help="write one server's data as JSON (stdout or --out)")
    export.add_argument("--guild", required=True, metavar="ID", help="the server's id")
    export.add_argument(
        "--out", metavar="FILE", help="write to this new file (never overwritten), not stdout"
    )
    load = sub.add_parser("import", help="load one server's data from an export file")
    load.add_argument("file", metavar="FILE", help="a file written by halfbie export")
    load.add_argument("--replace", action="store_true", help="delete the server's data here first, if any")
    backup = sub.add_parser("backup", help="copy the database while the bot runs")
    backup.add_argument("path", metavar="PATH", help="the new file (never overwritten)")
    copy = sub.add_parser(
        "copy-store",
        help="copy every server's data to another database (stop the bot first), checking each table",
    )
    copy.add_argument(
        "--to",
        required=True,
        metavar="URL",
        help="postgresql://user:password@host:5432/database, or an SQLite file (a path or sqlite:///path)",
    )
    copy.add_argument(
        "--replace", action="store_true", help="empty the target's Halfbie tables first, if it holds data"
    )
    sub.add_parser(
        "doctor",
        help="check the token, the database and every server's channel and roles; exit 1 on a problem",
    )
    return parser


def _fail(message: str) -> int:
    print(f"halfbie: {message}", file=sys.stderr)
    return 2


async def _run(config: Config, *, sync_only: bool) -> int:
    from bot.client import create_bot  # discord.py's import cost only when we run

    bot = create_bot(config, sync="force" if sync_only else "auto")
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
            await bot.open_store()
            if sync_only:
                await bot.login(config.token)  # setup_hook syncs (forced)
                return 0
            await bot.start(config.token)
    except discord.LoginFailure:
        return _fail(
            "DISCORD_TOKEN was refused by Discord: copy the token again from the Developer Portal into .env"
        )
    except (StoreOpenError, HttpError) as exc:  # HttpError: HALFBIE_HTTP's port is taken
        return _fail(str(exc))
    except (aiohttp.ClientConnectionError, TimeoutError) as exc:
        print(f"halfbie: cannot reach Discord ({exc}); check the network and try again.", file=sys.stderr)
        return 1
    return 0


# -- the host's data tools -------------------------------------------------------------------

DATA_COMMANDS = ("export", "import", "backup", "copy-store")


class _Refused(Exception):
    """A data tool refuses; the message is its one line for the host."""


def _guild_id(text: str) -> int:
    text = text.strip()
    if not text.isdigit() or not 0 < int(text) < 2**63:
        raise _Refused(f"--guild must be a server id (digits only), not {text[:40]!r}")
    return int(text)


def _new_file(path: str, what: str) -> Path:
    """Where a tool will write; refused when a file is there or the folder is missing."""
    target = Path(path).absolute()
    if target.exists():
        raise _Refused(f"cannot {what} to {target}: a file is already there")
    if not target.parent.is_dir():
        raise _Refused(f"cannot {what} to {target}: its folder does not exist")
    return target


def _write_new(path: Path, text: str) -> None:
    """Write a whole new file, or nothing: a temporary name, then a link (never overwrites)."""
    partial = path.with_name(f".{path.name}.partial")
    partial.write_text(text, encoding="utf-8")
    try:
        os.link(partial, path)
    except FileExistsError:
        raise _Refused(f"cannot export to {path}: a file is already there") from None
    finally:
        partial.unlink(missing_ok=True)


def _read_document(path: Path) -> dict[str, Any]:
    try:
        return loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise _Refused(f"cannot import {path}: there is no such file") from None
    except UnicodeDecodeError:
        raise _Refused(f"cannot import {path}: it is not a text file (UTF-8)") from None
    except OSError as exc:
        raise _Refused(f"cannot import {path}: {exc.strerror or exc}") from None
    except TransferError as exc:
        raise _Refused(f"cannot import {path}: {exc}") from None


def _integrity(path: Path) -> str:
    """PRAGMA integrity_check of a finished copy, read only."""
    conn = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)
    try:
        return "; ".join(str(row[0]) for row in conn.execute("PRAGMA integrity_check"))
    finally:
        conn.close()


async def _export(config: Config, guild: str, out: str | None) -> str:
    guild_id = _guild_id(guild)
    target = await asyncio.to_thread(_new_file, out, "export") if out else None
    store = await Store.open(config.database, migrate=False)
    try:
        document = await store.transfer.export_guild(guild_id)
    except TransferError as exc:
        raise _Refused(f"cannot export server {guild_id}: {exc}") from None
    finally:
        await store.close()
    text = dumps(document)
    rows = sum(len(rows) for rows in document["tables"].values())
    done = f"exported server {guild_id} ({rows} rows, schema {document['schema_version']})"
    if target is None:
        sys.stdout.write(text)
        sys.stdout.flush()
        print(f"halfbie: {done}", file=sys.stderr)  # stdout carries the document
        return ""
    await asyncio.to_thread(_write_new, target, text)
    return f"{done} to {target}"


async def _import(config: Config, file: str, *, replace: bool) -> str:
    source = Path(file)
    document = await asyncio.to_thread(_read_document, source)
    store = await Store.open(config.database)  # a new host's database is created here
    try:
        result = await store.transfer.import_guild(document, replace=replace)
    except TransferError as exc:
        raise _Refused(f"cannot import {source}: {exc}") from None
    finally:
        await store.close()
    notes = ["its data here was replaced"] if result.replaced else []
    notes += [
        f"{n} {table} rows got new ids (theirs are used by another server here)"
        for table, n in result.renumbered.items()
    ]
    return f"imported server {result.guild_id} ({result.total} rows) into {store.location}" + "".join(
        f"; {note}" for note in notes
    )


async def _backup(config: Config, path: str) -> str:
    store = await Store.open(config.database, migrate=False)
    try:
        written = await store.backup(path)
    finally:
        await store.close()
    check = await asyncio.to_thread(_integrity, written)
    if check != "ok":
        await asyncio.to_thread(written.unlink, missing_ok=True)
        raise _Refused(f"the backup at {written} failed PRAGMA integrity_check ({check[:200]})")
    return f"backed up {config.db_path} to {written} (integrity_check ok)"


async def _copy_store(config: Config, to: str, *, replace: bool) -> str:
    result = await copy_between(config.database, to, replace=replace)
    notes = [f"the {result.replaced} rows it held were deleted first"] if result.replaced else []
    if result.released:
        notes.append(f"{result.released} jobs claimed by the old store's processes are pending again")
    return (
        f"copied {result.servers} servers ({result.rows} rows in {len(result.tables)} tables) "
        f"from {result.source} to {result.target}; every table's row count and checksum match"
    ) + "".join(f"; {note}" for note in notes)


async def _data_command(args: argparse.Namespace, config: Config) -> int:
    try:
        if args.command == "export":
            done = await _export(config, args.guild, args.out)
        elif args.command == "import":
            done = await _import(config, args.file, replace=args.replace)
        elif args.command == "copy-store":
            done = await _copy_store(config, args.to, replace=args.replace)
        else:
            done = await _backup(config, args.path)
    except (_Refused, StoreError) as exc:  # StoreOpenError, a backup path taken: one line each
        return _fail(str(exc))
    except OSError as exc:
        return _fail(f"{args.command} failed: {exc.strerror or exc}")
    if done:
        print(f"halfbie: {done}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    command = args.command or "run"
    load_dotenv(ROOT / ".env")  # values already in the environment win
    try:
        config = load_config(
            require_token=command not in DATA_COMMANDS,
            shards=getattr(args, "shards", None),
            shard_count=getattr(args, "shard_count", None),
        )
    except ConfigError as exc:
        return _fail(str(exc))
    if command in DATA_COMMANDS:
        # The tools print one line of their own; only warnings and errors from the library.
        level = max(config.log_level_number, logging.WARNING)
        setup_logging(level, config.log_format)
        return asyncio.run(_data_command(args, config))
    if command == "doctor":
        from bot.doctor import run_doctor

        setup_logging(max(config.log_level_number, logging.WARNING), config.log_format)
        return asyncio.run(run_doctor(config))
    setup_logging(config.log_level_number, config.log_format)
    return asyncio.run(_run(config, sync_only=command == "sync"))


if __name__ == "__main__":
    sys.exit(main())
