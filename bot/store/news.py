"""Release news (a list per server) and the release tracker (one row per server)."""

from __future__ import annotations

import builtins
import dataclasses
import json
import sqlite3
from collections.abc import Iterable
from typing import Any

import aiosqlite

from bot.models import (
    Certainty,
    LastChange,
    NewsFields,
    NewsItem,
    Release,
    ReleaseChange,
    SourceRef,
    Stage,
)

from ._db import Db, fetch_one
from ._rows import NEWS_COLUMNS, changes, news_from_row, news_params, plain
from .audit import ensure_guild, record
from .errors import AlreadyExists, NotFound, StoreError
from .reminders import schedule

__all__ = ["ChangedSince", "News", "ReleaseTracker", "ensure_release", "insert_news"]


class ChangedSince(StoreError):
    """An undo found the record changed again after the change it was to undo."""

    def __init__(self, what: str) -> None:
        self.what = what
        super().__init__(f"{what} changed again since; not undone")


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
        [{"guild_id": guild_id, **news_params(f), "created_at": now, "created_by": actor_id} for f in items],
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

    async def list(self, guild_id: int, limit: int | None = None, offset: int = 0) -> list[NewsItem]:
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

    async def latest(self, guild_id: int, certainty: Certainty) -> NewsItem | None:
        """The newest item of one certainty (the latest speculation, the latest official word)."""
        row = await self._db.read_one(
            f"SELECT {NEWS_COLUMNS} FROM news WHERE guild_id = ? AND removed_at IS NULL "
            f"AND source_certainty = ? {_NEWEST_FIRST} LIMIT 1",
            (guild_id, Certainty(certainty).value),
        )
        return None if row is None else news_from_row(row)

    async def find(self, guild_id: int, text: str, limit: int = 25) -> builtins.list[NewsItem]:
        """Items whose headline contains ``text`` (any case) or whose id is ``text``, newest
        first.  For autocomplete: whatever was typed is matched literally."""
        text = text.strip().lstrip("#")
        if not text:
            return await self.list(guild_id, limit=limit)
        escaped = text.lower().replace("!", "!!").replace("%", "!%").replace("_", "!_")
        exact_id = int(text) if text.isdecimal() and len(text) < 19 else -1
        rows = await self._db.read_all(
            f"SELECT {NEWS_COLUMNS} FROM news WHERE guild_id = ? AND removed_at IS NULL "
            "AND (id = ? OR LOWER(headline) LIKE ? ESCAPE '!') "
            f"{_NEWEST_FIRST} LIMIT ?",
            (guild_id, exact_id, f"%{escaped}%", limit),
        )
        return [news_from_row(row) for row in rows]

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

    async def update(self, guild_id: int, actor_id: int | None, news_id: int, fields: NewsFields) -> NewsItem:
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

    async def remove(self, guild_id: int, actor_id: int | None, news_id: int) -> NewsItem:
        """Hide an item (soft delete, so a re-seed does not bring it back); audited with
        every previous value, so the trail alone can bring it back.  Returns the item."""
        now = self._db.now()

        async def job(conn: aiosqlite.Connection) -> NewsItem:
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
                old=plain(old.fields),
            )
            return old

        return await self._db.write(job)

    async def restore(self, guild_id: int, actor_id: int | None, news_id: int) -> NewsItem:
        """Undo a removal with the values the removal recorded in the audit trail; audited.

        NotFound when the item is not removed (or not this server's).
        """
        now = self._db.now()

        async def job(conn: aiosqlite.Connection) -> NewsItem:
            row = await fetch_one(
                conn,
                f"SELECT {NEWS_COLUMNS} FROM news WHERE guild_id = ? AND id = ? AND removed_at IS NOT NULL",
                (guild_id, news_id),
            )
            entry = await fetch_one(
                conn,
                "SELECT old FROM audit WHERE guild_id = ? AND action = 'news.remove' "
                "AND target = ? ORDER BY id DESC LIMIT 1",
                (guild_id, str(news_id)),
            )
            if row is None or entry is None:
                raise NotFound("removed news item", news_id)
            item = news_from_row(row)
            values = plain(item.fields)
            recorded = json.loads(entry["old"] or "{}")
            values.update((k, v) for k, v in recorded.items() if k in values and k != "key")
            fields = _fields_from_plain(values)
            params: dict[str, Any] = {"guild_id": guild_id, "id": news_id}
            params.update(news_params(fields))
            await conn.execute(
                "UPDATE news SET removed_at = NULL, "
                + ", ".join(f"{n} = :{n}" for n in _WRITTEN if n != "seed_key")
                + " WHERE guild_id = :guild_id AND id = :id",
                params,
            )
            await record(
                conn,
                guild_id=guild_id,
                at=now,
                actor_id=actor_id,
                action="news.restore",
                target=news_id,
                new=plain(fields),
            )
            return dataclasses.replace(item, fields=fields)

        return await self._db.write(job)


