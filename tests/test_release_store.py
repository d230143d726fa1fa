"""The release tracker's store: reminder jobs committed with the date; undo from the trail."""

from __future__ import annotations

import json

import pytest

from bot.models import Certainty, JobKind, NewsFields, ReminderKind, SourceRef, Stage
from bot.store import ChangedSince, NoSuchRecord, Store
from tests.store_fixtures import clock_of, small_canon

GUILD = 42
ADMIN = 7
DAY = 86400


async def reminders(store: Store) -> dict[ReminderKind, tuple[str, int]]:
    """The server's reminder jobs: kind -> (state, due time)."""
    found = {}
    for kind in ReminderKind:
        job = await store.jobs.get(JobKind.REMIND, f"{GUILD}:{kind.value}")
        if job is not None:
            found[kind] = (job.state.value, job.due_at)
    return found


async def test_reminders_are_jobs_committed_with_the_date(store: Store) -> None:
    clock = clock_of(store)
    now = int(clock.now)
    premiere = now + 10 * DAY
    await store.release.change_premiere(GUILD, ADMIN, premiere)
    assert await reminders(store) == {
        ReminderKind.WEEK: ("pending", premiere - 7 * DAY),
        ReminderKind.DAY: ("pending", premiere - DAY),
        ReminderKind.PREMIERE: ("pending", premiere),
    }

    # The week reminder is posted (its job done); clearing the date cancels the others, and
    # restoring the same date re-arms only what is still ahead and was never posted.
    clock.advance(3 * DAY + 60)
    [week] = await store.jobs.claim_due(int(clock.now), "test", kinds=[JobKind.REMIND], lease=60, limit=5)
    assert await store.jobs.complete(week)
    await store.release.change_premiere(GUILD, ADMIN, None)
    assert await reminders(store) == {ReminderKind.WEEK: ("done", premiere - 7 * DAY)}
    await store.release.change_premiere(GUILD, ADMIN, premiere)
    assert await reminders(store) == {
        ReminderKind.WEEK: ("done", premiere - 7 * DAY),
        ReminderKind.DAY: ("pending", premiere - DAY),
        ReminderKind.PREMIERE: ("pending", premiere),
    }

    # A new date two days away: the week reminder's moment has passed (none), the rest move.
    await store.release.change_premiere(GUILD, ADMIN, int(clock.now) + 2 * DAY)
    soon = int(clock.now) + 2 * DAY
    assert await reminders(store) == {
        ReminderKind.WEEK: ("done", premiere - 7 * DAY),
        ReminderKind.DAY: ("pending", soon - DAY),
        ReminderKind.PREMIERE: ("pending", soon),
    }


async def test_removed_news_and_a_cleared_date_come_back_from_the_trail(store: Store) -> None:
    await store.guilds.seed_many([GUILD], small_canon())
    items = await store.news.list(GUILD)
    for item in items:
        await store.news.remove(GUILD, ADMIN, item.id)
    assert await store.news.count(GUILD) == 0
    last = items[-1]
    entry = (await store.audit.list(GUILD, "news.remove", limit=1))[0]
    assert json.loads(entry.old or "{}")["headline"] == last.fields.headline
    restored = await store.news.restore(GUILD, ADMIN, last.id)
    assert restored.fields == last.fields
    assert [n.id for n in await store.news.list(GUILD)] == [last.id]
    with pytest.raises(NoSuchRecord):
        await store.news.restore(GUILD, ADMIN, last.id)  # not removed any more

    dated = await store.release.change_premiere(GUILD, ADMIN, 1_800_000_000)
    cleared = await store.release.change_premiere(GUILD, ADMIN, None)
    assert cleared.entry_id is not None
    assert cleared.previous.premiere_at == 1_800_000_000
    undone = await store.release.undo(GUILD, ADMIN, cleared.entry_id)
    assert undone.release.premiere_at == 1_800_000_000
    assert dated.entry_id is not None
    await store.release.change_stage(GUILD, ADMIN, Stage.DATED)  # another field: no conflict
    await store.release.change_premiere(GUILD, ADMIN, 1_900_000_000)
    with pytest.raises(ChangedSince):
        await store.release.undo(GUILD, ADMIN, dated.entry_id)  # the date changed again since
    with pytest.raises(NoSuchRecord):
        await store.release.undo(GUILD + 1, ADMIN, cleared.entry_id)  # another server's entry


async def test_latest_find_and_last_change(store: Store) -> None:
    await store.guilds.seed_many([GUILD], small_canon())
    source = SourceRef("Paper", Certainty.SPECULATION)
    await store.news.add(GUILD, ADMIN, NewsFields("100% sure_ish", "2024-05-01", "2024-05-01", source))
    latest = await store.news.latest(GUILD, Certainty.SPECULATION)
    assert latest is not None
    assert latest.fields.headline == "100% sure_ish"
    assert await store.news.latest(GUILD, Certainty.FAN_THEORY) is None
    assert [n.fields.headline for n in await store.news.find(GUILD, "% SURE_")] == ["100% sure_ish"]
    assert await store.news.find(GUILD, "%") == [latest]  # literal, not a wildcard
    assert [n.id for n in await store.news.find(GUILD, f"#{latest.id}")] == [latest.id]
    change = await store.release.last_change(GUILD)
    assert change is not None
    assert (change.actor_id, change.action) == (ADMIN, "news.add")
    assert await store.release.last_change(GUILD + 1) is None
