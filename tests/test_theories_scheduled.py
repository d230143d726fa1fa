"""Scheduled polls (issue 16, item 5) end to end through the offline Discord: a poll
created with ``opens:`` is posted by the scheduler, once, in the channel where it was
created; its closing duration counts from the opening; bad opening times are refused;
a Korean server's ``내일 오후 8시`` is read in Korean time."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from bot.client import HalfbieBot
from bot.models import JobKind, TheoryStatus
from tests.conftest import BotRunner
from tests.fakediscord import FakeDiscord, FakeGuild, FakeMember, Perm
from tests.test_theories import click

HOUR = 3600


@pytest.fixture
def creator(guild: FakeGuild) -> FakeMember:
    mods = guild.add_role("Mods", Perm.MANAGE_MESSAGES)
    return guild.add_member("mod", [mods])


def polls_in(fake: FakeDiscord, channel: object) -> list[object]:
    """The poll messages (with buttons) in a channel."""
    return [m for m in fake.messages_in(channel) if m.custom_ids()]  # type: ignore[arg-type]


async def schedule(
    fake: FakeDiscord,
    guild: FakeGuild,
    creator: FakeMember,
    channel: object,
    locale: str | None = None,
    **options: object,
) -> str:
    options.setdefault("title", "Su-hyeok wakes up")
    r = await fake.slash(guild, creator, "theory new", channel=channel, options=options, locale=locale)  # type: ignore[arg-type]
    await r.response()
    assert r.ephemeral
    return r.content or ""


async def test_a_scheduled_poll_is_posted_once_at_its_time_and_closes_after_its_duration(
    runner: BotRunner, bot: HalfbieBot, fake_discord: FakeDiscord, guild: FakeGuild, creator: FakeMember
) -> None:
    polls = guild.add_channel("polls")
    now = int(runner.clock.now())
    answer = await schedule(fake_discord, guild, creator, polls, options="Yes | No", opens="2h", closes="1d")
    opens_at = now + 2 * HOUR
    assert f"<t:{opens_at}:F>" in answer
    assert "scheduled" in answer
    theory = (await bot.store.theories.list(guild.id))[0]  # the newest
    assert theory.scheduled
    assert theory.fields.opens_at == opens_at
    assert theory.fields.closes_at == opens_at + 24 * HOUR  # the duration counts from the opening
    assert theory.channel_id == polls.id
    assert theory.message_id is None
    # created: nothing posted, listed as scheduled, and no vote taken
    await bot.scheduler.run_due()
    assert polls_in(fake_discord, polls) == []
    listing = await fake_discord.slash(guild, creator, "theory list")
    await listing.response()
    assert f"scheduled: opens <t:{opens_at}:F>" in listing.embeds[0]["description"]
    # the clock passes the opening: posted once, however often the scheduler runs
    runner.clock.advance(2 * HOUR + 1)
    ran = await bot.scheduler.run_due()
    assert [job.kind for job in ran] == [JobKind.OPEN_POLL]
    await bot.scheduler.run_due()
    [message] = polls_in(fake_discord, polls)
    assert message.custom_ids()[0] == f"poll:{theory.id}:0"
    opened = await bot.store.theories.get(guild.id, theory.id)
    assert opened is not None
    assert not opened.scheduled
    assert (opened.channel_id, opened.message_id) == (polls.id, message.id)
    fan = guild.add_member("fan")
    assert "1. Yes" in await click(fake_discord, guild, fan, message, f"poll:{theory.id}:0")  # type: ignore[arg-type]
    assert [e.action for e in await bot.store.audit.list(guild.id, "theory.open")] == ["theory.open"]
    # it closes a day after it opened, not a day after it was created
    runner.clock.advance(22 * HOUR)
    await bot.scheduler.run_due()
    still = await bot.store.theories.get(guild.id, theory.id)
    assert still is not None
    assert still.status is TheoryStatus.OPEN
    runner.clock.advance(2 * HOUR)
    await bot.scheduler.run_due()
    closed = await bot.store.theories.get(guild.id, theory.id)
    assert closed is not None
    assert closed.status is TheoryStatus.CLOSED
    assert len(polls_in(fake_discord, polls)) <= 1


async def test_a_scheduled_poll_takes_no_votes_before_it_opens_and_is_not_posted_by_show(
    runner: BotRunner, bot: HalfbieBot, fake_discord: FakeDiscord, guild: FakeGuild, creator: FakeMember
) -> None:
    polls = guild.add_channel("polls")
    await schedule(fake_discord, guild, creator, polls, opens="1h")
    theory = (await bot.store.theories.list(guild.id))[0]  # the newest
    shown = await fake_discord.slash(guild, creator, "theory show", channel=polls, theory=str(theory.id))
    await shown.response()
    assert shown.ephemeral  # a private look: the scheduler posts it
    fan = guild.add_member("fan")
    assert await bot.store.theories.choose(guild.id, theory.id, fan.id, 0) is None
    assert polls_in(fake_discord, polls) == []


async def test_a_korean_server_schedules_with_korean_words_in_korean_time(
    runner: BotRunner, bot: HalfbieBot, fake_discord: FakeDiscord, guild: FakeGuild, creator: FakeMember
) -> None:
    await bot.store.settings.update(guild.id, None, language="ko")
    polls = guild.add_channel("투표")
    answer = await schedule(fake_discord, guild, creator, polls, opens="내일 오후 8시", locale="ko")
    seoul = ZoneInfo("Asia/Seoul")
    today = dt.datetime.fromtimestamp(runner.clock.now(), seoul).date()
    expected = int(dt.datetime.combine(today + dt.timedelta(days=1), dt.time(20), seoul).timestamp())
    assert f"<t:{expected}:F>" in answer
    assert "예약했어요" in answer
    theory = (await bot.store.theories.list(guild.id))[0]  # the newest
    assert theory.fields.opens_at == expected
    runner.clock.advance(expected - runner.clock.now() + 1)
    await bot.scheduler.run_due()
    assert len(polls_in(fake_discord, polls)) == 1


async def test_bad_opening_times_are_refused_and_change_nothing(
    runner: BotRunner, bot: HalfbieBot, fake_discord: FakeDiscord, guild: FakeGuild, creator: FakeMember
) -> None:
    polls = guild.add_channel("polls")
    before = await bot.store.theories.list(guild.id)
    for options, expected in (
        ({"opens": "2001-01-01 00:00"}, "already passed"),
        ({"opens": "whenever"}, "opening time"),
        ({"opens": "400d"}, "scheduled at most"),
        ({"opens": "2d", "closes": "2026-09-22 00:00"}, "after the opening time"),
        ({"opens": "3h", "closes": f"<t:{int(runner.clock.now()) + 2 * HOUR}:F>"}, "after the opening time"),
    ):
        answer = await schedule(fake_discord, guild, creator, polls, **options)
        assert expected in answer, (options, answer)
    assert await bot.store.theories.list(guild.id) == before
    await bot.scheduler.run_due()
    assert polls_in(fake_discord, polls) == []


async def test_a_scheduled_poll_the_bot_cannot_post_opens_without_a_message(
    runner: BotRunner, bot: HalfbieBot, fake_discord: FakeDiscord, guild: FakeGuild, creator: FakeMember
) -> None:
    quiet = guild.add_channel("read-only", bot_can_send=False)
    await schedule(fake_discord, guild, creator, quiet, opens="1h")
    theory = (await bot.store.theories.list(guild.id))[0]  # the newest
    runner.clock.advance(HOUR + 1)
    await bot.scheduler.run_due()
    opened = await bot.store.theories.get(guild.id, theory.id)
    assert opened is not None
    assert not opened.scheduled
    assert opened.message_id is None
    assert polls_in(fake_discord, quiet) == []
    assert await bot.scheduler.run_due() == []
    fan = guild.add_member("fan")
    assert await bot.store.theories.choose(guild.id, theory.id, fan.id, 0) is not None  # it takes votes
