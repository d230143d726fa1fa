"""Shards over processes: two bot processes, one shard each, on one PostgreSQL database and
one offline Discord with two shards.

Each "process" is a HalfbieBot of its own in this test's event loop, with its own store,
scheduler and gateway connection, as ``halfbie run --shards 0 --shard-count 2`` and
``--shards 1`` would run them; they share nothing but the database and Discord.  The
sync and the seeding happen once, a server's interactions and timed jobs reach only the
process of its shard, a dead process's claims are taken back or taken over, the
processes take turns to IDENTIFY, and a write by one reaches the other's cache.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import discord
import pytest_asyncio
from discord.ext import commands

from bot.client import HalfbieBot
from bot.config import Config
from bot.models import Certainty, JobKind, SourceRef, SpoilerMode, TheoryFields, TheoryStatus
from bot.shards import ShardSet, shard_of
from bot.store import Store
from tests.conftest import BotRunner
from tests.fakediscord import FakeDiscord, FakeGuild, Perm
from tests.store_fixtures import read_outside

WINDOW = 0.2  # the offline Discord's IDENTIFY window in these tests (Discord's is 5 s)
SPACING = 0.4  # the bots' spacing between IDENTIFYs of one bucket (a margin over WINDOW)


@pytest_asyncio.fixture
async def shards(fake_discord: FakeDiscord, tmp_path: Path, postgres: str) -> AsyncIterator[BotRunner]:
    """Bots on one fresh PostgreSQL database, against an offline Discord of two shards
    that refuses an IDENTIFY sooner than WINDOW after another in its bucket."""
    fake_discord.recommended_shards = 2
    fake_discord.identify_window = WINDOW
    config = Config(token=fake_discord.token, db_path=tmp_path / "unused.db", database_url=postgres)
    runner = BotRunner(fake_discord, config, identify_spacing=SPACING)
    try:
        yield runner
    finally:
        await runner.stop_all()


def servers(fake: FakeDiscord, per_shard: int = 2) -> dict[int, list[FakeGuild]]:
    """Servers on each of two shards (``per_shard`` each)."""
    found: dict[int, list[FakeGuild]] = {0: [], 1: []}
    while min(len(g) for g in found.values()) < per_shard:
        guild = fake.add_guild(f"Fans {sum(len(g) for g in found.values()) + 1}")
        found[shard_of(guild.id, 2)].append(guild)
    return found


async def start(runner: BotRunner, *shard_ids: int, count: int = 2) -> HalfbieBot:
    return await runner.start(shard_ids=shard_ids, shard_count=count)


async def start_both(runner: BotRunner) -> tuple[HalfbieBot, HalfbieBot]:
    """Both processes started at the same moment, as a supervisor starts them."""
    first, second = await asyncio.gather(start(runner, 0), start(runner, 1))
    return first, second


async def eventually(check: Callable[[], Awaitable[bool]], what: str, *, clock: Any = None) -> None:
    """Wait (a few real seconds at most: the effects travel through the database and the
    offline Discord) until ``check()`` holds; with ``clock``, move it a second at a time
    (the schedulers sleep on it)."""
    deadline = time.monotonic() + 10
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        if clock is not None:
            clock.advance(1)
        await asyncio.sleep(0.02)


def interactions_of(bot: HalfbieBot) -> list[int]:
    """The servers whose interactions reach ``bot`` (from now on)."""
    seen: list[int] = []

    async def record(interaction: discord.Interaction[Any]) -> None:
        if interaction.guild_id is not None:
            seen.append(interaction.guild_id)

    bot.add_listener(record, "on_interaction")
    return seen


# -- start ----------------------------------------------------------------------------------


async def test_two_processes_sync_once_seed_once_and_each_serves_its_shard(
    shards: BotRunner, fake_discord: FakeDiscord
) -> None:
    on = servers(fake_discord)
    first, second = await start_both(shards)

    assert fake_discord.sync_count == 1  # one process synced; the other found it done
    assert first.tree.ids  # both know the commands' ids
    assert first.tree.ids == second.tree.ids
    assert {g.id for g in first.guilds} == {g.id for g in on[0]}
    assert {g.id for g in second.guilds} == {g.id for g in on[1]}
    seeds = await read_outside(
        shards.database, "SELECT guild_id, COUNT(*) FROM audit WHERE action = 'canon.seed' GROUP BY guild_id"
    )
    assert dict(seeds) == {g.id: 1 for g in on[0] + on[1]}

    heard = {0: interactions_of(first), 1: interactions_of(second)}
    for guilds in on.values():
        for guild in guilds:
            r = await fake_discord.slash(guild, guild.owner, "character", name="namra")
            await r.response()
            assert "Nam-ra" in (r.content or "") + str(r.embeds), r.content
    assert heard == {0: [g.id for g in on[0]], 1: [g.id for g in on[1]]}
    assert first.owns_guild(on[0][0].id)
    assert not first.owns_guild(on[1][0].id)


async def test_processes_started_together_take_turns_to_identify(
    shards: BotRunner, fake_discord: FakeDiscord
) -> None:
    servers(fake_discord, per_shard=1)
    await start_both(shards)
    assert fake_discord.identify_rejections == 0
    [zero], [one] = fake_discord.identified_at(0), fake_discord.identified_at(1)
    assert abs(one - zero) >= WINDOW  # one bucket (max_concurrency 1): one after the other
    turns = await read_outside(shards.database, "SELECT bucket FROM identify_slots")
    assert turns == [(0,)]


async def test_shards_in_different_buckets_identify_together(
    shards: BotRunner, fake_discord: FakeDiscord
) -> None:
    fake_discord.max_concurrency = 2  # shard 0 in bucket 0, shard 1 in bucket 1
    shards.identify_spacing = 30.0  # a bucket's second IDENTIFY would wait: none does
    servers(fake_discord, per_shard=1)
    await asyncio.wait_for(start_both(shards), 10)
    assert fake_discord.identify_rejections == 0
    turns = await read_outside(shards.database, "SELECT bucket FROM identify_slots ORDER BY bucket")
    assert turns == [(0,), (1,)]


async def test_a_process_restarted_at_once_waits_for_its_turn(
    shards: BotRunner, fake_discord: FakeDiscord
) -> None:
    servers(fake_discord, per_shard=1)
    bot = await start(shards, 0)
    await shards.stop(bot)
    await start(shards, 0)  # at once: within the window of its first IDENTIFY
    first, second = fake_discord.identified_at(0)
    assert second - first >= WINDOW
    assert fake_discord.identify_rejections == 0


class Impatient(commands.AutoShardedBot):
    """A bot that does not wait between IDENTIFYs at all."""

    def __init__(self) -> None:
        super().__init__(command_prefix="!", intents=discord.Intents.none(), guild_ready_timeout=0.05)

    async def before_identify_hook(self, shard_id: int | None, *, initial: bool = False) -> None:
        return None


async def test_the_offline_discord_refuses_an_identify_too_soon_in_its_bucket(
    fake_discord: FakeDiscord,
) -> None:
    fake_discord.recommended_shards = 2
    fake_discord.identify_window = WINDOW
    bot = Impatient()
    task = asyncio.create_task(bot.start(fake_discord.token))
    try:
        await asyncio.wait_for(bot.wait_until_ready(), 10)
    finally:
        await bot.close()
        await task
    assert fake_discord.identify_rejections >= 1  # op 9, and discord.py identified again
    [zero], [one] = fake_discord.identified_at(0), fake_discord.identified_at(1)
    assert one - zero >= WINDOW
    assert [r.accepted for r in fake_discord.identify_log][:2] == [True, False]


# -- timed jobs -----------------------------------------------------------------------------


async def new_poll(fake: FakeDiscord, guild: FakeGuild, closes: str) -> int:
    mods = guild.add_role("Mods", Perm.MANAGE_MESSAGES)
    creator = guild.add_member("mod", [mods])
    r = await fake.slash(
        guild, creator, "theory new", options={"title": "Timed", "options": "Yes | No", "closes": closes}
    )
    await r.response()
    assert r.message is not None, r.content
    return int(r.custom_ids()[0].split(":")[1])


async def close_jobs(runner: BotRunner) -> dict[int, tuple[str, str, int]]:
    """Each server's poll-closing job: (its state, who claimed it, how many attempts)."""
    rows = await read_outside(
        runner.database,
        "SELECT guild_id, state, claimed_by, attempts FROM jobs WHERE kind = ?",
        (JobKind.CLOSE_POLL,),
    )
    return {int(g): (str(state), str(by), int(attempts)) for g, state, by, attempts in rows}


