"""Polls fans ask for (issue 16), end to end through the offline Discord: several answers
up to a cap (toggling, exact under bursts, sealed, scored), and a voter role."""

from __future__ import annotations

import asyncio
import re

import pytest

from bot.client import HalfbieBot
from tests.fakediscord import FakeDiscord, FakeGuild, FakeMember
from tests.test_theories import click, clock, creator, db_rows, new_poll, settled, shown_counts, until

__all__ = ["creator"]  # the fixture, shared with test_theories

SIX = "A | B | C | D | E | F"


async def chosen_of(bot: HalfbieBot, theory_id: int, member: FakeMember) -> list[int]:
    rows = await db_rows(
        bot.store,
        "SELECT option_position FROM votes WHERE theory_id = ? AND member_id = ? ORDER BY option_position",
        (theory_id, member.id),
    )
    return [int(str(row[0])) for row in rows]


async def test_several_answers_toggle_up_to_the_cap_and_the_tally_counts_voters(
    bot: HalfbieBot, fake_discord: FakeDiscord, guild: FakeGuild, creator: FakeMember
) -> None:
    theory_id, message = await new_poll(fake_discord, guild, creator, options=SIX, choices=3)
    assert "up to **3** answers" in message.embeds[0]["description"]
    fan, other = guild.add_member("fan"), guild.add_member("other")
    answer = await click(fake_discord, guild, fan, message, f"poll:{theory_id}:0")
    assert "You chose **1. A**" in answer
    assert "1 (1 of up to 3)" in answer
    await click(fake_discord, guild, fan, message, f"poll:{theory_id}:2")
    answer = await click(fake_discord, guild, fan, message, f"poll:{theory_id}:4")
    assert "1, 3, 5 (3 of up to 3)" in answer
    refused = await click(fake_discord, guild, fan, message, f"poll:{theory_id}:5")
    assert "already have 3 answers (1, 3, 5)" in refused
    assert "Nothing changed" in refused
    assert await chosen_of(bot, theory_id, fan) == [0, 2, 4]
    answer = await click(fake_discord, guild, fan, message, f"poll:{theory_id}:2")
    assert "took back **3. C**" in answer
    assert "1, 5 (2 of up to 3)" in answer
    await click(fake_discord, guild, other, message, f"poll:{theory_id}:0")
    assert await chosen_of(bot, theory_id, fan) == [0, 4]
    # two voters; A chosen by both (100% of voters), E by one (50%)
    await until(lambda: shown_counts(message) == [2, 0, 0, 0, 1, 0], clock(bot))
    description = message.embeds[0]["description"]
    assert "100% · 2" in description
    assert "50% · 1" in description
    assert "2 votes" in message.embeds[0]["footer"]["text"]  # voters, not choices
    # taking back the only answer leaves none
    assert "no answers" in await click(fake_discord, guild, other, message, f"poll:{theory_id}:0")


async def test_one_member_clicking_fifty_times_at_once_keeps_the_set_of_the_last_click(
    bot: HalfbieBot, fake_discord: FakeDiscord, guild: FakeGuild, creator: FakeMember
) -> None:
    theory_id, message = await new_poll(fake_discord, guild, creator, options=SIX, choices=3)
    fan = guild.add_member("clicker")
    options = [(i * 7) % 6 for i in range(50)]
    results = await asyncio.gather(
        *(fake_discord.click(guild, fan, message, f"poll:{theory_id}:{o}") for o in options)
    )
    await asyncio.gather(*(r.response(timeout=10) for r in results))
    assert all(r.acked_after is not None for r in results)
    # Clicks of one member are handled one at a time: replaying them in the order they
    # were answered gives the set in the database, and the last answer names it.
    ordered = sorted(results, key=lambda r: r.dispatched_at + (r.acked_after or 0.0))
    chosen: set[int] = set()
    for r in ordered:
        option = options[results.index(r)]
        if option in chosen:
            chosen.discard(option)
        elif len(chosen) < 3:
            chosen.add(option)
    stored = await chosen_of(bot, theory_id, fan)
    assert stored == sorted(chosen)
    assert len(stored) <= 3
    last = ordered[-1].content or ""
    numbers = ", ".join(str(o + 1) for o in stored)
    assert f"({numbers})" in last or f"{numbers} (" in last or "no answers" in last, last
    expected = [1 if i in chosen else 0 for i in range(6)]
    await until(lambda: shown_counts(message) == expected, clock(bot))


