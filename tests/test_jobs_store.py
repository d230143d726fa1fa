"""The scheduler's jobs in the store: scheduling, claims under a lease, and their outcomes."""

from __future__ import annotations

import dataclasses

import aiosqlite
import pytest

from bot.models import Job, JobState, NewJob
from bot.store import Store
from bot.store.jobs import cancel_in, complete_in, schedule_in
from tests.store_fixtures import clock_of

KIND = "remind"
LEASE = 300


# -- SQL fixtures ------------------------------------------------------------------------


async def add_guild(store: Store, guild_id: int) -> None:
    """A server row for jobs to belong to."""

    async def job(conn: aiosqlite.Connection) -> None:
        await conn.execute("INSERT INTO guilds (guild_id, first_seen_at) VALUES (?, 0)", (guild_id,))

    await store.writer.submit(job)


async def delete_guild(store: Store, guild_id: int) -> None:
    """What the purge of a server does to its row (its children go by cascade)."""

    async def job(conn: aiosqlite.Connection) -> None:
        await conn.execute("DELETE FROM guilds WHERE guild_id = ?", (guild_id,))

    await store.writer.submit(job)


def now(store: Store) -> int:
    return int(clock_of(store).now())


async def claim(store: Store, owner: str = "main", *, kinds: tuple[str, ...] = (KIND,)) -> list[Job]:
    return await store.jobs.claim_due(now(store), owner, kinds=kinds, lease=LEASE, limit=50)


# -- scheduling --------------------------------------------------------------------------


async def test_a_scheduled_job_is_pending_with_its_payload(store: Store) -> None:
    await add_guild(store, 7)
    job = await store.jobs.schedule(
        NewJob(KIND, "7:week", now(store) + 60, guild_id=7, payload={"kind": "week", "premiere_at": 123})
    )
    assert (job.kind, job.key, job.guild_id, job.due_at) == (KIND, "7:week", 7, now(store) + 60)
    assert (job.state, job.attempts, job.failures, job.claimed_by) == (JobState.PENDING, 0, 0, None)
    assert dict(job.payload) == {"kind": "week", "premiere_at": 123}
    with pytest.raises(TypeError):
        job.payload["kind"] = "day"  # type: ignore[index]
    assert await store.jobs.get(KIND, "7:week") == job
    assert await store.jobs.get(KIND, "7:day") is None
    assert job.nonce == f"job-{job.id}"


def test_a_nonce_fits_discords_limit_for_any_id() -> None:
    job = Job(id=2**63 - 1, kind=KIND, key="k", guild_id=None, due_at=0, payload={}, state=JobState.PENDING)
    assert len(job.nonce) <= 25


async def test_a_payload_must_be_a_json_object_keyed_by_strings(store: Store) -> None:
    with pytest.raises(TypeError):
        await store.jobs.schedule(NewJob(KIND, "a", 0, payload={"when": object()}))
    with pytest.raises(TypeError):
        await store.jobs.schedule(NewJob(KIND, "a", 0, payload={1: "one"}))  # type: ignore[dict-item]
    assert await store.jobs.get(KIND, "a") is None


async def test_scheduling_again_re_arms_the_job_under_a_new_id(store: Store) -> None:
    first = await store.jobs.schedule(NewJob(KIND, "a", now(store), payload={"n": 1}))
    [claimed] = await claim(store)
    assert await store.jobs.complete(claimed)
    again = await store.jobs.schedule(NewJob(KIND, "a", now(store) + 100, payload={"n": 2}))
    assert again.id > first.id
    assert again.nonce != first.nonce
    assert (again.state, again.attempts, again.claimed_by, again.done_at, dict(again.payload)) == (
        JobState.PENDING,
        0,
        None,
        None,
        {"n": 2},
    )
    assert await store.jobs.get(KIND, "a") == again  # one job per kind and key
    # a run still holding the old claim can no longer finish anything
    assert not await store.jobs.complete(claimed)
    assert not await store.jobs.retry(claimed, now(store), "again")


