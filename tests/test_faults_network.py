"""Discord misbehaving during a vote burst: 429s, 500s, a dropped gateway.

The bot must retry, resume, answer every click it received, end with exact tallies
in the database and on the poll message, and log no unhandled error (the fake
Discord fixture fails the test on an ERROR record). `make test` runs a short burst;
`make faults` the long one.
"""

from __future__ import annotations

import asyncio
import re
import time
from typing import cast

import pytest

from bot.client import HalfbieBot
from tests.clock import ManualClock
from tests.fakediscord import FakeDiscord, FakeGuild, FakeMember, FakeMessage, Perm
from tests.store_fixtures import read_outside

OPTIONS = 3


def shown_counts(message: FakeMessage) -> list[int]:
    return [int(n) for n in re.findall(r"`[█░]+` \d+% · (\d+)", message.embeds[0]["description"])]


@pytest.mark.parametrize(
    "clicks",
    [pytest.param(120, id="short"), pytest.param(1000, id="long", marks=pytest.mark.slow)],
)
async def test_votes_survive_429s_500s_and_a_dropped_gateway(
    bot: HalfbieBot, fake_discord: FakeDiscord, guild: FakeGuild, clicks: int
) -> None:
    creator = guild.add_member("creator", roles=[guild.add_role("Mods", Perm.MANAGE_MESSAGES)])
    members = [guild.add_member(f"fan{i}") for i in range(clicks)]
    posted = await fake_discord.slash(
        guild, creator, "theory new", options={"title": "Storm", "options": "A|B|C"}
    )
    await posted.response()
    poll = posted.message
    assert poll is not None
    ids = [b["custom_id"] for b in poll.buttons()][:OPTIONS]

    # Discord misbehaves: callbacks rate-limited, message edits failing with 500, both at
    # once, while the gateway connection drops in the middle of the burst.
    fake_discord.fail_requests(
        r"^POST /interactions/\d+/[^/]+/callback$", 429, count=clicks // 10, retry_after=0.05
    )
    fake_discord.fail_requests(r"^PATCH /channels/\d+/messages/\d+$", 500, count=2)
    fake_discord.fail_requests(r"^PATCH /channels/\d+/messages/\d+$", 429, count=2, retry_after=0.2)

    async def click(i: int) -> str:
        r = await fake_discord.click(guild, members[i], poll, ids[i % OPTIONS])
        await r.response(timeout=20)
        return r.content or ""

    first = asyncio.gather(*(click(i) for i in range(clicks // 2)))
    await asyncio.sleep(0.05)
    await fake_discord.drop_gateway()
    second = asyncio.gather(*(click(i) for i in range(clicks // 2, clicks)))
    answers = [*await first, *await second]
    await fake_discord.wait_resumed(timeout=20)

    assert fake_discord.resume_count >= 1
    assert all("now **" in answer for answer in answers)  # every click answered with its vote
    expected = [len(range(o, clicks, OPTIONS)) for o in range(OPTIONS)]
    stored = await read_outside(
        bot.store,
        "SELECT option_position, COUNT(*) FROM votes WHERE guild_id = ? GROUP BY option_position ORDER BY 1",
        (guild.id,),
    )
    assert [n for _, n in stored] == expected
    deadline = time.monotonic() + 20
    while shown_counts(poll) != expected:  # the refresher's retries wait on the bot's clock
        assert time.monotonic() < deadline, f"the message shows {shown_counts(poll)}, not {expected}"
        cast(ManualClock, bot.clock).advance(0.5)
        await asyncio.sleep(0.05)
    statuses = [r.status for r in fake_discord.requests]
    assert 429 in statuses
    assert 500 in statuses


async def test_a_late_member_still_gets_an_answer_after_a_resume(
    bot: HalfbieBot, fake_discord: FakeDiscord, guild: FakeGuild, member: FakeMember
) -> None:
    await fake_discord.drop_gateway()
    result = await fake_discord.slash(guild, member, "character", name="namra")
    await result.response(timeout=20)
    assert result.embeds
