"""The store's side of theory polls: closing by the clock, resolving with scores, the
leaderboard, deleting, and what each poll message shows."""

from __future__ import annotations

import asyncio
import json

import pytest

from bot.models import JobKind, Tally, TheoryFields, TheoryStatus
from bot.store import NoSuchRecord, Store
from bot.store.theories import points_for
from tests.store_fixtures import ARTICLE, clock_of, vote_of

GUILD = 1001
OTHER = 1002
ADMIN = 7


def poll(title: str = "Who survives?", *options: str, **extra: object) -> TheoryFields:
    return TheoryFields(title, options or ("A", "B", "C"), ARTICLE, **extra)  # type: ignore[arg-type]


async def test_closing_jobs_close_each_poll_once_in_every_server(store: Store) -> None:
    clock = clock_of(store)
    now = int(clock.now)
    soon = await store.theories.create(GUILD, ADMIN, poll(closes_at=now + 60))
    other = await store.theories.create(OTHER, ADMIN, poll(closes_at=now + 30))
    later = await store.theories.create(GUILD, ADMIN, poll(closes_at=now + 3600))
    never = await store.theories.create(GUILD, ADMIN, poll())
    kinds = [JobKind.CLOSE_POLL]
    assert await store.jobs.next_due(kinds) == now + 30
    assert await store.jobs.claim_due(now, "test", kinds=kinds, lease=60, limit=10) == []
    clock.advance(60)
    due = await store.jobs.claim_due(int(clock.now), "test", kinds=kinds, lease=60, limit=10)
    assert [job.payload["theory_id"] for job in due] == [other.id, soon.id]  # soonest first
    for job in due:
        assert job.guild_id is not None
        theory, changed = await store.theories.close_poll(
            job.guild_id, None, int(str(job.payload["theory_id"])), job=job
        )
        assert changed
        assert theory.status is TheoryStatus.CLOSED
    assert await store.jobs.claim_due(int(clock.now), "test", kinds=kinds, lease=60, limit=10) == []
    assert await store.jobs.next_due(kinds) == now + 3600
    theory, changed = await store.theories.close_poll(GUILD, ADMIN, later.id)
    assert changed
    assert theory.status is TheoryStatus.CLOSED
    assert (await store.theories.close_poll(GUILD, ADMIN, later.id))[1] is False
    assert await store.jobs.next_due(kinds) is None  # the admin's close cancelled the job
    assert (await store.theories.get(GUILD, never.id)).status is TheoryStatus.OPEN  # type: ignore[union-attr]
    entries = await store.audit.list(GUILD, "theory.close")
    assert [(e.actor_id, e.target) for e in entries] == [(ADMIN, str(later.id)), (None, str(soon.id))]
    # every close has its result card waiting as a job
    cards = await store.jobs.claim_due(
        int(clock.now), "test", kinds=[JobKind.POLL_RESULT], lease=60, limit=10
    )
    assert sorted(int(str(job.payload["theory_id"])) for job in cards) == sorted(
        [soon.id, other.id, later.id]
    )


async def test_resolve_scores_right_voters_by_how_few_were_right(store: Store) -> None:
    theory = await store.theories.create(GUILD, ADMIN, poll())
    for member, option in {1: 0, 2: 0, 3: 1, 4: 2, 5: 0, 6: 1, 7: 2, 8: 2}.items():
        await store.theories.cast_vote(GUILD, theory.id, member, option)
    resolution = await store.theories.resolve(GUILD, ADMIN, theory.id, 1)
    assert (resolution.voters, resolution.right, resolution.points) == (8, 2, 4.0)
    assert resolution.theory.status is TheoryStatus.RESOLVED
    assert resolution.theory.outcome == 1
    assert await store.theories.cast_vote(GUILD, theory.id, 9, 1) is None  # resolved: closed
    board = await store.theories.leaderboard(GUILD)
    assert [(e.member_id, e.rank, e.points, e.right) for e in board] == [
        (3, 1, 4.0, 1),
        (6, 1, 4.0, 1),
    ]
    # an admin's correction replaces the scores
    corrected = await store.theories.resolve(GUILD, ADMIN, theory.id, 0)
    assert corrected.previous_outcome == 1
    assert (corrected.right, corrected.points) == (3, 8 / 3)
    assert {e.member_id for e in await store.theories.leaderboard(GUILD)} == {1, 2, 5}
    assert await store.theories.rank_of(GUILD, 3) is None
    with pytest.raises(ValueError, match="no option"):
        await store.theories.resolve(GUILD, ADMIN, theory.id, 3)
    with pytest.raises(NoSuchRecord):
        await store.theories.resolve(OTHER, ADMIN, theory.id, 0)
    entries = await store.audit.list(GUILD, "theory.resolve")
    assert [json.loads(e.new or "{}")["outcome"] for e in entries] == [0, 1]


async def test_nobody_right_scores_nothing_and_points_for_is_voters_over_right() -> None:
    assert points_for(10, 0) == 0.0
    assert points_for(10, 10) == 1.0
    assert points_for(50, 1) == 50.0
    assert points_for(8, 2) == 4.0


