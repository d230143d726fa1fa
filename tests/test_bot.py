"""The frame end to end through the offline Discord: start, sync, seed, answer, fail, stop."""

from __future__ import annotations

import asyncio
import datetime as dt
import inspect
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
from collections.abc import Callable, Iterable
from contextlib import closing
from pathlib import Path

import aiosqlite
import discord
import pytest
from discord import app_commands

from bot.client import HalfbieBot, find_extensions
from bot.models import Canon
from tests.conftest import BotRunner
from tests.fakediscord import FakeDiscord, FakeGuild, FakeMember
from tests.store_fixtures import read_outside

ROOT = Path(__file__).resolve().parent.parent


async def counts(runner: BotRunner) -> dict[str, int]:
    return {
        table: (await runner.read(f"SELECT COUNT(*) FROM {table}"))[0][0]
        for table in ("guilds", "characters", "news", "theories", "theory_options", "release")
    }


async def until(check: Callable[[], object]) -> None:
    """Wait until ``check()`` (or what it returns, if awaitable) is truthy: for what the
    bot does in tasks of its own (never for a schedule: the clock is moved for those)."""
    async with asyncio.timeout(10):
        while True:
            result = check()
            if inspect.isawaitable(result):
                result = await result
            if result:
                return
            await asyncio.sleep(0.01)


async def seeded_characters(where: str | Path, guild_id: int) -> int:
    rows = await read_outside(where, "SELECT COUNT(*) FROM characters WHERE guild_id = ?", (guild_id,))
    return int(rows[0][0])


async def test_starts_syncs_seeds_and_answers_about(
    runner: BotRunner, fake_discord: FakeDiscord, guild: FakeGuild, member: FakeMember
) -> None:
    bot = await runner.start()
    # No privileged intent, and only what the bot needs.
    assert fake_discord.intents == discord.Intents(guilds=True).value
    # Commands synced once, globally.
    assert fake_discord.sync_count == 1
    names = {c["name"] for c in fake_discord.synced_commands()}
    assert "about" in names
    # The server was seeded from the canon.
    characters = await bot.store.characters.list(guild.id)
    assert {c.fields.key for c in characters} >= {"cheong-san", "nam-ra", "su-hyeok"}
    assert len(await bot.store.news.list(guild.id)) == len(bot.canon.news)
    today = dt.datetime.fromtimestamp(bot.clock.now(), dt.UTC).date().isoformat()
    assert len(await bot.store.theories.list(guild.id)) == len(bot.canon.current(today).theories)

    result = await fake_discord.slash(guild, member, "about")
    await result.response()
    assert result.ephemeral
    embed = result.embeds[0]
    fields = {f["name"]: f["value"] for f in embed["fields"]}
    assert bot.version in embed["title"]
    assert fields["Servers"] == "1"
    assert fields["Where the facts come from"].count("19 July 2022") == 1  # dated once, as readers write it


async def test_restart_neither_resyncs_nor_reseeds(
    runner: BotRunner, fake_discord: FakeDiscord, guild: FakeGuild
) -> None:
    bot = await runner.start()
    await runner.stop(bot)
    before = await counts(runner)
    assert before["characters"] == len(bot.canon.characters)

    await runner.start()
    assert fake_discord.sync_count == 1, "an unchanged command tree must not be synced again"
    assert await counts(runner) == before


async def test_sync_mode_force_syncs_again(
    runner: BotRunner, fake_discord: FakeDiscord, guild: FakeGuild
) -> None:
    bot = await runner.start()
    await runner.stop(bot)
    bot = await runner.start()
    assert fake_discord.sync_count == 1
    assert await bot.sync_commands(force=True)
    assert fake_discord.sync_count == 2


async def test_dev_guild_sync_goes_to_that_server_only(
    runner: BotRunner, fake_discord: FakeDiscord, guild: FakeGuild
) -> None:
    await runner.start(dev_guild=guild.id)
    assert {c["name"] for c in fake_discord.synced_commands(guild)} >= {"about"}
    assert fake_discord.synced_commands() == []


async def test_server_joined_while_running_is_seeded(
    runner: BotRunner, fake_discord: FakeDiscord, guild: FakeGuild
) -> None:
    bot = await runner.start()
    other = fake_discord.add_guild("Second server")
    await fake_discord.barrier()
    await bot.seeder.idle()
    assert len(await bot.store.characters.list(other.id)) == len(bot.canon.characters)


async def test_three_hundred_servers_at_start_are_seeded_in_a_few_batches(
    runner: BotRunner, fake_discord: FakeDiscord
) -> None:
    guilds = fake_discord.add_guilds(300)
    bot = await runner.start()  # waits for seeding_done()
    ids = {guild.id for guild in guilds}
    assert await bot.store.guilds.seeded(bot.canon.version) == ids
    assert (await counts(runner))["characters"] == 300 * len(bot.canon.characters)
    # One seed_many job per batch (one job per server before), plus the start's own jobs.
    assert bot.store.writer.stats.jobs < 30, bot.store.writer.stats