async def test_an_id_is_never_given_out_twice(store: Store) -> None:
    first = await store.jobs.schedule(NewJob(KIND, "a", 0))
    assert await store.jobs.cancel(KIND, "a")
    second = await store.jobs.schedule(NewJob(KIND, "b", 0))
    assert second.id > first.id  # a cancelled job's nonce is never a new job's


async def test_schedule_in_commits_with_the_callers_write(store: Store) -> None:
    async def feature(conn: aiosqlite.Connection) -> Job:
        await conn.execute("INSERT INTO meta (key, value) VALUES ('premiere', '1')")
        return await schedule_in(conn, NewJob(KIND, "a", 500, payload={"premiere_at": 1}))

    job = await store.writer.submit(feature)
    assert await store.jobs.get(KIND, "a") == job
    assert await store.meta.get("premiere") == "1"

    async def failing(conn: aiosqlite.Connection) -> None:
        await conn.execute("INSERT INTO meta (key, value) VALUES ('other', '1')")
        await schedule_in(conn, NewJob(KIND, "b", 500))
        raise RuntimeError("the feature's write failed")

    with pytest.raises(RuntimeError):
        await store.writer.submit(failing)
    assert await store.jobs.get(KIND, "b") is None
    assert await store.meta.get("other") is None


# -- cancelling --------------------------------------------------------------------------


async def test_cancel_removes_a_job_not_finished_and_keeps_history(store: Store) -> None:
    await store.jobs.schedule(NewJob(KIND, "pending", now(store) + 60))
    await store.jobs.schedule(NewJob(KIND, "claimed", now(store)))
    await store.jobs.schedule(NewJob(KIND, "done", now(store)))
    claimed = {job.key: job for job in await claim(store)}
    assert await store.jobs.complete(claimed["done"])

    assert await store.jobs.cancel(KIND, "pending")
    assert await store.jobs.cancel(KIND, "claimed")
    assert not await store.jobs.complete(claimed["claimed"])  # its run can no longer complete it
    assert not await store.jobs.cancel(KIND, "done")
    assert not await store.jobs.cancel(KIND, "never")
    assert await store.jobs.get(KIND, "pending") is None
    done = await store.jobs.get(KIND, "done")
    assert done is not None
    assert done.state is JobState.DONE


async def test_cancel_in_commits_with_the_callers_write(store: Store) -> None:
    await store.jobs.schedule(NewJob(KIND, "a", now(store) + 60))

    async def feature(conn: aiosqlite.Connection) -> bool:
        await conn.execute("INSERT INTO meta (key, value) VALUES ('premiere', 'cleared')")
        return await cancel_in(conn, KIND, "a")

    assert await store.writer.submit(feature)
    assert await store.jobs.get(KIND, "a") is None


# -- what is due, and claims -------------------------------------------------------------


async def test_next_due_is_the_earliest_pending_job_or_lease_end_of_these_kinds(store: Store) -> None:
    start = now(store)
    assert await store.jobs.next_due([KIND]) is None
    await store.jobs.schedule(NewJob("other", "x", start + 5))
    await store.jobs.schedule(NewJob(KIND, "later", start + 100))
    await store.jobs.schedule(NewJob(KIND, "now", start))
    assert await store.jobs.next_due([KIND]) == start
    assert await store.jobs.next_due([KIND, "other"]) == start
    assert await store.jobs.next_due(["other"]) == start + 5
    assert await store.jobs.next_due([]) is None
    [claimed] = await claim(store)
    assert claimed.key == "now"
    assert await store.jobs.next_due([KIND]) == start + 100
    clock_of(store).advance(200)
    await claim(store)  # takes "later"; "now" is still claimed, its lease ends at start + 300
    assert await store.jobs.next_due([KIND]) == start + LEASE
    assert await store.jobs.complete(claimed)
    assert await store.jobs.next_due([KIND]) == start + 200 + LEASE


