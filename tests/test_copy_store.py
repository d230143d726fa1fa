"""Moving the whole store to another database (``halfbie copy-store --to``): SQLite to
PostgreSQL and back, exact to the byte; refusals; the copy checked table by table and
undone on a difference; ids handed out after it; rows streamed in batches."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path
from typing import Any

import pytest

import bot.store.copy as copy_module
from bot.models import Announcement, NewJob, NewsFields, TheoryFields
from bot.store import Store, StoreOpenError
from bot.store._migrate import apply_migrations, load_migrations
from bot.store._open import connect
from bot.store.copy import Checksum, CopyError, copy_between, copy_store, row_digest
from bot.store.transfer import dumps
from tests.store_fixtures import (
    ARTICLE,
    PG_URL,
    START,
    FakeClock,
    character,
    count_rows,
    dump,
    read_outside,
    small_canon,
)

ROOT = Path(__file__).resolve().parent.parent
GUILD = 1001
OTHER = 2002
ADMIN = 7
OLD_PROCESS = "shards-0-1@old-host"

Dump = dict[str, list[tuple[Any, ...]]]


# -- a busy bot -------------------------------------------------------------------------------


async def busy_store(store: Store, *, members: int = 120) -> None:
    """Two servers with a row in every table: the canon, admins' edits (audited), settings,
    news added, edited and removed, polls with a few hundred votes, one closed and resolved
    (scores), one closing later (its job), a premiere (its reminders), an announcement,
    the bot's own meta rows, jobs of no server (the daily purge, claimed by a process of
    the old store), a finished job, ids handed out and deleted since, an IDENTIFY turn."""
    await store.guilds.seed_many([GUILD, OTHER], small_canon())
    for guild in (GUILD, OTHER):
        await store.characters.add(
            guild, ADMIN, character("gwi-nam", "Yoon Gwi-nam", notes='@everyone 한글 "q" \\ é')
        )
        await store.settings.update(guild, ADMIN, spoiler_mode="shown", language="ko", ping_role_id=555)
        added = await store.news.add(
            guild, ADMIN, NewsFields("Filming ends", "2024-05-01", "2024-05-02", ARTICLE)
        )
        await store.news.update(
            guild, ADMIN, added.id, NewsFields("Filming ended", "2024-05-01", "2024-05-03", ARTICLE)
        )
        gone = await store.news.add(guild, ADMIN, NewsFields("A rumour", None, "2024-06-01", ARTICLE))
        await store.news.remove(guild, ADMIN, gone.id)
        await store.theories.create(
            guild,
            ADMIN,
            TheoryFields("Su-hyeok lives?", ("Yes", "No", "?"), ARTICLE, closes_at=START + 86_400),
        )
        theories = await store.theories.list(guild)
        for member in range(members):
            for index, theory in enumerate(theories):
                await store.theories.cast_vote(guild, theory.id, 10_000 + member, (member + index) % 2)
        await store.theories.resolve(guild, ADMIN, theories[0].id, 1)  # scores: voters / right, floats
        await store.release.change_premiere(guild, ADMIN, START + 30 * 86_400)
        await store.announcements.record(
            Announcement(guild, "premiere", 333, 444, START, before={"premiere_at": None})
        )
    await store.meta.set("commands.hash.global", "0123abcd")
    await store.meta.set("commands.ids.global", '{"character": 99, "theory": 98}')
    await store.jobs.schedule(NewJob("purge", "daily", START, None))
    claimed = await store.jobs.claim_due(START, OLD_PROCESS, kinds=["purge"], lease=120, limit=1)
    assert [job.kind for job in claimed] == ["purge"]
    await store.jobs.schedule(NewJob("test-done", "one", START, GUILD, {"n": 1}))
    (done,) = await store.jobs.claim_due(START, OLD_PROCESS, kinds=["test-done"], lease=120, limit=1)
    assert await store.jobs.complete(done, note="ok")
    for _ in range(3):  # each re-arm is a new row: ids handed out and deleted
        await store.jobs.schedule(NewJob("test-later", "last", START + 999, OTHER))
    assert await store.jobs.cancel("test-later", "last")  # the highest id is gone
    assert await store.coordination.take_identify_turn(0, 5.0) == 0.0


NOT_COPIED = ("identify_slots", "sqlite_stat1")  # the processes' IDENTIFY turns; SQLite's statistics


def data(rows: Dump) -> Dump:
    """What a copy moves of a dump: every table but those of :data:`NOT_COPIED`."""
    return {name: table for name, table in rows.items() if name not in NOT_COPIED}


def total(rows: Dump) -> int:
    return sum(len(table) for table in data(rows).values())


def released(rows: Dump) -> Dump:
    """The dump as copied: a job claimed by a process of the old store is pending again,
    and the processes' IDENTIFY turns stay behind."""
    out = {name: list(table) for name, table in data(rows).items()}
    out["jobs"] = sorted(
        (
            (*row[:6], "pending", *row[7:9], None, None, *row[11:]) if row[6] == "claimed" else row
            for row in out["jobs"]
        ),
        key=repr,
    )
    return out


