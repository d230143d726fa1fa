"""The one scheduler: every timed piece of work of the bot is a job in the store.

Reminders, closing polls, the daily purge and the retries of all of them are jobs
(``store.jobs``): a kind, a key, a due time and a JSON payload.  One task claims the jobs
that are due and runs each with the handler registered for its kind, one at a time in
due order, then sleeps on the injected :class:`~bot.clock.Clock` until the next one is
due (at most :data:`MAX_SLEEP`, so a jump of the wall clock is noticed); a job added for
an earlier moment wakes it.  Nothing here sleeps on real time except the bound on how
long :meth:`Scheduler.stop` waits for a handler, which is a deadline of the host's
shutdown, not a schedule.

Claims are leases: a process that dies mid-job leaves a claim that another process
takes over once the lease ends, and that the same process (the same ``owner`` name)
takes back at once when it starts again.  A job is therefore run *at least* once, and
a handler must make its effect exactly once itself, which it does in one of two ways:

- An effect in the database: the feature's store method commits the effect and
  :func:`bot.store.jobs.complete_in` in one writer job.  A crash before that commit
  leaves nothing done and the job claimed; after it, the job is done and never runs
  again.  (Completing it again when the handler returns is a no-op.)
- A channel post: sent with ``nonce=job.nonce`` and ``enforce_nonce``.  The nonce comes
  from the job's id, so it is the same on every retry and after a restart, and Discord
  answers a second post with the same nonce, within a few minutes, with the message it
  already made.  A crash between the post and the commit that follows therefore posts
  nothing twice, provided the job runs again within those minutes: a retry meant to
  repeat a post that may have reached Discord should come soon (``RetryLater(60, ...)``).

A handler that returns has succeeded: the job is done.  :class:`RetryLater` puts the
job back for a later moment (a refused post, a server not available yet) and does not
count as a failure; any other exception is logged with its traceback and retried with
back-off (:data:`BACKOFF`) until the job has failed ``max_failures`` times, when it is
marked failed and kept for the record.

A process that runs some of the bot's shards (``shards``) claims only the jobs of the
servers on them, and jobs of no server (the daily purge), whichever process is first:
a server's reminders and poll closes run in the process its events and interactions
reach.  Its ``owner`` name must then name the shard set, so that no two processes share
one (:func:`owner_name`).

A process claims only the kinds it has handlers for: a job of a kind it does not know
(one a newer version added, or a feature that is not loaded) waits for a process that
does, and is named in a warning when the scheduler starts.  Re-arming a job (scheduling
the same kind and key again) makes a new job with a new id: a run still in flight
under the old one can neither complete nor retry it, and its posts carry another nonce.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Sequence

from bot.clock import Clock
from bot.models import Job, NewJob
from bot.shards import ShardSet
from bot.store import Store, StoreClosed, StoreUnavailable

__all__ = [
    "BACKOFF",
    "LEASE",
    "MAX_FAILURES",
    "MAX_SLEEP",
    "Handler",
    "RetryLater",
    "Scheduler",
    "owner_name",
]

log = logging.getLogger(__name__)

Handler = Callable[[Job], Awaitable[None]]

LEASE = 120  # seconds a claim lasts (see Scheduler)
MAX_SLEEP = 3600.0  # the longest sleep: a jump of the wall clock is noticed within an hour
ERROR_PAUSE = 60.0  # after the loop itself failed (the database, say), try again this much later
# After the database could not be reached (PostgreSQL restarting: the store reconnects by
# itself and logs it), the loop, or a job that met it, tries again this much later.
UNAVAILABLE_PAUSE = 5.0
BACKOFF = (60, 300, 1800, 7200)  # seconds before the 1st, 2nd, 3rd, later retries after an error
MAX_FAILURES = 5  # a job that raised this many times is marked failed


def owner_name(base: str, shards: ShardSet | None) -> str:
    """The name of a process's claims: ``base`` alone for the one process of a bot, else
    with its shard set (``halfbie:0-3/16``), the same across its restarts and different
    from every other process's."""
    return base if shards is None else f"{base}:{shards}"


class RetryLater(Exception):
    """Raised by a handler: run the job again ``after`` seconds from now.

    For an outcome the handler understands (Discord refused a post, the server is not
    available): logged without a traceback, and never turns the job into a failure.
    ``reason`` is kept on the job as its note.
    """

    def __init__(self, after: float, reason: str) -> None:
        if after < 0:
            raise ValueError("a retry cannot be in the past")
        super().__init__(reason)
        self.after = after
        self.reason = reason


