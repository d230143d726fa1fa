"""Bad input on PostgreSQL: a wrong database URL, PostgreSQL not answering at start, and
PostgreSQL restarted in the middle of a burst of votes.

At start, ``python -m bot`` says what is wrong in one line and exits with status 2, no
traceback.  A restart of PostgreSQL cannot be done here (the machine's server is shared),
so the test does what a restart does to the bot: every connection of the bot's to the
database is ended by the server (``pg_terminate_backend``), from a connection of the
test's own, while the bot has writes in flight.  A click whose vote could not be stored
is answered "not counted, try again", never "counted"; every click answered "counted"
is stored; the bot reconnects, says so in the log, and counts the next clicks; nothing
is logged as an unhandled error (the ``fake_discord`` fixture fails the test on any
ERROR record of the bot's loggers).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import subprocess
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import asyncpg
import pytest
import pytest_asyncio

from bot.config import Config
from bot.models import JobKind, Reminder, ReminderKind
from tests.conftest import BotRunner
from tests.fakediscord import FAKE_TOKEN, FakeDiscord, FakeGuild, FakeMember, InteractionResult
from tests.store_fixtures import PG_URL, read_outside
from tests.test_theories import shown_counts
from tests.test_theories_crash import ROOT, until, votes

COUNTED = "Your vote on this theory is now"  # theory.voted
NOT_COUNTED = "Not counted: the bot's database did not answer just now"  # errors.unavailable
BURST_POLL = "byeong-chan-returns"
OPTIONS = 3
WAVE = 100  # clicks per wave

# -- at start ------------------------------------------------------------------------------------


def run_bot(url: str) -> subprocess.CompletedProcess[str]:
    """``python -m bot`` with a valid token and HALFBIE_DATABASE_URL=url; it must stop before
    it reaches Discord."""
    base = {k: v for k, v in os.environ.items() if not k.startswith(("DISCORD_", "HALFBIE_"))}
    return subprocess.run(
        [sys.executable, "-m", "bot"],
        env={**base, "DISCORD_TOKEN": FAKE_TOKEN, "HALFBIE_DATABASE_URL": url},
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
    )


def assert_one_line(result: subprocess.CompletedProcess[str], *words: str) -> str:
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("halfbie: "), lines[0]
    for word in words:
        assert word in lines[0], lines[0]
    return lines[0]


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("mysql://root@127.0.0.1/halfbie", ("HALFBIE_DATABASE_URL",)),
        ("postgresql://halfbie@127.0.0.1:port/halfbie", ("HALFBIE_DATABASE_URL",)),
        ("postgresql:///halfbie", ("HALFBIE_DATABASE_URL",)),
    ],
)
def test_a_wrong_database_url_is_one_line_and_exit_2(url: str, words: tuple[str, ...]) -> None:
    assert_one_line(run_bot(url), *words)


def test_postgresql_not_answering_at_start_is_one_line_and_exit_2() -> None:
    # Nothing listens on port 1: the connection is refused at once, as when PostgreSQL is
    # stopped.  The password never shows.
    line = assert_one_line(
        run_bot("postgresql://halfbie:s3cret@127.0.0.1:1/halfbie"),
        "cannot open the database at postgresql://halfbie:***@127.0.0.1:1/halfbie",
        "PostgreSQL does not answer there",
        "HALFBIE_DATABASE_URL",
    )
    assert "s3cret" not in line


def _on_the_test_server(database: str, user: str | None = None) -> str:
    head, _, _ = PG_URL.rpartition("/")
    if user is not None:
        scheme, rest = head.split("://", 1)
        head = f"{scheme}://{user}@{rest.rsplit('@', 1)[-1]}"
    return f"{head}/{database}"


@pytest.mark.parametrize(
    ("wrong", "words"),
    [("database", ("does not exist", "createdb")), ("login", ("refused the login",))],
)
def test_a_missing_database_or_a_refused_login_is_one_line_and_exit_2(
    wrong: str, words: tuple[str, ...]
) -> None:
    if not PG_URL:
        pytest.skip("PostgreSQL run: HALFBIE_TEST_DATABASE_URL is not set")
    url = (
        _on_the_test_server("halfbie_no_such_database")
        if wrong == "database"
        else _on_the_test_server("test", user="halfbie_no_such_role")
    )
    assert_one_line(run_bot(url), "cannot open the database at", *words)


# -- PostgreSQL restarted during a vote burst -------------------------------------------------------


@pytest_asyncio.fixture
async def on_postgres(fake_discord: FakeDiscord, tmp_path: Path, postgres: str) -> AsyncIterator[BotRunner]:
    """The bot in this test's loop, on a fresh PostgreSQL database."""
    config = Config(token=fake_discord.token, db_path=tmp_path / "unused.db", database_url=postgres)
    runner = BotRunner(fake_discord, config)
    try:
        yield runner
    finally:
        await runner.stop_all()


