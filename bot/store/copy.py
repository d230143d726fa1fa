"""The whole store to another database: ``halfbie copy-store --to URL`` (SQLite to
PostgreSQL when a bot outgrows one process, and back).

What moves: every row of every Halfbie table, ids included, as it is: every server's
data (the tables :mod:`bot.store.transfer` exports per server), the bot's own rows of
``meta`` (the hash and ids of the last command sync, so the new store does not sync
again), and the scheduler's ``jobs``, those of no server too (the daily purge), with
their ids (a post's nonce is made from its job's id).  What does not: ``identify_slots``
(when each process last sent IDENTIFY: about the processes running, not the bot's data),
the schema's own bookkeeping (``halfbie_schema``, ``sqlite_sequence``: the target has
its own, and the next ids are carried over below), and claims: a job claimed by a
process of the source's bot is copied pending again, as that process would give it back
when starting again (:meth:`~bot.store.jobs.JobQueries.release`), since no process of
the new store holds it.

How:

- The source is opened as it is (``migrate=False``) and read through a connection of
  its own that cannot write (SQLite ``mode=ro``; a PostgreSQL ``READ ONLY`` transaction)
  inside one transaction, so every table is read as of one moment
  (``REPEATABLE READ`` on PostgreSQL, WAL's snapshot on SQLite).  It is never written to.
- Rows are streamed, a batch at a time (``batch`` rows, ordered by primary key, each
  batch after the last key of the one before), so a bot with a million votes copies in
  the memory of one batch.
- The target's writes are one writer job, one transaction: the copy is there entirely or
  not at all.  A target that holds any Halfbie row is refused unless ``replace`` is
  given; then its Halfbie tables are emptied first, in the same transaction.
- Ids the database hands out next (PostgreSQL's identity sequences, SQLite's
  ``sqlite_sequence``) come after every id either database handed out, so a theory or
  news item created after the move gets a new id, and a job's id is never reused.
- Before committing, every table is read back from the target and compared with what
  was read from the source: its row count and a checksum of its rows (:class:`Checksum`).
  On any difference the transaction is rolled back and :class:`CopyError` says which
  tables differ.

A checksum is order-free: each row's values are put in one canonical, type-tagged form
(booleans as 0/1, ``memoryview`` as bytes, floats exactly by ``repr``, a NUL in text as
U+FFFD, as PostgreSQL stores it), hashed (BLAKE2b), and the hashes are added modulo
2**256.  So the two databases need not sort text the same way, and a value that changed
type (``1`` against ``1.0`` or ``'1'``) is a difference.

Refused, one sentence each: a source at another schema version than this Halfbie's, a
target that is the source itself, two databases whose tables differ, and a PostgreSQL
database a running bot listens on (its writes after the copy began would be lost, or a
running bot's data replaced under it).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import time
from collections.abc import AsyncIterator, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import asyncpg

from ._conn import DATABASE_ERRORS, Connection, is_postgres
from ._db import fetch_all, fetch_one, fetch_value
from ._migrate import load_migrations
from ._open import absolute, connect
from ._pg import CONNECT_TIMEOUT, LISTENER_NAME, PgConnection, is_postgres_url, redact
from .errors import StoreError, StoreOpenError
from .transfer import GUILD_COLUMN, ROOT_TABLE, Table, dependency_order, discover_tables

if TYPE_CHECKING:
    from . import Store

__all__ = [
    "BATCH",
    "SKIPPED",
    "Checksum",
    "CopyError",
    "CopyResult",
    "TableCopy",
    "copy_between",
    "copy_store",
]

BATCH = 2_000  # rows read, written and read back at a time
SKIPPED = frozenset({"identify_slots"})  # the running processes' IDENTIFY turns, not data
APPLICATION_NAME = "halfbie copy-store"  # the source's reading connection, in pg_stat_activity
_MODULUS = 2**256


class CopyError(StoreError):
    """A copy refused or undone; the message is one plain sentence for the host."""


# -- checksums ------------------------------------------------------------------------------


def _canonical(value: Any) -> Any:
    """One form per stored value, whichever database and driver returned it."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, str):
        return value.replace("\x00", "\ufffd") if "\x00" in value else value
    if isinstance(value, memoryview | bytearray):
        return bytes(value)
    return value


def row_digest(row: Iterable[Any]) -> int:
    """A row's hash: its values in canonical form, each tagged by its type (``repr``)."""
    text = repr(tuple(_canonical(value) for value in row))
    return int.from_bytes(hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=32).digest())


