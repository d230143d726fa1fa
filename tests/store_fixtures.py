"""Fixtures for the store: a fresh database per test, on a clock the test moves.

Import the fixtures from ``tests/conftest.py``::

    from tests.store_fixtures import database, store  # noqa: F401

Its clock stands still at :data:`START` until the test moves it:
``clock_of(store).advance(60)``.

One suite, two stores: ``database`` (and so ``store``) is parametrized, ``sqlite`` and
``postgresql``.  The PostgreSQL run needs ``HALFBIE_TEST_DATABASE_URL`` (a server where
the user may create databases, e.g. ``postgresql://postgres@127.0.0.1:5432/test``); each
test gets a database of its own, ``halfbie_t_<random>``, created and dropped around it.
Without the variable the PostgreSQL runs are skipped, and pytest's summary says so.  A
test that reads the SQLite file itself (a backup, PRAGMAs, a corrupt file) is marked
``@pytest.mark.sqlite_only``.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

import aiosqlite
import asyncpg
import pytest
import pytest_asyncio

from bot.models import (
    Canon,
    Certainty,
    CharacterFields,
    NewsFields,
    SourceRef,
    Spoiler,
    Stage,
    Statement,
    Status,
    TheoryFields,
)
from bot.store import Store
from bot.store._conn import DATABASE_ERRORS, INTEGRITY_ERRORS
from bot.store._pg import translate
from tests.clock import Instant, ManualClock

__all__ = [
    "DATABASE_ERRORS",
    "INTEGRITY_ERRORS",
    "PG_URL",
    "RUNS",
    "FakeClock",
    "another_database",
    "clock_of",
    "count_rows",
    "database",
    "dump",
    "fresh_postgres",
    "guild_tables",
    "postgres",
    "read_outside",
    "small_canon",
    "store",
    "vote_of",
]

PG_URL = os.environ.get("HALFBIE_TEST_DATABASE_URL", "").strip()
BACKENDS = ("sqlite", "postgresql")

START = 1_700_000_000  # 2023-11-14, a fixed "now" for every test


class FakeClock(ManualClock):
    """The tests' one clock (:class:`tests.clock.ManualClock`), starting at :data:`START`.

    Its time also reads as a number, ``clock.now``, as the store tests written before the
    one clock read it; ``clock.now()`` works too, so it drives a scheduler as well.
    """

    def __init__(self, now: float = START) -> None:
        super().__init__(now)

    @property
    def now(self) -> Instant:
        return Instant(self())


def clock_of(store: Store) -> FakeClock:
    """The clock of a store made by the ``store`` fixture."""
    assert isinstance(store.clock, FakeClock)
    return store.clock


def _with_database(url: str, name: str) -> str:
    head, _, _ = url.rpartition("/")
    return f"{head}/{name}"


@contextlib.asynccontextmanager
async def fresh_postgres(url: str = PG_URL, prefix: str = "halfbie_t") -> AsyncIterator[str]:
    """The URL of a new, empty PostgreSQL database on ``url``'s server (whose user may
    create databases), ``<prefix>_<random>``, dropped afterwards with whatever is still
    connected to it.  The benchmark makes its databases with it too."""
    name = f"{prefix}_{secrets.token_hex(6)}"
    admin = await asyncpg.connect(url)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        try:
            yield _with_database(url, name)
        finally:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


RUNS = {"sqlite": 0, "postgresql": 0}  # store tests run per backend, for the summary line


@pytest_asyncio.fixture(params=BACKENDS)
async def database(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str | Path]:
    """Where a fresh, empty database is: a file path (SQLite), or the URL of a
    PostgreSQL database made for this test alone and dropped after it."""
    if request.param == "sqlite":
        RUNS["sqlite"] += 1
        yield tmp_path / "halfbie.db"
        return
    if not PG_URL:
        pytest.skip("PostgreSQL run: HALFBIE_TEST_DATABASE_URL is not set")
    marker = request.node.get_closest_marker("sqlite_only")
    if marker is not None:
        pytest.skip(f"SQLite only: {marker.args[0] if marker.args else 'reads the SQLite file itself'}")
    RUNS["postgresql"] += 1
    async with fresh_postgres() as url:
        yield url


@pytest_asyncio.fixture
async def another_database(database: str | Path, tmp_path: Path) -> AsyncIterator[str | Path]:
    """A second fresh database of the same kind as ``database`` (two stores compared)."""
    if isinstance(database, Path):
        yield tmp_path / "another.db"
        return
    async with fresh_postgres() as url:
        yield url


@pytest_asyncio.fixture
async def postgres() -> AsyncIterator[str]:
    """A fresh PostgreSQL database's URL, for the tests of PostgreSQL alone."""
    if not PG_URL:
        pytest.skip("PostgreSQL run: HALFBIE_TEST_DATABASE_URL is not set")
    async with fresh_postgres() as url:
        yield url


@pytest_asyncio.fixture
async def store(database: str | Path) -> AsyncIterator[Store]:
    """A freshly created database (a file in the test's temporary folder, or a PostgreSQL
    database of its own), closed afterwards."""
    opened = await Store.open(database, clock=FakeClock())
    try:
        yield opened
    finally:
        await opened.close()


