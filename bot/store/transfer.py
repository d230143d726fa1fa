"""One server's data as a JSON document, and back: ``halfbie export`` / ``halfbie import``.

The document::

    {"format": "halfbie-guild", "version": 1, "schema_version": 3,
     "guild_id": 123, "exported_at": 1790000000,
     "tables": {"guilds": [{"guild_id": 123, ...}], "guild_settings": [...], ...}}

``version`` is the version of this document format; ``schema_version`` the database's
schema (``PRAGMA user_version``) when it was exported.  Rows are objects keyed by column
name, exactly as stored (a BLOB, should a table ever hold one, is ``{"$base64": ...}``).

Which tables belong to a server is read from the schema, not listed here, so later
migrations keep working: every table with a ``guild_id`` column, and every table with a
foreign key to such a table (``theory_options`` through ``theories``), found again until
nothing new turns up.  The tables are exported and imported parents first, in an order
derived from the foreign keys (ties by name); deleting goes the other way.

Importing is one writer job, so all or nothing.  It refuses a document from a newer
schema, and a server that already has data unless ``replace`` is given.  Every
reference a row makes to another server-owned table must point at a row of the same
document, so a file can never write into another server.  Ids are kept, so buttons on
old poll messages keep working; only an id another server already uses in this
database (moving a server to another host's database) gets a new one, and every
reference to it in the document follows; the result counts them, because the buttons of
a renumbered poll's old message still carry the old id.  Audit entries keep their text
as written.

The SQL that moves rows is standard (quoted identifiers, EXISTS subqueries); only
:func:`discover` and :func:`_schema_version` read the database's catalogue, each in the
form of its store (SQLite's ``sqlite_schema`` and PRAGMAs; PostgreSQL's
``information_schema`` and ``halfbie_schema``).  On PostgreSQL an import that keeps ids
moves the id sequences past them (SQLite hands out the largest id plus one by itself).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ._conn import DATABASE_ERRORS, Connection, is_postgres
from ._db import Db, fetch_all, fetch_value
from .errors import StoreError
from .release import reschedule_reminders_in
from .theories import reschedule_closing_in

__all__ = [
    "DOCUMENT_VERSION",
    "FORMAT",
    "ForeignKey",
    "ImportResult",
    "Schema",
    "Table",
    "TransferError",
    "TransferQueries",
    "dependency_order",
    "discover",
    "discover_tables",
    "dumps",
    "loads",
]

FORMAT = "halfbie-guild"
DOCUMENT_VERSION = 1
GUILD_COLUMN = "guild_id"
ROOT_TABLE = "guilds"
_CHUNK = 500  # values per IN (...) list, well under SQLite's limit on parameters
_BLOB = "$base64"


class TransferError(StoreError):
    """An export or import refused; the message is one plain sentence for the host."""


# -- the schema, as far as one server's rows are concerned ----------------------------------


@dataclass(frozen=True, slots=True)
class ForeignKey:
    parent: str
    columns: tuple[str, ...]  # in the child table
    parent_columns: tuple[str, ...]  # in the parent, same order


@dataclass(frozen=True, slots=True)
class Table:
    name: str
    columns: tuple[str, ...]
    primary_key: tuple[str, ...]  # empty when the table declares none
    rowid_key: str | None  # an id the database hands out (see discover): may be renumbered
    foreign_keys: tuple[ForeignKey, ...]

    @property
    def has_guild_id(self) -> bool:
        return GUILD_COLUMN in self.columns


@dataclass(frozen=True, slots=True)
class Schema:
    """The server-owned tables, parents before children."""

    tables: tuple[Table, ...]
    by_name: dict[str, Table] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.by_name.update((t.name, t) for t in self.tables)

    def owner_key(self, table: Table) -> ForeignKey | None:
        """The foreign key that ties a table without ``guild_id`` to a server-owned one."""
        if table.has_guild_id:
            return None
        return next(fk for fk in table.foreign_keys if fk.parent in self.by_name)

    def scope(self, table: Table, alias: str, depth: int = 0) -> str:
        """A condition on ``alias`` (a row of ``table``) true for one server's rows; it
        takes exactly one parameter, the server's id."""
        if table.has_guild_id:
            return f"{alias}.{_q(GUILD_COLUMN)} = ?"
        fk = self.owner_key(table)
        assert fk is not None
        parent = self.by_name[fk.parent]
        inner = f"p{depth}"
        joins = " AND ".join(
            f"{inner}.{_q(pc)} = {alias}.{_q(c)}" for c, pc in zip(fk.columns, fk.parent_columns, strict=True)
        )
        return (
            f"EXISTS (SELECT 1 FROM {_q(parent.name)} AS {inner} WHERE {joins} "
            f"AND {self.scope(parent, inner, depth + 1)})"
        )


