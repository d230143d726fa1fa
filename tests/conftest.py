"""Fixtures: a fresh store per test, and the real bot running against the offline Discord."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from bot.client import HalfbieBot, create_bot
from bot.config import Config
from tests.clock import ManualClock
from tests.fakediscord import FakeDiscord, FakeGuild, FakeMember
from tests.store_fixtures import (  # noqa: F401  (fixtures)
    PG_URL,
    RUNS,
    another_database,
    database,
    postgres,
    read_outside,
    store,
)

pytest_plugins = ["tests.fakediscord.plugin"]


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Say in one line which stores the store tests ran on."""
    if not any(RUNS.values()):
        return
    if PG_URL:
        terminalreporter.write_line(
            f"store tests: {RUNS['sqlite']} on SQLite, {RUNS['postgresql']} on PostgreSQL "
            "(HALFBIE_TEST_DATABASE_URL; tests marked sqlite_only skipped there)"
        )
    else:
        terminalreporter.write_line(
            f"store tests: {RUNS['sqlite']} on SQLite; their PostgreSQL runs were skipped "
            "(set HALFBIE_TEST_DATABASE_URL=postgresql://user@host/db to run them)"
        )


@dataclass
class BotRunner:
    """Starts and stops the real bot against the fake Discord; a test may restart it."""

    fake: FakeDiscord
    config: Config
    clock: ManualClock = field(default_factory=ManualClock)
    running: list[tuple[HalfbieBot, asyncio.Task[None]]] = field(default_factory=list)
    # Seconds between IDENTIFYs of one bucket for a bot given shards (Discord's 5 s, kept
    # by the bot as 5.5 s, would make every start of a sharded bot in a test that long).
    identify_spacing: float = 0.3

    @property
    def database(self) -> str | Path:
        """Where the bot's data is: the SQLite file, or the PostgreSQL URL."""
        return self.config.database

    async def read(self, sql: str, params: Sequence[object] = ()) -> list[tuple[Any, ...]]:
        """Rows as committed, through a connection of the test's own (``?`` parameters)."""
        return await read_outside(self.config.database, sql, params)

    async def start(self, *, wait: bool = True, **changes: object) -> HalfbieBot:
        config = replace(self.config, **changes) if changes else self.config
        bot = create_bot(
            config, clock=self.clock, guild_ready_timeout=0.05, identify_spacing=self.identify_spacing
        )  # no 2 s wait
        task = asyncio.create_task(bot.start(config.token))
        self.running.append((bot, task))
        if wait:
            ready = asyncio.create_task(bot.wait_until_ready())
            done, _ = await asyncio.wait({ready, task}, timeout=20, return_when=asyncio.FIRST_COMPLETED)
            if task in done:
                ready.cancel()
                task.result()  # raises what stopped the bot
                raise AssertionError("the bot stopped before it was ready")
            if ready not in done:
                ready.cancel()
                raise AssertionError("the bot was not ready within 20 s")
            await bot.seeder.idle()
        return bot

    async def stop(self, bot: HalfbieBot) -> None:
        for i, (b, task) in enumerate(self.running):
            if b is bot:
                await bot.close()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
                del self.running[i]
                return

    async def stop_all(self) -> None:
        for bot, _ in list(self.running):
            await self.stop(bot)


@pytest_asyncio.fixture
async def runner(
    fake_discord: FakeDiscord,
    tmp_path: Path,
    database: str | Path,  # noqa: F811  (the fixture, not the import)
) -> AsyncIterator[BotRunner]:
    """The bot against the offline Discord, on each store (``database``: an SQLite file,
    or a fresh PostgreSQL database when HALFBIE_TEST_DATABASE_URL is set)."""
    if isinstance(database, Path):
        config = Config(token=fake_discord.token, db_path=database)
    else:
        config = Config(token=fake_discord.token, db_path=tmp_path / "unused.db", database_url=database)
    runner = BotRunner(fake_discord, config)
    try:
        yield runner
    finally:
        await runner.stop_all()


@pytest.fixture
def guild(fake_discord: FakeDiscord) -> FakeGuild:
    return fake_discord.add_guild("AoUAD Fans")


@pytest.fixture
def member(guild: FakeGuild) -> FakeMember:
    return guild.add_member("fan")


@pytest_asyncio.fixture
async def bot(runner: BotRunner, guild: FakeGuild) -> HalfbieBot:
    """The bot, started, with one server seeded."""
    return await runner.start()
