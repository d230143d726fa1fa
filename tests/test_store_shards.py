"""The store shared by several processes: jobs claimed per shard, turns to IDENTIFY, one
holder of a bot-wide lock, concurrent seeding, and other processes' writes heard.

The contract tests run on both stores; what only PostgreSQL has (several processes at
once, advisory locks, LISTEN/NOTIFY) takes the ``postgres`` fixture.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import asyncpg
import pytest
import pytest_asyncio

from bot.models import JobState, NewJob, SpoilerMode
from bot.shards import ShardSet, shard_of
from bot.store import Store
from bot.store._conn import Connection
from bot.store._pg import LISTENER_NAME
from tests.store_fixtures import FakeClock, clock_of, count_rows, read_outside, small_canon
from tests.test_jobs_store import add_guild

KIND = "remind"
LEASE = 300
# Server ids on shard 0 and on shard 1 of 2 (a snowflake's shard is in its upper bits).
ON_0 = (1 << 22) * 10
ON_1 = (1 << 22) * 11


def now(store: Store) -> int:
    return int(clock_of(store).now())


async def schedule(store: Store, key: str, guild_id: int | None, *, due: int = 0) -> None:
    await store.jobs.schedule(NewJob(KIND, key, now(store) + due, guild_id=guild_id))


def test_shard_sets_parse_and_read_as_on_the_command_line() -> None:
    assert shard_of(ON_0, 2) == 0
    assert shard_of(ON_1, 2) == 1
    shards = ShardSet((0, 1, 2, 3, 8), 16)
    assert str(shards) == "0-3,8/16"
    assert shards.owns((1 << 22) * 8)
    assert not shards.owns((1 << 22) * 9)
    assert not shards.complete
    assert ShardSet.every(2).complete
    with pytest.raises(ValueError, match="run from 0 to 1"):
        ShardSet((2,), 2)


# -- jobs per shard (both stores) --------------------------------------------------------------


async def test_a_process_claims_its_shards_jobs_and_the_jobs_of_no_server(store: Store) -> None:
    for guild_id in (ON_0, ON_1):
        await add_guild(store, guild_id)
    await schedule(store, "zero", ON_0)
    await schedule(store, "one", ON_1)
    await schedule(store, "purge", None)
    zero, one = ShardSet((0,), 2), ShardSet((1,), 2)

    assert await store.jobs.next_due([KIND], shards=one) == now(store)
    got_zero = await store.jobs.claim_due(
        now(store), "p:0/2", kinds=[KIND], lease=LEASE, limit=50, shards=zero
    )
    assert {job.key for job in got_zero} == {"zero", "purge"}  # the purge: whoever comes first
    got_one = await store.jobs.claim_due(now(store), "p:1/2", kinds=[KIND], lease=LEASE, limit=50, shards=one)
    assert [job.key for job in got_one] == ["one"]

    # Past the lease, a claim of shard 0's is still not shard 1's to take over.
    clock_of(store).advance(LEASE)
    assert await store.jobs.next_due([KIND], shards=one) == now(store)  # the purge's lease
    again = await store.jobs.claim_due(now(store), "p:1/2", kinds=[KIND], lease=LEASE, limit=50, shards=one)
    assert {job.key for job in again} == {"one", "purge"}
    zero_job = await store.jobs.get(KIND, "zero")
    assert zero_job is not None
    assert (zero_job.state, zero_job.claimed_by) == (JobState.CLAIMED, "p:0/2")


async def test_a_process_of_every_shard_claims_every_job(store: Store) -> None:
    for guild_id in (ON_0, ON_1):
        await add_guild(store, guild_id)
    await schedule(store, "zero", ON_0)
    await schedule(store, "one", ON_1, due=60)
    every = ShardSet.every(2)
    assert await store.jobs.next_due([KIND], shards=ShardSet((1,), 2)) == now(store) + 60
    assert await store.jobs.next_due([KIND], shards=every) == now(store)
    clock_of(store).advance(60)
    got = await store.jobs.claim_due(now(store), "p", kinds=[KIND], lease=LEASE, limit=50, shards=every)
    assert {job.key for job in got} == {"zero", "one"}


# -- IDENTIFY turns (both stores) ---------------------------------------------------------------


async def test_a_bucket_gives_one_identify_turn_per_spacing(store: Store) -> None:
    turns = store.coordination
    assert await turns.take_identify_turn(0, 0.3) == 0.0
    wait = await turns.take_identify_turn(0, 0.3)
    assert 0.0 < wait <= 0.3
    assert await turns.take_identify_turn(1, 0.3) == 0.0  # another bucket: its own turns
    await asyncio.sleep(wait)  # Discord's pacing is real time; the database's clock says
    assert await turns.take_identify_turn(0, 0.3) == 0.0


async def test_a_turn_taken_in_the_future_does_not_hold_the_bucket_up(store: Store) -> None:
    """The database's clock went back: the last IDENTIFY seems to lie ahead; the bucket is free."""
    assert await store.coordination.take_identify_turn(0, 5.0) == 0.0

    async def later(conn: Connection) -> None:
        await conn.execute("UPDATE identify_slots SET at = at + 3600")

    await store.writer.submit(later)
    assert await store.coordination.take_identify_turn(0, 5.0) == 0.0