async def test_a_claim_takes_due_jobs_of_its_kinds_in_due_order(store: Store) -> None:
    start = now(store)
    b = await store.jobs.schedule(NewJob(KIND, "b", start - 10))
    a = await store.jobs.schedule(NewJob(KIND, "a", start - 20))
    c = await store.jobs.schedule(NewJob(KIND, "c", start - 10))
    await store.jobs.schedule(NewJob(KIND, "future", start + 1))
    await store.jobs.schedule(NewJob("other", "x", start - 30))

    first = await store.jobs.claim_due(start, "main", kinds=[KIND], lease=LEASE, limit=2)
    assert [job.id for job in first] == [a.id, b.id]
    for job in first:
        assert (job.state, job.claimed_by, job.lease_until, job.attempts) == (
            JobState.CLAIMED,
            "main",
            start + LEASE,
            1,
        )
    rest = await store.jobs.claim_due(start, "main", kinds=[KIND], lease=LEASE, limit=50)
    assert [job.id for job in rest] == [c.id]
    assert await store.jobs.claim_due(start, "main", kinds=[], lease=LEASE, limit=50) == []
    other = await store.jobs.get("other", "x")
    assert other is not None
    assert other.state is JobState.PENDING


async def test_a_claim_is_taken_over_only_once_its_lease_has_ended(store: Store) -> None:
    job = await store.jobs.schedule(NewJob(KIND, "a", now(store)))
    [mine] = await claim(store, "dead")
    clock_of(store).advance(LEASE - 1)
    assert await claim(store, "alive") == []
    clock_of(store).advance(1)
    [taken] = await claim(store, "alive")
    assert (taken.id, taken.claimed_by, taken.attempts) == (job.id, "alive", 2)
    # the process that lost it finishes nothing
    assert not await store.jobs.complete(mine)
    assert not await store.jobs.retry(mine, now(store), "again")
    assert not await store.jobs.fail(mine, "gave up")
    assert await store.jobs.complete(taken)


async def test_release_gives_back_only_the_owners_claims(store: Store) -> None:
    await store.jobs.schedule(NewJob(KIND, "a", now(store)))
    await store.jobs.schedule(NewJob(KIND, "b", now(store)))
    [a] = await store.jobs.claim_due(now(store), "main", kinds=[KIND], lease=LEASE, limit=1)
    [b] = await claim(store, "other")
    assert await store.jobs.release("main") == 1
    assert await store.jobs.release("main") == 0
    again = await store.jobs.get(KIND, a.key)
    assert again is not None
    assert (again.state, again.claimed_by, again.lease_until, again.attempts, again.due_at) == (
        JobState.PENDING,
        None,
        None,
        1,
        a.due_at,
    )
    still = await store.jobs.get(KIND, b.key)
    assert still is not None
    assert still.claimed_by == "other"


# -- outcomes ----------------------------------------------------------------------------


async def test_complete_is_done_once_and_only_by_the_claim_holder(store: Store) -> None:
    await store.jobs.schedule(NewJob(KIND, "a", now(store)))
    [job] = await claim(store)
    assert not await store.jobs.complete(dataclasses.replace(job, claimed_by="someone else"))
    clock_of(store).advance(5)
    assert await store.jobs.complete(job, note="posted")
    clock_of(store).advance(5)
    assert await store.jobs.complete(job)  # again: already done under this claim
    done = await store.jobs.get(KIND, "a")
    assert done is not None
    assert (done.state, done.done_at, done.note, done.lease_until, done.claimed_by) == (
        JobState.DONE,
        now(store) - 5,
        "posted",
        None,
        "main",
    )
    with pytest.raises(ValueError, match="claimed"):
        await store.jobs.complete(dataclasses.replace(job, claimed_by=None))


async def test_complete_in_commits_with_the_effect_and_the_handlers_return_changes_nothing(
    store: Store,
) -> None:
    await store.jobs.schedule(NewJob(KIND, "poll:1", now(store)))
    [job] = await claim(store)

    async def close_poll(conn: aiosqlite.Connection) -> bool:
        await conn.execute("INSERT INTO meta (key, value) VALUES ('poll:1', 'closed')")
        return await complete_in(conn, job, now(store), note="closed")

    assert await store.writer.submit(close_poll)
    clock_of(store).advance(5)
    assert await store.jobs.complete(job)  # what the scheduler does when the handler returns
    done = await store.jobs.get(KIND, "poll:1")
    assert done is not None
    assert (done.state, done.note, done.done_at) == (JobState.DONE, "closed", now(store) - 5)
    assert await store.meta.get("poll:1") == "closed"