def _q(identifier: str) -> str:
    """A quoted SQL identifier (standard SQL double quotes)."""
    return '"' + identifier.replace('"', '""') + '"'


async def discover(conn: Connection) -> Schema:
    """Read the server-owned tables and their keys from the database's catalogue."""
    if is_postgres(conn):
        return _finish(await _discover_postgres(conn))
    return _finish(await _discover_sqlite(conn))


async def discover_tables(conn: Connection) -> dict[str, Table]:
    """Every table of the database by name, the bot's own too (``halfbie copy-store``
    copies them all), but for the catalogue's: SQLite's ``sqlite_*``, ``halfbie_schema``."""
    if is_postgres(conn):
        return await _discover_postgres(conn)
    return await _discover_sqlite(conn)


def dependency_order(tables: Mapping[str, Table]) -> tuple[Table, ...]:
    """The tables, parents before children (references to other tables are ignored)."""
    return _dependency_order(tables)


async def _discover_sqlite(conn: Connection) -> dict[str, Table]:
    """SQLite's catalogue: ``sqlite_schema`` and PRAGMAs."""
    names = [
        str(row[0])
        for row in await fetch_all(
            conn,
            "SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name",
        )
    ]
    tables: dict[str, Table] = {}
    for name in names:
        info = await fetch_all(conn, f"PRAGMA table_info({_q(name)})")
        columns = tuple(str(row["name"]) for row in info)
        keyed = sorted((int(row["pk"]), str(row["name"])) for row in info if int(row["pk"]) > 0)
        primary_key = tuple(column for _, column in keyed)
        declared = {str(row["name"]): str(row["type"]).upper() for row in info}
        without_rowid = bool(
            await fetch_value(
                conn,
                "SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = ? "
                "AND upper(sql) LIKE '%WITHOUT ROWID%'",
                (name,),
            )
        )
        grouped: dict[int, list[Any]] = {}
        for row in await fetch_all(conn, f"PRAGMA foreign_key_list({_q(name)})"):
            grouped.setdefault(int(row["id"]), []).append(row)
        foreign_keys = []
        for rows in grouped.values():
            rows.sort(key=lambda r: int(r["seq"]))
            foreign_keys.append(
                ForeignKey(
                    parent=str(rows[0]["table"]),
                    columns=tuple(str(r["from"]) for r in rows),
                    parent_columns=tuple("" if r["to"] is None else str(r["to"]) for r in rows),
                )
            )
        # An id the database hands out: a lone INTEGER PRIMARY KEY (a rowid) that is neither
        # the server's id nor a reference to another row.  Only these may be renumbered.
        referring = {column for fk in foreign_keys for column in fk.columns}
        rowid_key = (
            primary_key[0]
            if len(primary_key) == 1
            and declared[primary_key[0]] == "INTEGER"
            and not without_rowid
            and primary_key[0] != GUILD_COLUMN
            and primary_key[0] not in referring
            else None
        )
        tables[name] = Table(name, columns, primary_key, rowid_key, tuple(foreign_keys))
    return tables


_PG_COLUMNS = """
SELECT c.table_name, c.column_name, c.is_identity
FROM information_schema.columns AS c
JOIN information_schema.tables AS t
  ON t.table_schema = c.table_schema AND t.table_name = c.table_name AND t.table_type = 'BASE TABLE'
WHERE c.table_schema = current_schema()
ORDER BY c.table_name, c.ordinal_position
"""

# Keys with their columns in order; a foreign key's parent columns in the same order.
_PG_KEYS = """
SELECT con.conname AS name, con.contype::text AS type, rel.relname AS table_name,
       parent.relname AS parent, k.n,
       (SELECT attname FROM pg_attribute WHERE attrelid = con.conrelid AND attnum = k.col) AS column_name,
       (SELECT attname FROM pg_attribute WHERE attrelid = con.confrelid AND attnum = con.confkey[k.n])
           AS parent_column
FROM pg_constraint AS con
JOIN pg_class AS rel ON rel.oid = con.conrelid
JOIN pg_namespace AS ns ON ns.oid = rel.relnamespace AND ns.nspname = current_schema()
LEFT JOIN pg_class AS parent ON parent.oid = con.confrelid
CROSS JOIN LATERAL unnest(con.conkey) WITH ORDINALITY AS k(col, n)
WHERE con.contype IN ('p', 'f')
ORDER BY rel.relname, con.conname, k.n
"""


