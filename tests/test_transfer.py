"""Moving one server's data (export, wipe, import) and backing up the database, through the
store and through ``python -m bot export|import|backup`` as the host runs them."""

from __future__ import annotations

import asyncio
import json
import os
import sqlite3
import sys
from contextlib import closing
from pathlib import Path
from typing import Any

import aiosqlite
import pytest

from bot.models import NewsFields, TheoryFields
from bot.store import Store, TransferError
from bot.store.transfer import FORMAT, discover, dumps, loads
from tests.store_fixtures import ARTICLE, FakeClock, character, read_outside, small_canon

ROOT = Path(__file__).resolve().parent.parent
GUILD = 1001
OTHER = 2002
ADMIN = 7

Snapshot = dict[str, list[tuple[Any, ...]]]


async def snapshot(where: Store | Path, guild_id: int) -> Snapshot:
    """Every row of the server, table by table, read through a connection of the test's own
    (not the code under test): tables with a guild_id column, and theory_options through
    their theory.  Its waiting reminders and poll closes (jobs the import schedules afresh
    from the data) are compared by what they do, not by their ids."""
    if isinstance(where, Store) and where.path is None:
        catalogue = await read_outside(
            where,
            "SELECT table_name, column_name FROM information_schema.columns "
            "WHERE table_schema = current_schema() AND table_name <> 'halfbie_schema'",
        )
    else:
        path = where.path if isinstance(where, Store) else where
        assert path is not None
        with closing(sqlite3.connect(path)) as conn:
            names = [
                str(row[0])
                for row in conn.execute(
                    "SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
                )
            ]
            catalogue = [
                (name, str(col[1])) for name in names for col in conn.execute(f"PRAGMA table_info({name})")
            ]
    columns: dict[str, list[str]] = {}
    for name, column in catalogue:
        columns.setdefault(str(name), []).append(str(column))
    out: Snapshot = {}
    for name in sorted(columns):
        if name == "jobs":
            sql = (
                f"SELECT kind, key, due_at, payload FROM jobs WHERE guild_id = {guild_id} "
                "AND state = 'pending' AND kind IN ('remind', 'close_poll')"
            )
        elif "guild_id" in columns[name]:
            sql = f"SELECT * FROM {name} WHERE guild_id = {guild_id}"
        elif name == "theory_options":
            theories = f"SELECT id FROM theories WHERE guild_id = {guild_id}"
            sql = f"SELECT * FROM {name} WHERE theory_id IN ({theories})"
        else:
            continue
        out[name] = sorted(await read_outside(where, sql), key=repr)
    return out


async def busy_server(store: Store, guild_id: int, *, members: int = 5) -> None:
    """A server with a row in every table: the seed, admins' edits (audited), settings,
    news, a new theory, votes, a resolved theory with scores, a removed theory."""
    await store.guilds.seed_many([guild_id], small_canon())
    await store.characters.add(
        guild_id, ADMIN, character("gwi-nam", "Yoon Gwi-nam", notes='@everyone 한글 "q"')
    )
    await store.settings.update(guild_id, ADMIN, spoiler_mode="shown", language="ko", ping_role_id=555)
    await store.news.add(guild_id, ADMIN, NewsFields("Filming ends", "2024-05-01", "2024-05-02", ARTICLE))
    extra = await store.theories.create(
        guild_id, ADMIN, TheoryFields("Su-hyeok lives?", ("Yes", "No", "?"), ARTICLE)
    )
    theories = await store.theories.list(guild_id)
    for member in range(members):
        for index, theory in enumerate(theories):
            await store.theories.cast_vote(guild_id, theory.id, 100 + member, (member + index) % 2)
    (await store.theories.close_poll(guild_id, ADMIN, theories[-1].id))[0]
    await score(store, guild_id, theories[-1].id, [(100 + m, 2.5) for m in range(0, members, 2)])
    await store.theories.delete(guild_id, ADMIN, extra.id)
    await store.release.change_premiere(guild_id, ADMIN, 1_800_000_000)


async def score(store: Store, guild_id: int, theory_id: int, points: list[tuple[int, float]]) -> None:
    """Scores as resolving a theory writes them (inserted directly: the store's own tests
    cover resolving)."""

    async def job(conn: aiosqlite.Connection) -> None:
        await conn.executemany(
            "INSERT INTO scores (guild_id, theory_id, member_id, points) VALUES (?, ?, ?, ?)",
            [(guild_id, theory_id, member, value) for member, value in points],
        )

    await store.writer.submit(job)


async def wipe(store: Store, guild_id: int) -> None:
    async def job(conn: aiosqlite.Connection) -> None:
        await conn.execute("DELETE FROM guilds WHERE guild_id = ?", (guild_id,))

    await store.writer.submit(job)


# -- the schema -----------------------------------------------------------------------------


