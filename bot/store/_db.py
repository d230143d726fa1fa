"""What every query module shares: the reader, the writer and the clock."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypeAlias, TypeVar

import aiosqlite

from .errors import StoreClosed
from .writer import Job, Writer

__all__ = ["Db", "Params", "fetch_all", "fetch_one", "fetch_value"]

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


class Db:
    """Reads go to the reader connection, writes are jobs for the writer."""

    def __init__(self, reader: aiosqlite.Connection, writer: Writer, clock: Callable[[], float]) -> None:
        self._reader = reader
        self.writer = writer
        self._clock = clock
        self.closed = False

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

    async def write(self, job: Job[T]) -> T:
        return await self.writer.submit(job)