async def test_retry_puts_a_job_back_and_counts_failures_only_when_asked(store: Store) -> None:
    await store.jobs.schedule(NewJob(KIND, "a", now(store)))
    [job] = await claim(store)
    assert await store.jobs.retry(job, now(store) + 600, "Discord refused the post")
    again = await store.jobs.get(KIND, "a")
    assert again is not None
    assert (again.state, again.due_at, again.note, again.failures, again.attempts, again.claimed_by) == (
        JobState.PENDING,
        now(store) + 600,
        "Discord refused the post",
        0,
        1,
        None,
    )
    assert not await store.jobs.retry(job, now(store), "twice")  # no longer claimed
    clock_of(store).advance(600)
    [job] = await claim(store)
    assert await store.jobs.retry(job, now(store) + 60, "x" * 2000, failed=True)
    again = await store.jobs.get(KIND, "a")
    assert again is not None
    assert (again.failures, again.attempts, again.note) == (1, 2, "x" * 500)


async def test_fail_keeps_the_job_for_the_record(store: Store) -> None:
    await store.jobs.schedule(NewJob(KIND, "a", now(store)))
    [job] = await claim(store)
    assert await store.jobs.fail(job, "ValueError: boom")
    failed = await store.jobs.get(KIND, "a")
    assert failed is not None
    assert (failed.state, failed.note, failed.failures, failed.done_at) == (
        JobState.FAILED,
        "ValueError: boom",
        1,
        now(store),
    )
    assert await store.jobs.next_due([KIND]) is None
    assert await claim(store) == []


# -- housekeeping ------------------------------------------------------------------------


async def test_forget_finished_deletes_old_done_and_failed_jobs_only(store: Store) -> None:
    for key in ("done", "failed", "pending", "recent"):
        await store.jobs.schedule(NewJob(KIND, key, now(store) if key != "pending" else now(store) + 10**6))
    jobs = {job.key: job for job in await claim(store)}
    assert await store.jobs.complete(jobs["done"])
    assert await store.jobs.fail(jobs["failed"], "boom")
    clock_of(store).advance(100)
    assert await store.jobs.complete(jobs["recent"])
    assert await store.jobs.forget_finished(now(store) - 50) == 2
    assert [await store.jobs.get(KIND, key) is None for key in ("done", "failed", "pending", "recent")] == [
        True,
        True,
        False,
        False,
    ]


async def test_kinds_waiting_names_the_kinds_not_finished(store: Store) -> None:
    assert await store.jobs.kinds_waiting() == set()
    await store.jobs.schedule(NewJob(KIND, "a", now(store)))
    await store.jobs.schedule(NewJob("purge", "daily", now(store) + 60))
    await store.jobs.schedule(NewJob("close_poll", "1", now(store)))
    [job] = await claim(store, kinds=("close_poll",))
    assert await store.jobs.kinds_waiting() == {KIND, "purge", "close_poll"}
    assert await store.jobs.complete(job)
    assert await store.jobs.kinds_waiting() == {KIND, "purge"}


async def test_a_servers_jobs_go_with_it(store: Store) -> None:
    await add_guild(store, 7)
    await add_guild(store, 8)
    await store.jobs.schedule(NewJob(KIND, "7:week", now(store), guild_id=7))
    await store.jobs.schedule(NewJob(KIND, "8:week", now(store), guild_id=8))
    await store.jobs.schedule(NewJob("purge", "daily", now(store)))
    await delete_guild(store, 7)
    assert await store.jobs.get(KIND, "7:week") is None
    assert await store.jobs.get(KIND, "8:week") is not None
    assert await store.jobs.get("purge", "daily") is not None
