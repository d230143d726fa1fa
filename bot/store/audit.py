"""The audit log: who changed what, written in the same transaction as the change."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bot.models import AuditEntry

from ._conn import Connection, Row
from ._db import Db, fetch_one, from_row
from ._rows import as_json

__all__ = ["AuditQueries", "Author", "ensure_guild", "record"]

_COLUMNS = "id, guild_id, at, actor_id, action, target, old, new"


async def ensure_guild(conn: Connection, guild_id: int, now: int) -> None:
    """Make sure the server's row exists, inside a job, before writing rows that need it."""
    await conn.execute(
        "INSERT INTO guilds (guild_id, first_seen_at) VALUES (?, ?) ON CONFLICT (guild_id) DO NOTHING",
        (guild_id, now),
    )


@dataclass(frozen=True, slots=True)
class Author:
    """Who makes a change, in which server, and when: the same for every entry one
    writer job records (``actor_id`` None: the bot itself, or the canon's seed)."""

    guild_id: int
    actor_id: int | None
    at: int


async def record(
    conn: Connection,
    by: Author,
    action: str,
    target: str | int,
    *,
    old: Mapping[str, Any] | None = None,
    new: Mapping[str, Any] | None = None,
) -> AuditEntry:
    """Append an entry; call it inside the job that makes the change it describes."""
    row = await fetch_one(
        conn,
        "INSERT INTO audit (guild_id, at, actor_id, action, target, old, new) "
        f"VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING {_COLUMNS}",
        (by.guild_id, by.at, by.actor_id, action, str(target), as_json(old), as_json(new)),
    )
    assert row is not None
    return _entry(row)


def _entry(row: Row) -> AuditEntry:
    return from_row(AuditEntry, row)


def _prefix_filter(action_prefix: str | None) -> tuple[str, tuple[str, ...]]:
    if action_prefix is None:
        return "", ()
    escaped = action_prefix.replace("!", "!!").replace("%", "!%").replace("_", "!_")
    return " AND action LIKE ? ESCAPE '!'", (escaped + "%",)


class AuditQueries:
    """Reading the log, and logging events that change no other row."""

    def __init__(self, db: Db) -> None:
        self._db = db

    async def list(
        self, guild_id: int, action_prefix: str | None = None, limit: int = 25, offset: int = 0
    ) -> list[AuditEntry]:
        """Newest first; ``action_prefix="character."`` keeps one kind of change."""
        where, params = _prefix_filter(action_prefix)
        rows = await self._db.read_all(
            f"SELECT {_COLUMNS} FROM audit WHERE guild_id = ?{where} ORDER BY id DESC LIMIT ? OFFSET ?",
            (guild_id, *params, limit, offset),
        )
        return [_entry(row) for row in rows]

    async def count(self, guild_id: int, action_prefix: str | None = None) -> int:
        where, params = _prefix_filter(action_prefix)
        value = await self._db.read_value(
            f"SELECT COUNT(*) FROM audit WHERE guild_id = ?{where}", (guild_id, *params)
        )
        return int(value)