async def _discover_postgres(conn: Connection) -> dict[str, Table]:
    """PostgreSQL's catalogue; an id the database hands out is an identity column."""
    columns: dict[str, list[str]] = {}
    identity: dict[str, set[str]] = {}
    for row in await fetch_all(conn, _PG_COLUMNS):
        name = str(row["table_name"])
        columns.setdefault(name, []).append(str(row["column_name"]))
        if row["is_identity"] == "YES":
            identity.setdefault(name, set()).add(str(row["column_name"]))
    primary: dict[str, list[str]] = {}
    foreign: dict[tuple[str, str], list[Any]] = {}
    for row in await fetch_all(conn, _PG_KEYS):
        if row["type"] == "p":
            primary.setdefault(str(row["table_name"]), []).append(str(row["column_name"]))
        else:
            foreign.setdefault((str(row["table_name"]), str(row["name"])), []).append(row)
    tables: dict[str, Table] = {}
    for name, names in columns.items():
        if name == _MARKER:
            continue
        primary_key = tuple(primary.get(name, ()))
        foreign_keys = tuple(
            ForeignKey(
                parent=str(rows[0]["parent"]),
                columns=tuple(str(r["column_name"]) for r in rows),
                parent_columns=tuple(str(r["parent_column"]) for r in rows),
            )
            for (table, _), rows in sorted(foreign.items())
            if table == name
        )
        referring = {column for fk in foreign_keys for column in fk.columns}
        rowid_key = (
            primary_key[0]
            if len(primary_key) == 1
            and primary_key[0] in identity.get(name, set())
            and primary_key[0] != GUILD_COLUMN
            and primary_key[0] not in referring
            else None
        )
        tables[name] = Table(name, tuple(names), primary_key, rowid_key, foreign_keys)
    return tables


_MARKER = "halfbie_schema"  # PostgreSQL's version row: not a server's


def _finish(tables: dict[str, Table]) -> Schema:
    # A foreign key that names no parent columns refers to the parent's primary key.
    for name, table in list(tables.items()):
        fixed = tuple(
            ForeignKey(fk.parent, fk.columns, tables[fk.parent].primary_key)
            if "" in fk.parent_columns and fk.parent in tables
            else fk
            for fk in table.foreign_keys
        )
        tables[name] = Table(table.name, table.columns, table.primary_key, table.rowid_key, fixed)
    return Schema(_dependency_order(_owned(tables)))


# The scheduler's jobs name a server but are not its data: they follow from it (a poll's
# closing time, the premiere date) and refer to its rows by ids an import may renumber,
# so an import schedules them afresh from what it loaded.
_DERIVED = frozenset({"jobs"})


def _owned(tables: Mapping[str, Table]) -> dict[str, Table]:
    """Tables with a guild_id, then (until nothing changes) tables referring to those."""
    owned = {name: t for name, t in tables.items() if t.has_guild_id and name not in _DERIVED}
    grew = True
    while grew:
        grew = False
        for name, table in tables.items():
            if (
                name not in owned
                and name not in _DERIVED
                and any(fk.parent in owned for fk in table.foreign_keys)
            ):
                owned[name] = table
                grew = True
    return owned


def _dependency_order(owned: Mapping[str, Table]) -> tuple[Table, ...]:
    """Parents before children (Kahn's algorithm, ties by name): one fixed order."""
    parents = {
        name: {fk.parent for fk in t.foreign_keys if fk.parent in owned and fk.parent != name}
        for name, t in owned.items()
    }
    ordered: list[Table] = []
    done: set[str] = set()
    while len(done) < len(owned):
        ready = sorted(name for name in owned if name not in done and parents[name] <= done)
        if not ready:
            stuck = ", ".join(sorted(set(owned) - done))
            raise TransferError(f"the tables {stuck} refer to each other in a cycle")
        for name in ready:
            ordered.append(owned[name])
            done.add(name)
    return tuple(ordered)


async def _schema_version(conn: Connection) -> int:
    """The database's schema version (``PRAGMA user_version``; a row on PostgreSQL)."""
    if is_postgres(conn):
        return int(await fetch_value(conn, f"SELECT version FROM {_MARKER}"))
    return int(await fetch_value(conn, "PRAGMA user_version"))


