"""The one scheduler, on the real store and a manual clock: nothing here waits on real time.

A test moves the clock, then waits for the effect: a handler's event, or the scheduler
going back to sleep (``asleep_until``), which it does only once it has run what was due
and recorded the outcome.  The 5 s of ``asyncio.wait_for`` are a safety net against a
hang, never a measure.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable

import aiosqlite
import pytest
import pytest_asyncio

from bot.models import Job, JobState, NewJob
from bot.scheduler import BACKOFF, LEASE, MAX_FAILURES, MAX_SLEEP, RetryLater, Scheduler
from bot.store import Store
from bot.store.jobs import complete_in, schedule_in
from tests.clock import ManualClock
from tests.store_fixtures import FakeClock, clock_of

KIND = "remind"
SAFETY = 5  # seconds of real time before a test that waits gives up (a hang, not a measure)


class Handler:
    """Records the jobs it runs; ``effect`` decides each run's outcome."""

    def __init__(self, effect: Callable[[Job], Awaitable[None]] | None = None) -> None:
        self.jobs: list[Job] = []
        self.effect = effect
        self._ran = asyncio.Event()

    async def __call__(self, job: Job) -> None:
        self.jobs.append(job)
        self._ran.set()
        if self.effect is not None:
            await self.effect(job)

    @property
    def keys(self) -> list[str]:
        return [job.key for job in self.jobs]

    async def runs(self, count: int) -> list[Job]:
        """Wait until the handler has started ``count`` runs."""

        async def enough() -> None:
            while len(self.jobs) < count:
                self._ran.clear()
                await self._ran.wait()

        await asyncio.wait_for(enough(), SAFETY)
        return self.jobs


class Gate:
    """A handler's effect that waits until the test opens it."""

    def __init__(self) -> None:
        self.entered = asyncio.Event()
        self.opened = asyncio.Event()

    async def __call__(self, job: Job) -> None:
        self.entered.set()
        await self.opened.wait()


async def asleep_until(clock: ManualClock, when: float) -> None:
    """Wait until a scheduler sleeps until ``when``: it has done all it had to do before."""
    await asyncio.wait_for(clock.sleeping(until=when), SAFETY)


async def job_of(store: Store, key: str, kind: str = KIND) -> Job:
    job = await store.jobs.get(kind, key)
    assert job is not None
    return job


def errors_with_traceback(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "bot.scheduler" and r.exc_info is not None]


@pytest.fixture
def clock(store: Store) -> FakeClock:
    return clock_of(store)


@pytest_asyncio.fixture
async def scheduler(store: Store, clock: FakeClock) -> AsyncIterator[Scheduler]:
    running = Scheduler(store, clock, owner="main", lease=LEASE)
    try:
        yield running
    finally:
        await running.stop()


@pytest.fixture
def start(clock: FakeClock) -> int:
    """The clock's time when the test began."""
    return int(clock.now())


# -- the manual clock --------------------------------------------------------------------


async def test_the_manual_clock_wakes_a_sleeper_only_once_moved_to_its_deadline() -> None:
    clock = ManualClock(100.0)
    sleeper = asyncio.ensure_future(clock.sleep(60))
    assert await asyncio.wait_for(clock.sleeping(), SAFETY) == 160.0
    clock.advance(59.5)
    await asyncio.sleep(0)
    assert not sleeper.done()
    assert clock.deadlines == [160.0]
    clock.advance(0.5)
    await asyncio.wait_for(sleeper, SAFETY)
    assert (clock.now(), clock(), clock.monotonic(), clock.deadlines) == (160.0, 160.0, 1060.0, [])
    cancelled = asyncio.ensure_future(clock.sleep(10))
    await asyncio.wait_for(clock.sleeping(until=170.0), SAFETY)
    cancelled.cancel()
    await asyncio.gather(cancelled, return_exceptions=True)
    assert clock.deadlines == []
    await asyncio.wait_for(clock.sleep(0), SAFETY)  # nothing to wait for
    with pytest.raises(ValueError, match="forward"):
        clock.advance(-1)


# -- when jobs run -----------------------------------------------------------------------