async def sqlite_sequence(path: Path) -> list[tuple[Any, ...]]:
    return await read_outside(path, "SELECT name, seq FROM sqlite_sequence ORDER BY name")


async def exports(where: str | Path) -> dict[int, str]:
    """Every server's export as ``halfbie export`` writes it, at one fixed time."""
    store = await Store.open(where, clock=FakeClock(), migrate=False)
    try:
        return {guild: dumps(await store.transfer.export_guild(guild)) for guild in (GUILD, OTHER)}
    finally:
        await store.close()


# -- the command line -------------------------------------------------------------------------


async def halfbie(database: str | Path, *args: str) -> tuple[int, str, str]:
    """Run ``python -m bot`` as the host does, on this database, without any token."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DISCORD_", "HALFBIE_"))}
    if isinstance(database, Path):
        env["HALFBIE_DB"] = str(database)
    else:
        env["HALFBIE_DATABASE_URL"] = database
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", *args, cwd=ROOT, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(proc.communicate(), timeout=120)
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


def one_line(code: int, out: str, err: str, *needles: str) -> str:
    """A success: exit 0, one line on stdout, nothing on stderr."""
    assert code == 0, err
    assert not err.strip(), err
    lines = out.strip().splitlines()
    assert len(lines) == 1, out
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])
    return lines[0]


def one_line_error(code: int, err: str, *needles: str) -> None:
    assert code == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("halfbie: "), err
    assert "Traceback" not in err
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])


async def cli_exports(database: str | Path) -> dict[int, str]:
    """``halfbie export --guild ID`` of every server, without the time it was taken."""
    texts = {}
    for guild in (GUILD, OTHER):
        code, out, err = await halfbie(database, "export", "--guild", str(guild))
        assert code == 0, err
        texts[guild] = "\n".join(line for line in out.splitlines() if '"exported_at"' not in line)
    return texts


# -- SQLite to PostgreSQL and back --------------------------------------------------------------


async def test_sqlite_to_postgresql_and_back_is_exact(tmp_path: Path, postgres: str) -> None:
    """The issue's test: SQLite, copied to PostgreSQL, copied back to a new SQLite file,
    is the same to the byte: every server's export, every row of every table (ids
    included), the ids handed out next; the source is left as it was."""
    source = tmp_path / "halfbie.db"
    store = await Store.open(source, clock=FakeClock())
    try:
        await busy_store(store)
    finally:
        await store.close()
    before = await dump(source)
    assert len(before["votes"]) >= 500
    assert before["scores"]
    assert before["identify_slots"]
    sequence = await sqlite_sequence(source)
    assert sequence[0][1] > max(row[0] for row in before["jobs"])  # the highest id was deleted
    exported = await exports(source)
    exported_cli = await cli_exports(source)

    line = one_line(
        *await halfbie(source, "copy-store", "--to", postgres),
        f"copied 2 servers ({total(before)} rows",
        f"from {source} to {postgres}",
        "every table's row count and checksum match",
        "1 jobs claimed by the old store's processes are pending again",
    )
    assert "deleted" not in line
    assert await dump(source) == before  # the source is untouched
    assert await exports(postgres) == exported  # byte for byte, ids included
    assert await cli_exports(postgres) == exported_cli
    assert (await read_outside(postgres, "SELECT COUNT(*) FROM identify_slots"))[0][0] == 0

    back = tmp_path / "back.db"
    one_line(*await halfbie(postgres, "copy-store", "--to", f"sqlite:///{back}"), f"to {back}")
    assert data(await dump(back)) == released(before)
    assert await sqlite_sequence(back) == sequence  # no job id will be handed out twice
    assert await exports(back) == exported
    assert await cli_exports(back) == exported_cli
    assert await dump(source) == before


async def test_ids_handed_out_after_a_copy_to_postgresql_are_new(tmp_path: Path, postgres: str) -> None:
    source = tmp_path / "halfbie.db"
    store = await Store.open(source, clock=FakeClock())
    try:
        await busy_store(store, members=3)
    finally:
        await store.close()
    highest = {
        table: (await read_outside(source, f"SELECT MAX(id) FROM {table}"))[0][0]
        for table in ("theories", "news", "audit")
    }
    job_seq = dict(await sqlite_sequence(source))["jobs"]
    await copy_between(source, postgres)

    moved = await Store.open(postgres, clock=FakeClock())
    try:
        theory = await moved.theories.create(GUILD, ADMIN, TheoryFields("New?", ("Yes", "No"), ARTICLE))
        news = await moved.news.add(GUILD, ADMIN, NewsFields("Newer", None, "2025-01-01", ARTICLE))
        job = await moved.jobs.schedule(NewJob("test-after", "x", START, GUILD))
        audit = await read_outside(postgres, "SELECT MAX(id) FROM audit")
    finally:
        await moved.close()
    assert theory.id == highest["theories"] + 1
    assert news.id == highest["news"] + 1
    assert audit[0][0] > highest["audit"]
    assert job.id == job_seq + 1  # past the deleted ones too


# -- any two databases of one kind --------------------------------------------------------------


async def test_a_copy_between_two_databases_of_one_kind_is_exact(
    database: str | Path, another_database: str | Path
) -> None:
    store = await Store.open(database, clock=FakeClock())
    try:
        await busy_store(store, members=20)
        before = await dump(store)
        result = await copy_between(database, another_database, batch=50)
        assert await dump(store) == before
    finally:
        await store.close()
    assert result.servers == 2
    assert result.released == 1
    assert result.replaced == 0
    rows = await count_rows(another_database)
    assert {t.name: t.rows for t in result.tables} == {n: c for n, c in rows.items() if n not in NOT_COPIED}
    assert data(await dump(another_database)) == released(before)
    assert await exports(another_database) == await exports(database)

    # ids handed out next: past everything the source handed out
    copied = await Store.open(another_database, clock=FakeClock())
    try:
        theory = await copied.theories.create(OTHER, ADMIN, TheoryFields("Later?", ("Yes", "No"), ARTICLE))
        job = await copied.jobs.schedule(NewJob("test-after", "x", START, OTHER))
    finally:
        await copied.close()
    assert theory.id > max(row[0] for row in before["theories"])
    assert job.id > max(row[0] for row in before["jobs"]) + 1  # the deleted highest is not reused


async def test_a_target_holding_data_is_refused_unless_replace(
    database: str | Path, another_database: str | Path
) -> None:
    source = await Store.open(database, clock=FakeClock())
    target = await Store.open(another_database, clock=FakeClock())
    try:
        await busy_store(source, members=5)
        await target.guilds.seed_many([31337], small_canon())
        held = await dump(target)
        with pytest.raises(CopyError, match=r"already holds Halfbie data \(1 servers, \d+ rows\).*--replace"):
            await copy_between(database, another_database)
        assert await dump(target) == held

        result = await copy_between(database, another_database, replace=True)
        assert result.replaced == total(held)
        assert data(await dump(target)) == released(await dump(source))
        assert result.guild_ids == {GUILD, OTHER, 31337}
    finally:
        await source.close()
        await target.close()


async def test_a_store_open_on_the_target_forgets_what_the_copy_replaced(
    database: str | Path, another_database: str | Path
) -> None:
    """The copy's writes go through the target store's writer, as an import's do: its
    cache of every server the copy changed is forgotten (other processes are told on
    PostgreSQL)."""
    source = await Store.open(database, clock=FakeClock())
    target = await Store.open(another_database, clock=FakeClock())
    try:
        await busy_store(source, members=2)
        await target.guilds.seed_many([31337], small_canon())
        assert (await target.settings.get(GUILD)).language == "auto"  # not there: defaults, cached
        assert len(await target.characters.list(31337)) == 3  # cached
        await copy_store(source, target, replace=True)
        assert (await target.settings.get(GUILD)).language == "ko"
        assert len(await target.characters.list(31337)) == 0
    finally:
        await source.close()
        await target.close()


async def test_a_copy_that_reads_back_differently_is_undone(
    database: str | Path, another_database: str | Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = await Store.open(database, clock=FakeClock())
    try:
        await busy_store(store, members=5)
    finally:
        await store.close()
    insert = copy_module._insert

    async def changed(conn: Any, table: str, columns: Any, rows: list[tuple[Any, ...]]) -> None:
        if table == "votes":  # one vote a second later: the same count, another checksum
            at = columns.index("voted_at")
            rows = [(*rows[0][:at], rows[0][at] + 1, *rows[0][at + 1 :]), *rows[1:]]
        await insert(conn, table, columns, rows)

    monkeypatch.setattr(copy_module, "_insert", changed)
    with pytest.raises(CopyError, match=r"differs from the source \(votes: checksum .*nothing was copied"):
        await copy_between(database, another_database)
    assert set((await count_rows(another_database)).values()) == {0}

    async def dropped(conn: Any, table: str, columns: Any, rows: list[tuple[Any, ...]]) -> None:
        await insert(conn, table, columns, rows[1:] if table == "scores" else rows)

    monkeypatch.setattr(copy_module, "_insert", dropped)
    with pytest.raises(CopyError, match=r"scores: rows \d+ rows against \d+"):
        await copy_between(database, another_database)
    assert set((await count_rows(another_database)).values()) == {0}


async def test_rows_are_read_and_checked_a_batch_at_a_time(
    database: str | Path, another_database: str | Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = await Store.open(database, clock=FakeClock())
    try:
        await busy_store(store, members=150)  # 900 votes
    finally:
        await store.close()
    pages: list[int] = []
    fetch_all = copy_module.fetch_all

    async def counted(conn: Any, sql: str, params: Any = ()) -> Any:
        rows = await fetch_all(conn, sql, params)
        if " LIMIT " in sql:
            pages.append(len(rows))
        return rows

    monkeypatch.setattr(copy_module, "fetch_all", counted)
    result = await copy_between(database, another_database, batch=64)
    assert max(pages) == 64  # no read holds more than one batch
    assert sum(pages) == 2 * result.rows  # every row read once from each side
    assert {t.name: t.rows for t in result.tables}["votes"] == 900


async def test_the_same_database_is_refused(database: str | Path) -> None:
    store = await Store.open(database, clock=FakeClock())
    try:
        await busy_store(store, members=2)
        before = await dump(store)
        with pytest.raises(CopyError, match="is the database being copied"):
            await copy_between(database, database, replace=True)
        if isinstance(database, Path):  # another spelling of the same file
            with pytest.raises(CopyError, match="is the database being copied"):
                await copy_between(database, f"sqlite:///{database.parent}/./{database.name}", replace=True)
        assert await dump(store) == before
    finally:
        await store.close()


async def test_a_source_at_an_older_schema_is_refused_and_nothing_is_created(tmp_path: Path) -> None:
    old = tmp_path / "old.db"
    conn = await connect(old, create=True)
    try:
        migrations = load_migrations()
        await apply_migrations(conn, migrations[:-1], path=str(old))
    finally:
        await conn.close()
    target = tmp_path / "new.db"
    with pytest.raises(
        CopyError, match=rf"schema {len(migrations) - 1} and this Halfbie's is {len(migrations)}"
    ):
        await copy_between(old, target)
    assert not target.exists()


async def test_a_bot_running_on_postgresql_is_refused(postgres: str, tmp_path: Path) -> None:
    """Neither copied from while its processes may still write, nor replaced under them."""
    other = tmp_path / "other.db"
    store = await Store.open(other, clock=FakeClock())
    try:
        await store.guilds.seed_many([OTHER], small_canon())
    finally:
        await store.close()
    running = await Store.open(postgres, clock=FakeClock())
    try:
        await running.guilds.seed_many([GUILD], small_canon())
        await running.listen()  # as every process of a running bot does
        before = await dump(postgres)
        with pytest.raises(
            CopyError, match=r"a Halfbie bot is running on .* \(1 processes connected\); stop"
        ):
            await copy_between(postgres, tmp_path / "copy.db")
        with pytest.raises(CopyError, match=r"a Halfbie bot is running on"):
            await copy_between(other, postgres, replace=True)
        assert await dump(postgres) == before
    finally:
        await running.close()
    result = await copy_between(postgres, tmp_path / "copy.db")  # the bot stopped
    assert result.servers == 1


async def test_the_check_sees_types_not_just_text() -> None:
    assert row_digest((True, 2.5, b"x", None, "a")) == row_digest((1, 2.5, memoryview(b"x"), None, "a"))
    assert row_digest((1,)) != row_digest((1.0,))
    assert row_digest((1,)) != row_digest(("1",))
    assert row_digest((None,)) != row_digest(("None",))
    assert row_digest(("a\x00b",)) == row_digest(("a\ufffdb",))  # as PostgreSQL stores it
    assert row_digest((0.1 + 0.2,)) != row_digest((0.3,))  # floats exactly
    one, other = Checksum(), Checksum()
    one.add([(1, "a"), (2, "b")])
    other.add([(2, "b"), (1, "a")])
    assert one == other  # in any order
    other.add([(2, "b")])
    assert one != other


# -- the command line's refusals ------------------------------------------------------------------


@pytest.mark.sqlite_only("the command line reads HALFBIE_DB")
async def test_cli_refusals_are_one_line_and_leave_both_databases_alone(store: Store, tmp_path: Path) -> None:
    await busy_store(store, members=2)
    source = store.path
    assert source is not None
    before = await dump(source)
    target = tmp_path / "target.db"
    other = await Store.open(target, clock=FakeClock())
    try:
        await other.guilds.seed_many([31337], small_canon())
    finally:
        await other.close()
    held = await dump(target)

    code, _, err = await halfbie(source, "copy-store", "--to", str(target))
    one_line_error(code, err, f"{target} already holds Halfbie data (1 servers", "--replace")
    code, _, err = await halfbie(source, "copy-store", "--to", str(source))
    one_line_error(code, err, "is the database being copied")
    code, _, err = await halfbie(tmp_path / "missing.db", "copy-store", "--to", str(tmp_path / "x.db"))
    one_line_error(code, err, "no file there")
    code, _, err = await halfbie(source, "copy-store", "--to", str(tmp_path / "no" / "folder.db"))
    one_line_error(code, err, "its folder does not exist", "--to")
    code, _, err = await halfbie(source, "copy-store", "--to", "postgresql://halfbie@127.0.0.1:1/none")
    one_line_error(code, err, "PostgreSQL does not answer there", "fix --to")
    assert not (tmp_path / "x.db").exists()
    assert await dump(target) == held
    assert await dump(source) == before

    line = one_line(
        *await halfbie(source, "copy-store", "--to", str(target), "--replace"),
        "copied 2 servers",
        f"the {total(held)} rows it held were deleted first",
    )
    assert "pending again" in line
    assert data(await dump(target)) == released(before)


@pytest.mark.skipif(not PG_URL, reason="PostgreSQL run: HALFBIE_TEST_DATABASE_URL is not set")
async def test_cli_wrong_postgresql_urls_are_one_line(tmp_path: Path) -> None:
    source = tmp_path / "halfbie.db"
    store = await Store.open(source, clock=FakeClock())
    await store.close()
    head = PG_URL.rpartition("/")[0]
    code, _, err = await halfbie(source, "copy-store", "--to", f"{head}/halfbie_no_such_database")
    one_line_error(code, err, "does not exist", "--to")
    with pytest.raises(StoreOpenError, match="fix --to"):
        await copy_between(source, "postgresql://halfbie@127.0.0.1:1/none")
