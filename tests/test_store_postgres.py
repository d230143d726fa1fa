"""What only the PostgreSQL store has: the SQL it translates, the database it refuses, the
lock around migrations, and a connection lost mid-run.  (Every other store behaviour is
the shared contract: the store tests run on both stores.)"""

from __future__ import annotations

import asyncio
import logging

import asyncpg
import pytest

from bot.store import Store, StoreOpenError, StoreUnavailable
from bot.store._conn import Connection
from bot.store._migrate import load_migrations, load_pg_migrations
from bot.store._pg import redact, translate
from tests.store_fixtures import FakeClock, read_outside, small_canon

GUILD = 1001

# -- translating the store's SQL (no server needed) ------------------------------------------


def test_question_marks_become_numbered_parameters_typed_by_their_values() -> None:
    sql, rows = translate("SELECT ?, ?, ?, ? WHERE x = ?", [(1, "a", 2.5, None, True)])
    assert sql == "SELECT $1::int8, $2::text, $3::float8, $4 WHERE x = $5::int8"
    assert rows == [[1, "a", 2.5, None, 1]]  # a boolean is stored as 0/1, as in SQLite


def test_a_name_used_twice_is_one_parameter_and_extra_names_are_ignored() -> None:
    sql, rows = translate("SELECT :a WHERE b = :b OR c = :a", [{"a": 1, "b": "x", "unused": 3}])
    assert sql == "SELECT $1::int8 WHERE b = $2::text OR c = $1::int8"
    assert rows == [[1, "x"]]


def test_strings_quoted_names_comments_and_casts_are_left_alone() -> None:
    text = """SELECT '?', ':a', "we?ird", x::text, '{"k": ' || ? -- what?\nFROM t /* :b */"""
    sql, _ = translate(text, [("v",)])
    assert sql == text.replace("|| ?", "|| $1::text")


def test_a_parameter_is_typed_from_every_row_of_an_executemany() -> None:
    sql, rows = translate("INSERT INTO t VALUES (?, ?)", [(None, 1), ("a", 2.5)])
    assert sql == "INSERT INTO t VALUES ($1::text, $2::float8)"
    assert rows == [[None, 1], ["a", 2.5]]


def test_begin_immediate_is_begin() -> None:
    assert translate("BEGIN IMMEDIATE", [()])[0] == "BEGIN"


def test_mixing_parameter_styles_is_refused() -> None:
    with pytest.raises(ValueError, match="mixes"):
        translate("SELECT ?, :a", [{"a": 1}])


def test_migrations_are_numbered_in_step_with_sqlites() -> None:
    sqlite, postgres = load_migrations(), load_pg_migrations()
    assert postgres[-1].version == sqlite[-1].version
    assert [m.version for m in postgres] == list(range(postgres[0].version, sqlite[-1].version + 1))


def test_a_password_is_never_shown() -> None:
    assert redact("postgresql://bot:s3cret@db:5432/halfbie") == "postgresql://bot:***@db:5432/halfbie"
    assert redact("postgresql://bot@db/halfbie") == "postgresql://bot@db/halfbie"


# -- refusing what is not Halfbie's --------------------------------------------------------------


async def refused(url: str, *words: str) -> str:
    with pytest.raises(StoreOpenError) as caught:
        await Store.open(url)
    message = str(caught.value)
    assert "\n" not in message, message
    for word in words:
        assert word in message, message
    return message


async def test_refuses_a_database_another_program_made_and_changes_nothing(postgres: str) -> None:
    conn = await asyncpg.connect(postgres)
    try:
        await conn.execute("CREATE TABLE accounts (id int)")
    finally:
        await conn.close()
    await refused(postgres, "did not create")
    assert await read_outside(postgres, "SELECT to_regclass('halfbie_schema')::text") == [(None,)]


async def test_refuses_a_database_from_a_newer_halfbie_and_another_programs_mark(postgres: str) -> None:
    store = await Store.open(postgres)
    await store.close()
    conn = await asyncpg.connect(postgres)
    try:
        await conn.execute("UPDATE halfbie_schema SET version = 99")
        await refused(postgres, "newer version of Halfbie", "schema 99")
        await conn.execute("UPDATE halfbie_schema SET version = 12, application_id = 7")
        await refused(postgres, "another program's")
    finally:
        await conn.close()


async def test_opening_without_migrating_refuses_an_empty_database(postgres: str) -> None:
    with pytest.raises(StoreOpenError, match="no Halfbie data yet"):
        await Store.open(postgres, migrate=False)