async def test_server_tables_are_found_from_the_schema_parents_first(store: Store) -> None:
    schema = await store.writer.submit(discover)  # read the catalogue inside the writer
    names = [t.name for t in schema.tables]
    assert names[0] == "guilds"
    assert "meta" not in names  # the bot's own key/value pairs belong to no server
    expected = {"guild_settings", "characters", "release", "news", "theories", "theory_options"}
    assert expected | {"votes", "scores", "audit"} <= set(names)
    for position, table in enumerate(schema.tables):
        for fk in table.foreign_keys:
            assert names.index(fk.parent) < position, (table.name, fk.parent)
    assert schema.by_name["theory_options"].has_guild_id is False  # found through its theory
    # Only ids the database hands out may be renumbered; never a server's id or a reference.
    assert {t.name for t in schema.tables if t.rowid_key} == {"news", "theories", "audit"}


# -- export, wipe, import -------------------------------------------------------------------


async def test_export_wipe_import_round_trips_a_server_exactly(store: Store) -> None:
    await busy_server(store, GUILD)
    await busy_server(store, OTHER, members=3)
    before = await snapshot(store, GUILD)
    other = await snapshot(store, OTHER)
    for table in ("guilds", "votes", "scores", "audit", "guild_settings", "characters", "news", "theories"):
        assert before[table], f"the test server has no {table} rows"
    assert before["theory_options"]

    text = dumps(await store.transfer.export_guild(GUILD))
    document = json.loads(text)
    assert document["format"] == FORMAT
    assert document["version"] == 1
    assert document["schema_version"] == store.version
    assert document["guild_id"] == GUILD
    assert "jobs" not in document["tables"]  # scheduled afresh from the data on import
    assert {t: len(rows) for t, rows in document["tables"].items() if t in before} == {
        t: len(rows) for t, rows in before.items() if t != "jobs"
    }

    await wipe(store, GUILD)
    assert all(not rows for rows in (await snapshot(store, GUILD)).values())

    result = await store.transfer.import_guild(loads(text))
    assert result.guild_id == GUILD
    assert not result.replaced
    assert result.renumbered == {}  # same database: every id is free again
    assert await snapshot(store, GUILD) == before
    assert await snapshot(store, OTHER) == other
    # and the store reads it as before
    assert len(await store.theories.list(GUILD)) == len(await store.theories.list(OTHER))
    assert (await store.settings.get(GUILD)).language == "ko"


async def test_a_document_from_an_older_schema_imports_with_the_new_columns_defaulted(
    store: Store,
) -> None:
    await busy_server(store, GUILD)
    document = await store.transfer.export_guild(GUILD)
    await wipe(store, GUILD)
    # As if exported before characters had notes and settings a language (added since).
    document["schema_version"] = 1
    for row in document["tables"]["characters"]:
        del row["notes"]
    for row in document["tables"]["guild_settings"]:
        del row["language"]
    await store.transfer.import_guild(document)
    assert {c.fields.notes for c in await store.characters.list(GUILD)} == {None}
    assert (await store.settings.get(GUILD)).language == "auto"


async def test_import_refuses_an_existing_server_unless_replace(store: Store) -> None:
    await busy_server(store, GUILD)
    document = await store.transfer.export_guild(GUILD)
    exported = await snapshot(store, GUILD)
    theory = (await store.theories.list(GUILD))[0]
    await store.theories.cast_vote(GUILD, theory.id, 999, 0)  # a change after the export
    changed = await snapshot(store, GUILD)

    with pytest.raises(TransferError, match=r"already has data.*--replace"):
        await store.transfer.import_guild(document)
    assert await snapshot(store, GUILD) == changed

    result = await store.transfer.import_guild(document, replace=True)
    assert result.replaced
    assert await snapshot(store, GUILD) == exported


async def test_import_refuses_newer_versions_and_foreign_rows_and_is_all_or_nothing(
    store: Store,
) -> None:
    await busy_server(store, GUILD)
    await busy_server(store, OTHER)
    document = await store.transfer.export_guild(GUILD)
    other_theory = (await store.theories.list(OTHER))[0]
    await wipe(store, GUILD)

    def changed(**edits: Any) -> dict[str, Any]:
        copy = json.loads(dumps(document))
        copy.update(edits)
        return copy

    cases: list[tuple[dict[str, Any], str]] = [
        (changed(schema_version=store.version + 1), "newer database"),
        (changed(version=2), "newer Halfbie"),
        (changed(format="something-else"), "not a Halfbie server export"),
        (changed(guild_id=OTHER), "exactly server"),
    ]
    foreign = changed()
    foreign["tables"]["characters"][0]["guild_id"] = OTHER
    cases.append((foreign, "another server"))
    sneaky = changed()  # an option added to another server's theory
    sneaky["tables"]["theory_options"].append({"theory_id": other_theory.id, "position": 9, "label": "x"})
    cases.append((sneaky, "not in the file"))
    unknown = changed()
    unknown["tables"]["polls_v9"] = [{"guild_id": GUILD}]
    cases.append((unknown, "polls_v9"))
    late = changed()  # breaks a CHECK in the last table: everything before it is undone too
    late["tables"]["votes"][-1]["option_position"] = 42
    late["tables"]["theory_options"].append(
        {"theory_id": late["tables"]["votes"][-1]["theory_id"], "position": 42, "label": "x"}
    )
    cases.append((late, "refused its rows"))
    for bad, message in cases:
        with pytest.raises(TransferError, match=message):
            await store.transfer.import_guild(bad)
        assert all(not rows for rows in (await snapshot(store, GUILD)).values()), message
    with pytest.raises(TransferError, match="not JSON"):
        loads("{ nope")