async def read_outside(
    where: Store | str | Path, sql: str, params: Sequence[Any] = ()
) -> list[tuple[Any, ...]]:
    """Run a read through a connection of the test's own (not the store's): it sees only
    what has been committed.  ``where`` is a store, or where one was (a path, a URL);
    ``sql`` takes ``?`` parameters on either store."""
    if isinstance(where, Store):
        where = where.path if where.path is not None else where.location
    if isinstance(where, Path):
        async with aiosqlite.connect(where) as conn:
            return [tuple(row) for row in await conn.execute_fetchall(sql, params)]
    text, bound = translate(sql, [params])
    conn = await asyncpg.connect(where)
    try:
        return [tuple(row) for row in await conn.fetch(text, *bound[0])]
    finally:
        await conn.close()


_SQLITE_TABLES = "SELECT name FROM sqlite_schema WHERE type = 'table' AND name <> 'sqlite_sequence'"
_PG_TABLES = (
    "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() "
    "AND table_type = 'BASE TABLE' AND table_name <> 'halfbie_schema'"
)


_GUILD_TABLES = {
    "sqlite": "SELECT m.name FROM sqlite_schema m JOIN pragma_table_info(m.name) c "
    "WHERE m.type = 'table' AND c.name = 'guild_id' ORDER BY 1",
    "postgresql": "SELECT table_name FROM information_schema.columns "
    "WHERE table_schema = current_schema() AND column_name = 'guild_id' ORDER BY 1",
}


async def guild_tables(where: Store | str | Path) -> list[str]:
    """The tables that have a ``guild_id`` column (a server's own rows)."""
    postgres = isinstance(where, str) or (isinstance(where, Store) and where.path is None)
    return [
        str(row[0])
        for row in await read_outside(where, _GUILD_TABLES["postgresql" if postgres else "sqlite"])
    ]


async def dump(where: Store | str | Path) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, ids included (through a connection of the test's own)."""
    postgres = isinstance(where, str) or (isinstance(where, Store) and where.path is None)
    tables = [str(row[0]) for row in await read_outside(where, _PG_TABLES if postgres else _SQLITE_TABLES)]
    return {t: sorted(await read_outside(where, f'SELECT * FROM "{t}"'), key=repr) for t in tables}


async def count_rows(where: Store | str | Path) -> dict[str, int]:
    """Rows per table, as committed (through a connection of the test's own)."""
    postgres = isinstance(where, str) or (isinstance(where, Store) and where.path is None)
    tables = [str(row[0]) for row in await read_outside(where, _PG_TABLES if postgres else _SQLITE_TABLES)]
    sql = " UNION ALL ".join(f"SELECT '{t}', COUNT(*) FROM \"{t}\"" for t in tables)
    return {str(name): int(n) for name, n in await read_outside(where, sql)}


# -- a small canon for seed tests (the real one is loaded from data/) -------------------

ARTICLE = SourceRef("Wikipedia: All of Us Are Dead", Certainty.REPORTED, "https://example.org/aouad")
NETFLIX = SourceRef("Netflix", Certainty.OFFICIAL, "https://example.org/netflix")


def character(key: str, name: str, status: Status = Status.ALIVE, **extra: object) -> CharacterFields:
    """A card whose texts are given as plain strings (each a statement from ARTICLE; the
    Season 1 and Season 2 texts spoilers) or as statements."""
    values: dict[str, object] = {
        "key": key,
        "name": name,
        "role": Statement("student", ARTICLE),
        "status": status,
        "status_source": ARTICLE,
    }
    for part, text in extra.items():
        if part == "role" and isinstance(text, str):
            text = Statement(text, ARTICLE)
        elif part in ("fate_s1", "season2") and isinstance(text, str):
            text = (Statement(text, ARTICLE, Spoiler.FINALE),)
        elif part in ("fate_s1", "season2") and text is None:
            text = ()
        elif part in ("hangul", "actor") and text is not None:
            values[f"{part}_source"] = ARTICLE
        values[part] = text
    return CharacterFields(**values)  # type: ignore[arg-type]


def small_canon(version: int = 1) -> Canon:
    """Three characters, two news items, two theories; version 2 adds one of each."""
    characters = [
        character("cheong-san", "Lee Cheong-san", Status.PRESUMED_DEAD, hangul="이청산"),
        character("on-jo", "Nam On-jo", aliases=("Onjo",)),
        character("nam-ra", "Choi Nam-ra", Status.HALFBIE),
    ]
    news = [
        NewsFields("Season 2 confirmed", "2022-06-06", "2022-06-06", NETFLIX, key="s2-confirmed"),
        NewsFields("Filming rumoured", None, "2023-01-10", ARTICLE, key="s2-filming"),
    ]
    theories = [
        TheoryFields("Is Cheong-san alive?", ("Yes", "No"), ARTICLE, key="cheong-san-alive"),
        TheoryFields("Who is the next halfbie?", ("On-jo", "Su-hyeok", "Nobody"), ARTICLE, key="next"),
    ]
    if version >= 2:
        characters.append(character("su-hyeok", "Lee Su-hyeok"))
        news.append(NewsFields("Script reading", "2024-03-01", "2024-03-02", ARTICLE, key="s2-read"))
        theories.append(TheoryFields("Does Gwi-nam return?", ("Yes", "No"), ARTICLE, key="gwi-nam"))
    return Canon(
        version=version,
        article=ARTICLE,
        article_date="2024-01-01",
        stage=Stage.CONFIRMED,
        characters=tuple(characters),
        news=tuple(news),
        theories=tuple(theories),
    )


async def vote_of(store: Store, guild_id: int, theory_id: int, member_id: int) -> int | None:
    """The option a member's vote on a theory is for, or None (through the member's votes,
    as /privacy and /theory mine read them)."""
    votes = await store.theories.votes_of_member(guild_id, member_id)
    return next((vote.option for vote in votes if vote.theory_id == theory_id), None)