def _fields_from_plain(values: dict[str, Any]) -> NewsFields:
    """NewsFields from the JSON-ready values that :func:`plain` made (the audit trail's)."""
    source = values["source"]
    return NewsFields(
        headline=values["headline"],
        happened_on=values["happened_on"],
        reported_on=values["reported_on"],
        source=SourceRef(
            name=source["name"], certainty=Certainty(source["certainty"]), url=source.get("url")
        ),
        details=values.get("details"),
        key=values.get("key"),
    )


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
        return (await self.change_stage(guild_id, actor_id, stage)).release

    async def set_premiere(self, guild_id: int, actor_id: int | None, premiere_at: int | None) -> Release:
        """Set (or clear, with None) the official premiere time; audited."""
        return (await self.change_premiere(guild_id, actor_id, premiere_at)).release

    async def change_stage(self, guild_id: int, actor_id: int | None, stage: Stage) -> ReleaseChange:
        """Set the stage; the change carries its audit entry and the previous values."""
        return await self._set(guild_id, actor_id, "release.stage", {"stage": Stage(stage)})

    async def change_premiere(
        self, guild_id: int, actor_id: int | None, premiere_at: int | None
    ) -> ReleaseChange:
        """Set (or clear) the premiere; its countdown reminders move in the same transaction."""
        return await self._set(guild_id, actor_id, "release.premiere", {"premiere_at": premiere_at})

    async def undo(self, guild_id: int, actor_id: int | None, entry_id: int) -> ReleaseChange:
        """Put back the previous values recorded by the audit entry ``entry_id``.

        Raises NotFound when the entry is not one of this server's release changes, and
        ChangedSince when the release changed again after it (an undo never overwrites a
        later change).  The undo is itself audited, so it can be undone the same way.
        """
        now = self._db.now()

        async def job(conn: aiosqlite.Connection) -> ReleaseChange:
            entry = await fetch_one(
                conn,
                "SELECT action, old, new FROM audit WHERE guild_id = ? AND id = ? "
                "AND action IN ('release.stage', 'release.premiere')",
                (guild_id, entry_id),
            )
            if entry is None:
                raise NotFound("release change", entry_id)
            old_values = json.loads(entry["old"] or "{}")
            new_values = json.loads(entry["new"] or "{}")
            current = await _read_release(conn, guild_id)
            now_values = {"stage": current.stage, "premiere_at": current.premiere_at}
            if any(now_values.get(key) != value for key, value in new_values.items()):
                raise ChangedSince("the release")
            wanted = {k: v for k, v in old_values.items() if k in now_values}
            if "stage" in wanted:
                wanted["stage"] = Stage(wanted["stage"])
            return await _apply(conn, guild_id, actor_id, entry["action"], wanted, now)

        return await self._db.write(job)

    async def last_change(self, guild_id: int) -> LastChange | None:
        """The newest change of the server's release record or news, from the audit trail
        (the canon's seed counts as one); None before the server is seeded."""
        row = await self._db.read_one(
            "SELECT at, actor_id, action FROM audit WHERE guild_id = ? AND action IN ("
            + ", ".join(f"'{action}'" for action in _TRACKED)
            + ") ORDER BY id DESC LIMIT 1",
            (guild_id,),
        )
        if row is None:
            return None
        return LastChange(at=row["at"], actor_id=row["actor_id"], action=row["action"])

    async def _set(
        self, guild_id: int, actor_id: int | None, action: str, wanted: dict[str, Any]
    ) -> ReleaseChange:
        now = self._db.now()

        async def job(conn: aiosqlite.Connection) -> ReleaseChange:
            return await _apply(conn, guild_id, actor_id, action, wanted, now)

        return await self._db.write(job)


# What the release card's "last updated" line follows.
_TRACKED = (
    "canon.seed",
    "news.add",
    "news.update",
    "news.remove",
    "news.restore",
    "release.stage",
    "release.premiere",
)


async def _read_release(conn: aiosqlite.Connection, guild_id: int) -> Release:
    row = await fetch_one(conn, f"SELECT {_RELEASE_COLUMNS} FROM release WHERE guild_id = ?", (guild_id,))
    return _default_release(guild_id) if row is None else _release(row)


async def _apply(
    conn: aiosqlite.Connection,
    guild_id: int,
    actor_id: int | None,
    action: str,
    wanted: dict[str, Any],
    now: int,
) -> ReleaseChange:
    """Write ``wanted`` into the release row, audit it, and move the reminders with the date."""
    row = await fetch_one(conn, f"SELECT {_RELEASE_COLUMNS} FROM release WHERE guild_id = ?", (guild_id,))
    old = _default_release(guild_id) if row is None else _release(row)
    current = {"stage": old.stage, "premiere_at": old.premiere_at}
    before, after = changes(current, wanted)
    if not after and row is not None:
        return ReleaseChange(old, entry_id=None, old={})
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
    if "premiere_at" in after:
        await schedule(conn, guild_id, new.premiere_at, now)
    entry = await record(
        conn,
        guild_id=guild_id,
        at=now,
        actor_id=actor_id,
        action=action,
        target="release",
        old=before,
        new=after,
    )
    return ReleaseChange(new, entry_id=entry.id, old=before)