async def test_a_sealed_several_answer_poll_counts_voters_and_scores_each_right_chooser(
    bot: HalfbieBot,
    fake_discord: FakeDiscord,
    guild: FakeGuild,
    creator: FakeMember,
) -> None:
    admin = guild.add_member("admin", [guild.admin_role])
    theory_id, message = await new_poll(
        fake_discord, guild, creator, options="A | B | C", choices=2, sealed=True
    )
    fans = [guild.add_member(f"fan{i}") for i in range(4)]
    picks = [(0, 1), (1,), (1, 2), (2,)]
    for fan, chosen in zip(fans, picks, strict=True):
        for option in chosen:
            await click(fake_discord, guild, fan, message, f"poll:{theory_id}:{option}")
    await until(lambda: "**4** voters" in message.embeds[0]["description"], clock(bot))
    assert shown_counts(message) == []
    r = await fake_discord.slash(guild, admin, "admin theory resolve", theory=str(theory_id), outcome="2")
    await r.response()
    assert r.ephemeral, r.content
    # B came true: 3 of the 4 voters chose it, each scores 4 / 3
    points = await db_rows(
        bot.store, "SELECT member_id, points FROM scores WHERE theory_id = ?", (theory_id,)
    )
    scored = {int(str(m)): float(str(p)) for m, p in points}
    assert scored == {fans[i].id: 4 / 3 for i in (0, 1, 2)}
    await until(lambda: shown_counts(message) == [1, 3, 2], clock(bot))
    mine = await fake_discord.slash(guild, fans[0], "theory mine")
    await mine.response()
    assert re.search(r"\*\*A, B\*\*", mine.embeds[0]["description"]), mine.embeds[0]["description"]


async def test_a_voter_role_limits_who_votes_and_others_are_told_which_role(
    bot: HalfbieBot, fake_discord: FakeDiscord, guild: FakeGuild, creator: FakeMember
) -> None:
    voters = guild.add_role("Verified")
    theory_id, message = await new_poll(fake_discord, guild, creator, options="A | B", voter_role=voters)
    assert f"Only <@&{voters.id}> can vote" in message.embeds[0]["description"]
    outsider, insider = guild.add_member("outsider"), guild.add_member("insider", [voters])
    await settled(bot)
    edits = message.edits
    answer = await click(fake_discord, guild, outsider, message, f"poll:{theory_id}:0")
    assert f"role <@&{voters.id}>" in answer
    assert "nothing changed" in answer
    assert await chosen_of(bot, theory_id, outsider) == []
    await settled(bot)
    assert message.edits == edits  # nothing changed, nothing edited
    assert "now **1. A**" in await click(fake_discord, guild, insider, message, f"poll:{theory_id}:0")
    await until(lambda: shown_counts(message) == [1, 0], clock(bot))


async def test_bad_choices_and_roles_are_explained_and_change_nothing(
    bot: HalfbieBot, fake_discord: FakeDiscord, guild: FakeGuild, creator: FakeMember
) -> None:
    quiet = guild.add_role("Quiet")  # not mentionable, and the bot may not mention everyone
    before = len(await bot.store.theories.list(guild.id))
    for options, expected in (
        ({"options": "A | B | C", "choices": 4}, "1 up to as many answers"),
        ({"voter_role": guild.everyone}, "@everyone cannot be chosen"),
        ({"ping_role": quiet}, "cannot ping"),
    ):
        r = await fake_discord.slash(guild, creator, "theory new", options={"title": "Bad", **options})
        await r.response()
        assert r.ephemeral
        assert expected in (r.content or ""), (options, r.content)
    assert len(await bot.store.theories.list(guild.id)) == before


def test_a_cap_below_one_or_above_the_options_is_refused() -> None:
    from bot.errors import BadInput
    from cogs.theories._input import parse_choices

    assert parse_choices(3, 6) == 3
    for count, options in ((0, 3), (-1, 3), (4, 3)):
        with pytest.raises(BadInput, match="choices_bad"):
            parse_choices(count, options)


async def test_a_ping_role_is_pinged_when_the_poll_opens_and_when_its_result_is_posted(
    bot: HalfbieBot, fake_discord: FakeDiscord, guild: FakeGuild, creator: FakeMember
) -> None:
    admin = guild.add_member("admin", [guild.admin_role])
    news = guild.add_channel("news")
    news_role = guild.add_role("News", mentionable=True)
    theorists = guild.add_role("Theorists", mentionable=True)
    await bot.store.settings.update(guild.id, None, announce_channel_id=news.id, ping_role_id=news_role.id)
    fake_discord.allowed_pings = {f"role:{theorists.id}"}  # any other ping fails the test
    theory_id, message = await new_poll(
        fake_discord, guild, creator, title="@everyone Pinged?", options="A | B", ping_role=theorists
    )
    opened = await fake_discord.wait_for_message(news)
    assert "New poll" in opened.embeds[0]["title"]
    assert opened.pinged == {f"role:{theorists.id}"}  # only the poll's role, never @everyone
    closed = await fake_discord.slash(guild, admin, "admin theory close", theory=str(theory_id))
    await closed.response()
    await bot.scheduler.run_due()
    card = await fake_discord.wait_for_message(news, after=1)
    assert "Poll closed" in card.embeds[0]["title"]
    assert card.pinged == {f"role:{theorists.id}"}
    assert message.pinged == set()
