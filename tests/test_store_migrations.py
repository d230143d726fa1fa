"""Opening the database: migrations, pragmas, and refusing files it must not touch."""

from __future__ import annotations

import os
from pathlib import Path

import aiosqlite
import pytest

from bot.store import Store, StoreOpenError
from bot.store._migrate import (
    MigrationError,
    apply_migrations,
    load_migrations,
    parse_migrations,
    split_sql,
)
from bot.store._open import APPLICATION_ID
from tests.store_fixtures import DATABASE_ERRORS

NEWEST = len(load_migrations())


async def raw(path: Path, *statements: str) -> None:
    """Write to a file directly, as another program (or an older Halfbie) would."""
    async with aiosqlite.connect(path, isolation_level=None) as conn:
        for statement in statements:
            await conn.execute(statement)


async def schema(path: Path) -> dict[str, list[tuple[object, ...]]]:
    """Every table's and index's shape, comparable between two files."""
    async with aiosqlite.connect(path) as conn:
        names = await conn.execute_fetchall(
            "SELECT type, name FROM sqlite_schema WHERE name NOT LIKE 'sqlite_%' ORDER BY name"
        )
        shape: dict[str, list[tuple[object, ...]]] = {}
        for kind, name in names:
            pragma = "table_xinfo" if kind == "table" else "index_xinfo"
            rows = await conn.execute_fetchall(f"PRAGMA {pragma}('{name}')")
            shape[f"{kind} {name}"] = [tuple(row) for row in rows]
        return shape


# -- creating and migrating -----------------------------------------------------


async def test_a_new_file_gets_the_newest_schema(tmp_path: Path) -> None:
    store = await Store.open(tmp_path / "new.db")
    try:
        assert store.version == NEWEST
    finally:
        await store.close()
    async with aiosqlite.connect(tmp_path / "new.db") as conn:
        assert list(await conn.execute_fetchall("PRAGMA user_version")) == [(NEWEST,)]
        assert list(await conn.execute_fetchall("PRAGMA application_id")) == [(APPLICATION_ID,)]
    tables = {key.split()[1] for key in await schema(tmp_path / "new.db") if key[0] == "t"}
    assert tables >= {
        "meta", "guilds", "guild_settings", "characters", "release", "news", "theories",
        "theory_options", "votes", "scores", "audit",
    }  # fmt: skip


@pytest.mark.parametrize("start", range(NEWEST))
async def test_every_earlier_version_upgrades_to_the_newest_schema(tmp_path: Path, start: int) -> None:
    old = tmp_path / "old.db"
    async with aiosqlite.connect(old, isolation_level=None) as conn:
        assert await apply_migrations(conn, load_migrations()[:start], path=str(old)) == start
    store = await Store.open(old)
    assert store.version == NEWEST
    await store.close()
    fresh = await Store.open(tmp_path / "fresh.db")
    await fresh.close()
    assert await schema(old) == await schema(tmp_path / "fresh.db")


@pytest.mark.sqlite_only("SQLite's PRAGMAs")
async def test_every_pragma_is_in_effect_on_both_connections(store: Store) -> None:
    async def pragmas(conn: aiosqlite.Connection) -> dict[str, object]:
        found: dict[str, object] = {}
        for name in ("journal_mode", "foreign_keys", "synchronous", "busy_timeout"):
            rows = list(await conn.execute_fetchall(f"PRAGMA {name}"))
            found[name] = rows[0][0]
        return found

    expected = {"journal_mode": "wal", "foreign_keys": 1, "synchronous": 1, "busy_timeout": 5000}
    assert await store.writer.submit(pragmas) == expected
    assert await pragmas(store._reader) == expected


async def test_the_reader_cannot_write(store: Store) -> None:
    with pytest.raises(DATABASE_ERRORS, match=r"readonly|read-only"):
        await store._reader.execute("INSERT INTO meta (key, value) VALUES ('a', 'b')")


async def test_reopening_keeps_the_data(database: str | Path) -> None:
    store = await Store.open(database)
    await store.meta.set("hello", "world")
    await store.guilds.seen(42)
    await store.close()
    store = await Store.open(database)
    try:
        assert await store.meta.get("hello") == "world"
        assert await store.guilds.seen(42) is False
    finally:
        await store.close()


