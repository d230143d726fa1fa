"""The database's health, for ``halfbie doctor``, and a copy before an upgrade.

- :func:`newest_version`: the schema this Halfbie brings (its last migration).
- :func:`integrity_check`: SQLite's ``PRAGMA integrity_check`` on a file, read only.
- :func:`backup_before_migrating`: before migrations change an existing SQLite file,
  a consistent copy beside it (SQLite's online backup), so an upgrade that goes wrong,
  or a newer Halfbie the host wants to leave, costs nothing: stop the bot, put the copy
  in place of the file, start the older version.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sqlite3
from pathlib import Path

import aiosqlite

from ._migrate import load_migrations
from .errors import StoreOpenError

__all__ = ["backup_before_migrating", "backup_path", "integrity_check", "newest_version"]

log = logging.getLogger(__name__)


def newest_version() -> int:
    return len(load_migrations())


def _integrity(path: Path) -> list[str]:
    conn = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)
    try:
        return [str(row[0]) for row in conn.execute("PRAGMA integrity_check")]
    finally:
        conn.close()


async def integrity_check(path: Path) -> list[str]:
    """``["ok"]``, or what SQLite found wrong (read only: safe beside a running bot)."""
    return await asyncio.to_thread(_integrity, path)


def backup_path(path: Path, first: int) -> Path:
    """Where the copy taken before migration ``first`` goes: ``halfbie.db.before-0013.bak``."""
    return path.with_name(f"{path.name}.before-{first:04d}.bak")


async def backup_before_migrating(path: Path, version: int, newest: int) -> Path:
    """Copy the file at schema ``version`` before migrations ``version + 1`` to ``newest``
    run on it; returns the copy.  A copy already there from an earlier attempt (the
    migration failed, so the file is still at that version) is kept as it is.  A copy
    that cannot be written stops the upgrade: the file is left untouched."""
    target = backup_path(path, version + 1)
    if target.exists():
        log.warning(
            "Not backing up %s before migration %04d again: %s is there from an earlier try",
            path,
            version + 1,
            target,
        )
        return target
    partial = target.with_name(f".{target.name}.partial")
    try:
        partial.unlink(missing_ok=True)
        source = await aiosqlite.connect(f"{path.as_uri()}?mode=ro", uri=True, isolation_level=None)
        try:
            copy = await aiosqlite.connect(partial, isolation_level=None)
            try:
                await source.backup(copy)
            finally:
                await copy.close()
        finally:
            await source.close()
        os.link(partial, target)
    except (OSError, sqlite3.Error) as exc:
        raise StoreOpenError(
            f"cannot upgrade the database at {path}: its backup to {target} failed ({exc}); "
            "free some space or fix the folder's permissions, then start again"
        ) from exc
    finally:
        partial.unlink(missing_ok=True)
    log.info(
        "Backed up the database (schema %d) to %s before applying migrations %04d-%04d",
        version,
        target,
        version + 1,
        newest,
    )
    return target
