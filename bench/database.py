"""The databases the benchmark gives its bots, and a look at them from outside.

SQLite: a new file in the run's temporary folder.  PostgreSQL: a new database on the
server of ``--database-url`` (whose user may create databases), ``halfbie_bench_<random>``,
created for one bot process or one measurement and dropped after it, whatever is still
connected (as ``tests/store_fixtures.py`` does for the tests).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg

from tests.store_fixtures import fresh_postgres as _fresh

__all__ = ["Probe", "cpu_delta", "fresh_postgres", "server_version"]

Where = Path | str  # an SQLite file, or a PostgreSQL URL

TICKS = os.sysconf("SC_CLK_TCK")


def fresh_postgres(url: str) -> contextlib.AbstractAsyncContextManager[str]:
    """A new database on ``url``'s server for one bot process or measurement, dropped after."""
    return _fresh(url, prefix="halfbie_bench")


async def server_version(url: str) -> str:
    conn = await asyncpg.connect(url)
    try:
        return str(await conn.fetchval("SHOW server_version"))
    finally:
        await conn.close()


def _numbered(sql: str) -> str:
    """``?`` placeholders as PostgreSQL's ``$1, $2, ...``."""
    parts = sql.split("?")
    return parts[0] + "".join(f"${i}{part}" for i, part in enumerate(parts[1:], start=1))


def _cpu_seconds(pid: int) -> float | None:
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as fh:
            fields = fh.read().rsplit(")", 1)[1].split()
    except OSError:  # gone, or another machine's PostgreSQL
        return None
    return (int(fields[11]) + int(fields[12])) / TICKS


class Probe:
    """Reads what a bot committed to its database, through a connection of the bench's
    own (one kept open on PostgreSQL, so polling costs no new backend each time)."""

    def __init__(self, where: Where) -> None:
        self.where = where
        self._conn: asyncpg.Connection | None = None

    @property
    def postgres(self) -> bool:
        return isinstance(self.where, str)

    @classmethod
    @contextlib.asynccontextmanager
    async def opened(cls, where: Where) -> AsyncIterator[Probe]:
        probe = cls(where)
        if isinstance(where, str):
            probe._conn = await asyncpg.connect(where)
        try:
            yield probe
        finally:
            if probe._conn is not None:
                await probe._conn.close()

    async def value(self, sql: str, *args: object) -> int | None:
        """One number (None while the file or the table does not exist yet)."""
        if self._conn is not None:
            try:
                found = await self._conn.fetchval(_numbered(sql), *args)
            except asyncpg.UndefinedTableError:
                return None
            return None if found is None else int(found)
        path = self.where
        assert isinstance(path, Path)

        def read() -> int | None:
            if not path.exists():
                return None
            try:
                with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)) as conn:
                    row = conn.execute(sql, args).fetchone()
            except sqlite3.OperationalError as exc:
                if "no such table" in str(exc):
                    return None
                raise
            return None if row is None or row[0] is None else int(row[0])

        return await asyncio.to_thread(read)

    async def backend_cpu(self) -> dict[int, float]:
        """CPU seconds so far of each PostgreSQL backend serving this database (the bot's
        connections; not this probe's), when the server runs on this machine."""
        if self._conn is None:
            return {}
        rows = await self._conn.fetch(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        seconds = {int(row["pid"]): _cpu_seconds(int(row["pid"])) for row in rows}
        return {pid: s for pid, s in seconds.items() if s is not None}

    async def size_mb(self) -> float:
        """The database's size in MB (10^6 bytes): the file with its write-ahead log on
        SQLite; on PostgreSQL its tables with their indexes and TOAST (the empty
        database's system catalogues, about 7 MB, left out)."""
        if self._conn is not None:
            total = await self._conn.fetchval(
                "SELECT COALESCE(SUM(pg_total_relation_size(c.oid)), 0) FROM pg_class c "
                "JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'm')"
            )
            return int(total) / 1e6
        path = self.where
        assert isinstance(path, Path)
        files = [path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")]
        return sum(f.stat().st_size for f in files if f.exists()) / 1e6


def cpu_delta(before: dict[int, float], after: dict[int, float]) -> float:
    """CPU seconds the backends spent between two :meth:`Probe.backend_cpu` readings (a
    backend that started meanwhile counts from zero)."""
    return sum(s - before.get(pid, 0.0) for pid, s in after.items())
