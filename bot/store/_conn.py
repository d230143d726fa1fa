"""What a query module may ask of a connection, whichever database is behind it.

The query modules were written against aiosqlite: a writer job gets a connection and
calls ``execute``, ``executemany`` and ``execute_fetchall`` with SQLite-style SQL
(``?`` and ``:name`` parameters) and reads rows by column name or position.  Rather
than rewrite every module for a second database, PostgreSQL gets a connection that
answers the same three calls (:class:`bot.store._pg.PgConnection`), so both stores run
the very same statements; these protocols are all either side promises.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Awaitable, Iterable, Iterator, Mapping
from typing import Any, Protocol, TypeAlias

import asyncpg

__all__ = ["DATABASE_ERRORS", "INTEGRITY_ERRORS", "Connection", "Params", "Row", "is_postgres"]

Params: TypeAlias = Iterable[Any] | Mapping[str, Any]

# What a database raises for a statement it refuses (a constraint, bad SQL), on either store.
DATABASE_ERRORS: tuple[type[Exception], ...] = (sqlite3.Error, asyncpg.PostgresError)
INTEGRITY_ERRORS: tuple[type[Exception], ...] = (
    sqlite3.IntegrityError,
    asyncpg.IntegrityConstraintViolationError,
)


class Row(Protocol):
    """A result row: by column name or position (``sqlite3.Row``, ``asyncpg.Record``)."""

    def keys(self) -> Iterable[str]: ...

    def __getitem__(self, key: int | str, /) -> Any: ...

    def __iter__(self) -> Iterator[Any]: ...

    def __len__(self) -> int: ...


class Connection(Protocol):
    """The calls writer jobs make (aiosqlite's names; both stores provide them)."""

    def execute(self, sql: str, parameters: Params = ..., /) -> Awaitable[Any]: ...

    def executemany(self, sql: str, parameters: Iterable[Params], /) -> Awaitable[Any]: ...

    def execute_fetchall(self, sql: str, parameters: Params = ..., /) -> Awaitable[Iterable[Row]]: ...

    @property
    def in_transaction(self) -> bool: ...

    def close(self) -> Awaitable[None]: ...


def is_postgres(conn: Connection) -> bool:
    """Whether ``conn`` is PostgreSQL's (for the few reads of the catalogue that differ)."""
    return getattr(conn, "dialect", "sqlite") == "postgresql"
