"""Numbered SQL migrations, applied in order, one transaction each.

A migration is ``migrations/NNNN_name.sql`` (``0001_init.sql``, ``0002_…``), numbered
from 1 without gaps.  The schema version is ``PRAGMA user_version``: migration N sets
it to N in the same transaction as its DDL, so a migration is applied entirely or not
at all.  Files must not contain transaction statements; note that ``PRAGMA
foreign_keys`` cannot change inside a transaction, so a migration that rebuilds a
table relies on ``PRAGMA defer_foreign_keys`` instead.
"""

from __future__ import annotations

import importlib.resources
import re
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import aiosqlite

from .errors import StoreOpenError

__all__ = [
    "Migration",
    "MigrationError",
    "apply_migrations",
    "load_migrations",
    "load_pg_migrations",
    "split_sql",
]

_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")


class MigrationError(StoreOpenError):
    """A migration failed; the database was left at the version before it."""


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    name: str  # the file name, for messages
    statements: tuple[str, ...]


def load_migrations() -> tuple[Migration, ...]:
    """Read the migrations shipped in the package (works from any working directory)."""
    return parse_migrations(_files("migrations"))


def load_pg_migrations() -> tuple[Migration, ...]:
    """PostgreSQL's migrations (``migrations_pg/``), numbered in step with SQLite's: the
    first is a baseline that creates the schema as of its number on a new database (there
    were no PostgreSQL databases before it); each later one matches SQLite's of its number."""
    return parse_migrations(_files("migrations_pg"), baseline=True)


def _files(name: str) -> list[tuple[str, str]]:
    folder = importlib.resources.files("bot.store").joinpath(name)
    return [(entry.name, entry.read_text("utf-8")) for entry in folder.iterdir()]


def parse_migrations(files: Iterable[tuple[str, str]], *, baseline: bool = False) -> tuple[Migration, ...]:
    """Turn ``(file name, text)`` pairs into migrations; refuse gaps and duplicates.

    With ``baseline`` the numbers start at the lowest file's, not at 1.
    """
    found: dict[int, Migration] = {}
    for name, text in files:
        if not name.endswith(".sql"):
            continue
        match = _NAME.match(name)
        if match is None:
            raise ValueError(f"migration file {name!r} is not named NNNN_name.sql")
        version = int(match.group(1))
        if version in found:
            raise ValueError(f"two migrations numbered {version}: {found[version].name}, {name}")
        found[version] = Migration(version, name, split_sql(text, name))
    ordered = tuple(found[v] for v in sorted(found))
    first = ordered[0].version if baseline and ordered else 1
    for expected, migration in enumerate(ordered, start=first):
        if migration.version != expected:
            raise ValueError(f"migration {expected:04d} is missing (found {migration.name})")
    return ordered


def split_sql(text: str, name: str = "<sql>") -> tuple[str, ...]:
    """Split a script into statements, as SQLite itself sees them (strings, triggers)."""
    statements: list[str] = []
    start = 0
    for index, char in enumerate(text):
        if char == ";" and sqlite3.complete_statement(text[start : index + 1]):
            statement = text[start : index + 1].strip()
            if _has_code(statement):
                statements.append(statement)
            start = index + 1
    if _has_code(text[start:]):
        raise ValueError(f"{name} ends with a statement that has no closing ';'")
    for statement in statements:
        first = re.split(r"[\s;(]+", _code_lines(statement)[0])[0].upper()
        if first in {"BEGIN", "COMMIT", "END", "ROLLBACK", "SAVEPOINT", "RELEASE"}:
            raise ValueError(f"{name} must not control transactions ({first})")
    return tuple(statements)


def _code_lines(text: str) -> list[str]:
    lines = (line.split("--", 1)[0].strip() for line in text.splitlines())
    return [line for line in lines if line and line != ";"]


def _has_code(text: str) -> bool:
    return bool(_code_lines(text))


async def read_version(conn: aiosqlite.Connection) -> int:
    rows = list(await conn.execute_fetchall("PRAGMA user_version"))
    return int(rows[0][0])


async def apply_migrations(conn: aiosqlite.Connection, migrations: Sequence[Migration], *, path: str) -> int:
    """Bring the database up to the last of ``migrations``; return the version reached.

    Each migration runs in its own ``BEGIN IMMEDIATE`` transaction, which re-reads the
    version first, so two processes opening the same file do not both apply it.
    """
    version = await read_version(conn)
    for migration in migrations:
        if migration.version <= version:
            continue
        await conn.execute("BEGIN IMMEDIATE")
        try:
            version = await read_version(conn)
            if migration.version <= version:
                await conn.execute("ROLLBACK")
                continue
            for statement in migration.statements:
                await conn.execute(statement)
            await conn.execute(f"PRAGMA user_version = {migration.version:d}")
            await conn.execute("COMMIT")
        except sqlite3.Error as exc:
            if conn.in_transaction:
                await conn.execute("ROLLBACK")
            raise MigrationError(
                f"cannot open the database at {path}: migration {migration.name} failed "
                f"({exc}); the database was left at version {version}"
            ) from exc
        version = migration.version
    return version
