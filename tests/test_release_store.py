"""The release tracker's store: reminders scheduled with the date, claimed once; undo from the trail."""

from __future__ import annotations

import json

import pytest

from bot.models import Certainty, NewsFields, ReminderKind, ReminderState, SourceRef, Stage
from bot.store import ChangedSince, NoSuchRecord, Store
from tests.store_fixtures import clock_of, small_canon

GUILD = 42
ADMIN = 7
DAY = 86400


async def states(store: Store) -> dict[ReminderKind, ReminderState]:
    return {r.kind: r.state for r in await store.reminders.list(GUILD)}


async def test_reminders_follow_the_date_and_are_claimed_once(store: Store) -> None:
    clock = clock_of(store)
    now = int(clock.now)
    premiere = now + 10 * DAY
    await store.release.set_premiere(GUILD, ADMIN, premiere)
    assert await states(store) == dict.fromkeys(ReminderKind, ReminderState.PENDING)
    assert [r.due_at for r in await store.reminders.list(GUILD)] == [
        premiere - 7 * DAY,
        premiere - DAY,
        premiere,
    ]
    assert not await store.reminders.any_due(now)

    clock.advance(3 * DAY + 60)
    now = int(clock.now)
    assert await store.reminders.any_due(now)
    first = await store.reminders.claim_due(now)
    assert [r.kind for r in first.claimed] == [ReminderKind.WEEK]
    assert (await store.reminders.claim_due(now)).claimed == []  # claimed once
    assert await store.reminders.mark_sent(first.claimed[0], 555, now)
    assert not await store.reminders.mark_sent(first.claimed[0], 556, now)  # recorded once

    # Clearing cancels what is pending; restoring the same date does not re-send the week one.
    await store.release.set_premiere(GUILD, ADMIN, None)
    assert await states(store) == {ReminderKind.WEEK: ReminderState.SENT}
    await store.release.set_premiere(GUILD, ADMIN, premiere)
    assert await states(store) == {
        ReminderKind.WEEK: ReminderState.SENT,
        ReminderKind.DAY: ReminderState.PENDING,
        ReminderKind.PREMIERE: ReminderState.PENDING,
    }

    # A new date two days away: the week reminder's moment has passed (skipped), the rest move.
    await store.release.set_premiere(GUILD, ADMIN, now + 2 * DAY)
    assert await states(store) == {
        ReminderKind.WEEK: ReminderState.SKIPPED,
        ReminderKind.DAY: ReminderState.PENDING,
        ReminderKind.PREMIERE: ReminderState.PENDING,
    }


async def test_a_claim_is_dropped_late_refused_retried_and_lost_when_the_date_moves(store: Store) -> None:
    clock = clock_of(store)
    premiere = int(clock.now) + 10 * DAY
    await store.release.set_premiere(GUILD, ADMIN, premiere)
    clock.advance(3 * DAY + 2 * DAY)  # two days past the week reminder
    due = await store.reminders.claim_due(int(clock.now))
    assert [r.kind for r in due.dropped] == [ReminderKind.WEEK]
    assert due.claimed == []
    assert "more than a day late" in (due.dropped[0].note or "")

    clock.advance(premiere - DAY - int(clock.now))
    [day] = (await store.reminders.claim_due(int(clock.now))).claimed
    assert await store.reminders.mark_refused(day, "no channel", int(clock.now))
    assert (await store.reminders.claim_due(int(clock.now))).claimed == []  # not before the retry
    clock.advance(15 * 60)
    [again] = (await store.reminders.claim_due(int(clock.now))).claimed
    assert again.attempts == 2
    # The date moves while the post is in flight: its outcome no longer touches the new row.
    await store.release.set_premiere(GUILD, ADMIN, premiere + 30 * DAY)
    assert not await store.reminders.mark_sent(again, 1, int(clock.now))
    assert await states(store) == dict.fromkeys(ReminderKind, ReminderState.PENDING)


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
    assert cleared.old == {"premiere_at": 1_800_000_000}
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
