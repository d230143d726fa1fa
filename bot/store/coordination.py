"""What the processes of one bot agree on through the database they share.

Several processes (one per shard range) share one PostgreSQL database, and two things
must happen once among them, whichever starts first:

- A piece of work done once for the whole bot (the command sync): :meth:`exclusive`
  holds a PostgreSQL advisory lock, on a connection of its own, while the work runs.
  A process that dies lets go of it with its connection, so nothing waits on a lease.
  The others wait for it, then look again (the work is usually done by then).
- Turns to IDENTIFY with Discord's gateway: Discord allows one IDENTIFY per bucket
  (``shard_id % max_concurrency``) every 5 seconds across all of a bot's processes.
  :meth:`take_identify_turn` claims the bucket's row of ``identify_slots`` in one
  statement (an upsert that only wins when the bucket's last IDENTIFY is old enough), so
  two processes can never both win one turn.  The time is the database's clock: the one
  clock every process shares, whatever the hosts' clocks say.

On SQLite one process has the file, so :meth:`exclusive` holds at once; IDENTIFY turns
are kept all the same (they pace one process's own shards, and a restart that comes too
soon after the last IDENTIFY).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import time
from collections.abc import AsyncIterator

import asyncpg

from ._conn import Connection, is_postgres
from ._db import Db, fetch_one, fetch_value
from ._pg import CONNECT_TIMEOUT, redact
from .errors import StoreUnavailable

__all__ = ["CoordinationQueries", "lock_key"]

# Unix seconds, with a fraction, by the database's clock (per statement, not per transaction).
_NOW = {
    "sqlite": "((julianday('now') - 2440587.5) * 86400.0)",
    "postgresql": "extract(epoch FROM clock_timestamp())::float8",
}
_POLL_FIRST = 0.05  # seconds between tries for a lock another process holds, doubling...
_POLL_MAX = 1.0  # ...up to this


def lock_key(name: str) -> int:
    """The advisory lock key for ``name`` (a signed 64-bit integer, as PostgreSQL takes)."""
    digest = hashlib.blake2b(f"halfbie:{name}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def _now(conn: Connection) -> str:
    return _NOW["postgresql" if is_postgres(conn) else "sqlite"]


class CoordinationQueries:
    def __init__(self, db: Db, url: str | None) -> None:
        self._db = db
        self._url = url  # PostgreSQL's; None on SQLite

    async def take_identify_turn(self, bucket: int, spacing: float) -> float:
        """Claim the bucket's turn to IDENTIFY now: 0.0 when claimed (send it at once), else
        how many seconds until the bucket's last IDENTIFY is ``spacing`` seconds old (try
        again then).  A last IDENTIFY recorded in the future (the database's clock went
        back) does not hold the bucket up."""
        if bucket < 0 or spacing < 0:
            raise ValueError("a bucket and a spacing are not negative")
        values = {"bucket": bucket, "spacing": float(spacing)}

        async def job(conn: Connection) -> float:
            now = _now(conn)
            won = await fetch_one(
                conn,
                f"INSERT INTO identify_slots (bucket, at) VALUES (:bucket, {now}) "
                "ON CONFLICT (bucket) DO UPDATE SET at = excluded.at "
                "WHERE identify_slots.at <= excluded.at - :spacing OR identify_slots.at > excluded.at "
                "RETURNING at",
                values,
            )
            if won is not None:
                return 0.0
            left = await fetch_value(
                conn, f"SELECT at + :spacing - {now} FROM identify_slots WHERE bucket = :bucket", values
            )
            return max(float(left or 0.0), 0.001)  # never 0.0: that means "claimed"

        return await self._db.write(job)

    @contextlib.asynccontextmanager
    async def exclusive(self, name: str, *, wait: float) -> AsyncIterator[bool]:
        """Hold the bot-wide lock ``name`` while the block runs; True if held, False if
        another process still held it after ``wait`` seconds (the block runs anyway:
        it should then look whether the work is done, and leave it to the holder if not).

        Raises :class:`StoreUnavailable` when PostgreSQL cannot be reached.
        """
        if self._url is None:
            yield True  # SQLite: one process has the file
            return
        try:
            raw = await asyncpg.connect(self._url, timeout=CONNECT_TIMEOUT)
        except Exception as exc:
            raise StoreUnavailable(f"cannot reach PostgreSQL at {redact(self._url)}: {exc}") from exc
        try:
            key = lock_key(name)
            held = await _lock(raw, key, wait)
            try:
                yield held
            finally:
                if held and not raw.is_closed():
                    with contextlib.suppress(Exception):
                        await raw.execute("SELECT pg_advisory_unlock($1)", key)
        finally:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(raw.close(), timeout=5)
            if not raw.is_closed():
                raw.terminate()


async def _lock(raw: asyncpg.Connection, key: int, wait: float) -> bool:
    """Try for the advisory lock for ``wait`` seconds (real seconds: another process holds it
    for as long as its work takes, which no injected clock decides)."""
    deadline = time.monotonic() + wait
    delay = _POLL_FIRST
    while True:
        if await raw.fetchval("SELECT pg_try_advisory_lock($1)", key):
            return True
        left = deadline - time.monotonic()
        if left <= 0:
            return False
        await asyncio.sleep(min(delay, left))
        delay = min(delay * 2, _POLL_MAX)