async def test_the_one_process_of_an_sqlite_file_holds_every_lock(store: Store) -> None:
    async with store.coordination.exclusive("anything", wait=0) as held:
        assert held


# -- several processes on PostgreSQL ----------------------------------------------------------


@pytest_asyncio.fixture
async def two(postgres: str) -> AsyncIterator[tuple[Store, Store]]:
    """Two processes' stores on one database, on one clock."""
    clock = FakeClock()
    first = await Store.open(postgres, clock=clock)
    second = await Store.open(postgres, clock=clock)
    try:
        yield first, second
    finally:
        await first.close()
        await second.close()


async def test_processes_claiming_together_never_take_one_job_twice(two: tuple[Store, Store]) -> None:
    first, second = two
    for i in range(200):
        await schedule(first, f"job{i}", None)

    async def drain(store: Store, owner: str) -> list[int]:
        taken: list[int] = []
        while batch := await store.jobs.claim_due(now(store), owner, kinds=[KIND], lease=LEASE, limit=7):
            taken += [job.id for job in batch]
        return taken

    a, b, c = await asyncio.gather(drain(first, "a"), drain(second, "b"), drain(first, "c"))
    assert len(a) + len(b) + len(c) == 200
    assert len(set(a) | set(b) | set(c)) == 200


async def test_processes_re_arming_one_job_together_leave_one_job(two: tuple[Store, Store]) -> None:
    """Every process re-arms the daily purge when it is ready, at the same moment."""
    first, second = two
    purge = NewJob("purge", "daily", now(first))
    await asyncio.gather(*(store.jobs.schedule(purge) for _ in range(10) for store in (first, second)))
    rows = await read_outside(first, "SELECT state FROM jobs WHERE kind = 'purge' AND key = 'daily'")
    assert rows == [("pending",)]


async def test_a_claim_skips_the_jobs_another_process_has_locked(
    two: tuple[Store, Store], postgres: str
) -> None:
    first, _ = two
    for i in range(4):
        await schedule(first, f"job{i}", None)
    other = await asyncpg.connect(postgres)  # another process, in the middle of its claim
    try:
        transaction = other.transaction()
        await transaction.start()
        locked = await other.fetch("SELECT id FROM jobs ORDER BY id LIMIT 2 FOR UPDATE")
        claimed = await asyncio.wait_for(
            first.jobs.claim_due(now(first), "a", kinds=[KIND], lease=LEASE, limit=50), timeout=5
        )
        await transaction.rollback()
    finally:
        await other.close()
    assert {job.id for job in claimed}.isdisjoint(row["id"] for row in locked)
    assert len(claimed) == 2


async def test_processes_taking_identify_turns_together_get_one_each(postgres: str) -> None:
    stores = await asyncio.gather(*(Store.open(postgres) for _ in range(4)))
    try:
        waits = await asyncio.gather(*(s.coordination.take_identify_turn(0, 5.0) for s in stores))
    finally:
        for store in stores:
            await store.close()
    assert sorted(waits)[0] == 0.0
    assert all(0.0 < wait <= 5.0 for wait in sorted(waits)[1:])


