"""The store's own write path against raw aiosqlite with group commit, same votes, no Discord."""

from __future__ import annotations

import asyncio
import statistics
import time
from pathlib import Path
from typing import Any

import aiosqlite

from bot.canon import load_canon
from bot.store import Store

GUILD = 1


async def _store_votes(path: Path, votes: int, flight: int) -> float:
    store = await Store.open(path)
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


async def _raw_votes(path: Path, votes: int, flight: int) -> float:
    """The floor: one connection, the same upsert, whatever is queued committed together."""
    async with aiosqlite.connect(path) as conn:
        await conn.execute("PRAGMA journal_mode=WAL")
        await conn.execute("PRAGMA synchronous=NORMAL")
        await conn.execute(
            "CREATE TABLE votes (theory_id INTEGER, member_id INTEGER, option_position INTEGER, "
            "voted_at INTEGER, PRIMARY KEY (theory_id, member_id))"
        )
        await conn.commit()
        queue: asyncio.Queue[tuple[int, asyncio.Future[None]]] = asyncio.Queue()

        async def writer() -> None:
            while True:
                batch = [await queue.get()]
                while not queue.empty():
                    batch.append(queue.get_nowait())
                await conn.execute("BEGIN IMMEDIATE")
                for i, _ in batch:
                    await conn.execute(
                        "INSERT INTO votes VALUES (?, ?, ?, ?) ON CONFLICT (theory_id, member_id) "
                        "DO UPDATE SET option_position = excluded.option_position",
                        (i % 8, i, i % 3, 0),
                    )
                await conn.commit()
                for _, future in batch:
                    future.set_result(None)

        task = asyncio.create_task(writer())
        gate = asyncio.Semaphore(flight)

        async def vote(i: int) -> None:
            async with gate:
                future = asyncio.get_running_loop().create_future()
                await queue.put((i, future))
                await future

        started = time.perf_counter()
        await asyncio.gather(*(vote(i) for i in range(votes)))
        rate = votes / (time.perf_counter() - started)
        task.cancel()
        return rate


async def compare(workdir: Path, *, votes: int, flight: int, rounds: int) -> dict[str, Any]:
    store_rates, raw_rates = [], []
    for r in range(rounds):
        order = (_store_votes, _raw_votes) if r % 2 == 0 else (_raw_votes, _store_votes)
        for fn in order:
            rate = await fn(workdir / f"store-{fn.__name__}-{r}.db", votes, flight)
            (store_rates if fn is _store_votes else raw_rates).append(rate)

    def s(values: list[float]) -> dict[str, float]:
        return {"median": statistics.median(values), "min": min(values), "max": max(values)}

    return {
        "store": s(store_rates),
        "raw": s(raw_rates),
        "ratio": statistics.median(store_rates) / statistics.median(raw_rates),
    }
