"""What every query module shares: the reader, the writer and the clock."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypeAlias, TypeVar

import aiosqlite

from .errors import StoreClosed
from .writer import Job, Writer

__all__ = ["Db", "GuildCache", "Params", "fetch_all", "fetch_one", "fetch_value"]

T = TypeVar("T")
Params: TypeAlias = Iterable[Any] | Mapping[str, Any]


async def fetch_all(conn: aiosqlite.Connection, sql: str, params: Params = ()) -> list[sqlite3.Row]:
    """Run one statement and return its rows, in a single call to the connection's thread."""
    return list(await conn.execute_fetchall(sql, params))


async def fetch_one(conn: aiosqlite.Connection, sql: str, params: Params = ()) -> sqlite3.Row | None:
    rows = await fetch_all(conn, sql, params)
    return rows[0] if rows else None


async def fetch_value(conn: aiosqlite.Connection, sql: str, params: Params = ()) -> Any:
    row = await fetch_one(conn, sql, params)
    return None if row is None else row[0]


class GuildCache:
    """What is read for every interaction (a server's settings, its characters), kept in memory.

    A write to a server through the store forgets that server's entries once it has
    committed. A read that began before such a write does not put its (older) result
    in: each server has a generation, bumped by every forget, and a result is kept only
    if the generation is still the one its read started under. Each process serves its
    own servers (one shard per process), so a cache per process stays true; a tool that
    writes the file from outside (``halfbie import``) is followed by a restart.
    """

    def __init__(self) -> None:
        self._values: dict[tuple[str, int], Any] = {}
        self._generation: dict[int, int] = {}

    def generation(self, guild_id: int) -> int:
        return self._generation.get(guild_id, 0)

    def get(self, kind: str, guild_id: int) -> Any:
        return self._values.get((kind, guild_id))

    def put(self, kind: str, guild_id: int, value: Any, generation: int) -> None:
        if self._generation.get(guild_id, 0) == generation:
            self._values[(kind, guild_id)] = value

    def forget(self, *guild_ids: int) -> None:
        for guild_id in guild_ids:
            self._generation[guild_id] = self._generation.get(guild_id, 0) + 1
            for key in [k for k in self._values if k[1] == guild_id]:
                del self._values[key]


class Db:
    """Reads go to the reader connection, writes are jobs for the writer."""

    def __init__(self, reader: aiosqlite.Connection, writer: Writer, clock: Callable[[], float]) -> None:
        self._reader = reader
        self.writer = writer
        self._clock = clock
        self.closed = False
        self.cache = GuildCache()

    def now(self) -> int:
        """Unix seconds from the injected clock; taken by the caller, never inside a job."""
        return int(self._clock())

    async def read_all(self, sql: str, params: Params = ()) -> list[sqlite3.Row]:
        if self.closed:
            raise StoreClosed()
        return await fetch_all(self._reader, sql, params)

    async def read_one(self, sql: str, params: Params = ()) -> sqlite3.Row | None:
        rows = await self.read_all(sql, params)
        return rows[0] if rows else None

    async def read_value(self, sql: str, params: Params = ()) -> Any:
        row = await self.read_one(sql, params)
        return None if row is None else row[0]

    async def write(self, job: Job[T], *, guild_id: int | None = None) -> T:
        """Run ``job`` through the writer; ``guild_id`` names the server whose cached reads
        it changes (forgotten once committed, and also if the job failed half-way)."""
        try:
            return await self.writer.submit(job)
        finally:
            if guild_id is not None:
                self.cache.forget(guild_id)