async def test_a_bot_wide_lock_has_one_holder_at_a_time(two: tuple[Store, Store]) -> None:
    first, second = two
    async with first.coordination.exclusive("commands.sync", wait=1) as held:
        assert held
        async with second.coordination.exclusive("commands.sync", wait=0.2) as also:
            assert not also  # gave up waiting
        async with second.coordination.exclusive("another", wait=0) as other:
            assert other

    taken, work_done = asyncio.Event(), asyncio.Event()

    async def hold_briefly() -> None:
        async with first.coordination.exclusive("commands.sync", wait=1) as held:
            assert held
            taken.set()
            await asyncio.sleep(0.2)  # the work (a sync: an HTTP call) takes a moment
            work_done.set()

    holder = asyncio.create_task(hold_briefly())
    await taken.wait()
    async with second.coordination.exclusive("commands.sync", wait=5) as held:
        assert held
        assert work_done.is_set()  # it waited for the first to finish and let go
    await holder


async def test_processes_seeding_the_same_servers_together_seed_each_once(two: tuple[Store, Store]) -> None:
    first, second = two
    ids = [ON_0 + i for i in range(20)]
    canon = small_canon()
    await asyncio.gather(
        first.guilds.seed_many(ids, canon), second.guilds.seed_many(list(reversed(ids)), canon)
    )
    rows = await count_rows(first)
    assert rows["guilds"] == 20
    assert rows["characters"] == 20 * len(canon.characters)
    assert rows["theories"] == 20 * len(canon.theories)
    assert rows["theory_options"] == 20 * sum(len(t.options) for t in canon.theories)
    seeds = await read_outside(
        first, "SELECT guild_id, COUNT(*) FROM audit WHERE action = 'canon.seed' GROUP BY guild_id"
    )
    assert dict(seeds) == {guild_id: 1 for guild_id in ids}


# -- other processes' writes reach the cache --------------------------------------------------


async def until(check: Callable[[], Awaitable[bool]], what: str) -> None:
    """A notification takes a moment to arrive: wait for it, a few real seconds at most."""
    deadline = time.monotonic() + 5
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.01)


async def test_a_write_elsewhere_reaches_a_listening_stores_cache(two: tuple[Store, Store]) -> None:
    writer, reader = two
    await reader.listen()
    await writer.guilds.seed_many([ON_0], small_canon())
    assert (await reader.settings.get(ON_0)).spoiler_mode is SpoilerMode.HIDDEN  # cached now
    await writer.settings.update(ON_0, None, spoiler_mode="shown")

    async def shown() -> bool:
        return (await reader.settings.get(ON_0)).spoiler_mode is SpoilerMode.SHOWN

    await until(shown, "the settings change to be heard")

    # A write to whole servers (seeding, an import, the purge) is heard too.
    assert len(await reader.characters.list(ON_0)) == 3
    await writer.guilds.seed_many([ON_0], small_canon(2))  # a newer canon adds a character

    async def four() -> bool:
        return len(await reader.characters.list(ON_0)) == 4

    await until(four, "the seeding to be heard")


async def test_a_lost_listener_stops_the_cache_and_reconnects(
    two: tuple[Store, Store], postgres: str
) -> None:
    writer, reader = two
    await reader.listen()
    listener = reader.listener
    assert listener is not None
    await writer.guilds.seed_many([ON_0], small_canon())
    await reader.settings.get(ON_0)

    admin = await asyncpg.connect(postgres)
    try:
        killed = await admin.fetchval(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE application_name = $1 AND datname = current_database()",
            LISTENER_NAME,
        )
    finally:
        await admin.close()
    assert killed == 1
    await until(lambda: _true(not listener.listening.is_set() or listener.reconnects > 0), "the loss")
    await until(lambda: _true(listener.listening.is_set() and listener.reconnects == 1), "a new connection")

    await writer.settings.update(ON_0, None, spoiler_mode="omitted")

    async def omitted() -> bool:
        return (await reader.settings.get(ON_0)).spoiler_mode is SpoilerMode.OMITTED

    await until(omitted, "a change made after the reconnection to be heard")


async def _true(value: bool) -> bool:
    return value


async def test_an_sqlite_store_listens_to_nothing(tmp_path: Path) -> None:
    store = await Store.open(tmp_path / "one.db")
    try:
        await store.listen()
        assert store.listener is None
    finally:
        await store.close()