async def test_migrations_are_found_from_any_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert [m.version for m in load_migrations()] == list(range(1, NEWEST + 1))
    store = await Store.open("relative.db")
    try:
        assert store.path == tmp_path / "relative.db"
    finally:
        await store.close()


# -- the migration runner -------------------------------------------------------


async def test_a_failing_migration_is_rolled_back_whole(tmp_path: Path) -> None:
    migrations = parse_migrations(
        [
            ("0001_a.sql", "CREATE TABLE a (x INTEGER);"),
            ("0002_b.sql", "CREATE TABLE b (y INTEGER);\nINSERT INTO missing VALUES (1);"),
        ]
    )
    path = tmp_path / "m.db"
    async with aiosqlite.connect(path, isolation_level=None) as conn:
        with pytest.raises(MigrationError) as caught:
            await apply_migrations(conn, migrations, path=str(path))
        assert "0002_b.sql failed" in str(caught.value)
        assert "left at version 1" in str(caught.value)
        assert "\n" not in str(caught.value)
        assert list(await conn.execute_fetchall("PRAGMA user_version")) == [(1,)]
        names = [row[0] for row in await conn.execute_fetchall("SELECT name FROM sqlite_schema")]
        assert names == ["a"]  # b was created and rolled back with the failed statement
        assert not conn.in_transaction


def test_migration_files_must_be_numbered_without_gaps() -> None:
    with pytest.raises(ValueError, match="0002 is missing"):
        parse_migrations([("0001_a.sql", "SELECT 1;"), ("0003_c.sql", "SELECT 1;")])
    with pytest.raises(ValueError, match="two migrations numbered 1"):
        parse_migrations([("0001_a.sql", "SELECT 1;"), ("0001_b.sql", "SELECT 1;")])
    with pytest.raises(ValueError, match="NNNN_name"):
        parse_migrations([("1_a.sql", "SELECT 1;")])
    assert parse_migrations([("README.md", "not sql")]) == ()


def test_split_sql_splits_where_sqlite_does() -> None:
    script = """
    -- a comment; with a semicolon
    CREATE TABLE t (x TEXT DEFAULT 'a;b');
    CREATE TRIGGER tr AFTER INSERT ON t BEGIN
        UPDATE t SET x = 'c;d';
    END;
    INSERT INTO t VALUES ('e');  -- trailing comment
    """
    statements = split_sql(script)
    assert len(statements) == 3
    assert statements[1].endswith("END;")
    with pytest.raises(ValueError, match="transactions"):
        split_sql("BEGIN; CREATE TABLE t (x);")
    with pytest.raises(ValueError, match="no closing"):
        split_sql("CREATE TABLE t (x)")


# -- refusals -------------------------------------------------------------------


def assert_one_sentence(error: StoreOpenError, path: Path, *phrases: str) -> None:
    text = str(error)
    assert text.startswith(f"cannot open the database at {path}: "), text
    assert "\n" not in text
    for phrase in phrases:
        assert phrase in text, text


def snapshot(path: Path) -> tuple[bytes | None, set[str] | None]:
    """The file's bytes and the folder's names, but for SQLite's own -shm/-wal files
    (reading a WAL database may create them)."""
    data = path.read_bytes() if path.is_file() else None
    names = None
    if path.parent.is_dir():
        names = {p.name for p in path.parent.iterdir() if not p.name.endswith(("-shm", "-wal"))}
    return data, names


async def refuse(path: Path, *phrases: str) -> None:
    """Opening must fail with a sentence containing ``phrases`` and change no byte."""
    before = snapshot(path)
    with pytest.raises(StoreOpenError) as caught:
        await Store.open(path)
    assert_one_sentence(caught.value, path, *phrases)
    assert snapshot(path) == before


async def test_refuses_a_missing_folder_and_creates_nothing(tmp_path: Path) -> None:
    path = tmp_path / "nowhere" / "halfbie.db"
    await refuse(path, "its folder does not exist", "HALFBIE_DB")
    assert not (tmp_path / "nowhere").exists()


async def test_refuses_a_folder_in_place_of_the_file(tmp_path: Path) -> None:
    (tmp_path / "halfbie.db").mkdir()
    await refuse(tmp_path / "halfbie.db", "not a regular file")