async def test_import_into_another_database_keeps_the_data_when_ids_are_taken(
    store: Store, tmp_path: Path
) -> None:
    await busy_server(store, GUILD)
    text = dumps(await store.transfer.export_guild(GUILD))
    host = await Store.open(tmp_path / "new-host.db", clock=FakeClock())
    try:
        await busy_server(host, OTHER)  # ids 1, 2, ... are taken there
        other = await snapshot(host, OTHER)
        result = await host.transfer.import_guild(loads(text))
        assert set(result.renumbered) == {"news", "theories", "audit"}
        assert await snapshot(host, OTHER) == other

        async def view(s: Store) -> list[Any]:
            theories = await s.theories.list(GUILD)
            tallies = {t.id: await s.theories.tally(GUILD, t.id) for t in theories}
            votes = [await s.members.data(GUILD, 100 + m) for m in range(5)]
            return [
                [(t.fields, t.status, t.outcome, tallies[t.id].counts) for t in theories],
                [(len(d.votes), d.points, d.scored) for d in votes],
                [(n.fields.headline, n.created_by) for n in await s.news.list(GUILD)],
                [(e.action, e.actor_id) for e in await s.audit.list(GUILD, limit=100)],
                await s.characters.list(GUILD),
                await s.settings.get(GUILD),
            ]

        assert await view(host) == await view(store)
    finally:
        await host.close()


async def test_ids_given_out_after_an_import_come_after_the_imported_ones(
    store: Store, another_database: str | Path
) -> None:
    await busy_server(store, GUILD)
    text = dumps(await store.transfer.export_guild(GUILD))
    host = await Store.open(another_database, clock=FakeClock())
    try:
        await host.transfer.import_guild(loads(text))  # ids kept: none was taken there
        kept = await snapshot(host, GUILD)
        theory = await host.theories.create(OTHER, ADMIN, TheoryFields("New?", ("Yes", "No"), ARTICLE))
        news = await host.news.add(OTHER, ADMIN, NewsFields("New", None, "2024-05-02", ARTICLE))
        entries = await host.audit.list(OTHER)
        assert theory.id > max(row[0] for row in kept["theories"])
        assert news.id > max(row[0] for row in kept["news"])
        assert min(e.id for e in entries) > max(row[0] for row in kept["audit"])
    finally:
        await host.close()


# -- backup during a burst of votes ---------------------------------------------------------


def integrity(path: Path) -> str:
    with closing(sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)) as conn:
        return "; ".join(str(row[0]) for row in conn.execute("PRAGMA integrity_check"))


def count_votes(path: Path) -> int:
    with closing(sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)) as conn:
        return int(conn.execute("SELECT COUNT(*) FROM votes").fetchone()[0])


@pytest.mark.sqlite_only("SQLite's online backup; PostgreSQL is backed up with pg_dump")
async def test_backup_during_a_burst_of_1000_votes_is_sound(store: Store, tmp_path: Path) -> None:
    await store.guilds.seed_many([GUILD], small_canon())
    theories = await store.theories.list(GUILD)

    def vote(member: int) -> asyncio.Task[int | None]:
        theory = theories[member % len(theories)]
        return asyncio.create_task(store.theories.cast_vote(GUILD, theory.id, 10_000 + member, member % 2))

    assert all(v is not None for v in await asyncio.gather(*(vote(m) for m in range(500))))
    # The other 500 are queued for the writer as the backup starts: they commit while the
    # backup copies, or after; either way the copy is one consistent moment.
    queued = [vote(m) for m in range(500, 1000)]
    dest = await store.backup(tmp_path / "during.db")
    assert all(v is not None for v in await asyncio.gather(*queued))
    assert integrity(dest) == "ok"
    copied = count_votes(dest)
    assert 500 <= copied <= 1000, copied
    assert count_votes(store.path) == 1000
    reopened = await Store.open(dest)
    try:
        assert len(await reopened.theories.list(GUILD)) == 2
    finally:
        await reopened.close()