async def _move_id_sequences(conn: Connection, schema: Schema) -> None:
    """PostgreSQL: ids handed out after an import that kept ids come after them."""
    if not is_postgres(conn):
        return
    for table in schema.tables:
        if table.rowid_key is None:
            continue
        name, key = _q(table.name), _q(table.rowid_key)
        await conn.execute(
            f"SELECT setval(pg_get_serial_sequence(?, ?), "
            f"COALESCE((SELECT MAX({key}) FROM {name}), 0) + 1, false)",
            (table.name, table.rowid_key),
        )


# -- values ---------------------------------------------------------------------------------


def _encode(value: Any) -> Any:
    if isinstance(value, bytes):
        return {_BLOB: base64.b64encode(value).decode("ascii")}
    return value


def _decode(value: Any, where: str) -> Any:
    if value is None or isinstance(value, str | int | float):
        return value
    if isinstance(value, dict) and set(value) == {_BLOB} and isinstance(value[_BLOB], str):
        try:
            return base64.b64decode(value[_BLOB], validate=True)
        except ValueError:
            raise TransferError(f"{where} holds a broken {_BLOB} value") from None
    raise TransferError(f"{where} holds a {type(value).__name__}, which no column can store")


def dumps(document: Mapping[str, Any]) -> str:
    """The document as JSON text (UTF-8, one table row a line, ids as exact integers)."""
    head = {k: v for k, v in document.items() if k != "tables"}
    lines = ["{"]
    lines += [f"  {json.dumps(k)}: {json.dumps(v, ensure_ascii=False)}," for k, v in head.items()]
    lines.append('  "tables": {')
    tables = list(document["tables"].items())
    for t_index, (name, rows) in enumerate(tables):
        lines.append(f"    {json.dumps(name)}: [")
        for r_index, row in enumerate(rows):
            comma = "," if r_index < len(rows) - 1 else ""
            lines.append("      " + json.dumps(row, ensure_ascii=False) + comma)
        lines.append("    ]" + ("," if t_index < len(tables) - 1 else ""))
    lines += ["  }", "}", ""]
    return "\n".join(lines)


def loads(text: str) -> dict[str, Any]:
    """Parse a document's text; a TransferError says what is wrong with it."""
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise TransferError(f"it is not JSON ({exc.msg} at line {exc.lineno}, column {exc.colno})") from None
    if not isinstance(document, dict):
        raise TransferError("it is not a Halfbie server export (not a JSON object)")
    return document


# -- the document ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Parsed:
    guild_id: int
    schema_version: int
    tables: dict[str, list[dict[str, Any]]]


def _int(document: Mapping[str, Any], key: str, *, minimum: int) -> int:
    value = document.get(key)
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise TransferError(f"its {key!r} is missing or not a whole number of at least {minimum}")
    return value


def _parse(document: Mapping[str, Any]) -> _Parsed:
    if document.get("format") != FORMAT:
        raise TransferError(f"it is not a Halfbie server export (format is not {FORMAT!r})")
    version = _int(document, "version", minimum=1)
    if version > DOCUMENT_VERSION:
        raise TransferError(
            f"it was written by a newer Halfbie (export format {version}; this version reads "
            f"up to {DOCUMENT_VERSION}); upgrade Halfbie to import it"
        )
    schema_version = _int(document, "schema_version", minimum=1)
    guild_id = _int(document, "guild_id", minimum=1)
    raw = document.get("tables")
    if not isinstance(raw, dict):
        raise TransferError("its 'tables' is missing or not an object")
    tables: dict[str, list[dict[str, Any]]] = {}
    for name, rows in raw.items():
        if not isinstance(rows, list) or not all(
            isinstance(row, dict) and row and all(isinstance(k, str) for k in row) for row in rows
        ):
            raise TransferError(f"its table {name!r} is not a list of rows (objects)")
        tables[str(name)] = [{k: _decode(v, f"a row of {name!r}") for k, v in row.items()} for row in rows]
    roots = tables.get(ROOT_TABLE, [])
    if len(roots) != 1 or roots[0].get(GUILD_COLUMN) != guild_id:
        raise TransferError(f"its {ROOT_TABLE!r} table must hold exactly server {guild_id}'s row")
    return _Parsed(guild_id, schema_version, tables)


