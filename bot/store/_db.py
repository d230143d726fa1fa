"""What every query module shares: the reader, the writer and the clock."""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable, Iterable
from typing import Any, Generic, TypeVar

from ._conn import Connection, Params, Row, is_postgres
from .errors import StoreClosed
from .writer import Work, Writer

__all__ = [
    "CHANGES_CHANNEL",
    "Cached",
    "Db",
    "GuildCache",
    "Params",
    "fetch_all",
    "fetch_one",
    "fetch_value",
    "from_row",
    "notify_changed",
    "parse_changed",
]

# PostgreSQL's channel for "these servers' cached state changed": a write that changes
# what GuildCache keeps sends the servers' ids on it, in its own transaction, so every
# process listening (bot.store._pg.ChangeListener) hears it once the write has committed.
CHANGES_CHANNEL = "halfbie_changes"
_NOTICE_LIMIT = 7_900  # bytes of one notification's payload (PostgreSQL's limit is 8,000)

T = TypeVar("T")
V = TypeVar("V")


def from_row(cls: type[T], row: Row, **computed: Any) -> T:
    """A record (a dataclass of :mod:`bot.models`) from a row: each field from the column
    of its name, unless given in ``computed`` (an enum, a parsed JSON, a nested record)."""
    columns = set(row.keys())
    values = {
        field.name: row[field.name]
        for field in dataclasses.fields(cls)  # type: ignore[arg-type]
        if field.name in columns and field.name not in computed
    }
    return cls(**values, **computed)


async def fetch_all(conn: Connection, sql: str, params: Params = ()) -> list[Row]:
    """Run one statement and return its rows, in a single call to the connection's thread."""
    return list(await conn.execute_fetchall(sql, params))


async def fetch_one(conn: Connection, sql: str, params: Params = ()) -> Row | None:
    rows = await fetch_all(conn, sql, params)
    return rows[0] if rows else None


async def fetch_value(conn: Connection, sql: str, params: Params = ()) -> Any:
    row = await fetch_one(conn, sql, params)
    return None if row is None else row[0]


async def notify_changed(conn: Connection, guild_ids: Iterable[int]) -> None:
    """Tell the other processes, once this transaction commits, that these servers' cached
    state changed (``NOTIFY halfbie_changes, '<id>,<id>...'``).  Nothing on SQLite: one
    process per file, whose own writes forget its cache."""
    if not is_postgres(conn):
        return
    payload: list[str] = []
    size = 0
    for guild_id in dict.fromkeys(guild_ids):
        text = str(int(guild_id))
        if payload and size + len(text) + 1 > _NOTICE_LIMIT:
            await conn.execute("SELECT pg_notify(?, ?)", (CHANGES_CHANNEL, ",".join(payload)))
            payload, size = [], 0
        payload.append(text)
        size += len(text) + 1
    if payload:
        await conn.execute("SELECT pg_notify(?, ?)", (CHANGES_CHANNEL, ",".join(payload)))


def parse_changed(payload: str) -> list[int]:
    """The server ids of a notification on :data:`CHANGES_CHANNEL` (nothing malformed)."""
    return [int(part) for part in payload.split(",") if part.strip().isdigit()]