async def test_a_servers_timed_jobs_run_in_the_process_of_its_shard(
    shards: BotRunner, fake_discord: FakeDiscord
) -> None:
    on = servers(fake_discord, per_shard=1)
    first, second = await start_both(shards)
    guilds = [on[0][0], on[1][0]]
    polls = {g.id: await new_poll(fake_discord, g, "10m") for g in guilds}
    shards.clock.advance(601)

    async def closed() -> bool:
        jobs = await close_jobs(shards)
        return len(jobs) == 2 and all(state == "done" for state, _, _ in jobs.values())

    await eventually(closed, "both polls to close", clock=shards.clock)
    assert await close_jobs(shards) == {
        on[0][0].id: ("done", "halfbie:0/2", 1),
        on[1][0].id: ("done", "halfbie:1/2", 1),
    }
    for bot, guild in ((first, on[0][0]), (second, on[1][0])):
        theory = await bot.store.theories.get(guild.id, polls[guild.id])
        assert theory is not None
        assert theory.status is TheoryStatus.CLOSED


async def die_holding(runner: BotRunner, owner: str, shard_set: ShardSet) -> list[int]:
    """What a process leaves when it dies in the middle of a job: the job claimed under its
    name, with a lease (claimed here through a store of the test's own)."""
    store = await Store.open(runner.database, clock=runner.clock)
    try:
        claimed = await store.jobs.claim_due(
            int(runner.clock.now()), owner, kinds=[JobKind.CLOSE_POLL], lease=120, limit=10, shards=shard_set
        )
    finally:
        await store.close()
    return [job.id for job in claimed]


