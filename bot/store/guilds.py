"""Servers: when the bot met and left them, and seeding each from the canon once."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable

import aiosqlite

from bot.models import Canon

from ._db import Db, fetch_value
from .audit import ensure_guild, record
from .characters import insert_characters
from .news import ensure_release, insert_news
from .settings import ensure_settings
from .theories import insert_theories

__all__ = ["Guilds"]

_CHUNK = 500  # ids per IN (...) list, well under SQLite's limit on parameters


class Guilds:
    def __init__(self, db: Db) -> None:
        self._db = db

    async def seen(self, guild_id: int) -> bool:
        """The bot is in this server: return True if it is new to the store.  A server
        the bot had left is simply back (its ``left_at`` is cleared)."""
        now = self._db.now()

        async def job(conn: aiosqlite.Connection) -> bool:
            known = await fetch_value(
                conn,
                "UPDATE guilds SET left_at = NULL WHERE guild_id = ? RETURNING guild_id",
                (guild_id,),
            )
            if known is not None:
                return False
            await ensure_guild(conn, guild_id, now)
            return True

        return await self._db.write(job)

    async def left(self, guild_id: int) -> None:
        """The bot left (or was removed from) the server; its data goes at the next purge."""
        now = self._db.now()

        async def job(conn: aiosqlite.Connection) -> None:
            await conn.execute(
                "UPDATE guilds SET left_at = ? WHERE guild_id = ? AND left_at IS NULL",
                (now, guild_id),
            )

        await self._db.write(job)

    async def left_at(self, guild_id: int) -> int | None:
        """When the bot left the server, or None (still there, or never met)."""
        value = await self._db.read_value("SELECT left_at FROM guilds WHERE guild_id = ?", (guild_id,))
        return None if value is None else int(value)

    async def seeded(self, canon_version: int) -> set[int]:
        """Servers already at ``canon_version`` that the bot has not left: at start-up
        these need neither :meth:`seen` nor :meth:`seed`."""
        rows = await self._db.read_all(
            "SELECT guild_id FROM guilds WHERE canon_version >= ? AND left_at IS NULL",
            (canon_version,),
        )
        return {int(row[0]) for row in rows}

    async def needs_seed(self, guild_id: int, canon_version: int) -> bool:
        version = await self._db.read_value(
            "SELECT canon_version FROM guilds WHERE guild_id = ?", (guild_id,)
        )
        return version is None or int(version) < canon_version

    async def seed(self, guild_id: int, canon: Canon) -> bool:
        """Give the server everything in the canon it does not have yet; return whether
        the server was behind the canon (and so was seeded).

        One job, so all or nothing.  Rows are added by key with ON CONFLICT DO NOTHING:
        a restart adds nothing twice, and an admin's edit or removal of a seeded row is
        never overwritten or undone.
        """
        now = self._db.now()

        async def job(conn: aiosqlite.Connection) -> bool:
            await ensure_guild(conn, guild_id, now)
            version = await fetch_value(
                conn, "SELECT canon_version FROM guilds WHERE guild_id = ?", (guild_id,)
            )
            if int(version) >= canon.version:
                return False
            await insert_characters(conn, guild_id, canon.characters, now=now, actor_id=None)
            await insert_news(conn, guild_id, canon.news, now=now, actor_id=None)
            await insert_theories(conn, guild_id, canon.theories, now=now, actor_id=None)
            await ensure_release(conn, guild_id, canon.stage, now)
            await ensure_settings(conn, guild_id, now)
            await conn.execute(
                "UPDATE guilds SET canon_version = ? WHERE guild_id = ?",
                (canon.version, guild_id),
            )
            await record(
                conn,
                guild_id=guild_id,
                at=now,
                actor_id=None,
                action="canon.seed",
                target=f"canon v{canon.version}",
                old={"canon_version": int(version)},
                new={"canon_version": canon.version},
            )
            return True

        return await self._db.write(job)

    async def seed_many(self, guild_ids: Iterable[int], canon: Canon) -> list[int]:
        """Seed every server that is behind the canon (at start-up); return those seeded.

        The jobs are submitted together, so the writer commits them in a few batches.
        """
        behind = await self._behind(list(dict.fromkeys(guild_ids)), canon.version)
        results = await asyncio.gather(*(self.seed(guild_id, canon) for guild_id in behind))
        return [guild_id for guild_id, seeded in zip(behind, results, strict=True) if seeded]

    async def _behind(self, guild_ids: list[int], canon_version: int) -> list[int]:
        versions: dict[int, int] = {}
        for start in range(0, len(guild_ids), _CHUNK):
            chunk = guild_ids[start : start + _CHUNK]
            marks = ", ".join("?" * len(chunk))
            rows = await self._db.read_all(
                f"SELECT guild_id, canon_version FROM guilds WHERE guild_id IN ({marks})",
                chunk,
            )
            versions.update((row[0], row[1]) for row in rows)
        return [g for g in guild_ids if versions.get(g, 0) < canon_version]

    async def purge_left_before(self, ts: int) -> list[int]:
        """Delete every server the bot left before ``ts``, with all its rows (cascade)."""

        async def job(conn: aiosqlite.Connection) -> list[int]:
            rows = await conn.execute_fetchall(
                "DELETE FROM guilds WHERE left_at IS NOT NULL AND left_at < ? RETURNING guild_id",
                (ts,),
            )
            return sorted(int(row[0]) for row in rows)

        return await self._db.write(job)