async def test_leaderboard_ranks_ties_together_and_counts_every_theory(store: Store) -> None:
    first = await store.theories.create(GUILD, ADMIN, poll())
    second = await store.theories.create(GUILD, ADMIN, poll())
    elsewhere = await store.theories.create(OTHER, ADMIN, poll())
    for member in range(1, 13):
        await store.theories.cast_vote(GUILD, first.id, member, member % 3)
        await store.theories.cast_vote(GUILD, second.id, member, member % 2)
        await store.theories.cast_vote(OTHER, elsewhere.id, member, 0)
    await store.theories.resolve(GUILD, ADMIN, first.id, 0)  # 3, 6, 9, 12 right: 3 points
    await store.theories.resolve(GUILD, ADMIN, second.id, 1)  # odd members right: 2 points
    await store.theories.resolve(OTHER, ADMIN, elsewhere.id, 0)  # another server's: 1 point
    totals = {m: (3.0 if m % 3 == 0 else 0.0) + (2.0 if m % 2 else 0.0) for m in range(1, 13)}
    scored = {m: p for m, p in totals.items() if p}
    board = await store.theories.leaderboard(GUILD, limit=100)
    assert {e.member_id: e.points for e in board} == scored
    ranks = {e.member_id: e.rank for e in board}
    assert ranks[3] == ranks[9] == 1  # 5 points each
    assert ranks[6] == ranks[12] == 3  # 3 points each
    assert {ranks[m] for m in (1, 5, 7, 11)} == {5}  # 2 points each
    assert [e.member_id for e in await store.theories.leaderboard(GUILD, limit=3)] == [3, 9, 6]
    own = await store.theories.rank_of(GUILD, 7)
    assert own is not None
    assert (own.rank, own.points, own.right) == (5, 2.0, 1)
    mine = await store.theories.votes_with_theories(GUILD, 3)
    assert {(v.theory.id, v.option, v.points) for v in mine} == {
        (first.id, 0, 3.0),
        (second.id, 1, 2.0),
    }


async def test_delete_removes_votes_and_scores_keeps_the_id_and_is_audited(store: Store) -> None:
    theory = await store.theories.create(GUILD, ADMIN, poll())
    await store.theories.post_message(GUILD, theory.id, 11, 12, "v1|open|None|0,0,0")
    for member in range(1, 5):
        await store.theories.cast_vote(GUILD, theory.id, member, member % 2)
    await store.theories.resolve(GUILD, ADMIN, theory.id, 1)
    deleted = await store.theories.delete(GUILD, ADMIN, theory.id)
    assert (deleted.channel_id, deleted.message_id) == (11, 12)
    assert await store.theories.get(GUILD, theory.id) is None
    assert await store.theories.leaderboard(GUILD) == []
    assert await store.theories.votes_of_member(GUILD, 1) == []
    assert await store.theories.cast_vote(GUILD, theory.id, 9, 0) is None
    entry = (await store.audit.list(GUILD, "theory.delete"))[0]
    assert json.loads(entry.old or "{}") == {
        "title": "Who survives?",
        "options": ["A", "B", "C"],
        "status": "resolved",
        "outcome": 1,
        "votes": 4,
        "scores": 2,
    }
    # the id stays taken: buttons of the deleted poll never vote on a newer theory
    newer = await store.theories.create(GUILD, ADMIN, poll())
    assert newer.id > theory.id
    with pytest.raises(NoSuchRecord):
        await store.theories.delete(GUILD, ADMIN, theory.id)


async def test_poll_state_posted_polls_and_what_the_message_shows(store: Store) -> None:
    theory = await store.theories.create(GUILD, ADMIN, poll())
    assert await store.theories.posted_polls() == []
    assert await store.theories.post_message(GUILD, theory.id, 11, 12, "shown-1") is None
    await store.theories.cast_vote(GUILD, theory.id, 1, 2)
    state = await store.theories.poll_state(GUILD, theory.id)
    assert state is not None
    assert (state.tally, state.shown) == (Tally(theory.id, (0, 0, 1)), "shown-1")
    await store.theories.set_shown(GUILD, theory.id, 12, "shown-2")
    await store.theories.set_shown(GUILD, theory.id, 99, "not that message")
    [posted] = await store.theories.posted_polls()
    assert (posted.theory.id, posted.tally.counts, posted.shown) == (theory.id, (0, 0, 1), "shown-2")
    # posted again: the earlier message is returned to be retired
    assert await store.theories.post_message(GUILD, theory.id, 11, 13, "shown-3") == (11, 12)
    await store.theories.forget_message(GUILD, theory.id, 13)
    assert await store.theories.posted_polls() == []
    assert (await store.theories.tallies(GUILD))[theory.id].counts == (0, 0, 1)
    assert await store.theories.poll_state(OTHER, theory.id) is None
    assert await store.theories.is_open(GUILD, theory.id)


async def test_a_burst_of_votes_commits_together_and_each_gets_its_own_answer(store: Store) -> None:
    """Votes that arrive together commit in a few transactions; refused ones (a closed
    poll, an option that does not exist, another server's poll) get None and write
    nothing; a member's later vote replaces the earlier one."""
    open_poll = (await store.theories.create(GUILD, ADMIN, poll())).id
    closed_poll = (await store.theories.create(GUILD, ADMIN, poll())).id
    (await store.theories.close_poll(GUILD, None, closed_poll))[0]
    batches_before = store.writer.stats.batches
    results = await asyncio.gather(
        *(store.theories.cast_vote(GUILD, open_poll, member, member % 3) for member in range(500)),
        store.theories.cast_vote(GUILD, closed_poll, 7, 0),
        store.theories.cast_vote(GUILD, open_poll, 9999, 9),
        store.theories.cast_vote(OTHER, open_poll, 8888, 0),  # another server's poll id
        store.theories.cast_vote(GUILD, open_poll, 0, 2),  # member 0 again, last
    )
    assert results[:500] == [member % 3 for member in range(500)]
    assert results[500:] == [None, None, None, 2]
    assert store.writer.stats.batches - batches_before <= 3
    tally = await store.theories.tally(GUILD, open_poll)
    assert tally.counts == (166, 167, 167)  # member 0 moved from option 0 to 2
    assert await vote_of(store, GUILD, closed_poll, 7) is None