class Scheduler:
    """Runs the jobs in the store with the handlers registered here, on ``clock``.

    ``owner`` names this process's claims and must differ between processes sharing a
    database (and stay the same across restarts of one process).  A claim lasts
    ``lease`` seconds: a handler should finish well within it, or another process may
    run the job too.  The default is shorter than Discord's nonce window of "a few
    minutes", so a post whose process died before recording it is retried by another
    process while Discord still recognises the nonce.  ``batch`` jobs are claimed per
    transaction.  ``shards``: the shards this process runs, when it runs some of the
    bot's (only their servers' jobs are claimed here).
    """

    def __init__(
        self,
        store: Store,
        clock: Clock,
        *,
        owner: str,
        lease: int = LEASE,
        batch: int = 50,
        max_failures: int = MAX_FAILURES,
        backoff: Sequence[int] = BACKOFF,
        stop_timeout: float = 10.0,
        shards: ShardSet | None = None,
    ) -> None:
        if not owner:
            raise ValueError("the scheduler needs an owner name for its claims")
        if lease < 1 or batch < 1 or max_failures < 1 or not backoff:
            raise ValueError("lease, batch and max_failures must be positive, backoff not empty")
        self._store = store
        self._clock = clock
        self._owner = owner
        self._lease = lease
        self._batch = batch
        self._max_failures = max_failures
        self._backoff = tuple(backoff)
        self._stop_timeout = stop_timeout
        self._shards = shards
        self._handlers: dict[str, Handler] = {}
        self._wake = asyncio.Event()
        self._lock = asyncio.Lock()  # one run_due at a time: the loop's, or a caller's
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self._deadline: float | None = None  # when the loop's sleep ends; None while it works
        self._current: Job | None = None  # the job whose handler is running

    # -- handlers ---------------------------------------------------------------------------

    def register(self, kind: str, handler: Handler) -> None:
        """Run jobs of ``kind`` with ``handler`` (idempotent: see the module's docstring)."""
        if kind in self._handlers:
            raise ValueError(f"a handler for {kind!r} jobs is already registered")
        self._handlers[kind] = handler
        self._wake.set()  # jobs of this kind may be due already

    def unregister(self, kind: str) -> None:
        """Stop running jobs of ``kind`` (a feature unloading); one in flight finishes.
        Its jobs wait in the store until a handler is registered again."""
        self._handlers.pop(kind, None)

    # -- jobs -------------------------------------------------------------------------------

    async def add(self, new: NewJob) -> Job:
        """Schedule a job, or re-arm the one with this kind and key; the loop wakes if the
        job is due before the moment it sleeps until."""
        job = await self._store.jobs.schedule(new)
        if self._deadline is None or job.due_at < self._deadline:
            self._wake.set()
        return job

    async def cancel(self, kind: str, key: str) -> bool:
        """Cancel a job that has not finished (see :func:`bot.store.jobs.cancel_in`)."""
        return await self._store.jobs.cancel(kind, key)

    def wake(self) -> None:
        """Look for due jobs again now: for a feature that scheduled a job inside its own
        transaction (:func:`bot.store.jobs.schedule_in`), once that has committed."""
        self._wake.set()

    # -- the task ---------------------------------------------------------------------------

    @property
    def started(self) -> bool:
        return self._task is not None

    def start(self) -> None:
        """Start the one task on the running loop (after the features registered their kinds)."""
        if self._task is not None:
            raise RuntimeError("the scheduler is already started")
        if self._stopping:
            raise RuntimeError("a stopped scheduler does not start again")
        self._task = asyncio.get_running_loop().create_task(self._loop(), name="halfbie-scheduler")

    async def stop(self) -> None:
        """Take no new work, let a handler in flight finish, and end the task.

        A handler still running after ``stop_timeout`` seconds is cancelled; its job stays
        claimed and runs again (at the next start, or on another process after its lease).
        Safe to call twice, and before :meth:`start`.
        """
        self._stopping = True
        self._wake.set()
        task = self._task
        if task is None or task.done():
            return
        # asyncio.wait: a caller cancelled meanwhile does not cancel the task
        done, _ = await asyncio.wait({task}, timeout=self._stop_timeout)
        if not done:
            job = self._current
            log.warning(
                "Stopped the scheduler with %s still running after %.0f s; it runs again later",
                "a job" if job is None else f"job {_describe(job)}",
                self._stop_timeout,
            )
            task.cancel()
            await asyncio.wait({task})

    async def run_due(self) -> list[Job]:
        """Claim the jobs due now and run them, one at a time in due order; returns the
        jobs whose handler ran (whatever its outcome)."""
        ran: list[Job] = []
        async with self._lock:
            while not self._stopping:
                claimed = await self._store.jobs.claim_due(
                    int(self._clock.now()),
                    self._owner,
                    kinds=list(self._handlers),
                    lease=self._lease,
                    limit=self._batch,
                    shards=self._shards,
                )
                for job in claimed:
                    if self._stopping:
                        break  # the rest is given back when the loop ends
                    if await self._run(job):
                        ran.append(job)
                if len(claimed) < self._batch:
                    break
        return ran

    async def _loop(self) -> None:
        try:
            await self._take_back()
        except StoreClosed:
            log.info("The store is closed: the scheduler does not start")
            return
        except Exception:
            log.exception("Could not take back this process's earlier claims; their leases will end")
        while not self._stopping:
            self._wake.clear()  # before looking: a job added from here on wakes the sleep below
            pause = 0.0
            try:
                await self.run_due()
                if not self._stopping:
                    due = await self._store.jobs.next_due(list(self._handlers), shards=self._shards)
                    await self._sleep_until(due)
            except StoreClosed:
                log.info("The store closed: the scheduler stops")
                return
            except StoreUnavailable as exc:
                log.warning(
                    "The scheduler cannot reach the database now (%s); it looks again in %.0f s",
                    exc,
                    UNAVAILABLE_PAUSE,
                )
                pause = UNAVAILABLE_PAUSE
            except Exception:
                log.exception("The scheduler's loop failed; it goes on in %.0f s", ERROR_PAUSE)
                pause = ERROR_PAUSE
            if pause and not self._stopping:
                with contextlib.suppress(Exception):
                    await self._sleep(pause)
        await self._give_back()

    async def _take_back(self) -> None:
        """At start: claims this owner left behind belong to a run that ended; free them now."""
        released = await self._store.jobs.release(self._owner)
        if released:
            log.info("Took back %d job(s) claimed by %r before it stopped", released, self._owner)
        unknown = await self._store.jobs.kinds_waiting() - set(self._handlers)
        if unknown:
            log.warning(
                "Jobs of kinds with no handler here wait for another process: %s",
                ", ".join(sorted(unknown)),
            )

    async def _give_back(self) -> None:
        """At a clean stop: jobs claimed but not started go back for any process to take."""
        try:
            async with self._lock:
                released = await self._store.jobs.release(self._owner)
        except StoreClosed:
            return
        except Exception:
            log.exception("Could not give back the claims of %r; their leases will end", self._owner)
            return
        if released:
            log.info("Gave back %d claimed job(s) not started before the stop", released)

    async def _sleep_until(self, due: int | None) -> None:
        now = self._clock.now()
        delay = MAX_SLEEP if due is None else min(max(due - now, 0.0), MAX_SLEEP)
        if delay <= 0:
            return
        self._deadline = now + delay
        try:
            await self._sleep(delay)
        finally:
            self._deadline = None

    async def _sleep(self, seconds: float) -> None:
        """Sleep on the clock until ``seconds`` have passed or someone wakes the loop."""
        woken = asyncio.ensure_future(self._wake.wait())
        timer = asyncio.ensure_future(self._clock.sleep(seconds))
        try:
            await asyncio.wait({woken, timer}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            woken.cancel()
            timer.cancel()
        if timer.done() and not timer.cancelled():
            timer.result()  # a clock that failed to sleep: the loop logs it

    # -- one job ----------------------------------------------------------------------------

    async def _run(self, job: Job) -> bool:
        """Run one claimed job and record its outcome; False if its handler did not run."""
        handler = self._handlers.get(job.kind)
        if handler is None:  # unregistered since the claim
            await self._store.jobs.retry(job, job.due_at, f"no handler for {job.kind!r} in {self._owner!r}")
            return False
        if job.lease_until is not None and self._clock.now() >= job.lease_until:
            # Its lease ran out while earlier jobs ran: another process may have it now.
            log.warning("Skipped job %s: its lease ended before its turn", _describe(job))
            return False
        self._current = job
        try:
            await handler(job)
        except RetryLater as later:
            at = int(self._clock.now() + later.after)
            log.info("Job %s runs again in %.0f s: %s", _describe(job), later.after, later.reason)
            await self._store.jobs.retry(job, at, later.reason)
        except StoreClosed:
            raise
        except StoreUnavailable as exc:  # not the job's failure: it runs again soon
            log.warning("Job %s could not reach the database (%s); it runs again soon", _describe(job), exc)
            await self._store.jobs.retry(job, int(self._clock.now() + UNAVAILABLE_PAUSE), str(exc))
        except Exception as exc:
            await self._failed(job, exc)
        else:
            if not await self._store.jobs.complete(job):
                log.info("Job %s was re-armed, cancelled or taken over while it ran", _describe(job))
        finally:
            self._current = None
        return True

    async def _failed(self, job: Job, exc: Exception) -> None:
        failures = job.failures + 1
        note = f"{type(exc).__name__}: {exc}"
        if failures >= self._max_failures:
            log.error("Job %s failed %d times; giving up", _describe(job), failures, exc_info=exc)
            await self._store.jobs.fail(job, note)
            return
        delay = self._backoff[min(failures, len(self._backoff)) - 1]
        log.error(
            "Job %s failed (%d of %d); trying again in %d s",
            _describe(job),
            failures,
            self._max_failures,
            delay,
            exc_info=exc,
        )
        await self._store.jobs.retry(job, int(self._clock.now()) + delay, note, failed=True)


def _describe(job: Job) -> str:
    where = "" if job.guild_id is None else f" of server {job.guild_id}"
    return f"{job.kind} {job.key!r}{where} (id {job.id}, attempt {job.attempts})"