def with_user(url: str, user: str) -> str:
    scheme, rest = url.split("://", 1)
    return f"{scheme}://{user}@{rest.rsplit('@', 1)[-1]}"


@pytest.mark.parametrize(
    ("wrong", "words"),
    [
        ("database", ("does not exist",)),
        ("role", ("refused the login",)),
        ("port", ("does not answer",)),
    ],
)
async def test_a_wrong_url_or_refused_login_is_one_clear_line(
    postgres: str, wrong: str, words: tuple[str]
) -> None:
    url = {
        "database": postgres.rsplit("/", 1)[0] + "/halfbie_no_such_database",
        "role": with_user(postgres, "halfbie_no_such_role"),
        "port": "postgresql://postgres@127.0.0.1:1/test",
    }[wrong]
    message = await refused(url, "cannot open the database at", *words)
    assert message.count("cannot open") == 1


# -- two processes, one database ---------------------------------------------------------------


async def test_stores_opened_together_apply_the_migrations_once(postgres: str) -> None:
    stores = await asyncio.gather(*(Store.open(postgres) for _ in range(4)))
    try:
        assert {store.version for store in stores} == {load_migrations()[-1].version}
        await stores[0].guilds.seed_many([GUILD], small_canon())
        assert len(await stores[3].characters.list(GUILD)) == 3  # one database
    finally:
        for store in stores:
            await store.close()


# -- a connection lost mid-run -----------------------------------------------------------------


async def test_a_write_cut_off_by_a_lost_connection_is_not_counted_and_the_store_reconnects(
    postgres: str, caplog: pytest.LogCaptureFixture
) -> None:
    store = await Store.open(postgres, clock=FakeClock())
    try:
        await store.guilds.seed_many([GUILD], small_canon())
        theory = (await store.theories.list(GUILD))[0]
        entered, go_on = asyncio.Event(), asyncio.Event()

        async def vote_then_wait(conn: Connection) -> str:
            await conn.execute(
                "INSERT INTO votes (theory_id, member_id, guild_id, option_position, voted_at) "
                "VALUES (?, 1, ?, 0, 0)",
                (theory.id, GUILD),
            )
            entered.set()
            await go_on.wait()
            return "stored"

        assert store.available
        cut_off = asyncio.ensure_future(store.writer.submit(vote_then_wait))
        await entered.wait()
        queued = asyncio.ensure_future(store.theories.cast_vote(GUILD, theory.id, 2, 1))
        await asyncio.sleep(0)
        admin = await asyncpg.connect(postgres)
        try:  # PostgreSQL ends every connection of the bot's (a restart, an admin, a network cut)
            await admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        finally:
            await admin.close()
        caplog.set_level(logging.INFO, logger="bot.store")
        go_on.set()
        with pytest.raises(StoreUnavailable):
            await cut_off  # never "stored": its transaction did not commit
        assert "lost the connection to PostgreSQL" in caplog.text
        # The next batch reconnects and commits; the log says so.
        assert await queued == 1
        assert "reconnected to PostgreSQL" in caplog.text
        assert store.available
        assert await store.theories.tally(GUILD, theory.id) == (await store.theories.tally(GUILD, theory.id))
        counts = await read_outside(postgres, "SELECT member_id FROM votes ORDER BY member_id")
        assert counts == [(2,)]
        assert (await store.theories.tally(GUILD, theory.id)).counts[1] == 1  # reads reconnect too
    finally:
        await store.close()


async def test_a_connection_lost_while_idle_costs_no_write(postgres: str) -> None:
    store = await Store.open(postgres, clock=FakeClock())
    try:
        await store.meta.set("before", "1")
        admin = await asyncpg.connect(postgres)
        try:
            await admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        finally:
            await admin.close()
        await store.meta.set("after", "1")  # BEGIN finds the loss and reconnects first
        assert await store.meta.get("after") == "1"
    finally:
        await store.close()


async def test_an_idle_store_reconnects_when_asked_after_postgresql_ended_its_connections(
    postgres: str,
) -> None:
    store = await Store.open(postgres, clock=FakeClock())
    try:
        assert store.available
        admin = await asyncpg.connect(postgres)
        try:
            await admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        finally:
            await admin.close()
        for _ in range(500):  # the client hears the server close the socket
            if not store.available:
                break
            await asyncio.sleep(0.01)
        assert not store.available
        # Nothing writes (an idle bot); a readiness probe asks, and the store is back.
        assert await store.reconnect()
        assert store.available
        await store.settings.update(1, None, spoiler_mode="shown")  # and writes work
    finally:
        await store.close()