@dataclass(frozen=True, slots=True)
class ImportResult:
    guild_id: int
    rows: dict[str, int]  # rows inserted per table, in import order
    replaced: bool  # the server had data here, which was deleted first
    renumbered: dict[str, int]  # rows given a new id per table (their id was taken)

    @property
    def total(self) -> int:
        return sum(self.rows.values())


def _check_rows(schema: Schema, parsed: _Parsed) -> None:
    unknown = sorted(set(parsed.tables) - set(schema.by_name))
    if unknown:
        raise TransferError(f"it has tables this database does not keep per server: {', '.join(unknown)}")
    for name, rows in parsed.tables.items():
        table = schema.by_name[name]
        known = set(table.columns)
        for row in rows:
            extra = set(row) - known
            if extra:
                raise TransferError(
                    f"its table {name!r} has columns this database lacks: {', '.join(sorted(extra))}"
                )
            if table.has_guild_id and row.get(GUILD_COLUMN) != parsed.guild_id:
                raise TransferError(
                    f"its table {name!r} has a row of another server "
                    f"({row.get(GUILD_COLUMN)!r}, not {parsed.guild_id})"
                )


def _check_references(schema: Schema, tables: Mapping[str, list[dict[str, Any]]]) -> None:
    """Every reference into a server-owned table must point at a row of this document."""
    targets: dict[tuple[str, tuple[str, ...]], set[tuple[Any, ...]]] = {}
    for table in schema.tables:
        for fk in table.foreign_keys:
            if fk.parent not in schema.by_name:
                continue
            key = (fk.parent, fk.parent_columns)
            if key not in targets:
                targets[key] = {
                    tuple(row.get(c) for c in fk.parent_columns) for row in tables.get(fk.parent, [])
                }
            for row in tables.get(table.name, []):
                values = tuple(row.get(c) for c in fk.columns)
                if None in values:
                    if schema.owner_key(table) == fk:
                        raise TransferError(f"its table {table.name!r} has a row that belongs to no server")
                    continue  # a NULL reference refers to nothing
                if values not in targets[key]:
                    raise TransferError(
                        f"its table {table.name!r} refers to {fk.parent} "
                        f"{', '.join(map(str, values))}, which is not in the file"
                    )


async def _renumber(
    conn: Connection, schema: Schema, tables: dict[str, list[dict[str, Any]]]
) -> dict[str, int]:
    """Give a new id to every row whose id another server already uses here, and make
    every reference to it in the document follow.  Returns how many per table."""
    counts: dict[str, int] = {}
    for table in schema.tables:
        key = table.rowid_key
        rows = tables.get(table.name, [])
        if key is None or not rows:
            continue
        ids = sorted({row[key] for row in rows if isinstance(row.get(key), int)})
        taken: set[int] = set()
        for start in range(0, len(ids), _CHUNK):
            chunk = ids[start : start + _CHUNK]
            marks = ", ".join("?" * len(chunk))
            found = await fetch_all(
                conn,
                f"SELECT {_q(key)} FROM {_q(table.name)} WHERE {_q(key)} IN ({marks})",
                chunk,
            )
            taken.update(int(row[0]) for row in found)
        if not taken:
            continue
        highest = int(await fetch_value(conn, f"SELECT COALESCE(MAX({_q(key)}), 0) FROM {_q(table.name)}"))
        next_id = max(highest, ids[-1]) + 1
        mapping: dict[int, int] = {}
        for old in sorted(taken):
            mapping[old] = next_id
            next_id += 1
        for row in rows:
            if row.get(key) in mapping:
                row[key] = mapping[row[key]]
        for child in schema.tables:
            for fk in child.foreign_keys:
                if fk.parent != table.name or key not in fk.parent_columns:
                    continue
                column = fk.columns[fk.parent_columns.index(key)]
                for row in tables.get(child.name, []):
                    if row.get(column) in mapping:
                        row[column] = mapping[row[column]]
        counts[table.name] = len(mapping)
    return counts


async def _delete_guild(conn: Connection, schema: Schema, guild_id: int) -> None:
    """Delete every row of the server, children first (not relying on cascades)."""
    for table in reversed(schema.tables):
        name = _q(table.name)
        await conn.execute(f"DELETE FROM {name} WHERE {schema.scope(table, name)}", (guild_id,))


