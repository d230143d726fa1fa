"""Theory polls end to end through the offline Discord: posting, voting with buttons
under bursts, sealed polls, closing (by an admin, by the clock, across a restart),
resolving with scores, the leaderboard, /theory mine and deleting."""

from __future__ import annotations

import asyncio
import itertools
import json
import re
import time
from collections.abc import Callable
from typing import cast

import pytest

from bot.client import HalfbieBot
from bot.models import TheoryStatus
from bot.store import Store
from cogs.theories._polls import Polls, service
from tests.clock import ManualClock
from tests.conftest import BotRunner
from tests.fakediscord import FakeDiscord, FakeGuild, FakeMember, FakeMessage, Perm
from tests.store_fixtures import read_outside, vote_of

PATCH = re.compile(r"^/channels/\d+/messages/(\d+)$")


# -- helpers ------------------------------------------------------------------------------


def clock(bot: HalfbieBot) -> ManualClock:
    return cast(ManualClock, bot.clock)


def polls_of(bot: HalfbieBot) -> Polls:
    # (the extension's modules are imported afresh for each bot: no isinstance here)
    return service(bot)


def shown_counts(message: FakeMessage) -> list[int]:
    """The counts the poll message shows, one per option."""
    description = message.embeds[0]["description"]
    return [int(n) for n in re.findall(r"`[█░]+` \d+% · (\d+)", description)]


async def db_rows(db: Store, sql: str, params: tuple[object, ...] = ()) -> list[tuple[object, ...]]:
    return await read_outside(db, sql, params)


def patches_of(fake: FakeDiscord, message: FakeMessage) -> list[float]:
    """When the bot edited this message through the channel endpoint (monotonic times)."""
    return [
        r.at
        for r in fake.requests
        if r.method == "PATCH" and (m := PATCH.match(r.path)) and int(m.group(1)) == message.id
    ]


