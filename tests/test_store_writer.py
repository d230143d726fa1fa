"""The single writer: group commit, failures, cancellation, closing."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Awaitable, Callable
from pathlib import Path

import aiosqlite
import pytest

from bot.store import Store, StoreClosed, Writer
from tests.store_fixtures import INTEGRITY_ERRORS, read_outside


def put(key: str, value: str = "v") -> Callable[[aiosqlite.Connection], Awaitable[str]]:
    async def job(conn: aiosqlite.Connection) -> str:
        await conn.execute("INSERT INTO meta (key, value) VALUES (?, ?)", (key, value))
        return key

    return job


async def meta_keys(where: Store | Path) -> set[str]:
    """Read through a connection of its own: only committed rows are visible."""
    return {str(row[0]) for row in await read_outside(where, "SELECT key FROM meta")}


class Gate:
    """A job that holds the writer inside a batch until the test opens the gate,
    so the test can queue the jobs that will form the next batch."""

    def __init__(self) -> None:
        self.entered = asyncio.Event()
        self.open = asyncio.Event()

    async def job(self, conn: aiosqlite.Connection) -> None:
        self.entered.set()
        await self.open.wait()


async def test_a_thousand_concurrent_writes_commit_in_a_few_batches(store: Store) -> None:
    before = store.writer.stats.batches
    keys = await asyncio.gather(*(store.writer.submit(put(f"k{i}")) for i in range(1000)))
    assert keys == [f"k{i}" for i in range(1000)]
    assert await meta_keys(store) == {f"k{i}" for i in range(1000)}
    batches = store.writer.stats.batches - before
    assert 1 <= batches <= 10, batches
    assert store.writer.stats.largest_batch >= 100


async def test_batches_are_capped(tmp_path: Path) -> None:
    async with aiosqlite.connect(tmp_path / "w.db", isolation_level=None) as conn:
        await conn.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT)")
        writer = Writer(conn, max_batch=10)
        writer.start()
        await asyncio.gather(*(writer.submit(put(f"k{i}")) for i in range(100)))
        await writer.close()
        assert writer.stats.jobs == 100
        assert writer.stats.batches == 10
        assert writer.stats.largest_batch == 10


async def test_a_result_is_delivered_only_after_its_commit(store: Store) -> None:
    seen_from_outside_before_commit: list[bool] = []

    async def job(conn: aiosqlite.Connection) -> None:
        await conn.execute("INSERT INTO meta (key, value) VALUES ('x', '1')")
        # Inside the batch the row is written, but another connection cannot see it.
        assert list(await conn.execute_fetchall("SELECT 1 FROM meta WHERE key = 'x'"))
        seen_from_outside_before_commit.append("x" in await meta_keys(store))

    await store.writer.submit(job)
    assert seen_from_outside_before_commit == [False]
    # The moment submit() returns, the commit is visible to every connection.
    assert await store.meta.get("x") == "1"
    assert "x" in await meta_keys(store)


async def test_jobs_run_in_the_order_submitted(store: Store) -> None:
    order: list[int] = []

    def job(i: int) -> Callable[[aiosqlite.Connection], Awaitable[None]]:
        async def run(conn: aiosqlite.Connection) -> None:
            order.append(i)

        return run

    await asyncio.gather(*(store.writer.submit(job(i)) for i in range(200)))
    assert order == list(range(200))


async def test_a_failing_job_fails_alone_and_the_others_commit(store: Store) -> None:
    gate = Gate()
    held = asyncio.ensure_future(store.writer.submit(gate.job))
    await gate.entered.wait()

    async def boom(conn: aiosqlite.Connection) -> None:
        await conn.execute("INSERT INTO meta (key, value) VALUES ('boom', 'x')")
        raise RuntimeError("boom")

    jobs = [put("a"), put("b"), boom, put("c"), put("d")]
    futures = [asyncio.ensure_future(store.writer.submit(job)) for job in jobs]
    await asyncio.sleep(0)
    gate.open.set()
    await held
    results = await asyncio.gather(*futures, return_exceptions=True)

    assert results[:2] == ["a", "b"]
    assert isinstance(results[2], RuntimeError)
    assert results[3:] == ["c", "d"]
    assert await meta_keys(store) == {"a", "b", "c", "d"}  # boom's insert rolled back
    assert store.writer.stats.failed == 1
    assert store.writer.stats.rollbacks == 1


async def test_several_failing_jobs_in_one_batch_cost_one_retry(store: Store) -> None:
    gate = Gate()
    held = asyncio.ensure_future(store.writer.submit(gate.job))
    await gate.entered.wait()

    futures = [
        asyncio.ensure_future(store.writer.submit(put(f"k{i % 10}" if i % 3 == 0 else f"u{i}")))
        for i in range(60)
    ]  # k0..k9 collide: every key k* after the first of its kind violates the primary key
    await asyncio.sleep(0)
    batches_before = store.writer.stats.batches
    gate.open.set()
    await held
    results = await asyncio.gather(*futures, return_exceptions=True)

    failures = [r for r in results if isinstance(r, BaseException)]
    assert failures
    assert all(isinstance(f, INTEGRITY_ERRORS) for f in failures)
    keys = await meta_keys(store)
    assert keys == {r for r in results if isinstance(r, str)}
    # the gate's batch, then the 60 jobs: one rollback, then one retry (a savepoint per
    # job) that commits, however many of its jobs fail
    assert store.writer.stats.batches - batches_before == 2
    assert store.writer.stats.rollbacks == 1
    assert store.writer.stats.failed == len(failures)


@pytest.mark.sqlite_only("SQLite's PRAGMA defer_foreign_keys makes the COMMIT fail")
async def test_a_failed_commit_fails_every_job_of_the_batch(store: Store) -> None:
    gate = Gate()
    held = asyncio.ensure_future(store.writer.submit(gate.job))
    await gate.entered.wait()

    async def dangling(conn: aiosqlite.Connection) -> None:
        # A deferred foreign key is checked at COMMIT: settings for a server that
        # does not exist make the COMMIT itself fail.
        await conn.execute("PRAGMA defer_foreign_keys = ON")
        await conn.execute("INSERT INTO guild_settings (guild_id, updated_at) VALUES (404, 0)")

    futures = [asyncio.ensure_future(store.writer.submit(j)) for j in (put("a"), dangling, put("b"))]
    await asyncio.sleep(0)
    gate.open.set()
    await held
    results = await asyncio.gather(*futures, return_exceptions=True)

    assert all(isinstance(r, sqlite3.IntegrityError) for r in results), results
    assert await meta_keys(store) == set()
    # the writer carries on
    assert await store.writer.submit(put("after")) == "after"
    assert await meta_keys(store) == {"after"}


async def test_a_caller_cancelled_while_queued_drops_its_job(store: Store) -> None:
    gate = Gate()
    held = asyncio.ensure_future(store.writer.submit(gate.job))
    await gate.entered.wait()
    dropped = asyncio.ensure_future(store.writer.submit(put("dropped")))
    kept = asyncio.ensure_future(store.writer.submit(put("kept")))
    await asyncio.sleep(0)
    dropped.cancel()
    gate.open.set()
    await held
    assert await kept == "kept"
    with pytest.raises(asyncio.CancelledError):
        await dropped
    assert await meta_keys(store) == {"kept"}


async def test_a_caller_cancelled_while_its_job_runs_does_not_break_the_writer(
    store: Store,
) -> None:
    gate = Gate()

    async def slow(conn: aiosqlite.Connection) -> str:
        await conn.execute("INSERT INTO meta (key, value) VALUES ('slow', '1')")
        await gate.job(conn)
        return "slow"

    caller = asyncio.ensure_future(store.writer.submit(slow))
    await gate.entered.wait()
    other = asyncio.ensure_future(store.writer.submit(put("other")))
    caller.cancel()
    gate.open.set()
    with pytest.raises(asyncio.CancelledError):
        await caller
    assert await other == "other"
    # a job that had started still commits with its batch
    assert await meta_keys(store) == {"slow", "other"}
    assert await store.writer.submit(put("later")) == "later"


async def test_close_drains_the_queue_then_refuses(store: Store) -> None:
    gate = Gate()
    held = asyncio.ensure_future(store.writer.submit(gate.job))
    await gate.entered.wait()
    queued = [asyncio.ensure_future(store.writer.submit(put(f"q{i}"))) for i in range(50)]
    await asyncio.sleep(0)
    closing = asyncio.ensure_future(store.writer.close())
    await asyncio.sleep(0)
    with pytest.raises(StoreClosed):
        await store.writer.submit(put("late"))
    gate.open.set()
    await closing
    await held
    assert await asyncio.gather(*queued) == [f"q{i}" for i in range(50)]
    assert await meta_keys(store) == {f"q{i}" for i in range(50)}
    with pytest.raises(StoreClosed):
        await store.meta.set("after", "close")


async def test_store_close_drains_writes_and_leaves_a_sound_file(tmp_path: Path) -> None:
    store = await Store.open(tmp_path / "h.db")
    pending = [asyncio.ensure_future(store.meta.set(f"k{i}", "v")) for i in range(300)]
    await asyncio.sleep(0)
    await store.close()
    await store.close()  # idempotent
    await asyncio.gather(*pending)
    assert len(await meta_keys(tmp_path / "h.db")) == 300
    with pytest.raises(StoreClosed):
        await store.meta.get("k1")
    async with aiosqlite.connect(tmp_path / "h.db") as conn:
        assert list(await conn.execute_fetchall("PRAGMA integrity_check")) == [("ok",)]


async def test_callers_are_not_left_waiting_if_the_writer_task_dies(store: Store) -> None:
    gate = Gate()
    running = asyncio.ensure_future(store.writer.submit(gate.job))
    await gate.entered.wait()
    queued = asyncio.ensure_future(store.writer.submit(put("queued")))
    await asyncio.sleep(0)
    store.writer._task.cancel()  # type: ignore[union-attr]  # as a loop shutting down would
    for caller in (running, queued):
        with pytest.raises(StoreClosed):
            await caller
    with pytest.raises(StoreClosed):
        await store.writer.submit(put("late"))
    await store.close()  # still closes cleanly; the open transaction is rolled back
    assert await meta_keys(store) == set()