async def test_a_job_runs_only_once_the_clock_reaches_its_due_time(
    store: Store, scheduler: Scheduler, clock: FakeClock, start: int
) -> None:
    handler = Handler()
    scheduler.register(KIND, handler)
    scheduler.start()
    await asleep_until(clock, start + MAX_SLEEP)  # nothing to do: the longest sleep
    job = await scheduler.add(NewJob(KIND, "a", start + 60, payload={"n": 1}))
    await asleep_until(clock, start + 60)
    clock.advance(59)
    await asyncio.sleep(0)
    assert handler.jobs == []
    assert clock.deadlines == [start + 60]
    clock.advance(1)
    [ran] = await handler.runs(1)
    assert (ran.id, ran.state, ran.attempts, ran.claimed_by, dict(ran.payload)) == (
        job.id,
        JobState.CLAIMED,
        1,
        "main",
        {"n": 1},
    )
    await asleep_until(clock, start + 60 + MAX_SLEEP)
    done = await job_of(store, "a")
    assert (done.state, done.done_at) == (JobState.DONE, start + 60)
    assert len(handler.jobs) == 1


async def test_adding_an_earlier_job_wakes_a_loop_sleeping_on_a_later_one(
    store: Store, scheduler: Scheduler, clock: FakeClock, start: int
) -> None:
    handler = Handler()
    scheduler.register(KIND, handler)
    await scheduler.add(NewJob(KIND, "later", start + 1800))
    scheduler.start()
    await asleep_until(clock, start + 1800)
    await scheduler.add(NewJob(KIND, "earlier", start + 60))
    await asleep_until(clock, start + 60)
    clock.advance(60)
    await handler.runs(1)
    await asleep_until(clock, start + 1800)
    assert handler.keys == ["earlier"]
    assert (await job_of(store, "later")).state is JobState.PENDING


async def test_a_job_scheduled_in_a_features_transaction_runs_after_wake(
    store: Store, scheduler: Scheduler, clock: FakeClock, start: int
) -> None:
    handler = Handler()
    scheduler.register(KIND, handler)
    scheduler.start()
    await asleep_until(clock, start + MAX_SLEEP)

    async def set_premiere(conn: aiosqlite.Connection) -> Job:
        return await schedule_in(conn, NewJob(KIND, "7:week", start + 30))

    await store.writer.submit(set_premiere)
    scheduler.wake()
    await asleep_until(clock, start + 30)
    clock.advance(30)
    assert [job.key for job in await handler.runs(1)] == ["7:week"]


async def test_due_jobs_run_one_at_a_time_in_due_order(
    store: Store, scheduler: Scheduler, clock: FakeClock, start: int
) -> None:
    running = 0
    most = 0

    async def effect(job: Job) -> None:
        nonlocal running, most
        running += 1
        most = max(most, running)
        await asyncio.sleep(0)  # a handler that awaits lets nothing else of the scheduler in
        running -= 1

    handler = Handler(effect)
    scheduler.register(KIND, handler)
    await scheduler.add(NewJob(KIND, "b", start + 20))
    await scheduler.add(NewJob(KIND, "a", start + 10))
    await scheduler.add(NewJob(KIND, "c", start + 10))  # the same time as a, scheduled after it
    clock.advance(30)
    scheduler.start()
    await handler.runs(3)
    await asleep_until(clock, start + 30 + MAX_SLEEP)
    assert handler.keys == ["a", "c", "b"]
    assert most == 1


async def test_run_due_runs_what_is_due_without_the_loop(
    store: Store, scheduler: Scheduler, start: int
) -> None:
    handler = Handler()
    scheduler.register(KIND, handler)
    await scheduler.add(NewJob(KIND, "due", start))
    await scheduler.add(NewJob(KIND, "later", start + 1))
    assert [job.key for job in await scheduler.run_due()] == ["due"]
    assert (await job_of(store, "due")).state is JobState.DONE
    assert await scheduler.run_due() == []


# -- outcomes ----------------------------------------------------------------------------


async def test_retry_later_runs_the_job_again_after_the_delay_only(
    store: Store, scheduler: Scheduler, clock: FakeClock, start: int, caplog: pytest.LogCaptureFixture
) -> None:
    async def effect(job: Job) -> None:
        if job.attempts == 1:
            raise RetryLater(600, "the channel is gone")

    handler = Handler(effect)
    scheduler.register(KIND, handler)
    await scheduler.add(NewJob(KIND, "a", start))
    scheduler.start()
    await handler.runs(1)
    await asleep_until(clock, start + 600)
    waiting = await job_of(store, "a")
    assert (waiting.state, waiting.due_at, waiting.note, waiting.failures) == (
        JobState.PENDING,
        start + 600,
        "the channel is gone",
        0,
    )
    clock.advance(599)
    await asyncio.sleep(0)
    assert len(handler.jobs) == 1
    clock.advance(1)
    [_, again] = await handler.runs(2)
    assert (again.id, again.nonce, again.attempts) == (waiting.id, waiting.nonce, 2)
    await asleep_until(clock, start + 600 + MAX_SLEEP)
    assert (await job_of(store, "a")).state is JobState.DONE
    assert errors_with_traceback(caplog) == []