async def test_a_dead_processs_job_is_taken_back_by_its_restart_and_never_by_the_other_shard(
    shards: BotRunner, fake_discord: FakeDiscord
) -> None:
    on = servers(fake_discord, per_shard=1)
    first, second = await start_both(shards)
    guild = on[0][0]
    theory_id = await new_poll(fake_discord, guild, "10m")
    await shards.stop(first)
    shards.clock.advance(3600)  # long due: still not the other shard's to take
    await second.scheduler.run_due()
    assert (await close_jobs(shards))[guild.id] == ("pending", "None", 0)
    assert await die_holding(shards, "halfbie:0/2", ShardSet((0,), 2))  # and then it died
    await second.scheduler.run_due()
    assert (await close_jobs(shards))[guild.id][:2] == ("claimed", "halfbie:0/2")

    # Its lease has two minutes to run, and the clock stands still: the restart under the
    # same name takes the claim back at once.
    restarted = await start(shards, 0)

    async def closed() -> bool:
        return (await close_jobs(shards))[guild.id][0] == "done"

    await eventually(closed, "the restarted process to close the poll")
    assert (await close_jobs(shards))[guild.id] == ("done", "halfbie:0/2", 2)
    theory = await restarted.store.theories.get(guild.id, theory_id)
    assert theory is not None
    assert theory.status is TheoryStatus.CLOSED