async def test_refuses_a_file_that_is_not_writable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "halfbie.db"
    store = await Store.open(path)
    await store.close()
    path.chmod(0o444)
    if os.geteuid() == 0:  # root ignores permissions: make os.access answer as for a user
        real_access = os.access
        monkeypatch.setattr(
            "bot.store._open.os.access",
            lambda p, mode: False if Path(p) == path and mode & os.W_OK else real_access(p, mode),
        )
    await refuse(path, "not readable and writable", "fix its permissions")


async def test_refuses_a_folder_that_is_not_writable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o555)
    if os.geteuid() == 0:
        real_access = os.access
        monkeypatch.setattr(
            "bot.store._open.os.access",
            lambda p, mode: False if Path(p) == folder and mode & os.W_OK else real_access(p, mode),
        )
    try:
        await refuse(folder / "halfbie.db", "its folder is not writable")
        assert list(folder.iterdir()) == []
    finally:
        folder.chmod(0o755)


async def test_refuses_a_file_that_is_not_a_database(tmp_path: Path) -> None:
    path = tmp_path / "halfbie.db"
    path.write_text("DISCORD_TOKEN=not-a-database\n" * 200)
    await refuse(path, "not an SQLite database")


async def test_refuses_a_corrupt_database(tmp_path: Path) -> None:
    path = tmp_path / "halfbie.db"
    store = await Store.open(path)
    await store.guilds.seen(1)
    await store.close()
    async with aiosqlite.connect(path) as conn:
        rows = await conn.execute_fetchall("SELECT rootpage FROM sqlite_schema WHERE name = 'guilds'")
        page_size = next(iter(await conn.execute_fetchall("PRAGMA page_size")))[0]
        root = next(iter(rows))[0]
    data = bytearray(path.read_bytes())
    start = (root - 1) * page_size
    data[start : start + 12] = b"\x2a" * 12  # an impossible b-tree page header
    path.write_bytes(bytes(data))
    await refuse(path, "corrupt", "restore a backup")


async def test_refuses_a_database_from_a_newer_halfbie(tmp_path: Path) -> None:
    path = tmp_path / "halfbie.db"
    store = await Store.open(path)
    await store.close()
    await raw(path, f"PRAGMA user_version = {NEWEST + 1}")
    await refuse(path, "written by a newer version of Halfbie", f"schema {NEWEST + 1}")


async def test_refuses_another_programs_database(tmp_path: Path) -> None:
    path = tmp_path / "other.db"
    await raw(path, "CREATE TABLE accounts (id INTEGER PRIMARY KEY)")
    await refuse(path, "Halfbie did not create")
    versioned = tmp_path / "versioned.db"
    await raw(versioned, "CREATE TABLE accounts (id INTEGER)", "PRAGMA user_version = 1")
    await refuse(versioned, "another program's SQLite database")


async def test_an_empty_file_is_taken_as_a_new_database(tmp_path: Path) -> None:
    path = tmp_path / "halfbie.db"
    path.touch()
    store = await Store.open(path)
    try:
        assert store.version == NEWEST
    finally:
        await store.close()


async def test_the_canon_corrections_reach_records_no_admin_edited(tmp_path: Path) -> None:
    old = tmp_path / "old.db"
    migrations = load_migrations()
    fixed = next(i for i, m in enumerate(migrations) if "canon_corrections" in m.name)
    async with aiosqlite.connect(old, isolation_level=None) as conn:
        await apply_migrations(conn, migrations[:fixed], path=str(old))
    # SQL fixture: two servers seeded from canon version 1; the second's admin edited Nam-ra.
    source = "'Article', NULL, 'official'"
    await raw(
        old,
        "INSERT INTO guilds (guild_id, first_seen_at, canon_version) VALUES (1, 0, 1), (2, 0, 1)",
        *(
            "INSERT INTO characters (guild_id, key, name, role, status, fate_s1, source_name, source_url, "
            "source_certainty, status_source_name, status_source_url, status_source_certainty, aliases, "
            f"updated_at, updated_by) VALUES ({g}, 'nam-ra', 'Choi Nam-ra', 'r', 'halfbie', "
            f"'said \"they have arrived\"', {source}, {source}, '[]', 0, {by})"
            for g, by in ((1, "NULL"), (2, "77"))
        ),
    )
    store = await Store.open(old)
    try:
        cards = {g: await store.characters.get(g, "nam-ra") for g in (1, 2)}
    finally:
        await store.close()
    fates = {g: " ".join(s.text for s in card.fields.fate_s1) for g, card in cards.items() if card}
    assert fates[1] is not None
    assert "they have arrived" in fates[1]
    assert '"' not in fates[1]  # corrected: the article paraphrases
    assert fates[2] == 'said "they have arrived"'  # the admin's edit stays