async def test_an_error_is_retried_with_back_off_then_the_job_fails(
    store: Store, scheduler: Scheduler, clock: FakeClock, start: int, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="bot.scheduler")

    async def effect(job: Job) -> None:
        raise ValueError(f"boom {job.attempts}")

    handler = Handler(effect)
    scheduler.register(KIND, handler)
    await scheduler.add(NewJob(KIND, "a", start))
    scheduler.start()
    for failures, delay in enumerate(BACKOFF[: MAX_FAILURES - 1], start=1):
        await handler.runs(failures)
        due = int(clock.now()) + delay
        await asleep_until(clock, min(due, clock.now() + MAX_SLEEP))
        job = await job_of(store, "a")
        assert (job.state, job.failures, job.due_at) == (JobState.PENDING, failures, due)
        assert len(errors_with_traceback(caplog)) == failures  # one traceback per failure
        clock.advance(delay - 1)
        await asleep_until(clock, due)  # past the longest sleep, the loop looked and slept again
        assert len(handler.jobs) == failures  # not before its back-off
        clock.advance(1)
    await handler.runs(MAX_FAILURES)
    await asleep_until(clock, clock.now() + MAX_SLEEP)
    failed = await job_of(store, "a")
    assert (failed.state, failed.failures, failed.attempts, failed.note) == (
        JobState.FAILED,
        MAX_FAILURES,
        MAX_FAILURES,
        f"ValueError: boom {MAX_FAILURES}",
    )
    records = errors_with_traceback(caplog)
    assert len(records) == MAX_FAILURES
    assert all(r.exc_info is not None and isinstance(r.exc_info[1], ValueError) for r in records)
    assert "giving up" in records[-1].getMessage()
    clock.advance(10 * max(BACKOFF))
    await asleep_until(clock, clock.now() + MAX_SLEEP)
    assert len(handler.jobs) == MAX_FAILURES  # a failed job never runs again


async def test_a_handler_that_completes_in_its_own_transaction_is_completed_once(
    store: Store, scheduler: Scheduler, clock: FakeClock, start: int, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="bot.scheduler")

    async def close_poll(job: Job) -> None:
        async def effect(conn: aiosqlite.Connection) -> bool:
            await conn.execute("INSERT INTO meta (key, value) VALUES (?, 'closed')", (job.key,))
            return await complete_in(conn, job, int(clock.now()), note="closed by its job")

        assert await store.writer.submit(effect)

    handler = Handler(close_poll)
    scheduler.register("close_poll", handler)
    await scheduler.add(NewJob("close_poll", "poll:1", start))
    scheduler.start()
    await handler.runs(1)
    await asleep_until(clock, start + MAX_SLEEP)
    done = await job_of(store, "poll:1", "close_poll")
    assert (done.state, done.note, done.done_at) == (JobState.DONE, "closed by its job", start)
    assert await store.meta.get("poll:1") == "closed"
    assert not [r for r in caplog.records if "taken over" in r.getMessage()]


# -- claims, crashes and restarts --------------------------------------------------------


async def test_a_dead_processs_claim_is_taken_over_after_its_lease(
    store: Store, clock: FakeClock, start: int, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="bot.scheduler")
    gate = Gate()
    hung, alive = Handler(gate), Handler()
    first = Scheduler(store, clock, owner="first", lease=LEASE)
    second = Scheduler(store, clock, owner="second", lease=LEASE)
    first.register(KIND, hung)
    second.register(KIND, alive)
    try:
        await first.add(NewJob(KIND, "a", start))
        first.start()
        await asyncio.wait_for(gate.entered.wait(), SAFETY)  # claimed, and now hung
        second.start()
        await asleep_until(clock, start + LEASE)  # the second waits for the lease to end
        assert alive.jobs == []
        clock.advance(LEASE)
        [taken] = await alive.runs(1)
        assert (taken.claimed_by, taken.attempts) == ("second", 2)
        await asleep_until(clock, start + LEASE + MAX_SLEEP)
        gate.opened.set()  # the first wakes up: its run cannot complete the job again
        await first.stop()
    finally:
        await first.stop()
        await second.stop()
    done = await job_of(store, "a")
    assert (done.state, done.claimed_by, done.done_at) == (JobState.DONE, "second", start + LEASE)
    assert len(hung.jobs) == len(alive.jobs) == 1
    assert any("taken over" in r.getMessage() for r in caplog.records)


