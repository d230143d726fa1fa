"""SIGTERM and upgrades: a stop during a vote burst answers the clicks in flight, loses no
answered vote, posts nothing twice and exits 0 within 10 s; an upgrade of an SQLite file
first copies it beside itself, and says where."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import sqlite3
import sys
import time
from contextlib import closing
from pathlib import Path

import aiosqlite
import pytest

from bot.store import Store
from bot.store._migrate import apply_migrations, load_migrations
from bot.store.health import backup_path
from tests.conftest import BotRunner
from tests.fakediscord import FakeDiscord, FakeGuild, FakeMember, InteractionResult, Perm
from tests.test_http import until

ROOT = Path(__file__).resolve().parent.parent
STOP_WITHIN = 10.0  # seconds: what `docker stop` waits before SIGKILL
CLICKS = 300


async def start_bot(fake: FakeDiscord, db: Path) -> asyncio.subprocess.Process:
    env = {
        **{k: v for k, v in fake.env().items() if not k.startswith(("HALFBIE_DB", "HALFBIE_HTTP"))},
        "DISCORD_TOKEN": fake.token,
        "HALFBIE_DB": str(db),
        "HALFBIE_LOG_LEVEL": "INFO",
    }
    env.pop("HALFBIE_DATABASE_URL", None)
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", cwd=ROOT, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip


async def answered(result: InteractionResult) -> str | None:
    """The answer's text, or None when the bot never answered (it had stopped reading)."""
    try:
        await result.response(timeout=5)
    except (AssertionError, TimeoutError):
        return None
    return result.content or ""


async def test_sigterm_during_a_vote_burst_loses_no_answered_vote_and_exits_0_in_time(
    fake_discord: FakeDiscord, guild: FakeGuild, tmp_path: Path
) -> None:
    db = tmp_path / "h.db"
    mods = guild.add_role("Mods", Perm.MANAGE_MESSAGES)
    creator = guild.add_member("mod", [mods])
    fans: list[FakeMember] = [guild.add_member(f"fan{i}") for i in range(CLICKS)]
    proc = await start_bot(fake_discord, db)
    try:
        await fake_discord.wait_ready(timeout=30)
        poll = await fake_discord.slash(guild, creator, "theory new", options={"title": "Nam-ra leads"})
        await poll.response(timeout=10)
        assert poll.message is not None
        theory_id = int(poll.custom_ids()[0].split(":")[1])
        warmup = await fake_discord.click(guild, fans[0], poll.message, f"poll:{theory_id}:0")
        assert "now **" in (await answered(warmup) or "")

        clicks: list[tuple[FakeMember, int, InteractionResult]] = []

        async def burst() -> None:
            for i, fan in enumerate(fans[1:], start=1):
                try:
                    result = await fake_discord.click(guild, fan, poll.message, f"poll:{theory_id}:{i % 3}")
                except Exception:  # the gateway is closed: the bot stopped listening
                    return
                clicks.append((fan, i % 3, result))
                await asyncio.sleep(0.002)

        sending = asyncio.create_task(burst())
        await until(lambda: len(clicks) >= 50)  # the burst is under way
        proc.send_signal(signal.SIGTERM)
        signalled = time.monotonic()
        output, _ = await asyncio.wait_for(proc.communicate(), timeout=STOP_WITHIN)
        stopped_after = time.monotonic() - signalled
        sending.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await sending
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    text = output.decode()
    assert proc.returncode == 0, text
    assert stopped_after < STOP_WITHIN, text
    assert "Received SIGTERM" in text
    assert "Traceback" not in text, text

    texts = await asyncio.gather(*(answered(result) for _, _, result in clicks))
    answers = [(fan, option, text) for (fan, option, _), text in zip(clicks, texts, strict=True)]
    with closing(sqlite3.connect(db)) as conn:
        votes = dict(
            conn.execute("SELECT member_id, option_position FROM votes WHERE theory_id = ?", (theory_id,))
        )
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    counted = [(fan, option) for fan, option, answer in answers if answer and "now **" in answer]
    restarting = [fan for fan, _, answer in answers if answer and "restarting" in answer]
    assert counted, "no click was answered before the stop"
    print(
        f"{len(clicks)} clicks, {len(counted)} counted, {len(restarting)} turned away, {stopped_after:.2f} s"
    )
    for fan, option in counted:  # every vote a member was told about is stored
        assert votes.get(fan.id) == option, fan.name
    for fan in restarting:  # turned away: nothing of it was stored
        assert fan.id not in votes
    # Posts nothing twice: one poll message, whatever was retried.
    poll_messages = [
        m for m in fake_discord.messages_in(guild.general) if f"poll:{theory_id}:0" in m.custom_ids()
    ]
    assert len(poll_messages) == 1


@pytest.mark.sqlite_only
async def test_an_upgrade_copies_the_sqlite_file_beside_it_first(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "halfbie.db"
    migrations = load_migrations()
    old = len(migrations) - 2
    async with aiosqlite.connect(path, isolation_level=None) as conn:
        await apply_migrations(conn, migrations[:old], path=str(path))
        await conn.execute("INSERT INTO meta (key, value) VALUES ('kept', 'yes')")
    with caplog.at_level(logging.INFO, logger="bot.store"):
        store = await Store.open(path)
    await store.close()
    copy = backup_path(path, old + 1)
    assert copy.name == f"halfbie.db.before-{old + 1:04d}.bak"
    assert f"to {copy} before applying migrations {old + 1:04d}-{len(migrations):04d}" in caplog.text
    with closing(sqlite3.connect(copy)) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == old
        assert conn.execute("SELECT value FROM meta WHERE key = 'kept'").fetchone() == ("yes",)
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    # Up to date: opening again copies nothing more; a new file is never copied.
    again = await Store.open(path)
    await again.close()
    fresh = await Store.open(tmp_path / "fresh.db")
    await fresh.close()
    assert sorted(p.name for p in tmp_path.glob("*.bak")) == [copy.name]


@pytest.mark.sqlite_only
async def test_an_upgrade_whose_copy_fails_leaves_the_file_as_it_was(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "halfbie.db"
    migrations = load_migrations()
    async with aiosqlite.connect(path, isolation_level=None) as conn:
        await apply_migrations(conn, migrations[:-1], path=str(path))
    before = path.read_bytes()

    def no_space(*args: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("bot.store.health.os.link", no_space)
    with pytest.raises(Exception, match=r"cannot upgrade the database at .*No space left on device"):
        await Store.open(path)
    assert path.read_bytes() == before
    assert not list(tmp_path.glob("*.bak*"))


async def test_a_stop_answers_the_click_in_flight_then_turns_new_ones_away(
    runner: BotRunner, fake_discord: FakeDiscord, guild: FakeGuild, member: FakeMember
) -> None:
    bot = await runner.start()
    # A command in flight: its answer waits for the store, which a held job keeps busy.
    started, gate = asyncio.Event(), asyncio.Event()

    async def hold(conn: object) -> None:
        started.set()
        await gate.wait()

    held = asyncio.create_task(bot.store.writer.submit(hold))
    await started.wait()
    mods = guild.add_role("Mods", Perm.MANAGE_MESSAGES)
    creator = guild.add_member("mod", [mods])
    await fake_discord.barrier()
    in_flight = await fake_discord.slash(guild, creator, "theory new", options={"title": "Su-hyeok returns"})
    await until(lambda: len(bot.inflight))
    closing_task = asyncio.create_task(runner.stop(bot))
    await until(lambda: bot.inflight.draining)
    late = await fake_discord.slash(guild, member, "about")
    assert "restarting" in (await answered(late) or "")
    gate.set()  # the store goes on: the command in flight commits, then is answered
    await held
    await in_flight.response(timeout=5)
    assert in_flight.message is not None
    await closing_task