# -- python -m bot export | import | backup ---------------------------------------------------


async def halfbie(db: Path, *args: str) -> tuple[int, str, str]:
    """Run ``python -m bot`` as the host does, without any token."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DISCORD_", "HALFBIE_"))}
    env["HALFBIE_DB"] = str(db)
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", *args, cwd=ROOT, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(proc.communicate(), timeout=60)
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


def one_line_error(code: int, err: str, *needles: str) -> None:
    assert code == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("halfbie: "), err
    assert "Traceback" not in err
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])


@pytest.mark.sqlite_only("the command line opens config.db_path (bot/__main__.py)")
async def test_cli_export_import_round_trip_and_one_line_refusals(store: Store, tmp_path: Path) -> None:
    await busy_server(store, GUILD)
    await busy_server(store, OTHER)
    db = store.path
    before = await snapshot(db, GUILD)
    out = tmp_path / "server.json"

    one_line_error(*(await halfbie(db, "export", "--guild", "abc"))[::2], "--guild", "'abc'")
    one_line_error(*(await halfbie(db, "export", "--guild", "31337"))[::2], "no server 31337")
    one_line_error(
        *(await halfbie(tmp_path / "nothing.db", "export", "--guild", str(GUILD)))[::2], "no file there"
    )
    assert not (tmp_path / "nothing.db").exists()  # export never creates a database

    code, stdout, err = await halfbie(db, "export", "--guild", str(GUILD))
    assert code == 0, err
    assert json.loads(stdout)["guild_id"] == GUILD  # to stdout, the summary to stderr
    assert f"exported server {GUILD}" in err
    code, stdout, err = await halfbie(db, "export", "--guild", str(GUILD), "--out", str(out))
    assert code == 0, err
    assert f"to {out}" in stdout
    one_line_error(
        *(await halfbie(db, "export", "--guild", str(GUILD), "--out", str(out)))[::2], "already there"
    )

    one_line_error(*(await halfbie(db, "import", str(tmp_path / "missing.json")))[::2], "no such file")
    one_line_error(*(await halfbie(db, "import", str(out)))[::2], "already has data", "--replace")
    newer = json.loads(out.read_text("utf-8"))
    newer["schema_version"] = store.version + 1
    (tmp_path / "newer.json").write_text(json.dumps(newer), "utf-8")
    one_line_error(*(await halfbie(db, "import", str(tmp_path / "newer.json")))[::2], "newer")
    (tmp_path / "junk.json").write_text("not json", "utf-8")
    one_line_error(*(await halfbie(db, "import", str(tmp_path / "junk.json")))[::2], "not JSON")

    theory = (await store.theories.list(GUILD))[0]
    await store.theories.cast_vote(GUILD, theory.id, 4242, 0)  # after the export
    code, stdout, err = await halfbie(db, "import", str(out), "--replace")
    assert code == 0, err
    assert "replaced" in stdout
    assert await snapshot(db, GUILD) == before  # the running store's database, written by another process

    fresh = tmp_path / "fresh.db"  # a new host: the import creates the database
    code, stdout, err = await halfbie(fresh, "import", str(out))
    assert code == 0, err
    assert f"imported server {GUILD}" in stdout
    assert await snapshot(fresh, GUILD) == before


@pytest.mark.sqlite_only("SQLite's online backup; PostgreSQL is backed up with pg_dump")
async def test_cli_backup_while_votes_pour_in(store: Store, tmp_path: Path) -> None:
    await store.guilds.seed_many([GUILD], small_canon())
    dest = tmp_path / "backup.db"
    theory = (await store.theories.list(GUILD))[0]
    done = asyncio.Event()

    async def stream() -> int:
        """Votes, one after another, for as long as the backup runs."""
        member = 0
        while not done.is_set() or member == 0:
            assert await store.theories.cast_vote(GUILD, theory.id, 10_000 + member, member % 2) is not None
            member += 1
        return member

    votes = asyncio.create_task(stream())
    code, stdout, err = await halfbie(store.path, "backup", str(dest))
    done.set()
    voted = await votes
    assert code == 0, err
    assert "integrity_check ok" in stdout
    assert integrity(dest) == "ok"
    assert 0 <= count_votes(dest) <= voted
    assert count_votes(store.path) == voted

    one_line_error(*(await halfbie(store.path, "backup", str(dest)))[::2], "already there")
    one_line_error(
        *(await halfbie(store.path, "backup", str(tmp_path / "no" / "b.db")))[::2], "does not exist"
    )
    one_line_error(
        *(await halfbie(tmp_path / "none.db", "backup", str(tmp_path / "b2.db")))[::2], "no file there"
    )
    assert integrity(dest) == "ok"  # the refused runs left the first backup alone
