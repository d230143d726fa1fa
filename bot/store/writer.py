"""The single writer: one task, one connection, group commit.

SQLite has one writer at a time, and aiosqlite pays a thread hop for every call, so
committing each vote on its own caps the bot at a few thousand writes a second.
Instead every write is a *job*, ``async def job(conn) -> result``, queued here; the
writer task takes everything queued at that moment (up to ``max_batch``), runs the
jobs one after another inside one ``BEGIN IMMEDIATE`` transaction, commits, and only
then hands each caller its result.  A burst of a thousand votes is a handful of
transactions.

Jobs must be pure functions of the database (take the time and every other input
from the caller, not from inside the job): when one job raises, the batch is rolled
back, that job's caller gets the exception, and the other jobs run again in a new
transaction.  That retry uses a savepoint per job, so a second failing job costs no
further re-runs; the common path takes no savepoints at all.

PostgreSQL runs the same writer over one asyncpg connection (:mod:`bot.store._pg`):
each commit is a round trip and a WAL flush there too, so batching pays the same way.
A job whose statement fails aborts PostgreSQL's transaction, which the rollback and the
savepoint retry above already handle.  When the connection is lost, the batch's callers
get :class:`StoreUnavailable` (nothing they asked for was committed) and the next batch
reconnects.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeAlias, TypeVar

from ._conn import Connection
from .errors import StoreClosed, StoreUnavailable

__all__ = ["Work", "Writer", "WriterStats"]

log = logging.getLogger(__name__)

T = TypeVar("T")
Work: TypeAlias = Callable[[Connection], Awaitable[T]]

DEFAULT_MAX_BATCH = 2_000


@dataclass(slots=True)
class WriterStats:
    """Counters for tests, benchmarks and the about command."""

    jobs: int = 0  # jobs whose work was committed
    batches: int = 0  # transactions committed
    failed: int = 0  # jobs whose caller got an exception
    rollbacks: int = 0  # transactions rolled back (a failing job, a failed COMMIT)
    largest_batch: int = 0  # most jobs committed by one transaction


@dataclass(slots=True)
class _Pending:
    job: Work[Any]
    future: asyncio.Future[Any]


class Writer:
    """Owns the write connection; everything that changes the database goes through it."""

    def __init__(self, conn: Connection, *, max_batch: int = DEFAULT_MAX_BATCH) -> None:
        if max_batch < 1:
            raise ValueError("max_batch must be at least 1")
        self._conn = conn
        self._max_batch = max_batch
        self._queue: deque[_Pending] = deque()
        self._wake = asyncio.Event()
        self._closing = False
        self._task: asyncio.Task[None] | None = None
        self._batch: list[_Pending] = []  # the batch being run, failed if the task dies
        self.stats = WriterStats()
        # Told of each commit: (jobs committed, seconds from BEGIN to COMMIT); the metrics.
        self.on_commit: Callable[[int, float], None] | None = None
        self._began = 0.0

    def start(self) -> None:
        """Start the writer task on the running loop."""
        if self._task is not None:
            raise RuntimeError("the writer is already started")
        self._task = asyncio.get_running_loop().create_task(self._run(), name="halfbie-store-writer")

    @property
    def closed(self) -> bool:
        return self._closing or self._task is None or self._task.done()

    async def submit(self, job: Work[T]) -> T:
        """Queue ``job``; return its result once the transaction that ran it has committed.

        Cancelling the caller before the job has started drops the job; after it has
        started, the job's work still commits with its batch.
        """
        if self.closed:
            raise StoreClosed("the store's writer is closed")
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._queue.append(_Pending(job, future))
        self._wake.set()
        return await future

    async def close(self) -> None:
        """Commit everything already queued, then stop.  Safe to call twice."""
        self._closing = True
        self._wake.set()
        if self._task is not None and not self._task.done():
            # asyncio.wait: a caller cancelled while waiting does not cancel the drain
            await asyncio.wait({self._task})

    # -- the task -------------------------------------------------------------------

    async def _run(self) -> None:
        try:
            while True:
                if not self._queue:
                    if self._closing:
                        return
                    self._wake.clear()
                    await self._wake.wait()
                    continue
                self._batch = self._take_batch()
                if self._batch:
                    await self._run_batch(self._batch)
                self._batch = []
        finally:
            # Only reached with jobs left if the task itself was cancelled or crashed.
            self._closing = True
            stopped = StoreClosed("the store's writer stopped")
            for item in self._batch:
                _fail(item, stopped)
            while self._queue:
                _fail(self._queue.popleft(), stopped)

    def _take_batch(self) -> list[_Pending]:
        batch: list[_Pending] = []
        while self._queue and len(batch) < self._max_batch:
            item = self._queue.popleft()
            if not item.future.done():  # skip callers cancelled while queued
                batch.append(item)
        return batch

    async def _run_batch(self, batch: list[_Pending]) -> None:
        self._began = time.perf_counter()
        try:
            await self._conn.execute("BEGIN IMMEDIATE")
            results: list[tuple[_Pending, Any]] = []
            for index, item in enumerate(batch):
                try:
                    results.append((item, await item.job(self._conn)))
                except Exception as exc:
                    await self._rollback()
                    self._fail_job(item, exc)
                    await self._run_isolated(batch[:index] + batch[index + 1 :])
                    return
            await self._commit(results)
        except Exception as exc:  # BEGIN, ROLLBACK or a savepoint failed
            if isinstance(exc, StoreUnavailable):  # the database is away: said once, by the connection
                log.info("a write batch of %d jobs was not committed: %s", len(batch), exc)
            else:
                log.exception("a write batch failed outside its jobs")
            try:
                await self._rollback()
            except Exception:
                log.exception("ROLLBACK failed after a failed batch")
            for item in batch:
                self._fail_job(item, exc)

    async def _run_isolated(self, batch: list[_Pending]) -> None:
        """Re-run what is left of a batch with a savepoint around each job."""
        if not batch:
            return
        await self._conn.execute("BEGIN IMMEDIATE")
        results: list[tuple[_Pending, Any]] = []
        for item in batch:
            await self._conn.execute("SAVEPOINT job")
            try:
                result = await item.job(self._conn)
            except Exception as exc:
                await self._conn.execute("ROLLBACK TO job")
                await self._conn.execute("RELEASE job")
                self._fail_job(item, exc)
                continue
            await self._conn.execute("RELEASE job")
            results.append((item, result))
        await self._commit(results)

    async def _commit(self, results: list[tuple[_Pending, Any]]) -> None:
        try:
            await self._conn.execute("COMMIT")
        except Exception as exc:
            # A failed COMMIT (a deferred constraint, I/O) may leave the transaction open.
            await self._rollback()
            for item, _ in results:
                self._fail_job(item, exc)
            return
        self.stats.batches += 1
        self.stats.jobs += len(results)
        self.stats.largest_batch = max(self.stats.largest_batch, len(results))
        if self.on_commit is not None:
            self.on_commit(len(results), time.perf_counter() - self._began)
        for item, result in results:
            if not item.future.done():
                item.future.set_result(result)

    async def _rollback(self) -> None:
        # SQLite rolls back by itself on some errors (disk full, I/O); ROLLBACK would then fail.
        if self._conn.in_transaction:
            await self._conn.execute("ROLLBACK")
            self.stats.rollbacks += 1

    def _fail_job(self, item: _Pending, exc: BaseException) -> None:
        if not item.future.done():
            self.stats.failed += 1
            item.future.set_exception(exc)


def _fail(item: _Pending, exc: BaseException) -> None:
    if not item.future.done():
        item.future.set_exception(exc)
