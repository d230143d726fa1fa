"""A timed job's effect happens exactly once, whatever step the bot is killed at.

The bot runs as ``python -m bot`` against the offline Discord and is killed with SIGKILL
(no handler runs, nothing is flushed) at each step of a countdown reminder and of a poll
closing at its time: after the job is claimed (its post held before Discord makes it),
after the post (Discord made the message, the bot never heard back, so nothing was
committed), and after the commit.  Started again, the bot takes its own claim back and
finishes: one reminder, one closed poll, one result card, every time.

The jobs are put in the database through the store's own API while the bot is down,
already due, so nothing waits for a schedule: the restarted bot finds them at once.
"""

from __future__ import annotations

import asyncio
import re
import signal
import time
from pathlib import Path

import pytest

from bot.canon import load_canon
from bot.models import JobKind, NewJob, Reminder, ReminderKind
from bot.store import Store
from tests.fakediscord import FakeDiscord, FakeGuild
from tests.store_fixtures import read_outside
from tests.test_theories_crash import start, until

STEPS = ("after claim", "after post", "after commit")


async def job_rows(db: str | Path, kind: str) -> list[tuple[str, str, int]]:
    """SQL fixture: the jobs of a kind as (key, state, attempts)."""
    sql = "SELECT key, state, attempts FROM jobs WHERE kind = ? ORDER BY id"
    return [
        (str(key), str(state), int(attempts)) for key, state, attempts in await read_outside(db, sql, (kind,))
    ]


async def done(db: str | Path, kind: str) -> bool:
    rows = await job_rows(db, kind)
    return bool(rows) and all(state == "done" for _, state, _ in rows)


async def stop(proc: asyncio.subprocess.Process, sig: int) -> None:
    proc.send_signal(sig)
    async with asyncio.timeout(20):
        await proc.wait()


async def kill_at(
    step: str, fake: FakeDiscord, db: str | Path, channel_id: int, finished: str
) -> asyncio.subprocess.Process:
    """Start the bot and SIGKILL it at ``step`` of posting to ``channel_id``; the job of
    kind ``finished`` is the one whose completion marks the end."""
    post = rf"^POST /channels/{channel_id}/messages$"
    hold = None
    if step != "after commit":
        hold = fake.hold_requests(post, stage="before" if step == "after claim" else "after")
    proc = await start(fake, db)
    if hold is not None:
        await hold.wait(timeout=30)
        assert not await done(db, finished)  # held: the job cannot have committed
    else:
        await until(lambda: done(db, finished), 30, f"the {finished} job to be done")
    proc.kill()
    await proc.wait()
    return proc


async def prepared(guild: FakeGuild, db: str | Path) -> tuple[int, Store]:
    """The server seeded from the canon and its announcement channel set, through the
    store, before the bot first starts; returns the channel and the open store."""
    channel = guild.add_channel("season-2-news")
    store = await Store.open(db)
    await store.guilds.seed_many([guild.id], load_canon())
    await store.settings.update(guild.id, None, announce_channel_id=channel.id)
    return channel.id, store


@pytest.mark.parametrize("step", STEPS)
async def test_a_reminder_is_posted_exactly_once_whatever_step_the_bot_dies_at(
    fake_discord: FakeDiscord, guild: FakeGuild, database: str | Path, step: str
) -> None:
    db = database
    channel_id, store = await prepared(guild, db)
    now = int(time.time())
    reminder = Reminder(guild.id, ReminderKind.DAY, now + 86400 - 5)  # due 5 s ago
    await store.jobs.schedule(reminder.job)
    await store.close()

    await kill_at(step, fake_discord, db, channel_id, JobKind.REMIND)
    proc = await start(fake_discord, db)
    try:
        await until(lambda: done(db, JobKind.REMIND), 30, "the reminder job to be done")
    finally:
        await stop(proc, signal.SIGTERM)
    posted = fake_discord.messages_in(fake_discord.channels[channel_id])
    assert [m.embeds[0]["title"] for m in posted] == ["One day to go"]
    [(key, state, attempts)] = await job_rows(db, JobKind.REMIND)
    assert (key, state) == (f"{guild.id}:day", "done")
    assert attempts == (1 if step == "after commit" else 2)


@pytest.mark.parametrize("step", STEPS)
async def test_a_poll_closes_and_its_result_is_posted_exactly_once_whatever_step_the_bot_dies_at(
    fake_discord: FakeDiscord, guild: FakeGuild, database: str | Path, step: str
) -> None:
    db = database
    channel_id, store = await prepared(guild, db)
    theory = (await store.theories.list(guild.id))[0]
    await store.theories.cast_vote(guild.id, theory.id, 4242, 1)
    await store.jobs.schedule(
        NewJob(
            JobKind.CLOSE_POLL,
            str(theory.id),
            int(time.time()) - 5,
            guild_id=guild.id,
            payload={"theory_id": theory.id},
        )
    )
    await store.close()

    await kill_at(step, fake_discord, db, channel_id, JobKind.POLL_RESULT)
    proc = await start(fake_discord, db)
    try:
        await until(lambda: done(db, JobKind.POLL_RESULT), 30, "the result card's job to be done")
    finally:
        await stop(proc, signal.SIGTERM)
    posted = fake_discord.messages_in(fake_discord.channels[channel_id])
    assert len(posted) == 1
    assert re.search(r"Poll closed", posted[0].embeds[0]["title"])
    assert posted[0].pinged == set()
    closes = await read_outside(
        db,
        "SELECT actor_id FROM audit WHERE guild_id = ? AND action = 'theory.close' AND target = ?",
        (guild.id, str(theory.id)),
    )
    status = await read_outside(db, "SELECT status FROM theories WHERE id = ?", (theory.id,))
    assert closes == [(None,)]  # closed once, by the clock
    assert status == [("closed",)]
    assert [state for _, state, _ in await job_rows(db, JobKind.CLOSE_POLL)] == ["done"]