async def test_a_restart_takes_back_its_own_claims_at_once(
    store: Store, clock: FakeClock, start: int, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="bot.scheduler")
    await store.jobs.schedule(NewJob(KIND, "a", start))
    # the process called "main" claimed it, then crashed before recording anything
    [claimed] = await store.jobs.claim_due(start, "main", kinds=[KIND], lease=LEASE, limit=10)
    handler = Handler()
    restarted = Scheduler(store, clock, owner="main", lease=LEASE)
    restarted.register(KIND, handler)
    try:
        restarted.start()
        [again] = await handler.runs(1)  # without waiting for the lease
        await asleep_until(clock, start + MAX_SLEEP)
    finally:
        await restarted.stop()
    assert (again.id, again.nonce, again.attempts) == (claimed.id, claimed.nonce, 2)
    assert (await job_of(store, "a")).state is JobState.DONE
    assert any("Took back 1 job" in r.getMessage() for r in caplog.records)


async def test_a_handler_cut_off_by_stop_runs_again_at_the_next_start(
    store: Store, clock: FakeClock, start: int
) -> None:
    gate = Gate()
    stuck = Handler(gate)
    first = Scheduler(store, clock, owner="main", lease=LEASE, stop_timeout=0)
    first.register(KIND, stuck)
    await first.add(NewJob(KIND, "a", start))
    first.start()
    await asyncio.wait_for(gate.entered.wait(), SAFETY)
    await first.stop()  # does not wait: the handler is cancelled, the job stays claimed
    assert (await job_of(store, "a")).state is JobState.CLAIMED
    handler = Handler()
    second = Scheduler(store, clock, owner="main", lease=LEASE)
    second.register(KIND, handler)
    try:
        second.start()
        [again] = await handler.runs(1)
    finally:
        await second.stop()
    assert again.attempts == 2
    assert (await job_of(store, "a")).state is JobState.DONE


async def test_a_job_whose_lease_ran_out_before_its_turn_is_claimed_again(
    store: Store, scheduler: Scheduler, clock: FakeClock, start: int
) -> None:
    async def slow(job: Job) -> None:
        if job.key == "a":
            clock.advance(LEASE)  # the first job outlasts the lease of the second

    handler = Handler(slow)
    scheduler.register(KIND, handler)
    await scheduler.add(NewJob(KIND, "a", start))
    await scheduler.add(NewJob(KIND, "b", start))
    scheduler.start()
    await handler.runs(2)
    await asleep_until(clock, start + LEASE + MAX_SLEEP)
    assert handler.keys == ["a", "b"]
    assert handler.jobs[1].attempts == 2  # claimed again, not run under the stale claim
    assert (await job_of(store, "b")).state is JobState.DONE


# -- stopping ----------------------------------------------------------------------------


async def test_stop_waits_for_the_handler_in_flight(
    store: Store, scheduler: Scheduler, clock: FakeClock, start: int
) -> None:
    gate = Gate()
    scheduler.register(KIND, Handler(gate))
    await scheduler.add(NewJob(KIND, "a", start))
    await scheduler.add(NewJob(KIND, "b", start))
    scheduler.start()
    await asyncio.wait_for(gate.entered.wait(), SAFETY)
    stopping = asyncio.ensure_future(scheduler.stop())
    for _ in range(20):
        await asyncio.sleep(0)
    assert not stopping.done()
    gate.opened.set()
    await asyncio.wait_for(stopping, SAFETY)
    await scheduler.stop()  # twice is fine
    assert (await job_of(store, "a")).state is JobState.DONE
    after = await job_of(store, "b")  # claimed with "a", never started: given back
    assert (after.state, after.claimed_by) == (JobState.PENDING, None)
    with pytest.raises(RuntimeError):
        scheduler.start()


async def test_stop_before_start_is_fine(store: Store, clock: FakeClock) -> None:
    scheduler = Scheduler(store, clock, owner="main")
    await scheduler.stop()
    await scheduler.stop()


