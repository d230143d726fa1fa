"""Release news (a list per server) and the release tracker (one row per server)."""

from __future__ import annotations

import dataclasses
import sqlite3
from collections.abc import Iterable
from typing import Any

import aiosqlite

from bot.models import NewsFields, NewsItem, Release, Stage

from ._db import Db, fetch_one
from ._rows import NEWS_COLUMNS, changes, news_from_row, news_params, plain
from .audit import ensure_guild, record
from .errors import AlreadyExists, NotFound

__all__ = ["News", "ReleaseTracker", "ensure_release", "insert_news"]

_WRITTEN = (
    "seed_key",
    "headline",
    "happened_on",
    "reported_on",
    "details",
    "source_name",
    "source_url",
    "source_certainty",
)
_INSERT = (
    f"INSERT INTO news (guild_id, {', '.join(_WRITTEN)}, created_at, created_by) "
    f"VALUES (:guild_id, {', '.join(':' + n for n in _WRITTEN)}, :created_at, :created_by) "
    "ON CONFLICT (guild_id, seed_key) DO NOTHING"
)
# The order of news.list; the index news_by_guild_date has the same expression.
_NEWEST_FIRST = "ORDER BY COALESCE(happened_on, reported_on) DESC, id DESC"
_NO_LIMIT = 2**63 - 1  # LIMIT with no end, portably (SQLite has no LIMIT ALL)


async def insert_news(
    conn: aiosqlite.Connection,
    guild_id: int,
    items: Iterable[NewsFields],
    *,
    now: int,
    actor_id: int | None,
) -> None:
    """Insert items; one whose seed key the server already has is skipped."""
    await conn.executemany(
        _INSERT,
        [
            {"guild_id": guild_id, **news_params(f), "created_at": now, "created_by": actor_id}
            for f in items
        ],
    )


async def _current(conn: aiosqlite.Connection, guild_id: int, news_id: int) -> NewsItem:
    row = await fetch_one(
        conn,
        f"SELECT {NEWS_COLUMNS} FROM news WHERE guild_id = ? AND id = ? AND removed_at IS NULL",
        (guild_id, news_id),
    )
    if row is None:
        raise NotFound("news", news_id)
    return news_from_row(row)


class News:
    def __init__(self, db: Db) -> None:
        self._db = db

    async def list(
        self, guild_id: int, limit: int | None = None, offset: int = 0
    ) -> list[NewsItem]:
        """Newest first: by the date it happened (or was reported), then newest added."""
        rows = await self._db.read_all(
            f"SELECT {NEWS_COLUMNS} FROM news WHERE guild_id = ? AND removed_at IS NULL "
            f"{_NEWEST_FIRST} LIMIT ? OFFSET ?",
            (guild_id, _NO_LIMIT if limit is None else limit, offset),
        )
        return [news_from_row(row) for row in rows]

    async def count(self, guild_id: int) -> int:
        value = await self._db.read_value(
            "SELECT COUNT(*) FROM news WHERE guild_id = ? AND removed_at IS NULL", (guild_id,)
        )
        return int(value)

    async def get(self, guild_id: int, news_id: int) -> NewsItem | None:
        row = await self._db.read_one(
            f"SELECT {NEWS_COLUMNS} FROM news WHERE guild_id = ? AND id = ? AND removed_at IS NULL",
            (guild_id, news_id),
        )
        return None if row is None else news_from_row(row)

    async def add(self, guild_id: int, actor_id: int | None, fields: NewsFields) -> NewsItem:
        """Add an item; AlreadyExists only if it carries a seed key the server has."""
        now = self._db.now()

        async def job(conn: aiosqlite.Connection) -> NewsItem:
            await ensure_guild(conn, guild_id, now)
            row = await fetch_one(
                conn,
                f"{_INSERT} RETURNING {NEWS_COLUMNS}",
                {
                    "guild_id": guild_id,
                    **news_params(fields),
                    "created_at": now,
                    "created_by": actor_id,
                },
            )
            if row is None:
                raise AlreadyExists("news", str(fields.key))
            item = news_from_row(row)
            await record(
                conn,
                guild_id=guild_id,
                at=now,
                actor_id=actor_id,
                action="news.add",
                target=item.id,
                new=plain(fields),
            )
            return item

        return await self._db.write(job)

    async def update(
        self, guild_id: int, actor_id: int | None, news_id: int, fields: NewsFields
    ) -> NewsItem:
        """Replace an item's text and source (its seed key stays); audited."""
        now = self._db.now()

        async def job(conn: aiosqlite.Connection) -> NewsItem:
            old = await _current(conn, guild_id, news_id)
            new = NewsItem(
                guild_id,
                news_id,
                dataclasses.replace(fields, key=old.fields.key),
                old.created_at,
                old.created_by,
            )
            before, after = changes(plain(old.fields), plain(new.fields))
            if not after:
                return old
            values: dict[str, Any] = {"guild_id": guild_id, "id": news_id}
            values.update(news_params(new.fields))
            await conn.execute(
                "UPDATE news SET "
                + ", ".join(f"{n} = :{n}" for n in _WRITTEN if n != "seed_key")
                + " WHERE guild_id = :guild_id AND id = :id",
                values,
            )
            await record(
                conn,
                guild_id=guild_id,
                at=now,
                actor_id=actor_id,
                action="news.update",
                target=news_id,
                old=before,
                new=after,
            )
            return new

        return await self._db.write(job)

    async def remove(self, guild_id: int, actor_id: int | None, news_id: int) -> None:
        """Hide an item (soft delete, so a re-seed does not bring it back); audited."""
        now = self._db.now()

        async def job(conn: aiosqlite.Connection) -> None:
            old = await _current(conn, guild_id, news_id)
            await conn.execute(
                "UPDATE news SET removed_at = ? WHERE guild_id = ? AND id = ?",
                (now, guild_id, news_id),
            )
            await record(
                conn,
                guild_id=guild_id,
                at=now,
                actor_id=actor_id,
                action="news.remove",
                target=news_id,
                old={"headline": old.fields.headline},
            )

        await self._db.write(job)