class GuildCache:
    """What is read for every interaction (a server's settings, its characters), kept in memory.

    A write to a server through the store forgets that server's entries once it has
    committed. A read that began before such a write does not put its (older) result
    in: each server has a generation, bumped by every forget, and a result is kept only
    if the generation is still the one its read started under. Each process serves its
    own servers (its shards), so its own writes keep its cache true; on SQLite a tool
    that writes the file from outside (``halfbie import``) is followed by a restart. On
    PostgreSQL a write from elsewhere (another process, ``halfbie import``) arrives as a
    notification, which forgets the servers it names; while the connection that listens
    for them is down, nothing is kept (:meth:`suspend`), since a change could be missed.
    """

    def __init__(self) -> None:
        self._values: dict[tuple[str, int], Any] = {}
        self._generation: dict[int, int] = {}
        self._suspended = False

    def suspend(self) -> None:
        """Forget everything and keep nothing until :meth:`resume` (changes made elsewhere
        cannot be heard now)."""
        self._suspended = True
        self.forget_all()

    def resume(self) -> None:
        """Keep reads again (changes made elsewhere are heard again); what was read while
        suspended may be stale, so it starts empty."""
        self.forget_all()
        self._suspended = False

    @property
    def suspended(self) -> bool:
        return self._suspended

    def generation(self, guild_id: int) -> int:
        return self._generation.get(guild_id, 0)

    def get(self, kind: str, guild_id: int) -> Any:
        return self._values.get((kind, guild_id))

    def put(self, kind: str, guild_id: int, value: Any, generation: int) -> None:
        if not self._suspended and self._generation.get(guild_id, 0) == generation:
            self._values[(kind, guild_id)] = value

    def forget_all(self) -> None:
        for guild_id in {key[1] for key in self._values} | set(self._generation):
            self.forget(guild_id)

    def forget(self, *guild_ids: int) -> None:
        for guild_id in guild_ids:
            self._generation[guild_id] = self._generation.get(guild_id, 0) + 1
            for key in [k for k in self._values if k[1] == guild_id]:
                del self._values[key]


class Db:
    """Reads go to the reader connection, writes are jobs for the writer."""

    def __init__(self, reader: Connection, writer: Writer, clock: Callable[[], float]) -> None:
        self._reader = reader
        self.writer = writer
        self._clock = clock
        self.closed = False
        self.cache = GuildCache()

    def now(self) -> int:
        """Unix seconds from the injected clock; taken by the caller, never inside a job."""
        return int(self._clock())

    async def read_all(self, sql: str, params: Params = ()) -> list[Row]:
        if self.closed:
            raise StoreClosed()
        return await fetch_all(self._reader, sql, params)

    async def read_one(self, sql: str, params: Params = ()) -> Row | None:
        rows = await self.read_all(sql, params)
        return rows[0] if rows else None

    async def read_value(self, sql: str, params: Params = ()) -> Any:
        row = await self.read_one(sql, params)
        return None if row is None else row[0]

    async def write(self, job: Work[T]) -> T:
        """Run ``job`` through the writer (committed with the jobs queued beside it)."""
        return await self.writer.submit(job)

    async def write_servers(self, job: Work[Iterable[int]]) -> list[int]:
        """A write that changes whole servers (seeding, an import, the purge): ``job``
        returns their ids, and every cached read of theirs is forgotten, here at once and
        in the other processes once it has committed."""

        async def announced(conn: Connection) -> list[int]:
            changed = list(await job(conn))
            await notify_changed(conn, changed)
            return changed

        try:
            touched = await self.writer.submit(announced)
        except BaseException:
            self.cache.forget_all()  # it may have failed half-way: nothing cached is sure
            raise
        self.cache.forget(*touched)
        return touched


class Cached(Generic[V]):
    """One aggregate's per-server reads kept in memory (a server's settings, its characters).

    The aggregate writes its rows only through :meth:`write`, which forgets the server's
    entry once the job has committed (or failed half-way), and tells the other processes
    to forget theirs (:func:`notify_changed`, in the job's transaction); so no write can
    leave a stale entry behind by forgetting to say so.  Writes that change whole servers go through
    :meth:`Db.write_servers`, which forgets every kind.
    """

    def __init__(self, db: Db, kind: str) -> None:
        self._db = db
        self._kind = kind

    async def get(self, guild_id: int, load: Callable[[], Awaitable[V]]) -> V:
        cache = self._db.cache
        found: V | None = cache.get(self._kind, guild_id)
        if found is not None:
            return found
        generation = cache.generation(guild_id)
        value = await load()
        cache.put(self._kind, guild_id, value, generation)
        return value

    async def write(self, guild_id: int, job: Work[T]) -> T:
        async def announced(conn: Connection) -> T:
            result = await job(conn)
            await notify_changed(conn, (guild_id,))
            return result

        try:
            return await self._db.writer.submit(announced)
        finally:
            self._db.cache.forget(guild_id)