async def test_closing_the_store_ends_the_loop_without_a_traceback(
    store: Store, scheduler: Scheduler, clock: FakeClock, start: int, caplog: pytest.LogCaptureFixture
) -> None:
    scheduler.register(KIND, Handler())
    scheduler.start()
    await asleep_until(clock, start + MAX_SLEEP)
    await store.close()
    scheduler.wake()
    await asyncio.wait_for(scheduler.stop(), SAFETY)
    assert errors_with_traceback(caplog) == []


# -- kinds, re-arming, cancelling ----------------------------------------------------------


async def test_a_kind_is_registered_once(scheduler: Scheduler) -> None:
    scheduler.register(KIND, Handler())
    with pytest.raises(ValueError, match="already registered"):
        scheduler.register(KIND, Handler())
    scheduler.unregister(KIND)
    scheduler.register(KIND, Handler())


async def test_jobs_of_a_kind_without_a_handler_wait_for_one(
    store: Store, scheduler: Scheduler, clock: FakeClock, start: int, caplog: pytest.LogCaptureFixture
) -> None:
    await scheduler.add(NewJob("purge", "daily", start))
    scheduler.register(KIND, Handler())
    scheduler.start()
    await asleep_until(clock, start + MAX_SLEEP)  # not claimed, and no busy loop
    job = await job_of(store, "daily", "purge")
    assert (job.state, job.attempts) == (JobState.PENDING, 0)
    assert any("purge" in r.getMessage() and r.levelno == logging.WARNING for r in caplog.records)
    purge = Handler()
    scheduler.register("purge", purge)  # a feature loaded late: its due jobs run now
    await purge.runs(1)
    await asleep_until(clock, start + MAX_SLEEP)
    assert (await job_of(store, "daily", "purge")).state is JobState.DONE


async def test_rescheduling_re_arms_a_done_job(
    store: Store, scheduler: Scheduler, clock: FakeClock, start: int
) -> None:
    handler = Handler()
    scheduler.register(KIND, handler)
    first = await scheduler.add(NewJob(KIND, "a", start))
    scheduler.start()
    await handler.runs(1)
    await asleep_until(clock, start + MAX_SLEEP)
    again = await scheduler.add(NewJob(KIND, "a", start + 100, payload={"premiere_at": 2}))
    assert (again.state, again.attempts) == (JobState.PENDING, 0)
    await asleep_until(clock, start + 100)
    clock.advance(100)
    [one, two] = await handler.runs(2)
    assert (one.id, two.id) == (first.id, again.id)
    assert one.nonce != two.nonce  # a new occurrence is never taken for a retry of the old
    assert dict(two.payload) == {"premiere_at": 2}


async def test_a_cancelled_job_does_not_run(
    store: Store, scheduler: Scheduler, clock: FakeClock, start: int
) -> None:
    handler = Handler()
    scheduler.register(KIND, handler)
    scheduler.start()
    await scheduler.add(NewJob(KIND, "a", start + 60))
    await asleep_until(clock, start + 60)
    assert await scheduler.cancel(KIND, "a")
    assert not await scheduler.cancel(KIND, "a")
    clock.advance(60)
    await asleep_until(clock, start + 60 + MAX_SLEEP)
    assert handler.jobs == []
    assert await store.jobs.get(KIND, "a") is None


# -- the loop survives ----------------------------------------------------------------------


class FailingOnceClock(FakeClock):
    """A clock whose first sleep fails, as anything the loop awaits might."""

    def __init__(self, now: float) -> None:
        super().__init__(now)
        self.failed = False

    async def sleep(self, seconds: float) -> None:
        if not self.failed:
            self.failed = True
            raise RuntimeError("the clock broke")
        await super().sleep(seconds)


async def test_the_loop_logs_a_failure_of_its_own_and_goes_on(
    store: Store, clock: FakeClock, start: int, caplog: pytest.LogCaptureFixture
) -> None:
    broken = FailingOnceClock(clock.now())
    handler = Handler()
    scheduler = Scheduler(store, broken, owner="main")
    scheduler.register(KIND, handler)
    try:
        scheduler.start()
        await asleep_until(broken, start + 60)  # the error pause
        [record] = errors_with_traceback(caplog)
        assert "loop failed" in record.getMessage()
        await scheduler.add(NewJob(KIND, "a", start + 10))
        await asleep_until(broken, start + 10)
        broken.advance(10)
        await handler.runs(1)
    finally:
        await scheduler.stop()