@dataclass(slots=True)
class Checksum:
    """A table's rows, counted and hashed in any order (the sum of the rows' hashes)."""

    rows: int = 0
    total: int = 0

    def add(self, rows: Iterable[Sequence[Any]]) -> None:
        for row in rows:
            self.rows += 1
            self.total = (self.total + row_digest(row)) % _MODULUS

    @property
    def hexdigest(self) -> str:
        return f"{self.total:064x}"


@dataclass(frozen=True, slots=True)
class TableCopy:
    name: str
    rows: int
    checksum: str  # the same on both sides, or the copy was undone


@dataclass(frozen=True, slots=True)
class CopyResult:
    source: str  # where from and where to (a file, or a URL without its password)
    target: str
    servers: int
    tables: tuple[TableCopy, ...]  # in the order written (parents first)
    replaced: int  # rows the target held, deleted first (``replace``)
    released: int  # jobs claimed in the source, copied pending again
    guild_ids: frozenset[int] = field(default_factory=frozenset, repr=False)

    @property
    def rows(self) -> int:
        return sum(table.rows for table in self.tables)


# -- reading ----------------------------------------------------------------------------------


def _q(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


async def _tables(conn: Connection) -> dict[str, Table]:
    """Every Halfbie table that is copied, from the database's catalogue."""
    found = await discover_tables(conn)
    return {name: table for name, table in found.items() if name not in SKIPPED}


async def _pages(
    conn: Connection, table: Table, columns: Sequence[str], batch: int
) -> AsyncIterator[list[tuple[Any, ...]]]:
    """The table's rows, ``batch`` at a time, in primary-key order: each page starts after
    the last key of the one before, so no page costs more than its own rows."""
    names = ", ".join(_q(c) for c in columns)
    source = f"SELECT {names} FROM {_q(table.name)}"
    key = table.primary_key
    if not key:  # no table of Halfbie's lacks one; a later one would still copy
        order = ", ".join(_q(c) for c in columns)
        offset = 0
        while True:
            found = await fetch_all(conn, f"{source} ORDER BY {order} LIMIT ? OFFSET ?", (batch, offset))
            if found:
                yield [tuple(row) for row in found]
            if len(found) < batch:
                return
            offset += batch
    order = ", ".join(_q(c) for c in key)
    at = [list(columns).index(c) for c in key]
    after = f"({order}) > ({', '.join('?' * len(key))})" if len(key) > 1 else f"{order} > ?"
    last: tuple[Any, ...] | None = None
    while True:
        if last is None:
            found = await fetch_all(conn, f"{source} ORDER BY {order} LIMIT ?", (batch,))
        else:
            found = await fetch_all(conn, f"{source} WHERE {after} ORDER BY {order} LIMIT ?", (*last, batch))
        page = [tuple(row) for row in found]
        if page:
            yield page
        if len(page) < batch:
            return
        last = tuple(page[-1][i] for i in at)


async def _counts(conn: Connection, tables: Iterable[str]) -> dict[str, int]:
    return {name: int(await fetch_value(conn, f"SELECT COUNT(*) FROM {_q(name)}")) for name in sorted(tables)}


async def _identity(conn: Connection) -> tuple[str, ...]:
    """What tells one database from another: SQLite's file; PostgreSQL's server (when it
    started, its port), database and schema."""
    if is_postgres(conn):
        row = await fetch_one(
            conn,
            "SELECT pg_postmaster_start_time()::text, current_setting('port'), current_database(), "
            "current_schema()",
        )
        assert row is not None
        return ("postgresql", *(str(value) for value in row))
    rows = await fetch_all(conn, "PRAGMA database_list")
    file = next(str(row[2]) for row in rows if row[1] == "main")
    return ("sqlite", await asyncio.to_thread(os.path.realpath, file))


async def _refuse_if_listened(conn: Connection, location: str) -> None:
    """PostgreSQL: refuse while a bot's process listens on this database (each running
    process holds a connection named :data:`LISTENER_NAME`)."""
    if not is_postgres(conn):
        return
    running = int(
        await fetch_value(
            conn,
            "SELECT COUNT(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND application_name = ? AND pid <> pg_backend_pid()",
            (LISTENER_NAME,),
        )
    )
    if running:
        raise CopyError(
            f"a Halfbie bot is running on {location} ({running} processes connected); "
            "stop every process of the bot, then copy"
        )


# -- the ids handed out next ------------------------------------------------------------------


async def _sequence(conn: Connection, table: Table) -> str | None:
    """PostgreSQL: the sequence of the table's identity column."""
    assert table.rowid_key is not None
    name = await fetch_value(conn, "SELECT pg_get_serial_sequence(?, ?)", (table.name, table.rowid_key))
    return None if name is None else str(name)


async def _autoincrement(conn: Connection, table: Table) -> bool:
    """SQLite: whether the table's ids are never reused (``AUTOINCREMENT``)."""
    found = await fetch_value(
        conn,
        "SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = ? AND upper(sql) LIKE '%AUTOINCREMENT%'",
        (table.name,),
    )
    return found is not None


async def _next_id(conn: Connection, table: Table) -> int:
    """The least id the database may hand out next in the table: past its largest id, and
    past every id its sequence (PostgreSQL) or ``sqlite_sequence`` (SQLite) handed out."""
    assert table.rowid_key is not None
    key = _q(table.rowid_key)
    highest = int(await fetch_value(conn, f"SELECT COALESCE(MAX({key}), 0) FROM {_q(table.name)}"))
    handed = 0
    if is_postgres(conn):
        sequence = await _sequence(conn, table)
        if sequence is not None:
            row = await fetch_one(conn, f"SELECT last_value, is_called FROM {sequence}")
            assert row is not None
            handed = int(row[0]) if row[1] else int(row[0]) - 1
    elif await _autoincrement(conn, table):
        seq = await fetch_value(conn, "SELECT seq FROM sqlite_sequence WHERE name = ?", (table.name,))
        handed = 0 if seq is None else int(seq)
    return max(highest, handed) + 1


async def _set_next_id(conn: Connection, table: Table, next_id: int) -> None:
    if is_postgres(conn):
        sequence = await _sequence(conn, table)
        if sequence is not None:
            await conn.execute("SELECT setval(?, ?, false)", (sequence, next_id))
    elif await _autoincrement(conn, table):
        rows = await fetch_all(
            conn, "UPDATE sqlite_sequence SET seq = ? WHERE name = ? RETURNING seq", (next_id - 1, table.name)
        )
        if not rows:
            await conn.execute(
                "INSERT INTO sqlite_sequence (name, seq) VALUES (?, ?)", (table.name, next_id - 1)
            )
    # any other SQLite table hands out its largest id plus one by itself


# -- writing ----------------------------------------------------------------------------------


def _release_claims(columns: Sequence[str], rows: list[tuple[Any, ...]]) -> tuple[list[tuple[Any, ...]], int]:
    """Jobs claimed in the source, pending again (no process of the target holds them)."""
    state, owner, lease = (columns.index(c) for c in ("state", "claimed_by", "lease_until"))
    released = 0
    out: list[tuple[Any, ...]] = []
    for row in rows:
        if row[state] == "claimed":
            values = list(row)
            values[state], values[owner], values[lease] = "pending", None, None
            row = tuple(values)
            released += 1
        out.append(row)
    return out, released


async def _insert(conn: Connection, table: str, columns: Sequence[str], rows: list[tuple[Any, ...]]) -> None:
    names = ", ".join(_q(c) for c in columns)
    marks = ", ".join("?" * len(columns))
    await conn.executemany(f"INSERT INTO {_q(table)} ({names}) VALUES ({marks})", rows)


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__


def _differences(source: Mapping[str, Table], target: Mapping[str, Table]) -> list[str]:
    return sorted(
        name
        for name in set(source) | set(target)
        if name not in source or name not in target or set(source[name].columns) != set(target[name].columns)
    )


@contextlib.asynccontextmanager
async def _snapshot(store: Store) -> AsyncIterator[Connection]:
    """A connection to the source that cannot write, in one transaction (one moment)."""
    if store.path is not None:
        reader = await connect(store.path, create=False, read_only=True)
        try:
            await reader.execute("BEGIN")  # WAL: every read from the first on sees one snapshot
            yield reader
        finally:
            await reader.close()  # ends the transaction
        return
    url = store._url
    assert url is not None
    try:
        raw = await asyncpg.connect(
            url,
            timeout=CONNECT_TIMEOUT,
            server_settings={"default_transaction_read_only": "on", "application_name": APPLICATION_NAME},
        )
    except Exception as exc:
        raise CopyError(f"cannot read {redact(url)} ({_one_line(exc)})") from exc
    conn = PgConnection(raw, url)
    try:
        await conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        yield conn
    finally:
        await conn.close()


async def copy_store(
    source: Store, target: Store, *, replace: bool = False, batch: int = BATCH
) -> CopyResult:
    """Copy every Halfbie row of ``source`` into ``target`` (see the module's docstring).

    Raises :class:`CopyError` when refused (``target`` not empty and no ``replace``, the
    same database, tables that differ, a bot running on either) or when the rows read
    back from ``target`` differ from the source's; ``target`` is then as it was.
    """
    if batch < 1:
        raise ValueError("a batch is at least one row")
    if source.version != target.version:
        raise CopyError(
            f"{source.location} is at schema {source.version} and {target.location} at "
            f"{target.version}; both must be at this Halfbie's"
        )
    result: list[CopyResult] = []
    try:
        async with _snapshot(source) as snapshot:
            copy = _Copy(source, target, snapshot, replace=replace, batch=batch)
            await copy.read_source()

            async def job(conn: Connection) -> list[int]:
                result.append(await copy.run(conn))
                return sorted(result[0].guild_ids)

            await target._db.write_servers(job)
    except DATABASE_ERRORS as exc:  # reading the source, or a statement of the copy
        raise CopyError(f"the copy failed ({_one_line(exc)}); nothing was copied") from exc
    return result[0]


class _Copy:
    """One copy: the source's snapshot read, the target written in one writer job."""

    def __init__(
        self, source: Store, target: Store, snapshot: Connection, *, replace: bool, batch: int
    ) -> None:
        self.source = source.location
        self.target = target.location
        self.snapshot = snapshot
        self.replace = replace
        self.batch = batch
        self.tables: dict[str, Table] = {}  # the source's
        self.identity: tuple[str, ...] = ()
        self.next_ids: dict[str, int] = {}

    async def read_source(self) -> None:
        self.tables = await _tables(self.snapshot)
        self.identity = await _identity(self.snapshot)
        await _refuse_if_listened(self.snapshot, self.source)
        self.next_ids = {
            name: await _next_id(self.snapshot, table)
            for name, table in self.tables.items()
            if table.rowid_key
        }

    async def run(self, conn: Connection) -> CopyResult:
        """The writer job: check the target, empty it if told, copy, check the copy."""
        if await _identity(conn) == self.identity:
            raise CopyError(f"{self.target} is the database being copied; give another --to")
        await _refuse_if_listened(conn, self.target)
        tables = await _tables(conn)
        differ = _differences(self.tables, tables)
        if differ:
            raise CopyError(
                f"the tables of {self.source} and {self.target} differ ({', '.join(differ)}); "
                "both must be at this Halfbie's schema"
            )
        held = {name: n for name, n in (await _counts(conn, tables)).items() if n}
        if held and not self.replace:
            raise CopyError(_not_empty(self.target, held))
        order = [table.name for table in dependency_order(tables)]
        touched = {
            int(row[0]) for row in await fetch_all(conn, f"SELECT {_q(GUILD_COLUMN)} FROM {_q(ROOT_TABLE)}")
        }
        for name in reversed(order):  # children first
            await conn.execute(f"DELETE FROM {_q(name)}")
        written: dict[str, Checksum] = {}
        released = 0
        for name in order:
            written[name], n = await self._copy_table(conn, name, touched)
            released += n
        for name, table in tables.items():
            if table.rowid_key is not None:
                await _set_next_id(conn, table, max(self.next_ids.get(name, 1), await _next_id(conn, table)))
        await self._verify(conn, tables, order, written)
        return CopyResult(
            source=self.source,
            target=self.target,
            servers=written[ROOT_TABLE].rows,
            tables=tuple(TableCopy(name, written[name].rows, written[name].hexdigest) for name in order),
            replaced=sum(held.values()),
            released=released,
            guild_ids=frozenset(touched),
        )

    async def _copy_table(self, conn: Connection, name: str, touched: set[int]) -> tuple[Checksum, int]:
        """Stream one table across; return the checksum of what was written, and how many
        claimed jobs were handed back."""
        columns = self.tables[name].columns
        written = Checksum()
        released = 0
        async for page in _pages(self.snapshot, self.tables[name], columns, self.batch):
            rows = page
            if name == "jobs":
                rows, n = _release_claims(columns, rows)
                released += n
            if name == ROOT_TABLE:
                at = columns.index(GUILD_COLUMN)
                touched.update(int(row[at]) for row in rows)
            written.add(rows)
            try:
                await _insert(conn, name, columns, rows)
            except DATABASE_ERRORS as exc:
                raise CopyError(
                    f"{self.target} refused a row of {name} ({_one_line(exc)}); nothing was copied"
                ) from exc
        return written, released

    async def _verify(
        self,
        conn: Connection,
        tables: Mapping[str, Table],
        order: Sequence[str],
        written: Mapping[str, Checksum],
    ) -> None:
        """Read every table back from the target: the same rows, or the copy is undone."""
        differ = []
        for name in order:
            found = Checksum()
            async for page in _pages(conn, tables[name], self.tables[name].columns, self.batch):
                found.add(page)
            if found != written[name]:
                what = "rows" if found.rows != written[name].rows else "checksum"
                differ.append(f"{name}: {what} {found.rows} rows against {written[name].rows}")
        if differ:
            raise CopyError(
                f"what {self.target} holds after the copy differs from the source "
                f"({'; '.join(differ)}); nothing was copied"
            )


def _not_empty(location: str, held: Mapping[str, int]) -> str:
    servers = held.get(ROOT_TABLE, 0)
    return (
        f"{location} already holds Halfbie data ({servers} servers, {sum(held.values())} rows); "
        "copy-store --replace empties its Halfbie tables first, or give an empty database"
    )


# -- opening both -----------------------------------------------------------------------------


def _sqlite_file(where: str | os.PathLike[str]) -> Path | None:
    if is_postgres_url(where):
        return None
    text = os.fspath(where)
    return absolute(text.removeprefix("sqlite:///") if text.startswith("sqlite:///") else text)


_FOR_TARGET = (
    ("set HALFBIE_DB to", "give --to"),
    ("or set HALFBIE_DB", "or give another --to"),
    ("point HALFBIE_DATABASE_URL at", "give --to"),
    ("point HALFBIE_DATABASE_URL elsewhere", "give another --to"),
    ("HALFBIE_DATABASE_URL", "--to"),
    ("HALFBIE_DB", "--to"),
)


def _for_target(message: str) -> str:
    """A refusal to open the target, told in terms of ``--to`` (not the bot's settings)."""
    for setting, option in _FOR_TARGET:
        message = message.replace(setting, option)
    return message


def _same_file(one: Path, other: Path) -> bool:
    return one.exists() and other.exists() and one.samefile(other)


async def _open_target(target: str | os.PathLike[str], *, replace: bool, clock: Callable[[], float]) -> Store:
    """Open (create, or bring up to date) the target; a Halfbie database that holds data
    is refused without ``replace`` before anything is written to it."""
    from . import Store

    try:
        probe: Store | None = await Store.open(target, clock=clock, migrate=False)
    except StoreOpenError:
        probe = None  # nothing there yet, or refused: opening it below says which
    if probe is not None:
        try:
            reader = probe._reader
            held = {name: n for name, n in (await _counts(reader, await _tables(reader))).items() if n}
        finally:
            await probe.close()
        if held and not replace:
            raise CopyError(_not_empty(probe.location, held))
    try:
        return await Store.open(target, clock=clock)
    except StoreOpenError as exc:
        raise StoreOpenError(_for_target(str(exc))) from None


async def copy_between(
    source: str | os.PathLike[str],
    target: str | os.PathLike[str],
    *,
    replace: bool = False,
    batch: int = BATCH,
    clock: Callable[[], float] = time.time,
) -> CopyResult:
    """Open ``source`` as it is and ``target`` (created if need be), copy, close both.

    ``source`` and ``target`` are each an SQLite file (a path or ``sqlite:///path``) or a
    PostgreSQL URL.  StoreOpenError when either cannot be opened, CopyError when the copy
    is refused or undone (see :func:`copy_store`).
    """
    from . import Store

    newest = len(await asyncio.to_thread(load_migrations))
    source_file, target_file = _sqlite_file(source), _sqlite_file(target)
    if (
        source_file is not None
        and target_file is not None
        and (source_file == target_file or await asyncio.to_thread(_same_file, source_file, target_file))
    ):
        raise CopyError(f"{target_file} is the database being copied; give another --to")
    opened = await Store.open(source, clock=clock, migrate=False)
    try:
        if opened.version != newest:
            raise CopyError(
                f"{opened.location} is at schema {opened.version} and this Halfbie's is {newest}: "
                "start the bot on it once (it upgrades it), stop it, then copy"
            )
        written = await _open_target(target, replace=replace, clock=clock)
        try:
            return await copy_store(opened, written, replace=replace, batch=batch)
        finally:
            await written.close()
    finally:
        await opened.close()
