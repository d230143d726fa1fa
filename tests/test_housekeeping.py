"""The 30-day retention end to end: the bot removed from a server, the clock moved, the
scheduler's daily purge run."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path

from bot.client import HalfbieBot
from tests.conftest import BotRunner
from tests.fakediscord import FakeDiscord, FakeGuild, FakeMember
from tests.store_fixtures import guild_tables, read_outside


async def server_rows(db: str | Path, guild_id: int) -> dict[str, int]:
    """Rows of the server in every table that has a guild_id, plus its theories' options."""
    tables = await guild_tables(db)
    counts = {
        table: int(
            (await read_outside(db, f"SELECT COUNT(*) FROM {table} WHERE guild_id = ?", (guild_id,)))[0][0]
        )
        for table in tables
    }
    sql = (
        "SELECT COUNT(*) FROM theory_options WHERE theory_id IN (SELECT id FROM theories WHERE guild_id = ?)"
    )
    counts["theory_options"] = int((await read_outside(db, sql, (guild_id,)))[0][0])
    return counts


DAY = 86_400
RETENTION = 30 * DAY


async def purge(runner: BotRunner, bot: HalfbieBot, seconds: float) -> None:
    """Move the clock; once the scheduler has run what came due (the daily purge is one
    of those jobs), nothing is left due."""
    runner.clock.advance(seconds)
    await bot.scheduler.run_due()


async def until(check: Callable[[], Awaitable[bool]]) -> None:
    """Wait for an event handler the bot runs in a task of its own."""
    async with asyncio.timeout(5):
        while not await check():  # noqa: ASYNC110
            await asyncio.sleep(0.01)


def rejoin(fake: FakeDiscord, guild: FakeGuild, *, live: bool) -> None:
    """Add a removed server back (GUILD_CREATE, like a join, when the bot is connected)."""
    fake.guilds[guild.id] = guild
    for channel in guild.channels:
        fake.channels[channel.id] = channel
    if live:
        guild.live = True
        fake.dispatch_event("GUILD_CREATE", guild.payload(joined=True), guild=guild)


async def test_data_is_kept_29_days_then_purged_after_30(
    runner: BotRunner, fake_discord: FakeDiscord, guild: FakeGuild, member: FakeMember
) -> None:
    stays = fake_discord.add_guild("Stays")
    bot = await runner.start()
    theory = (await bot.store.theories.list(guild.id))[0]
    await bot.store.theories.cast_vote(guild.id, theory.id, member.id, 0)
    db = runner.database
    kept = await server_rows(db, guild.id)
    other = await server_rows(db, stays.id)
    assert kept["characters"] > 0
    assert kept["votes"] == 1

    fake_discord.remove_guild(guild)
    await fake_discord.barrier()
    await until(lambda: _left(bot, guild.id))
    left_at = await bot.store.guilds.left_at(guild.id)
    assert left_at == int(runner.clock.now())

    await purge(runner, bot, 29 * DAY)
    assert await server_rows(db, guild.id) == kept  # a mistaken kick loses nothing

    await purge(runner, bot, RETENTION - 29 * DAY + 1)
    purged = await server_rows(db, guild.id)
    assert all(n == 0 for n in purged.values()), purged
    assert await bot.store.guilds.left_at(guild.id) is None
    assert await server_rows(db, stays.id) == other  # the server the bot is still in is untouched
    assert await bot.scheduler.run_due() == []  # the next purge is a day away


async def _left(bot: HalfbieBot, guild_id: int) -> bool:
    return await bot.store.guilds.left_at(guild_id) is not None


async def _back(bot: HalfbieBot, guild_id: int) -> bool:
    return await bot.store.guilds.left_at(guild_id) is None


async def test_a_server_re_added_within_30_days_keeps_everything(
    runner: BotRunner, fake_discord: FakeDiscord, guild: FakeGuild, member: FakeMember
) -> None:
    bot = await runner.start()
    theory = (await bot.store.theories.list(guild.id))[0]
    await bot.store.theories.cast_vote(guild.id, theory.id, member.id, 1)
    await bot.store.settings.update(guild.id, None, spoiler_mode="shown")
    db = runner.database
    kept = await server_rows(db, guild.id)

    fake_discord.remove_guild(guild)
    await fake_discord.barrier()
    await until(lambda: _left(bot, guild.id))
    runner.clock.advance(20 * DAY)
    rejoin(fake_discord, guild, live=True)
    await fake_discord.barrier()
    await until(lambda: _back(bot, guild.id))

    await purge(runner, bot, 20 * DAY)  # 40 days after the removal, 20 after the return
    assert await server_rows(db, guild.id) == kept
    votes = await bot.store.theories.votes_of_member(guild.id, member.id)
    assert [(v.theory_id, v.option) for v in votes] == [(theory.id, 1)]
    assert (await bot.store.settings.get(guild.id)).spoiler_mode == "shown"


async def test_removed_or_re_added_while_the_bot_was_down(
    runner: BotRunner, fake_discord: FakeDiscord, guild: FakeGuild
) -> None:
    back = fake_discord.add_guild("Comes back")
    bot = await runner.start()
    db = runner.database
    kept = await server_rows(db, back.id)
    fake_discord.remove_guild(back)  # while running: marked left
    await fake_discord.barrier()
    await until(lambda: _left(bot, back.id))
    await runner.stop(bot)

    fake_discord.remove_guild(guild)  # while down: no event reaches the bot
    rejoin(fake_discord, back, live=False)  # re-added while down: arrives as available
    runner.clock.advance(10 * DAY)
    bot = await runner.start()
    await until(lambda: _left(bot, guild.id))  # the run at start saw it gone
    assert await bot.store.guilds.left_at(guild.id) == int(runner.clock.now())
    await until(lambda: _back(bot, back.id))

    await purge(runner, bot, RETENTION + 1)
    assert all(n == 0 for n in (await server_rows(db, guild.id)).values())
    assert await server_rows(db, back.id) == kept