async def waiting_on_a_lock(url: str) -> bool:
    """Whether a connection of the bot's waits for a lock (the test's)."""
    rows = await read_outside(
        url,
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
        "AND pid <> pg_backend_pid() AND wait_event_type = 'Lock'",
    )
    return int(rows[0][0]) > 0


@contextlib.asynccontextmanager
async def holding(url: str, table: str, mode: str) -> AsyncIterator[Callable[[], Awaitable[int]]]:
    """Lock ``table`` in ``mode`` from a connection of the test's own, so that the bot's next
    write to it waits inside its transaction; the block gets ``restart()``, which waits for that
    and then does what a restart of PostgreSQL does to the bot: the server ends every
    connection to the database but the test's (returns how many)."""
    admin = await asyncpg.connect(url)
    try:
        transaction = admin.transaction()
        await transaction.start()
        await admin.execute(f"LOCK TABLE {table} IN {mode} MODE")

        async def restart() -> int:
            await until(lambda: waiting_on_a_lock(url), 10, f"a write of the bot's to wait for {table}")
            ended = await admin.fetchval(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
            return int(ended)

        yield restart
        await transaction.rollback()
    finally:
        await admin.close()


async def end_connections(url: str) -> int:
    """A restart of PostgreSQL while the bot is idle."""
    admin = await asyncpg.connect(url)
    try:
        return int(
            await admin.fetchval(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        )
    finally:
        await admin.close()


def option_of(r: InteractionResult) -> int:
    return int(r.payload["data"]["custom_id"].split(":")[2])


async def test_postgresql_restarted_during_a_vote_burst_loses_no_answered_vote(
    on_postgres: BotRunner, fake_discord: FakeDiscord, guild: FakeGuild, caplog: pytest.LogCaptureFixture
) -> None:
    fake, url, clock = fake_discord, str(on_postgres.database), on_postgres.clock
    members = [guild.add_member(f"fan{i}") for i in range(3 * WAVE)]
    bot = await on_postgres.start()
    theory_id = next(t.id for t in await bot.store.theories.list(guild.id) if t.fields.key == BURST_POLL)
    posted = await fake.slash(guild, guild.owner, "theory show", theory=str(theory_id))
    await posted.response(timeout=10)
    message = posted.message
    assert message is not None
    caplog.set_level(logging.INFO, logger="bot")
    results: list[InteractionResult] = []

    async def wave(fans: list[FakeMember]) -> None:
        for i, fan in enumerate(fans):
            results.append(await fake.click(guild, fan, message, f"poll:{theory_id}:{i % OPTIONS}"))

    def all_answered() -> bool:
        return all(r.type is not None for r in results)

    # Before: a wave of clicks, all counted.
    await wave(members[:WAVE])
    await until(all_answered, 15, "the first wave's answers")
    # PostgreSQL goes away with a batch of votes waiting in its transaction, and a wave
    # of clicks arriving behind it.
    async with holding(url, "votes", "EXCLUSIVE") as restart:
        await wave(members[WAVE : 2 * WAVE])
        ended = await restart()
    await until(all_answered, 15, "the second wave's answers")
    # And again, with the tally's refresh writing what the message shows when it goes
    # (SHARE: the poll's row cannot be updated; votes, which only read it, go on).
    async with holding(url, "theories", "SHARE") as restart:
        clock.advance(0.2)  # the refresher's first wait: it edits the message, then records it
        await wave(members[2 * WAVE :])
        ended += await restart()
    await until(all_answered, 15, "the third wave's answers")

    other = {r.content for r in results if not (r.content or "").startswith((COUNTED, NOT_COUNTED))}
    assert other == set()  # "counted" or "not counted, try again": nothing else
    counted = [r for r in results if (r.content or "").startswith(COUNTED)]
    refused = [r for r in results if (r.content or "").startswith(NOT_COUNTED)]
    assert refused, "a vote in flight when PostgreSQL went must be answered not counted"
    stored = await votes(url, theory_id)
    for r in counted:  # answered "counted": stored
        assert stored.get(r.member.id) == option_of(r), r.member.id
    for r in refused:  # answered "not counted": not stored (each member clicked once)
        assert r.member.id not in stored, r.member.id

    # The bot is back: the members told to try again are counted now.
    again = []
    for r in refused:
        again.append(await fake.click(guild, r.member, message, f"poll:{theory_id}:{option_of(r)}"))
    for r in again:
        await r.response(timeout=10)
        assert (r.content or "").startswith(COUNTED), r.content
    stored = await votes(url, theory_id)
    assert stored == {r.member.id: option_of(r) for r in results}

    # The message shows every stored vote (the refresh cut off is done again).
    expected = [sum(1 for o in stored.values() if o == n) for n in range(OPTIONS)]

    def exact() -> bool:
        clock.advance(1)  # the refresher waits on the bot's clock
        return shown_counts(message) == expected

    await until(exact, 15, f"the message to show {expected}")

    # Readiness: a loss while idle makes the store unavailable until the next write
    # reconnects it.
    listener = bot.store.listener
    assert listener is not None
    await until(listener.listening.is_set, 15, "the listener to listen again")
    await end_connections(url)
    await until(lambda: not bot.store.available, 10, "the store to notice the loss")
    late = await fake.click(guild, members[0], message, f"poll:{theory_id}:2")
    await late.response(timeout=10)
    assert (late.content or "").startswith(COUNTED), late.content
    assert bot.store.available
    assert (await votes(url, theory_id))[members[0].id] == 2

    log = caplog.text
    assert "lost the connection to PostgreSQL" in log
    assert "reconnected to PostgreSQL" in log
    await until(lambda: listener.reconnects >= 3, 15, "the listener to listen again after each loss")
    assert "lost the connection that hears other processes' changes" in caplog.text
    assert "listening for other processes' changes again" in caplog.text
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []
    print(
        f"\n{len(results)} clicks in three waves, PostgreSQL's connections ended twice in the burst "
        f"({ended} connections): {len(counted)} answered counted and stored, {len(refused)} answered "
        f"not counted (none stored; counted when clicked again); the message shows {expected}"
    )


async def test_a_reminder_due_when_postgresql_restarts_is_posted_once_without_an_error(
    on_postgres: BotRunner, fake_discord: FakeDiscord, guild: FakeGuild, caplog: pytest.LogCaptureFixture
) -> None:
    url, clock = str(on_postgres.database), on_postgres.clock
    channel = guild.add_channel("season-2-news")
    bot = await on_postgres.start()
    await bot.store.settings.update(guild.id, None, announce_channel_id=channel.id)
    due = int(clock.now()) + 10
    await bot.scheduler.add(Reminder(guild.id, ReminderKind.DAY, due + ReminderKind.DAY.offset).job)
    await asyncio.wait_for(clock.sleeping(due), 10)  # the scheduler sleeps until the reminder
    caplog.set_level(logging.INFO, logger="bot")
    # PostgreSQL goes away while the scheduler claims the reminder.
    async with holding(url, "jobs", "EXCLUSIVE") as restart:
        clock.advance(10)
        await restart()

    async def posted() -> bool:
        clock.advance(1)  # the scheduler's pause is on the bot's clock
        rows = await read_outside(url, "SELECT state FROM jobs WHERE kind = ?", (JobKind.REMIND,))
        return rows == [("done",)]

    await until(posted, 15, "the reminder to be posted")
    titles = [m.embeds[0]["title"] for m in fake_discord.messages_in(channel)]
    assert titles == ["One day to go"]
    assert "The scheduler cannot reach the database now" in caplog.text
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []
