"""``halfbie doctor`` through the offline Discord: each problem it names is found, with
its fix, and ``/admin config show`` shows the same per-server findings."""

from __future__ import annotations

import asyncio
import io
import sqlite3
import sys
from contextlib import closing
from pathlib import Path

import aiosqlite
import pytest

from bot.client import HalfbieBot
from bot.config import Config
from bot.doctor import run_doctor
from bot.store import Store
from bot.store._migrate import apply_migrations, load_migrations
from tests.fakediscord import FakeDiscord, FakeGuild, FakeMember, Perm

ROOT = Path(__file__).resolve().parent.parent
WRONG_TOKEN = "MTAwMDAwMDAwMDAwMDAwMDk5.WrongX.d3JvbmctdG9rZW4tZm9yLXRoZS1kb2N0b3ItdGVzdA"


def config_for(fake: FakeDiscord, database: str | Path, tmp_path: Path, **changes: object) -> Config:
    if isinstance(database, Path):
        return Config(token=fake.token, db_path=database, **changes)  # type: ignore[arg-type]
    return Config(token=fake.token, db_path=tmp_path / "unused.db", database_url=database, **changes)  # type: ignore[arg-type]


async def doctor(config: Config) -> tuple[int, str]:
    out = io.StringIO()
    status = await run_doctor(config, out=out)
    return status, out.getvalue()


def rows(table: str, status: str) -> list[str]:
    return [line for line in table.splitlines() if f"  {status}  " in f"{line}  "]


async def configure(database: str | Path, guild_id: int, **settings: int | None) -> None:
    store = await Store.open(database)
    try:
        await store.settings.update(guild_id, None, **settings)
    finally:
        await store.close()


async def test_a_healthy_setup_passes_with_every_check_named(
    fake_discord: FakeDiscord, guild: FakeGuild, database: str | Path, tmp_path: Path
) -> None:
    news = guild.add_role("Season 2 news", mentionable=True)
    admins = guild.add_role("Halfbie admins")
    await configure(
        database,
        guild.id,
        announce_channel_id=guild.general.id,
        ping_role_id=news.id,
        admin_role_id=admins.id,
    )
    status, table = await doctor(config_for(fake_discord, database, tmp_path))
    assert status == 0, table
    assert not rows(table, "PROBLEM"), table
    checks = {line.split()[0] for line in rows(table, "OK")}
    assert {"token", "intents", "database", "migrations", "servers"} <= checks, table
    if isinstance(database, Path):
        assert "integrity_check: ok" in table
    assert "1 server(s): 1 with every setting working" in table
    assert "no problem found" in table
    assert any(r.path == "/users/@me" and r.status == 200 for r in fake_discord.requests)


async def test_a_token_discord_refuses_is_a_problem_with_its_fix(
    fake_discord: FakeDiscord, guild: FakeGuild, tmp_path: Path
) -> None:
    config = Config(token=WRONG_TOKEN, db_path=tmp_path / "h.db")
    status, table = await doctor(config)
    assert status == 1
    (token,) = [line for line in rows(table, "PROBLEM") if line.startswith("token")]
    assert "refused the token" in token
    assert "Reset Token" in token
    assert WRONG_TOKEN not in table
    assert "no database at" in table  # a new host: a note, not a problem
    assert [r.status for r in fake_discord.requests if r.path == "/users/@me"] == [401]


async def test_a_missing_channel_permission_and_a_role_nobody_can_ping_are_found(
    fake_discord: FakeDiscord, guild: FakeGuild, database: str | Path, tmp_path: Path
) -> None:
    news = guild.add_channel("news", bot_can_embed=False)  # an overwrite denies Embed Links
    quiet = guild.add_role("Season 2 news")  # Discord's default: not mentionable
    await configure(database, guild.id, announce_channel_id=news.id, ping_role_id=quiet.id)
    status, table = await doctor(config_for(fake_discord, database, tmp_path))
    assert status == 1
    problems = rows(table, "PROBLEM")
    (channel,) = [line for line in problems if line.startswith("announce channel")]
    assert "In #news I am missing Embed Links." in channel
    assert "Edit Channel → Permissions" in channel
    assert f"({guild.id})" in channel
    (role,) = [line for line in problems if line.startswith("ping role")]
    assert "@Season 2 news cannot be mentioned by me" in role
    assert "Allow anyone to @mention this role" in role
    assert "2 problem(s) found" in table


async def test_a_deleted_channel_and_roles_are_found(
    fake_discord: FakeDiscord, guild: FakeGuild, database: str | Path, tmp_path: Path
) -> None:
    gone = 10**17 + 5
    await configure(
        database, guild.id, announce_channel_id=gone, ping_role_id=gone + 1, admin_role_id=gone + 2
    )
    status, table = await doctor(config_for(fake_discord, database, tmp_path))
    assert status == 1
    found = "\n".join(rows(table, "PROBLEM"))
    assert "The announcement channel no longer exists." in found
    assert "The news ping role no longer exists." in found
    assert "The admin role no longer exists" in found


async def test_a_role_above_the_bot_or_without_manage_roles_is_found(
    fake_discord: FakeDiscord, guild: FakeGuild, database: str | Path, tmp_path: Path
) -> None:
    high = guild.add_role("Mods ping", above_bot=True, mentionable=True)
    await configure(database, guild.id, announce_channel_id=guild.general.id, ping_role_id=high.id)
    status, table = await doctor(config_for(fake_discord, database, tmp_path))
    assert status == 1
    assert "is not below my highest role" in table
    guild.update_role(
        guild.bot_role, permissions=int(Perm.SEND_MESSAGES | Perm.EMBED_LINKS | Perm.VIEW_CHANNEL)
    )
    low = guild.add_role("Low news", mentionable=True)
    await configure(database, guild.id, ping_role_id=low.id)
    status, table = await doctor(config_for(fake_discord, database, tmp_path))
    assert status == 1
    assert "I lack Manage Roles, so /subscribe cannot give @Low news." in table


@pytest.mark.sqlite_only
async def test_an_old_schema_is_a_problem_and_the_doctor_changes_nothing(
    fake_discord: FakeDiscord, tmp_path: Path
) -> None:
    path = tmp_path / "old.db"
    migrations = load_migrations()
    async with aiosqlite.connect(path, isolation_level=None) as conn:
        await apply_migrations(conn, migrations[:-1], path=str(path))
    status, table = await doctor(Config(token=fake_discord.token, db_path=path))
    assert status == 1
    (line,) = [line for line in rows(table, "PROBLEM") if line.startswith("migrations")]
    assert f"schema version {len(migrations) - 1}; this Halfbie's is {len(migrations)}" in line
    assert "start the bot once" in line
    with closing(sqlite3.connect(path)) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == len(migrations) - 1
    assert not list(tmp_path.glob("*.bak")), "the doctor neither migrates nor backs up"


@pytest.mark.sqlite_only
async def test_a_corrupt_file_is_a_problem(fake_discord: FakeDiscord, tmp_path: Path) -> None:
    path = tmp_path / "h.db"
    path.write_bytes(b"this is not an SQLite database, just some bytes" * 100)
    status, table = await doctor(Config(token=fake_discord.token, db_path=path))
    assert status == 1
    (line,) = [line for line in rows(table, "PROBLEM") if line.startswith("database")]
    assert "not an SQLite database" in line


async def test_config_show_gives_the_same_findings_in_the_members_language(
    bot: HalfbieBot, fake_discord: FakeDiscord, guild: FakeGuild, member: FakeMember
) -> None:
    admin = guild.add_member("mod", [guild.admin_role])
    news = guild.add_channel("news", bot_can_embed=False)
    quiet = guild.add_role("Season 2 news")
    await fake_discord.barrier()
    await bot.store.settings.update(guild.id, None, announce_channel_id=news.id, ping_role_id=quiet.id)
    shown = await fake_discord.slash(guild, admin, "admin config show")
    await shown.response()
    checks = {f["name"]: f["value"] for f in shown.embeds[0]["fields"]}["Checks"]
    assert f"❌ In <#{news.id}> I am missing Embed Links." in checks
    assert f"❌ <@&{quiet.id}> cannot be mentioned by me" in checks

    korean = await fake_discord.slash(guild, admin, "admin config show", locale="ko")
    await korean.response()
    checks = {f["name"]: f["value"] for f in korean.embeds[0]["fields"]}["점검"]
    assert f"<#{news.id}> 채널에서 제게 링크 첨부 권한이 없어요." in checks

    await bot.store.settings.update(guild.id, None, announce_channel_id=guild.general.id, ping_role_id=None)
    fixed = await fake_discord.slash(guild, admin, "admin config show")
    await fixed.response()
    checks = {f["name"]: f["value"] for f in fixed.embeds[0]["fields"]}["Checks"]
    assert "❌" not in checks
    assert "Everything the bot needs here works." in checks


async def test_halfbie_doctor_runs_from_the_command_line(
    fake_discord: FakeDiscord, guild: FakeGuild, tmp_path: Path
) -> None:
    db = tmp_path / "h.db"
    store = await Store.open(db)
    await store.close()
    env = {**fake_discord.env(), "DISCORD_TOKEN": fake_discord.token, "HALFBIE_DB": str(db)}
    env.pop("HALFBIE_DATABASE_URL", None)
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "doctor", cwd=ROOT, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(proc.communicate(), timeout=60)
    text = out.decode()
    assert proc.returncode == 0, text + err.decode()
    assert text.splitlines()[0].split() == ["CHECK", "SERVER", "STATUS", "WHAT", "WAS", "FOUND", "FIX"]
    assert "halfbie doctor: no problem found" in text
    assert fake_discord.token not in text + err.decode()
