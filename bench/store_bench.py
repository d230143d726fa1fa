"""The store's own write path against the raw driver, same votes, no Discord.

SQLite: the store's writer against raw aiosqlite with group commit.  PostgreSQL (each
run in a fresh database): the store's writer against raw asyncpg, one connection,
whatever is queued inserted by one ``executemany`` in one transaction.  Both at the same
number of votes in flight; the ratio is votes stored per second, store over raw.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import aiosqlite
import asyncpg

from bench.database import fresh_postgres
from bot.canon import load_canon
from bot.store import Store

__all__ = ["compare", "compare_postgres"]

GUILD = 1

_UPSERT = (
    "INSERT INTO votes VALUES ({}) ON CONFLICT (theory_id, member_id) "
    "DO UPDATE SET option_position = excluded.option_position"
)
_TABLE = (
    "CREATE TABLE votes (theory_id BIGINT, member_id BIGINT, option_position BIGINT, "
    "voted_at BIGINT, PRIMARY KEY (theory_id, member_id))"
)


async def _store_votes(where: Path | str, votes: int, flight: int) -> float:
    store = await Store.open(where)
    try:
        await store.guilds.seed_many([GUILD], load_canon())
        theories = [t.id for t in await store.theories.list(GUILD)]
        gate = asyncio.Semaphore(flight)

        async def vote(i: int) -> None:
            async with gate:
                recorded = await store.theories.cast_vote(GUILD, theories[i % len(theories)], i, i % 3)
                assert recorded is not None

        started = time.perf_counter()
        await asyncio.gather(*(vote(i) for i in range(votes)))
        return votes / (time.perf_counter() - started)
    finally:
        await store.close()


Flush = Callable[[list[int]], Awaitable[None]]


async def _group_commit(flush: Flush, votes: int, flight: int) -> float:
    """Votes through one writer task that stores whatever is queued with ``flush``."""
    queue: asyncio.Queue[tuple[int, asyncio.Future[None]]] = asyncio.Queue()

    async def writer() -> None:
        while True:
            batch = [await queue.get()]
            while not queue.empty():
                batch.append(queue.get_nowait())
            await flush([i for i, _ in batch])
            for _, future in batch:
                future.set_result(None)

    task = asyncio.create_task(writer())
    gate = asyncio.Semaphore(flight)

    async def vote(i: int) -> None:
        async with gate:
            future = asyncio.get_running_loop().create_future()
            await queue.put((i, future))
            await future

    try:
        started = time.perf_counter()
        await asyncio.gather(*(vote(i) for i in range(votes)))
        return votes / (time.perf_counter() - started)
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def _raw_sqlite_votes(path: Path, votes: int, flight: int) -> float:
    """The floor on SQLite: one connection, the same upsert, whatever is queued committed together."""
    async with aiosqlite.connect(path) as conn:
        await conn.execute("PRAGMA journal_mode=WAL")
        await conn.execute("PRAGMA synchronous=NORMAL")
        await conn.execute(_TABLE)
        await conn.commit()

        async def flush(batch: list[int]) -> None:
            await conn.execute("BEGIN IMMEDIATE")
            for i in batch:
                await conn.execute(_UPSERT.format("?, ?, ?, ?"), (i % 8, i, i % 3, 0))
            await conn.commit()

        return await _group_commit(flush, votes, flight)


async def _raw_pg_votes(url: str, votes: int, flight: int) -> float:
    """The floor on PostgreSQL: one asyncpg connection, whatever is queued inserted by one
    batched ``executemany`` of the same upsert in one transaction."""
    conn = await asyncpg.connect(url)
    try:
        await conn.execute(_TABLE)

        async def flush(batch: list[int]) -> None:
            async with conn.transaction():
                await conn.executemany(
                    _UPSERT.format("$1, $2, $3, $4"), [(i % 8, i, i % 3, 0) for i in batch]
                )

        return await _group_commit(flush, votes, flight)
    finally:
        await conn.close()


Run = Callable[[int], Awaitable[float]]  # round -> votes/s


async def _rounds(store_run: Run, raw_run: Run, rounds: int) -> dict[str, list[float]]:
    rates: dict[str, list[float]] = {"store": [], "raw": []}
    for r in range(rounds):
        order = (("store", store_run), ("raw", raw_run))
        for name, run in order if r % 2 == 0 else reversed(order):
            rates[name].append(await run(r))
    return rates


async def compare(workdir: Path, *, votes: int, flight: int, rounds: int) -> dict[str, list[float]]:
    """SQLite: votes/s of each round, ``store`` and ``raw``."""

    async def store_run(r: int) -> float:
        return await _store_votes(workdir / f"store-{r}.db", votes, flight)

    async def raw_run(r: int) -> float:
        return await _raw_sqlite_votes(workdir / f"raw-{r}.db", votes, flight)

    return await _rounds(store_run, raw_run, rounds)


async def compare_postgres(url: str, *, votes: int, flight: int, rounds: int) -> dict[str, list[float]]:
    """PostgreSQL: votes/s of each round, ``store`` and ``raw``, each in a fresh database."""

    async def store_run(r: int) -> float:
        async with fresh_postgres(url) as fresh:
            return await _store_votes(fresh, votes, flight)

    async def raw_run(r: int) -> float:
        async with fresh_postgres(url) as fresh:
            return await _raw_pg_votes(fresh, votes, flight)

    return await _rounds(store_run, raw_run, rounds)
