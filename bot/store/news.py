"""Release news: a list per server, newest first."""

from __future__ import annotations

import builtins
import dataclasses
import json
from typing import Any

from bot.models import (
    Certainty,
    NewsFields,
    NewsItem,
    SourceRef,
)

from ._conn import Connection
from ._db import Db, fetch_one
from ._rows import NEWS_COLUMNS, changes, news_from_row, news_params, plain
from .audit import Author, ensure_guild, record
from .errors import AlreadyExists, NoSuchRecord, StoreError

__all__ = ["ChangedSince", "NewsQueries"]


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
    "source_quote",
    "source_name_ko",
    "window_end",
    "spoiler",
    "headline_ko",
    "details_ko",
)
_INSERT = (
    f"INSERT INTO news (guild_id, {', '.join(_WRITTEN)}, created_at, created_by) "
    f"VALUES (:guild_id, {', '.join(':' + n for n in _WRITTEN)}, :created_at, :created_by) "
    "ON CONFLICT (guild_id, seed_key) DO NOTHING"
)
# The order of news.list; the index news_by_guild_date has the same expression.
_NEWEST_FIRST = "ORDER BY COALESCE(happened_on, reported_on) DESC, id DESC"
_NO_LIMIT = 2**63 - 1  # LIMIT with no end, portably (SQLite has no LIMIT ALL)


async def _current(conn: Connection, guild_id: int, news_id: int) -> NewsItem:
    row = await fetch_one(
        conn,
        f"SELECT {NEWS_COLUMNS} FROM news WHERE guild_id = ? AND id = ? AND removed_at IS NULL",
        (guild_id, news_id),
    )
    if row is None:
        raise NoSuchRecord("news", news_id)
    return news_from_row(row)


class NewsQueries:
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

        async def job(conn: Connection) -> NewsItem:
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
            await record(conn, Author(guild_id, actor_id, now), "news.add", item.id, new=plain(fields))
            return item

        return await self._db.write(job)

    async def update(self, guild_id: int, actor_id: int | None, news_id: int, fields: NewsFields) -> NewsItem:
        """Replace an item's text and source (its seed key stays); audited."""
        now = self._db.now()

        async def job(conn: Connection) -> NewsItem:
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
            await record(conn, Author(guild_id, actor_id, now), "news.update", news_id, old=before, new=after)
            return new

        return await self._db.write(job)

    async def remove(self, guild_id: int, actor_id: int | None, news_id: int) -> NewsItem:
        """Hide an item (soft delete, so a re-seed does not bring it back); audited with
        every previous value, so the trail alone can bring it back.  Returns the item."""
        now = self._db.now()

        async def job(conn: Connection) -> NewsItem:
            old = await _current(conn, guild_id, news_id)
            await conn.execute(
                "UPDATE news SET removed_at = ? WHERE guild_id = ? AND id = ?",
                (now, guild_id, news_id),
            )
            await record(conn, Author(guild_id, actor_id, now), "news.remove", news_id, old=plain(old.fields))
            return old

        return await self._db.write(job)

    async def restore(self, guild_id: int, actor_id: int | None, news_id: int) -> NewsItem:
        """Undo a removal with the values the removal recorded in the audit trail; audited.

        NoSuchRecord when the item is not removed (or not this server's).
        """
        now = self._db.now()

        async def job(conn: Connection) -> NewsItem:
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
                raise NoSuchRecord("removed news item", news_id)
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
            await record(conn, Author(guild_id, actor_id, now), "news.restore", news_id, new=plain(fields))
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