async def test_a_dead_processs_job_is_taken_over_by_another_once_its_lease_ends(
    shards: BotRunner, fake_discord: FakeDiscord
) -> None:
    on = servers(fake_discord, per_shard=1)
    await start_both(shards)
    guild = on[0][0]
    await new_poll(fake_discord, guild, "10m")
    await shards.stop_all()
    shards.clock.advance(601)
    assert await die_holding(shards, "halfbie:0/2", ShardSet((0,), 2))

    # Both shards are now run by one process (another name): it must wait for the lease.
    whole = await start(shards, 0, 1)
    await whole.scheduler.run_due()
    assert (await close_jobs(shards))[guild.id][:2] == ("claimed", "halfbie:0/2")
    shards.clock.advance(120)

    async def closed() -> bool:
        return (await close_jobs(shards))[guild.id][0] == "done"

    await eventually(closed, "the lease to end and the job to be taken over", clock=shards.clock)
    assert (await close_jobs(shards))[guild.id] == ("done", "halfbie:0-1/2", 2)


async def test_the_purge_never_takes_another_shards_servers_for_gone(
    shards: BotRunner, fake_discord: FakeDiscord
) -> None:
    on = servers(fake_discord)
    first, _ = await start_both(shards)
    housekeeping: Any = first.get_cog("Housekeeping")
    assert await housekeeping.reconcile() == ([], [])  # the other shard's are not in first.guilds
    left = await read_outside(shards.database, "SELECT guild_id FROM guilds WHERE left_at IS NOT NULL")
    assert left == []
    fake_discord.remove_guild(on[0][0])  # one of its own is gone: that one it marks
    await fake_discord.barrier()

    async def marked() -> bool:
        rows = await read_outside(shards.database, "SELECT guild_id FROM guilds WHERE left_at IS NOT NULL")
        return rows == [(on[0][0].id,)]

    await eventually(marked, "the server removed to be marked left")


# -- caches ---------------------------------------------------------------------------------


async def test_a_write_by_one_process_reaches_the_others_cache(
    shards: BotRunner, fake_discord: FakeDiscord
) -> None:
    on = servers(fake_discord, per_shard=1)
    _, second = await start_both(shards)
    guild = on[0][0]
    before = await second.store.settings.get(guild.id)  # now cached in the other process
    assert before.spoiler_mode is not SpoilerMode.SHOWN

    r = await fake_discord.slash(guild, guild.owner, "admin config spoilers", mode="shown")
    await r.response()  # answered by the first process, which wrote it

    async def heard() -> bool:
        return (await second.store.settings.get(guild.id)).spoiler_mode is SpoilerMode.SHOWN

    await eventually(heard, "the second process to hear of the change")


async def test_a_job_scheduled_by_another_process_wakes_the_process_of_its_shard(
    shards: BotRunner, fake_discord: FakeDiscord
) -> None:
    on = servers(fake_discord, per_shard=1)
    first, second = await start_both(shards)
    guild = on[1][0]  # the second process's server

    async def settled() -> bool:  # both processes re-arm and run the daily purge at start
        return not await read_outside(shards.database, "SELECT id FROM jobs WHERE state = 'claimed'")

    await eventually(settled, "the start's own jobs to finish")
    # Written through the first process's store (as another process or halfbie import
    # would): a poll closing in ten minutes, its job committed with it.
    closes_at = int(shards.clock.now()) + 600
    fields = TheoryFields("Written elsewhere", ("Yes", "No"), SourceRef("test", Certainty.FAN_THEORY))
    theory = await first.store.theories.create(guild.id, None, replace(fields, closes_at=closes_at))
    # The second process slept until its own next job (hours away); the clock moves past
    # the closing once, and only a wake from the write's notice makes it look again.
    shards.clock.advance(601)

    async def closed() -> bool:
        return (await close_jobs(shards)).get(guild.id, ("",))[0] == "done"

    # The clock moves on a second at a time while we wait (closing a poll may wait on it),
    # never as far as the second process's own next job.
    await eventually(closed, "the second process to close the poll written elsewhere", clock=shards.clock)
    assert (await close_jobs(shards))[guild.id][1] == "halfbie:1/2"
    found = await second.store.theories.get(guild.id, theory.id)
    assert found is not None
    assert found.status is TheoryStatus.CLOSED