async def until(check: Callable[[], bool], clock: ManualClock, timeout: float = 5.0) -> None:  # noqa: ASYNC109
    """Move the bot's clock a quarter second at a time (the tally refresher and the
    scheduler wait on it) until ``check()`` holds; ``timeout`` bounds the real time the
    effects may take to travel through the fake Discord."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s")
        clock.advance(0.25)
        await asyncio.sleep(0.01)


async def settled(bot: HalfbieBot) -> None:
    """Move the clock until every pending refresh of a poll message is done."""
    idle = asyncio.ensure_future(polls_of(bot).refresher.idle())
    await until(idle.done, cast(ManualClock, bot.clock))
    await idle


@pytest.fixture
def creator(guild: FakeGuild) -> FakeMember:
    mods = guild.add_role("Mods", Perm.MANAGE_MESSAGES)
    return guild.add_member("mod", [mods])


@pytest.fixture
def admin(guild: FakeGuild) -> FakeMember:
    return guild.add_member("admin", [guild.admin_role])


async def new_poll(
    fake: FakeDiscord, guild: FakeGuild, creator: FakeMember, **options: object
) -> tuple[int, FakeMessage]:
    """/theory new; returns the theory id and its poll message."""
    options.setdefault("title", "Nam-ra leads the halfbies")
    r = await fake.slash(guild, creator, "theory new", options=options)  # "options" clashes
    await r.response()
    assert r.message is not None, r.content
    assert not r.ephemeral
    theory_id = int(r.custom_ids()[0].split(":")[1])
    return theory_id, r.message


async def click(
    fake: FakeDiscord, guild: FakeGuild, member: FakeMember, message: FakeMessage, custom_id: str
) -> str:
    r = await fake.click(guild, member, message, custom_id)
    await r.response()
    assert r.ephemeral
    return r.content or ""


# -- posting and voting -------------------------------------------------------------------


async def test_new_poll_posts_buttons_and_a_click_is_answered_and_counted(
    bot: HalfbieBot, fake_discord: FakeDiscord, guild: FakeGuild, creator: FakeMember
) -> None:
    theory_id, message = await new_poll(
        fake_discord, guild, creator, options="Nam-ra | Su-hyeok | On-jo", details="Who leads?"
    )
    assert message.custom_ids() == [
        f"poll:{theory_id}:0",
        f"poll:{theory_id}:1",
        f"poll:{theory_id}:2",
        f"poll:{theory_id}:retract",
    ]
    assert [b["label"] for b in message.buttons()][:3] == ["1. Nam-ra", "2. Su-hyeok", "3. On-jo"]
    fan = guild.add_member("fan")
    answer = await click(fake_discord, guild, fan, message, f"poll:{theory_id}:1")
    assert "2. Su-hyeok" in answer
    await until(lambda: shown_counts(message) == [0, 1, 0], clock(bot))
    # a second click moves the vote; taking it back leaves none
    assert "3. On-jo" in await click(fake_discord, guild, fan, message, f"poll:{theory_id}:2")
    assert "taken back" in await click(fake_discord, guild, fan, message, f"poll:{theory_id}:retract")
    assert "no vote" in await click(fake_discord, guild, fan, message, f"poll:{theory_id}:retract")
    assert await vote_of(bot.store, guild.id, theory_id, fan.id) is None
    await until(lambda: shown_counts(message) == [0, 0, 0], clock(bot))
    # the default options, and the poll is listed
    default_id, default_message = await new_poll(fake_discord, guild, creator, title="Default")
    assert [b["label"] for b in default_message.buttons()] == [
        "1. Agree",
        "2. Disagree",
        "3. Not sure",
        "Take back my vote",
    ]
    listing = await fake_discord.slash(guild, fan, "theory list")
    await listing.response()
    assert listing.ephemeral
    assert f"#{default_id}" in listing.embeds[0]["description"]


async def test_only_poll_creators_start_polls_and_bad_input_is_explained(
    bot: HalfbieBot, fake_discord: FakeDiscord, guild: FakeGuild, member: FakeMember, creator: FakeMember
) -> None:
    r = await fake_discord.slash(guild, member, "theory new", title="Gwi-nam returns")
    await r.response()
    assert r.ephemeral
    assert "Manage Messages" in (r.content or "")
    before = len(await bot.store.theories.list(guild.id))
    for options, expected in (
        ({"options": "Only one"}, "2 to 10"),
        ({"options": "|".join(str(n) for n in range(11))}, "2 to 10"),
        ({"options": "Yes | yes"}, "the same"),
        ({"options": "Yes | " + "n" * 81}, "too long"),
        ({"closes": "soon"}, "closing time"),
        ({"closes": "2001-01-01 00:00"}, "passed"),
    ):
        r = await fake_discord.slash(guild, creator, "theory new", options={"title": "Bad", **options})
        await r.response()
        assert r.ephemeral
        assert expected in (r.content or ""), (options, r.content)
    assert len(await bot.store.theories.list(guild.id)) == before


async def test_a_thousand_members_clicking_at_once(
    bot: HalfbieBot, fake_discord: FakeDiscord, guild: FakeGuild, creator: FakeMember
) -> None:
    members = [guild.add_member(f"fan{i}") for i in range(1000)]
    # Discord's real per-route limit on edits: the refresher must never run into it.
    fake_discord.rate_limit(r"^PATCH /channels/\d+/messages/\d+$", 5, 5.0)
    theory_id, message = await new_poll(fake_discord, guild, creator, options="A | B | C | D")
    await settled(bot)
    before = len(patches_of(fake_discord, message))
    results = await asyncio.gather(
        *(fake_discord.click(guild, m, message, f"poll:{theory_id}:{i % 4}") for i, m in enumerate(members))
    )
    # Every click is answered (the fake Discord fails the test on an answer after 3 s).
    await asyncio.gather(*(r.response(timeout=30) for r in results))
    assert all(r.ephemeral and "now **" in (r.content or "") for r in results)
    # exactly 1,000 votes in the database
    db = bot.store
    assert await db_rows(db, "SELECT COUNT(*) FROM votes WHERE theory_id = ?", (theory_id,)) == [(1000,)]
    # The bot's clock stood still during the burst: the refresher gathered it, and one
    # edit once the clock moves shows the exact tally.
    assert len(patches_of(fake_discord, message)) == before
    await until(lambda: shown_counts(message) == [250, 250, 250, 250], clock(bot))
    await settled(bot)
    edits = len(patches_of(fake_discord, message)) - before
    assert shown_counts(message) == [250, 250, 250, 250]
    assert edits == 1
    assert not [r for r in fake_discord.requests if r.status == 429]


async def test_a_steady_stream_of_votes_edits_at_most_once_a_second(
    bot: HalfbieBot, fake_discord: FakeDiscord, guild: FakeGuild, creator: FakeMember
) -> None:
    theory_id, message = await new_poll(fake_discord, guild, creator, options="A | B")
    await settled(bot)
    fans = [guild.add_member(f"fan{i}") for i in range(60)]
    edited_at: list[float] = []  # the bot's clock when each edit arrived
    for i, fan in enumerate(fans):  # one vote every 50 ms of the bot's clock, for 3 s
        await click(fake_discord, guild, fan, message, f"poll:{theory_id}:{i % 2}")
        edits = message.edits
        clock(bot).advance(0.05)
        await asyncio.sleep(0.01)  # lets a refresh that came due reach the fake Discord
        edited_at += [clock(bot).now()] * (message.edits - edits)
    await until(lambda: shown_counts(message) == [30, 30], clock(bot))
    await settled(bot)
    assert 2 <= message.edits <= 6  # not one per vote: about one a second
    gaps = [b - a for a, b in itertools.pairwise(edited_at)]
    assert all(gap >= 1.0 for gap in gaps), gaps  # never two edits of one message within a second


async def test_one_member_clicking_fifty_times_at_once_keeps_one_vote(
    bot: HalfbieBot, fake_discord: FakeDiscord, guild: FakeGuild, creator: FakeMember
) -> None:
    theory_id, message = await new_poll(fake_discord, guild, creator, options="A | B | C")
    fan = guild.add_member("clicker")
    options = [(i * 7) % 3 for i in range(50)]
    results = await asyncio.gather(
        *(fake_discord.click(guild, fan, message, f"poll:{theory_id}:{o}") for o in options)
    )
    await asyncio.gather(*(r.response(timeout=10) for r in results))
    assert all(r.acked_after is not None for r in results)  # answered in time: the fake checks
    last = max(results, key=lambda r: r.dispatched_at + (r.acked_after or 0.0))
    last_option = options[results.index(last)]
    assert f"{last_option + 1}. {'ABC'[last_option]}" in (last.content or "")
    rows = await db_rows(
        bot.store,
        "SELECT option_position FROM votes WHERE theory_id = ? AND member_id = ?",
        (theory_id, fan.id),
    )
    assert rows == [(last_option,)]
    expected = [0, 0, 0]
    expected[last_option] = 1
    await until(lambda: shown_counts(message) == expected, clock(bot))


async def test_sealed_poll_shows_only_the_number_of_voters_until_it_closes(
    bot: HalfbieBot,
    fake_discord: FakeDiscord,
    guild: FakeGuild,
    creator: FakeMember,
    admin: FakeMember,
) -> None:
    theory_id, message = await new_poll(
        fake_discord, guild, creator, title="Sealed", options="Yes | No", sealed=True
    )
    fans = [guild.add_member(f"fan{i}") for i in range(3)]
    for i, fan in enumerate(fans):
        await click(fake_discord, guild, fan, message, f"poll:{theory_id}:{i % 2}")
    await until(lambda: "**3** voters" in message.embeds[0]["description"], clock(bot))
    assert shown_counts(message) == []
    edits = message.edits
    # moving a vote does not change what a sealed poll shows: no edit
    await click(fake_discord, guild, fans[0], message, f"poll:{theory_id}:1")
    await settled(bot)
    assert message.edits == edits
    listing = await fake_discord.slash(guild, fans[0], "theory list", status="open")
    await listing.response()
    line = next(line for line in listing.embeds[0]["description"].splitlines() if f"#{theory_id}" in line)
    assert "sealed" in line
    assert "leading" not in line
    closed = await fake_discord.slash(guild, admin, "admin theory close", theory=str(theory_id))
    await closed.response()
    assert closed.ephemeral
    assert "Closed" in (closed.content or "")
    await until(lambda: shown_counts(message) == [1, 2], clock(bot))
    assert message.components == []  # no buttons on a closed poll


async def test_hostile_text_pings_nobody_and_stays_within_limits(
    bot: HalfbieBot, fake_discord: FakeDiscord, guild: FakeGuild, creator: FakeMember
) -> None:
    role = guild.add_role("Spoilers", mentionable=True)
    title = f"@everyone <@&{role.id}> **@here** ||x|| \u202eRTL\u200b " + "🧟" * 60
    options = f"@everyone | <@&{role.id}> | **{'x' * 76}** | \u200b\u200b"
    theory_id, message = await new_poll(
        fake_discord, guild, creator, title=title, options=options, details="@here " * 150
    )
    assert message.pinged == set()
    fan = guild.add_member("@everyone")
    answer = await fake_discord.click(guild, fan, message, f"poll:{theory_id}:0")
    await answer.response()
    assert answer.message is not None
    assert answer.message.pinged == set()
    await until(lambda: shown_counts(message) == [1, 0, 0, 0], clock(bot))
    assert message.pinged == set()
    for command in ("theory list", "theory mine"):
        r = await fake_discord.slash(guild, fan, command)
        await r.response()
        assert r.embeds
    shown = await fake_discord.slash(guild, fan, "theory show", theory=str(theory_id))
    await shown.response()
    assert shown.message is not None
    assert shown.message.pinged == set()
    # the fake checks every payload against Discord's limits: no violation was recorded
    assert fake_discord.violations == []


async def test_theory_show_autocompletes_and_reposting_retires_the_old_message(
    bot: HalfbieBot, fake_discord: FakeDiscord, guild: FakeGuild, member: FakeMember, creator: FakeMember
) -> None:
    # A spoiler theory is offered by its spoiler-free title (a choice's name cannot be
    # hidden), and its spoiler is not searched: "immune" finds nothing, "about Cheong-san" does.
    hidden = await fake_discord.autocomplete(guild, member, "theory show", focused="theory", theory="immune")
    assert hidden == []
    choices = await fake_discord.autocomplete(
        guild, member, "theory show", focused="theory", theory="A theory about Cheong-san"
    )
    immune = next(t for t in await bot.store.theories.list(guild.id) if t.fields.key == "cheong-san-immune")
    choices = [c for c in choices if c["value"] == str(immune.id)]
    assert [c["name"] for c in choices] == [f"#{immune.id} {immune.fields.safe_title}"]
    theory_id = int(choices[0]["value"])
    # A member sees the poll privately (its buttons work there); nothing is posted.
    private = await fake_discord.slash(guild, member, "theory show", theory=choices[0]["value"])
    await private.response()
    assert private.ephemeral
    assert "not been posted in a channel yet" in (private.content or "")
    assert private.custom_ids()[0] == f"poll:{theory_id}:0"
    # A poll creator posts it, and posts it again: the first copy points to the new one.
    first = await fake_discord.slash(guild, creator, "theory show", theory=choices[0]["value"])
    await first.response()
    assert first.message is not None
    assert not first.ephemeral
    again = await fake_discord.slash(guild, creator, "theory show", theory=choices[0]["value"])
    await again.response()
    assert again.message is not None
    old = first.message
    await until(lambda: old.components == [] and "posted again" in old.embeds[0]["description"], clock(bot))
    assert old.embeds[0]["title"] == "A theory about Cheong-san"  # the stub keeps its (safe) title
    # A member's /theory show moves nothing: it links to where the poll is.
    link = await fake_discord.slash(guild, member, "theory show", theory=choices[0]["value"])
    await link.response()
    assert link.ephemeral
    assert f"/{again.message.channel_id}/{again.message.id}" in (link.content or "")
    assert again.message.components  # still the live poll
    await click(fake_discord, guild, member, again.message, f"poll:{theory_id}:0")
    await until(lambda: shown_counts(again.message) == [1, 0, 0], clock(bot))  # type: ignore[union-attr]
    unknown = await fake_discord.slash(guild, member, "theory show", theory="no such theory")
    await unknown.response()
    assert unknown.ephemeral
    assert "no theory" in (unknown.content or "")


# -- closing --------------------------------------------------------------------------------


async def test_closing_time_closes_the_poll_and_posts_a_result_card(
    runner: BotRunner,
    bot: HalfbieBot,
    fake_discord: FakeDiscord,
    guild: FakeGuild,
    creator: FakeMember,
) -> None:
    news = guild.add_channel("news")
    await bot.store.settings.update(guild.id, None, announce_channel_id=news.id)
    theory_id, message = await new_poll(
        fake_discord, guild, creator, title="Timed", options="Yes | No", closes="10m"
    )
    fan = guild.add_member("fan")
    await click(fake_discord, guild, fan, message, f"poll:{theory_id}:0")
    runner.clock.advance(601)
    # past its time a poll takes no votes, even before the scheduler has closed it
    late = await fake_discord.click(guild, fan, message, f"poll:{theory_id}:1")
    await late.response()
    assert late.ephemeral
    assert "closed" in (late.content or "")
    await bot.scheduler.run_due()  # the close, then its result card: each once
    assert await bot.scheduler.run_due() == []
    theory = await bot.store.theories.get(guild.id, theory_id)
    assert theory is not None
    assert theory.status is TheoryStatus.CLOSED
    await until(lambda: message.components == [] and shown_counts(message) == [1, 0], clock(bot))
    card = await fake_discord.wait_for_message(news)
    assert "Poll closed" in card.embeds[0]["title"]
    assert card.pinged == set()
    entries = await bot.store.audit.list(guild.id, "theory.close")
    assert [(e.actor_id, e.target) for e in entries] == [(None, str(theory_id))]


@pytest.mark.allow_errors
async def test_a_poll_whose_time_passed_while_the_bot_was_down_closes_at_start(
    runner: BotRunner, fake_discord: FakeDiscord, guild: FakeGuild, creator: FakeMember
) -> None:
    bot = await runner.start()
    theory_id, message = await new_poll(
        fake_discord, guild, creator, title="Timed", options="Yes | No", closes="1h"
    )
    fan = guild.add_member("fan")
    await click(fake_discord, guild, fan, message, f"poll:{theory_id}:1")
    await settled(bot)
    await runner.stop(bot)
    runner.clock.advance(2 * 3600)
    bot = await runner.start()
    await until(lambda: message.components == [] and shown_counts(message) == [0, 1], clock(bot))
    theory = await bot.store.theories.get(guild.id, theory_id)
    assert theory is not None
    assert theory.status is TheoryStatus.CLOSED


async def test_buttons_of_a_poll_posted_before_a_restart_still_work(
    runner: BotRunner, fake_discord: FakeDiscord, guild: FakeGuild, creator: FakeMember
) -> None:
    bot = await runner.start()
    theory_id, message = await new_poll(fake_discord, guild, creator, options="Yes | No")
    await runner.stop(bot)
    bot = await runner.start()
    fan = guild.add_member("fan")
    assert "1. Yes" in await click(fake_discord, guild, fan, message, f"poll:{theory_id}:0")
    await until(lambda: shown_counts(message) == [1, 0], clock(bot))


# -- resolving, scores, the leaderboard ------------------------------------------------------


def competition_ranks(totals: dict[int, tuple[float, int]]) -> list[tuple[int, int, float, int]]:
    """(rank, member, points, right) by points, then right answers, then id; equal points
    share a rank, as on any sports table."""
    ordered = sorted(totals.items(), key=lambda kv: (-kv[1][0], -kv[1][1], kv[0]))
    ranked = []
    for member_id, (points, right) in ordered:
        rank = 1 + sum(1 for p, _ in totals.values() if p > points + 1e-9)
        ranked.append((rank, member_id, points, right))
    return ranked


async def test_resolve_scores_exactly_the_right_members_and_the_leaderboard_agrees(
    bot: HalfbieBot,
    fake_discord: FakeDiscord,
    guild: FakeGuild,
    creator: FakeMember,
    admin: FakeMember,
) -> None:
    fans = [guild.add_member(f"fan{i}") for i in range(14)]
    news = guild.add_channel("news")
    await bot.store.settings.update(guild.id, None, announce_channel_id=news.id)
    a_id, a_msg = await new_poll(fake_discord, guild, creator, title="A", options="X | Y | Z")
    b_id, b_msg = await new_poll(fake_discord, guild, creator, title="B")  # Agree/Disagree
    # Votes as the members click them; the final state is what counts.
    final: dict[int, dict[int, int]] = {a_id: {}, b_id: {}}
    plan: list[tuple[int, FakeMessage, int, str]] = []
    for i, _fan in enumerate(fans[:12]):
        plan.append((a_id, a_msg, i, str(0 if i < 6 else 1 if i < 9 else 2)))
    plan.append((a_id, a_msg, 3, "1"))  # fan 3 changes to Y
    plan.append((a_id, a_msg, 11, "retract"))  # fan 11 takes the vote back
    for i in range(10):
        plan.append((b_id, b_msg, i, "0" if i < 4 else "1"))
    plan.append((b_id, b_msg, 12, "2"))  # Not sure
    for theory_id, message, i, option in plan:
        await click(fake_discord, guild, fans[i], message, f"poll:{theory_id}:{option}")
        if option == "retract":
            final[theory_id].pop(fans[i].id, None)
        else:
            final[theory_id][fans[i].id] = int(option)

    async def resolve(theory_id: int, outcome: str) -> str:
        r = await fake_discord.slash(
            guild, admin, "admin theory resolve", theory=str(theory_id), outcome=outcome
        )
        await r.response()
        assert r.ephemeral, r.content
        return r.content or ""

    assert "**Y** came true" in await resolve(a_id, "2")
    # "Not sure" is an answer for voters, never what came true: refused, and not offered.
    assert "cannot be what came true" in await resolve(b_id, "3")
    assert "cannot be what came true" in await resolve(b_id, "Not sure")
    offered = await fake_discord.autocomplete(
        guild, admin, "admin theory resolve", focused="outcome", theory=str(b_id), outcome=""
    )
    assert [c["value"] for c in offered] == ["1", "2"]
    assert "**Disagree** came true" in await resolve(b_id, "debunked")
    cards = await fake_discord.wait_for_message(news, lambda m: "Theory resolved: A" in m.text)
    assert "4 of 11 voters predicted it: **+2.75** points each" in cards.text

    # the hand count: voters / right for each member who voted for the outcome
    expected_scores: dict[tuple[int, int], float] = {}
    for theory_id, outcome in ((a_id, 1), (b_id, 1)):
        votes = final[theory_id]
        right = [m for m, o in votes.items() if o == outcome]
        for m in right:
            expected_scores[(theory_id, m)] = len(votes) / len(right)
    rows = await db_rows(bot.store, "SELECT theory_id, member_id, points FROM scores")
    assert {(t, m): p for t, m, p in rows} == pytest.approx(expected_scores)
    # fan 3 moved to Y, fans 6-8 voted Y: 11 voters (fan 11 took it back), 4 right
    assert expected_scores[(a_id, fans[3].id)] == 11 / 4
    assert (a_id, fans[0].id) not in expected_scores

    totals: dict[int, tuple[float, int]] = {}
    for (_, m), points in expected_scores.items():
        old_points, old_right = totals.get(m, (0.0, 0))
        totals[m] = (old_points + points, old_right + 1)
    ranked = competition_ranks(totals)

    asker = fans[7]  # right twice
    board = await fake_discord.slash(guild, asker, "theory leaderboard")
    await board.response()
    assert board.ephemeral
    embed = board.embeds[0]
    lines = embed["description"].splitlines()
    expected_lines = [
        f"**{rank}.** <@{m}>: {format_points(points)} points ({right} right)"
        for rank, m, points, right in ranked[:10]
    ]
    assert lines == expected_lines
    own = next(r for r in ranked if r[1] == asker.id)
    assert embed["fields"][0]["value"].startswith(f"#{own[0]} with {format_points(own[2])} points")
    nobody = await fake_discord.slash(guild, fans[13], "theory leaderboard", public=True)
    await nobody.response()
    assert not nobody.ephemeral
    assert "No points yet" in nobody.embeds[0]["fields"][0]["value"]

    # /theory mine: only the member's own votes, right and wrong marked
    mine = await fake_discord.slash(guild, fans[3], "theory mine")
    await mine.response()
    assert mine.ephemeral
    text = mine.embeds[0]["description"]
    assert f"#{a_id}" in text
    assert f"#{b_id}" in text
    assert "✅" in text
    assert "❌" in text
    assert "<@" not in text

    # the resolved polls show the outcome and no buttons
    await until(
        lambda: a_msg.components == [] and "Y** came true" in a_msg.embeds[0]["description"], clock(bot)
    )
    entries = await bot.store.audit.list(guild.id, "theory.resolve")
    assert {e.target for e in entries} == {str(a_id), str(b_id)}
    assert json.loads(entries[0].new or "{}")["outcome"] == 1


def format_points(points: float) -> str:
    return f"{points:.2f}".rstrip("0").rstrip(".")


# -- deleting -------------------------------------------------------------------------------


@pytest.mark.allow_errors
async def test_delete_asks_first_removes_the_votes_and_is_audited(
    bot: HalfbieBot,
    fake_discord: FakeDiscord,
    guild: FakeGuild,
    creator: FakeMember,
    admin: FakeMember,
    member: FakeMember,
) -> None:
    theory_id, message = await new_poll(fake_discord, guild, creator, options="Yes | No")
    await click(fake_discord, guild, member, message, f"poll:{theory_id}:0")
    await settled(bot)

    denied = await fake_discord.slash(guild, member, "admin theory delete", theory=str(theory_id))
    await denied.response()
    assert denied.ephemeral
    assert "Manage Server" in (denied.content or "")

    ask = await fake_discord.slash(guild, admin, "admin theory delete", theory=str(theory_id))
    await ask.response()
    assert ask.ephemeral
    assert "1 vote" in (ask.content or "")
    buttons = {b["label"]: b["custom_id"] for b in ask.message.buttons()}  # type: ignore[union-attr]
    cancel = await fake_discord.click(guild, admin, ask, buttons["Cancel"])
    await cancel.response()
    assert await bot.store.theories.get(guild.id, theory_id) is not None

    ask = await fake_discord.slash(guild, admin, "admin theory delete", theory=str(theory_id))
    await ask.response()
    buttons = {b["label"]: b["custom_id"] for b in ask.message.buttons()}  # type: ignore[union-attr]
    # Discord refuses the edit of the poll message: its buttons stay, and still change nothing
    fake_discord.fail_requests(rf"^PATCH /channels/\d+/messages/{message.id}$", status=403)
    done = await fake_discord.click(guild, admin, ask, buttons["Delete"])
    await done.response()
    assert "Deleted" in (done.content or "")
    assert await bot.store.theories.get(guild.id, theory_id) is None
    assert await db_rows(bot.store, "SELECT COUNT(*) FROM votes WHERE theory_id = ?", (theory_id,)) == [(0,)]
    entry = (await bot.store.audit.list(guild.id, "theory.delete"))[0]
    assert entry.actor_id == admin.id
    assert json.loads(entry.old or "{}")["votes"] == 1
    await settled(bot)
    late = await fake_discord.click(guild, member, message, f"poll:{theory_id}:1")
    await late.response()
    assert late.ephemeral
    assert "closed" in (late.content or "")
    # the next refresh of that message says it was deleted
    polls_of(bot).refresher.mark(guild.id, theory_id, gone=(message.channel_id, message.id))
    await until(
        lambda: message.components == [] and "deleted" in message.embeds[0]["description"], clock(bot)
    )


async def test_an_announcement_channel_the_bot_cannot_post_in_is_logged_not_fatal(
    bot: HalfbieBot,
    fake_discord: FakeDiscord,
    guild: FakeGuild,
    creator: FakeMember,
    admin: FakeMember,
    caplog: pytest.LogCaptureFixture,
) -> None:
    locked = guild.add_channel("locked", bot_can_send=False)
    await bot.store.settings.update(guild.id, None, announce_channel_id=locked.id)
    theory_id, message = await new_poll(fake_discord, guild, creator, options="Yes | No")
    r = await fake_discord.slash(guild, admin, "admin theory close", theory=str(theory_id))
    await r.response()
    assert "Closed" in (r.content or "")
    await bot.scheduler.run_due()
    assert "I cannot post in" in caplog.text
    assert fake_discord.messages_in(locked) == []
    await until(lambda: message.components == [], clock(bot))
    again = await fake_discord.slash(guild, admin, "admin theory close", theory=str(theory_id))
    await again.response()
    assert again.ephemeral
    assert "already closed" in (again.content or "")


# -- languages ------------------------------------------------------------------------------


async def test_a_korean_server_gets_its_poll_card_and_vote_answers_in_korean(
    bot: HalfbieBot,
    fake_discord: FakeDiscord,
    guild: FakeGuild,
    creator: FakeMember,
    admin: FakeMember,
) -> None:
    # A poll posted while the server was English, with the buttons an old poll has.
    old_id, old = await new_poll(fake_discord, guild, creator, title="Old", options="Yes | No")
    old_ids = old.custom_ids()
    await settled(bot)
    assert old.buttons()[-1]["label"] == "Take back my vote"
    news = guild.add_channel("news")
    await bot.store.settings.update(guild.id, None, language="ko", announce_channel_id=news.id)

    theory_id, message = await new_poll(fake_discord, guild, creator, title="Timed", options="Yes | No")
    embed = message.embeds[0]
    assert "🟢 진행 중" in embed["description"]
    assert embed["footer"]["text"] == f"예측 #{theory_id} · 이 서버 멤버의 제안 (팬 추측) · 0표"
    assert [b["label"] for b in message.buttons()] == ["1. Yes", "2. No", "내 투표 취소"]
    assert message.custom_ids() == [f"poll:{theory_id}:0", f"poll:{theory_id}:1", f"poll:{theory_id}:retract"]

    # The member's Discord is in English; the server's language decides the answer.
    fan = guild.add_member("fan")
    answer = await click(fake_discord, guild, fan, message, f"poll:{theory_id}:1")
    assert answer.startswith("이 예측에 대한 내 투표: **2. No**")
    await until(lambda: shown_counts(message) == [0, 1], clock(bot))
    assert message.embeds[0]["footer"]["text"].endswith("· 1표")
    assert "투표를 취소했어요" in await click(fake_discord, guild, fan, message, f"poll:{theory_id}:retract")

    # The old poll's buttons still work, and its next refresh rewrites it in Korean.
    assert "**1. Yes**" in await click(fake_discord, guild, fan, old, f"poll:{old_id}:0")
    await until(lambda: shown_counts(old) == [1, 0], clock(bot))
    assert old.buttons()[-1]["label"] == "내 투표 취소"
    assert "🟢 진행 중" in old.embeds[0]["description"]
    assert old.custom_ids() == old_ids

    # Closing: the admin's answer and the result card in the announcement channel.
    closed = await fake_discord.slash(guild, admin, "admin theory close", theory=str(old_id))
    await closed.response()
    assert "**Old (영어만)** 투표를 마감했어요" in (closed.content or "")
    card = await fake_discord.wait_for_message(news)
    assert card.embeds[0]["title"] == "투표 마감: Old (영어만)"
    assert "🔒 마감: 최종 결과" in card.embeds[0]["description"]