async def test_seed_requests_arriving_together_make_one_batch(
    bot: HalfbieBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    batches: list[list[int]] = []
    seed_many = bot.store.guilds.seed_many

    async def counted(guild_ids: Iterable[int], canon: Canon) -> list[int]:
        batches.append(list(guild_ids))
        return await seed_many(batches[-1], canon)

    monkeypatch.setattr(bot.store.guilds, "seed_many", counted)
    ids = [10**17 + i for i in range(50)]
    waiting = [asyncio.create_task(bot.seeder.ensure(guild_id)) for guild_id in ids]
    await asyncio.sleep(0)  # every request is in; the seeder has not run yet
    waiting[0].cancel()  # a command given up on does not cancel the batch the others wait for
    await asyncio.gather(*waiting[1:])
    with pytest.raises(asyncio.CancelledError):
        await waiting[0]
    assert sorted(batches[0]) == ids
    assert len(batches) == 1
    assert await bot.store.guilds.seeded(bot.canon.version) >= set(ids)
    await bot.seeder.ensure(ids[0])  # seeded: a set lookup, no batch
    assert len(batches) == 1


@pytest.mark.allow_errors("Could not seed 1 servers")
async def test_a_failed_seed_is_logged_and_tried_again_at_the_next_request(
    bot: HalfbieBot, fake_discord: FakeDiscord, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[list[int]] = []
    seed_many = bot.store.guilds.seed_many

    async def failing_once(guild_ids: Iterable[int], canon: Canon) -> list[int]:
        calls.append(list(guild_ids))
        if len(calls) == 1:
            raise sqlite3.OperationalError("disk I/O error")
        return await seed_many(calls[-1], canon)

    monkeypatch.setattr(bot.store.guilds, "seed_many", failing_once)
    other = fake_discord.add_guild("Second server")
    await fake_discord.barrier()
    await bot.seeder.idle()
    assert calls == [[other.id]]
    assert other.id not in await bot.store.guilds.seeded(bot.canon.version)  # left un-seeded
    await bot.seeder.ensure(other.id)  # a command for that server: tried again
    assert calls == [[other.id], [other.id]]
    assert other.id in await bot.store.guilds.seeded(bot.canon.version)


async def hold_the_writer(bot: HalfbieBot) -> tuple[asyncio.Task[None], asyncio.Event]:
    """Keep the writer busy in a job until the returned event is set: what is submitted
    meanwhile waits in its queue, in order."""
    started, gate = asyncio.Event(), asyncio.Event()

    async def hold(conn: aiosqlite.Connection) -> None:
        started.set()
        await gate.wait()

    held = asyncio.create_task(bot.store.writer.submit(hold))
    await started.wait()
    return held, gate


def record_writes(bot: HalfbieBot, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The names of the server writes, in the order their jobs are handed to the writer."""
    handed: list[str] = []
    guilds = bot.store.guilds
    seed_many, left = guilds.seed_many, guilds.left

    async def seeding(guild_ids: Iterable[int], canon: Canon) -> list[int]:
        handed.append("seed")
        return await seed_many(guild_ids, canon)

    async def leaving(guild_id: int) -> None:
        handed.append("left")
        await left(guild_id)

    monkeypatch.setattr(guilds, "seed_many", seeding)
    monkeypatch.setattr(guilds, "left", leaving)
    return handed


async def test_a_server_removed_while_its_seed_is_under_way_stays_marked_left(
    bot: HalfbieBot, fake_discord: FakeDiscord, monkeypatch: pytest.MonkeyPatch
) -> None:
    handed = record_writes(bot, monkeypatch)
    held, gate = await hold_the_writer(bot)
    try:
        other = fake_discord.add_guild("Brief visit")
        await fake_discord.barrier()
        await until(lambda: handed == ["seed"])  # queued behind the held job
        fake_discord.remove_guild(other)
        await fake_discord.barrier()
        await until(lambda: handed == ["seed", "left"])  # queued behind the seed
    finally:
        gate.set()
    await held
    await bot.seeder.idle()
    await until(lambda: bot.store.guilds.left_at(other.id))
    sql = "SELECT canon_version FROM guilds WHERE guild_id = ?"
    version = await read_outside(bot.store, sql, (other.id,))
    assert version == [(bot.canon.version,)]  # seeded, then left
    assert other.id not in await bot.store.guilds.seeded(bot.canon.version)
    await bot.seeder.ensure(other.id)  # not taken for one of the bot's seeded servers
    assert handed == ["seed", "left", "seed"]


async def test_closing_stops_the_seeder_and_releases_its_waiters(
    bot: HalfbieBot, runner: BotRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    handed = record_writes(bot, monkeypatch)
    held, gate = await hold_the_writer(bot)
    try:
        waiting = asyncio.create_task(bot.seeder.ensure(10**17))
        await until(lambda: handed == ["seed"])
        closing = asyncio.create_task(runner.stop(bot))
        async with asyncio.timeout(5):
            await waiting  # released by close(), not left hanging
    finally:
        gate.set()
    await held
    await closing
    await bot.seeder.ensure(10**17 + 1)  # after close: returns at once
    assert handed == ["seed"]
    assert not await seeded_characters(runner.database, 10**17)


@pytest.mark.allow_errors("Unhandled error in interaction boom")
async def test_handler_that_raises_gets_a_polite_answer_and_the_bot_goes_on(
    bot: HalfbieBot, fake_discord: FakeDiscord, guild: FakeGuild, member: FakeMember
) -> None:
    @app_commands.command(name="boom", description="raises")
    async def boom(interaction: discord.Interaction) -> None:
        raise RuntimeError("kaboom")

    @app_commands.command(name="boom-late", description="raises after answering")
    async def boom_late(interaction: discord.Interaction) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        raise RuntimeError("kaboom after defer")

    bot.tree.add_command(boom)
    bot.tree.add_command(boom_late)
    fake_discord.set_commands([boom.to_dict(bot.tree), boom_late.to_dict(bot.tree)], guild=guild)

    result = await fake_discord.slash(guild, member, "boom")
    await result.response()
    assert result.ephemeral
    assert "went wrong" in result.content
    assert "kaboom" not in result.content

    late = await fake_discord.slash(guild, member, "boom-late")
    await late.response()
    message = await late.wait_message()
    assert "went wrong" in message.content

    about = await fake_discord.slash(guild, member, "about")
    await about.response()
    assert about.embeds


async def test_every_extension_loads_with_descriptions_and_unique_names(bot: HalfbieBot) -> None:
    assert find_extensions(), "no extension found under cogs/"
    assert sorted(bot.extensions) == find_extensions()
    seen: set[str] = set()
    for command in bot.tree.walk_commands():
        assert command.qualified_name not in seen, f"duplicate command {command.qualified_name}"
        seen.add(command.qualified_name)
        assert command.description, command.qualified_name
        assert command.description != "…", command.qualified_name
        if isinstance(command, app_commands.Command):
            for parameter in command.parameters:
                where = f"/{command.qualified_name} option {parameter.name}"
                assert parameter.description, where
                assert parameter.description != "…", where


async def test_python_m_bot_runs_against_the_fake_and_stops_on_sigterm(
    fake_discord: FakeDiscord, guild: FakeGuild, member: FakeMember, tmp_path: Path
) -> None:
    db = tmp_path / "h.db"
    env = {
        **{k: v for k, v in fake_discord.env().items() if not k.startswith("HALFBIE_DB")},
        "DISCORD_TOKEN": fake_discord.token,
        "HALFBIE_DB": str(db),
        "HALFBIE_LOG_LEVEL": "INFO",
    }
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        cwd=ROOT,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    try:
        await fake_discord.wait_ready(timeout=30)
        assert fake_discord.sync_count == 1  # synced in setup_hook, before the gateway connects
        result = await fake_discord.slash(guild, member, "about")
        await result.response(timeout=10)
        assert result.embeds
        assert "Halfbie" in result.embeds[0]["title"]
        for _ in range(200):  # seeding runs beside the interaction; wait for its commit
            if await seeded_characters(db, guild.id):
                break
            await asyncio.sleep(0.05)
    finally:
        proc.send_signal(signal.SIGTERM)
        output, _ = await asyncio.wait_for(proc.communicate(), timeout=30)
    text = output.decode()
    assert proc.returncode == 0, text
    assert "Received SIGTERM" in text
    assert fake_discord.token not in text
    assert "Traceback" not in text
    with closing(sqlite3.connect(db)) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert await seeded_characters(db, guild.id) == 9
    assert not os.path.exists(str(db) + "-wal") or os.path.getsize(str(db) + "-wal") == 0


async def test_halfbie_sync_forces_a_sync_and_exits(
    fake_discord: FakeDiscord, guild: FakeGuild, tmp_path: Path
) -> None:
    env = {
        **fake_discord.env(),
        "DISCORD_TOKEN": fake_discord.token,
        "HALFBIE_DB": str(tmp_path / "h.db"),
    }
    for expected in (1, 2):  # the second run syncs although nothing changed: it is forced
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "sync", cwd=ROOT, env=env,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
        )  # fmt: skip
        output, _ = await asyncio.wait_for(proc.communicate(), timeout=60)
        assert proc.returncode == 0, output.decode()
        assert fake_discord.sync_count == expected
    assert not fake_discord.identify_times, "sync must not connect to the gateway"


def test_make_run_without_token_prints_one_line_and_exits_2(tmp_path: Path) -> None:
    if shutil.which("make") is None or not (ROOT / ".venv" / ".run").exists():
        pytest.skip("needs make and the .venv that `make test` creates")
    base = {k: v for k, v in os.environ.items() if not k.startswith(("DISCORD_", "HALFBIE_"))}
    result = subprocess.run(
        ["make", "-s", "run"],
        cwd=ROOT,
        env={**base, "DISCORD_TOKEN": ""},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2
    ours = [line for line in result.stderr.splitlines() if line.startswith("halfbie:")]
    assert len(ours) == 1, result.stderr
    assert "DISCORD_TOKEN" in ours[0]
    assert "Traceback" not in result.stderr