async def test_cards_become_statements_and_the_seeder_corrects_only_what_no_admin_edited(
    tmp_path: Path,
) -> None:
    """Migration 0011 turns each card's texts into statements that keep the card's source
    (its Season 1 and Season 2 texts spoilers, as they were shown); a server seeded from an
    older canon then gets version 3's statements on every record no admin edited."""
    from bot.canon import load_canon
    from bot.models import Certainty, SourceRef, Spoiler, Statement

    old = tmp_path / "old.db"
    migrations = load_migrations()
    before = next(i for i, m in enumerate(migrations) if "statements" in m.name)
    async with aiosqlite.connect(old, isolation_level=None) as conn:
        await apply_migrations(conn, migrations[:before], path=str(old))
    source = "'Fan wiki', 'https://example.org/w', 'fan_theory'"
    columns = (
        "guild_id, key, name, hangul, actor, role, status, fate_s1, season2, source_name, source_url, "
        "source_certainty, status_source_name, status_source_url, status_source_certainty, aliases, "
        "updated_at, updated_by"
    )
    await raw(
        old,
        "INSERT INTO guilds (guild_id, first_seen_at, canon_version) VALUES (1, 0, 2)",
        f"INSERT INTO characters ({columns}) VALUES (1, 'nam-ra', 'Choi Nam-ra', NULL, NULL, 'r', "
        f"'halfbie', 'old fate', NULL, {source}, {source}, '[]', 0, NULL)",
        f"INSERT INTO characters ({columns}) VALUES (1, 'gwi-nam', 'Yoon Gwi-nam', '윤귀남', 'Yoo In-soo', "
        f"'The bully', 'zombie', 'He turned.', '   ', {source}, 'Episode 12', NULL, 'official', '[]', 0, 77)",
        "INSERT INTO news (guild_id, seed_key, headline, reported_on, source_name, source_certainty, "
        "created_at) VALUES (1, 'newsweek-2023-early-2024', 'old headline', '2022-07-19', 'N', "
        "'speculation', 0)",
    )
    store = await Store.open(old)
    try:
        edited = await store.characters.get(1, "gwi-nam")
        assert edited is not None
        wiki = SourceRef("Fan wiki", Certainty.FAN_THEORY, "https://example.org/w")
        f = edited.fields
        assert f.role == Statement("The bully", wiki)
        assert f.fate_s1 == (Statement("He turned.", wiki, Spoiler.FINALE),)
        assert f.season2 == ()  # blank was nothing
        assert f.status_source == SourceRef("Episode 12", Certainty.OFFICIAL)
        assert (f.hangul, f.hangul_source, f.actor, f.actor_source) == ("윤귀남", wiki, "Yoo In-soo", wiki)
        news = (await store.news.list(1))[0]
        assert news.fields.source.certainty is Certainty.SPECULATION
        assert news.fields.spoiler is Spoiler.NONE

        canon = load_canon()
        await store.guilds.seed_many([1], canon)
        corrected = await store.characters.get(1, "nam-ra")
        assert corrected is not None
        assert corrected.fields == next(c for c in canon.characters if c.key == "nam-ra")
        assert await store.characters.get(1, "gwi-nam") == edited  # the admin's card stays
        refreshed = next(n for n in await store.news.list(1) if n.fields.key == "newsweek-2023-early-2024")
        canon_news = next(n for n in canon.news if n.key == "newsweek-2023-early-2024")
        assert refreshed.fields.headline == canon_news.headline
        assert refreshed.fields.source == canon_news.source  # with the article's words it rests on
    finally:
        await store.close()