async def _insert(conn: Connection, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """Insert rows as given; rows naming the same columns go in one statement."""
    groups: dict[tuple[str, ...], list[tuple[Any, ...]]] = {}
    for row in rows:
        columns = tuple(c for c in table.columns if c in row)
        groups.setdefault(columns, []).append(tuple(row[c] for c in columns))
    for columns, values in groups.items():
        names = ", ".join(_q(c) for c in columns)
        marks = ", ".join("?" * len(columns))
        await conn.executemany(f"INSERT INTO {_q(table.name)} ({names}) VALUES ({marks})", values)


def _order_by(table: Table) -> str:
    return ", ".join(_q(c) for c in (table.primary_key or table.columns))


async def _guild_exists(conn: Connection, guild_id: int) -> bool:
    found = await fetch_value(
        conn, f"SELECT 1 FROM {_q(ROOT_TABLE)} WHERE {_q(GUILD_COLUMN)} = ?", (guild_id,)
    )
    return found is not None


class TransferQueries:
    """Export and import one server's rows (see the module's docstring)."""

    def __init__(self, db: Db) -> None:
        self._db = db

    async def export_guild(self, guild_id: int) -> dict[str, Any]:
        """The server's rows from every server-owned table, as a document.

        Runs as a writer job (read only) so that every table is read in one transaction:
        a consistent copy even while members vote.  TransferError for an unknown server.
        """
        now = self._db.now()

        async def job(conn: Connection) -> dict[str, Any]:
            if not await _guild_exists(conn, guild_id):
                raise TransferError(f"there is no server {guild_id} in this database")
            schema = await discover(conn)
            tables: dict[str, list[dict[str, Any]]] = {}
            for table in schema.tables:
                name = _q(table.name)
                columns = ", ".join(f"{name}.{_q(c)}" for c in table.columns)
                rows = await fetch_all(
                    conn,
                    f"SELECT {columns} FROM {name} WHERE {schema.scope(table, name)} "
                    f"ORDER BY {_order_by(table)}",
                    (guild_id,),
                )
                tables[table.name] = [
                    {c: _encode(row[i]) for i, c in enumerate(table.columns)} for row in rows
                ]
            return {
                "format": FORMAT,
                "version": DOCUMENT_VERSION,
                "schema_version": await _schema_version(conn),
                "guild_id": guild_id,
                "exported_at": now,
                "tables": tables,
            }

        return await self._db.write(job)

    async def import_guild(self, document: Mapping[str, Any], *, replace: bool = False) -> ImportResult:
        """Write a document's server into this database, all or nothing.

        TransferError when the document is not a Halfbie export, comes from a newer
        schema, does not fit this database's tables, or the server already has data here
        and ``replace`` is not given.  With ``replace`` the server's rows are deleted
        first, in the same transaction.
        """
        parsed = _parse(document)
        now = self._db.now()

        async def job(conn: Connection) -> ImportResult:
            version = await _schema_version(conn)
            if parsed.schema_version > version:
                raise TransferError(
                    f"it comes from a newer database (schema {parsed.schema_version}; this one "
                    f"is at {version}); upgrade Halfbie, start it once, then import"
                )
            schema = await discover(conn)
            _check_rows(schema, parsed)
            tables = {name: [dict(row) for row in rows] for name, rows in parsed.tables.items()}
            _check_references(schema, tables)
            exists = await _guild_exists(conn, parsed.guild_id)
            if exists and not replace:
                raise TransferError(
                    f"server {parsed.guild_id} already has data in this database; "
                    "import with --replace to overwrite it"
                )
            if exists:
                await _delete_guild(conn, schema, parsed.guild_id)
            renumbered = await _renumber(conn, schema, tables)
            counts: dict[str, int] = {}
            for table in schema.tables:
                rows = tables.get(table.name, [])
                await _insert(conn, table, rows)
                counts[table.name] = len(rows)
            await _move_id_sequences(conn, schema)
            await reschedule_reminders_in(conn, parsed.guild_id, now)
            await reschedule_closing_in(conn, parsed.guild_id)
            return ImportResult(parsed.guild_id, counts, exists, renumbered)

        result: list[ImportResult] = []

        async def server_job(conn: Connection) -> list[int]:
            result.append(await job(conn))
            return [result[0].guild_id]

        try:
            await self._db.write_servers(server_job)
            return result[0]
        except DATABASE_ERRORS as exc:  # a constraint the document breaks
            raise TransferError(
                f"the database refused its rows ({' '.join(str(exc).split())}); nothing changed"
            ) from exc