# -- the release tracker --------------------------------------------------------

_RELEASE_COLUMNS = "guild_id, stage, premiere_at, updated_at, updated_by"


def _release(row: sqlite3.Row) -> Release:
    return Release(
        guild_id=row["guild_id"],
        stage=Stage(row["stage"]),
        premiere_at=row["premiere_at"],
        updated_at=row["updated_at"],
        updated_by=row["updated_by"],
    )


def _default_release(guild_id: int) -> Release:
    return Release(guild_id, Stage.RUMOURED, premiere_at=None, updated_at=0, updated_by=None)


async def ensure_release(conn: aiosqlite.Connection, guild_id: int, stage: Stage, now: int) -> None:
    """Create the row inside a job (the seed does); never changes an existing one."""
    await conn.execute(
        "INSERT INTO release (guild_id, stage, updated_at) VALUES (?, ?, ?) "
        "ON CONFLICT (guild_id) DO NOTHING",
        (guild_id, Stage(stage).value, now),
    )


class ReleaseTracker:
    """Where Season 2 stands in one server."""

    def __init__(self, db: Db) -> None:
        self._db = db

    async def get(self, guild_id: int) -> Release:
        """The server's row; a rumoured release with no date before the server is seeded."""
        row = await self._db.read_one(
            f"SELECT {_RELEASE_COLUMNS} FROM release WHERE guild_id = ?", (guild_id,)
        )
        return _default_release(guild_id) if row is None else _release(row)

    async def set_stage(self, guild_id: int, actor_id: int | None, stage: Stage) -> Release:
        return await self._set(guild_id, actor_id, "release.stage", {"stage": Stage(stage)})

    async def set_premiere(
        self, guild_id: int, actor_id: int | None, premiere_at: int | None
    ) -> Release:
        """Set (or clear, with None) the official premiere time; audited."""
        return await self._set(guild_id, actor_id, "release.premiere", {"premiere_at": premiere_at})

    async def _set(
        self, guild_id: int, actor_id: int | None, action: str, wanted: dict[str, Any]
    ) -> Release:
        now = self._db.now()

        async def job(conn: aiosqlite.Connection) -> Release:
            row = await fetch_one(
                conn, f"SELECT {_RELEASE_COLUMNS} FROM release WHERE guild_id = ?", (guild_id,)
            )
            old = _default_release(guild_id) if row is None else _release(row)
            current = {"stage": old.stage, "premiere_at": old.premiere_at}
            before, after = changes(current, wanted)
            if not after and row is not None:
                return old
            new = Release(
                guild_id,
                Stage(wanted.get("stage", old.stage)),
                wanted.get("premiere_at", old.premiere_at),
                updated_at=now,
                updated_by=actor_id,
            )
            await ensure_guild(conn, guild_id, now)
            await conn.execute(
                f"INSERT INTO release ({_RELEASE_COLUMNS}) VALUES (?, ?, ?, ?, ?) "
                "ON CONFLICT (guild_id) DO UPDATE SET stage = excluded.stage, "
                "premiere_at = excluded.premiere_at, updated_at = excluded.updated_at, "
                "updated_by = excluded.updated_by",
                (guild_id, new.stage.value, new.premiere_at, now, actor_id),
            )
            await record(
                conn,
                guild_id=guild_id,
                at=now,
                actor_id=actor_id,
                action=action,
                target="release",
                old=before,
                new=after,
            )
            return new

        return await self._db.write(job)
