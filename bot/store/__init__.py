"""Halfbie's data store: SQLite through aiosqlite (the default) or PostgreSQL through
asyncpg, one writer with group commit on either.

    store = await Store.open("data/halfbie.db", clock=clock)   # or "postgresql://..."
    await store.theories.cast_vote(guild_id, theory_id, member_id, option)
    await store.close()

Reads go to a reader connection; every write is a job for the single :class:`Writer`
task, which commits the jobs queued together in one transaction.  The store never
sees discord.py: ids are ints, times are Unix seconds from the injected clock.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import Callable
from pathlib import Path

import aiosqlite

from ._conn import Connection
from ._db import CHANGES_CHANNEL, Db, parse_changed
from ._migrate import apply_migrations, load_migrations, load_pg_migrations
from ._open import absolute, check_location, connect, inspect
from ._pg import ChangeListener, PgConnection, is_postgres_url, open_postgres, redact
from .announcements import AnnouncementQueries
from .audit import AuditQueries
from .characters import CharacterQueries
from .coordination import CoordinationQueries
from .errors import AlreadyExists, NoSuchRecord, StoreClosed, StoreError, StoreOpenError, StoreUnavailable
from .guilds import GuildQueries
from .health import backup_before_migrating
from .jobs import JobQueries
from .members import MemberQueries
from .meta import MetaQueries
from .news import ChangedSince, NewsQueries
from .release import ReleaseQueries
from .settings import SettingsQueries
from .theories import TheoryQueries
from .transfer import TransferError, TransferQueries
from .writer import Work, Writer, WriterStats

__all__ = [
    "AlreadyExists",
    "ChangedSince",
    "NoSuchRecord",
    "Store",
    "StoreClosed",
    "StoreError",
    "StoreOpenError",
    "StoreUnavailable",
    "TransferError",
    "Work",
    "Writer",
    "WriterStats",
    "redact",
]

log = logging.getLogger(__name__)


class Store:
    """The open database: one query object per aggregate, plus open/close/backup."""

    def __init__(
        self,
        path: Path | None,
        version: int,
        reader: Connection,
        writer_conn: Connection,
        writer: Writer,
        clock: Callable[[], float],
        *,
        location: str | None = None,
    ) -> None:
        # Use Store.open(); this only wires what it opened.
        self.path = path  # the SQLite file; None on PostgreSQL
        self.location = location or str(path)  # for messages: the file, or the URL without password
        self.version = version
        self.writer = writer
        self.clock = clock
        self._reader = reader
        self._writer_conn = writer_conn
        self._db = Db(reader, writer, clock)
        self._closed = False
        self.guilds = GuildQueries(self._db)
        self.settings = SettingsQueries(self._db)
        self.characters = CharacterQueries(self._db)
        self.news = NewsQueries(self._db)
        self.release = ReleaseQueries(self._db)
        self.theories = TheoryQueries(self._db)
        self.audit = AuditQueries(self._db)
        self.announcements = AnnouncementQueries(self._db)
        self.meta = MetaQueries(self._db)
        self.members = MemberQueries(self._db)
        self.transfer = TransferQueries(self._db)
        self.jobs = JobQueries(self._db)
        self._url = writer_conn.url if isinstance(writer_conn, PgConnection) else None
        self.coordination = CoordinationQueries(self._db, self._url)
        self._listener: ChangeListener | None = None

    @classmethod
    async def open(
        cls,
        path: str | os.PathLike[str],
        *,
        clock: Callable[[], float] = time.time,
        migrate: bool = True,
    ) -> Store:
        """Open (or create) the database and bring its schema up to date.

        ``path`` is an SQLite file (a path, or ``sqlite:///path``) or a PostgreSQL URL
        (``postgresql://user@host/db``); see :meth:`_open_postgres` for the latter.

        Raises StoreOpenError, whose message is one sentence for the host, when the
        folder is missing or not writable, the file is not writable, not an SQLite
        database, corrupt, another program's, or from a newer Halfbie.  A file that
        fails a check is never written to.

        ``migrate=False`` (``halfbie backup`` and ``export`` beside a running bot) opens an
        existing file at the schema it has, never creates or upgrades one.
        """
        if is_postgres_url(path):
            return await cls._open_postgres(str(path), clock=clock, migrate=migrate)
        if isinstance(path, str) and path.startswith("sqlite:///"):
            path = path.removeprefix("sqlite:///")  # as SQLAlchemy: sqlite:////abs, sqlite:///relative
        path = absolute(path)
        migrations = await asyncio.to_thread(load_migrations)
        exists = check_location(path)
        found = await inspect(path, newest=len(migrations)) if exists else None
        if not migrate and (found is None or found.version == 0):
            reason = "there is no file there" if found is None else "it holds no Halfbie data yet"
            raise StoreOpenError(f"cannot open the database at {path}: {reason}")
        if migrate and found is not None and 0 < found.version < len(migrations):
            # An upgrade: a copy beside the file first, and the log says where.
            await backup_before_migrating(path, found.version, len(migrations))
        writer_conn = await connect(path, create=not exists)
        reader: aiosqlite.Connection | None = None
        try:
            if found is not None and not migrate:
                version = found.version
            else:
                version = await apply_migrations(writer_conn, migrations, path=str(path))
            reader = await connect(path, create=False, read_only=True)
        except BaseException:
            await writer_conn.close()
            raise
        writer = Writer(writer_conn)
        writer.start()
        log.info("opened the database at %s (schema version %d)", path, version)
        return cls(path, version, reader, writer_conn, writer, clock)

    @classmethod
    async def _open_postgres(cls, url: str, *, clock: Callable[[], float], migrate: bool) -> Store:
        """A PostgreSQL database: the same checks as a file's (a foreign database, a newer
        schema, one sentence each), migrations under an advisory lock, one writer
        connection with group commit, and a small pool for reads."""
        newest = len(await asyncio.to_thread(load_migrations))
        migrations = await asyncio.to_thread(load_pg_migrations)
        if migrations[-1].version != newest:  # a packaging mistake, not the host's
            raise StoreOpenError(
                f"PostgreSQL's migrations end at {migrations[-1].version}, SQLite's at {newest}"
            )
        version, writer_conn, reader = await open_postgres(url, migrations, newest=newest, migrate=migrate)
        writer = Writer(writer_conn)
        writer.start()
        location = redact(url)
        log.info("opened the database at %s (schema version %d)", location, version)
        return cls(None, version, reader, writer_conn, writer, clock, location=location)

    @property
    def available(self) -> bool:
        """Whether writes can be committed now: False on PostgreSQL from a lost connection
        until the store has reconnected (always True on SQLite, a file beside the bot)."""
        return bool(getattr(self._writer_conn, "available", True)) and not self._closed

    async def reconnect(self) -> bool:
        """Try the connection again now (PostgreSQL, after a loss: the writer reconnects
        on its next transaction, with back-off), by an empty transaction through the
        writer; whether writes can be committed.  For a readiness probe of an idle bot,
        which would otherwise stay unready until something writes."""
        if self.available or self._closed:
            return self.available

        async def nothing(conn: Connection) -> None:
            return None

        try:
            await self._db.write(nothing)
        except StoreUnavailable:
            return False
        return self.available

    async def listen(self, on_change: Callable[[tuple[int, ...]], None] | None = None) -> None:
        """Hear what other processes write (PostgreSQL): each server a write elsewhere
        changed (another shard's process, ``halfbie import``) is forgotten from this store's
        cache once that write commits, then ``on_change`` is told which servers (a job
        scheduled elsewhere for one of them is due here); while the listening connection
        is down nothing is cached, and it reconnects by itself.  Nothing to do on SQLite
        (one process per file).

        Raises :class:`StoreUnavailable` if PostgreSQL cannot be reached now.
        """
        if self._url is None or self._listener is not None:
            return
        cache = self._db.cache
        writer_conn = self._writer_conn
        assert isinstance(writer_conn, PgConnection)
        listener = ChangeListener(
            self._url,
            CHANGES_CHANNEL,
            on_notice=lambda payload: _changed(payload, cache.forget, on_change),
            on_lost=cache.suspend,
            on_back=cache.resume,
            ignore=lambda pid: pid == writer_conn.server_pid,  # this store's own writes
        )
        await listener.start()
        self._listener = listener

    @property
    def listener(self) -> ChangeListener | None:
        """The connection hearing other processes' writes, once :meth:`listen` started it."""
        return self._listener

    async def close(self) -> None:
        """Commit what is queued, then close both connections.  Safe to call twice."""
        if self._closed:
            return
        self._closed = True
        self._db.closed = True
        if self._listener is not None:
            await self._listener.close()
        try:
            await self.writer.close()
            if self.path is not None:
                try:
                    await self._writer_conn.execute("PRAGMA optimize")
                except aiosqlite.Error:
                    log.warning("PRAGMA optimize failed while closing", exc_info=True)
        finally:
            await self._reader.close()
            await self._writer_conn.close()
        log.info("closed the database at %s", self.location)

    async def backup(self, dest_path: str | os.PathLike[str]) -> Path:
        """Copy the database, consistent as of one moment, to a new file.

        Uses SQLite's online backup while the bot keeps running; writes to a temporary
        name beside ``dest_path`` and renames it into place, and never overwrites.
        """
        if self._closed:
            raise StoreClosed()
        if not isinstance(self._reader, aiosqlite.Connection):
            raise StoreError(
                "on PostgreSQL, back up with pg_dump (pg_dump -Fc -f halfbie.dump URL) while the "
                "bot runs; halfbie backup copies an SQLite file"
            )
        dest, partial = _backup_paths(dest_path)
        target = await aiosqlite.connect(partial, isolation_level=None)
        try:
            await self._reader.backup(target)
            rows = list(await target.execute_fetchall("PRAGMA quick_check"))
        finally:
            await target.close()
        if [row[0] for row in rows] != ["ok"]:
            partial.unlink(missing_ok=True)
            raise StoreError(f"the backup at {dest} failed its check")
        try:
            os.link(partial, dest)  # unlike a rename, fails if dest appeared meanwhile
        finally:
            partial.unlink(missing_ok=True)
        return dest


def _backup_paths(dest_path: str | os.PathLike[str]) -> tuple[Path, Path]:
    """Where a backup goes, and the temporary name it is written under first."""
    dest = absolute(dest_path)
    if dest.exists():
        raise StoreError(f"cannot back up to {dest}: a file is already there")
    if not dest.parent.is_dir():
        raise StoreError(f"cannot back up to {dest}: its folder does not exist")
    partial = dest.with_name(f".{dest.name}.partial")
    partial.unlink(missing_ok=True)
    return dest, partial


def _changed(
    payload: str, forget: Callable[..., None], on_change: Callable[[tuple[int, ...]], None] | None
) -> None:
    """A notice of servers another process changed: forget them, then say so."""
    guild_ids = tuple(parse_changed(payload))
    forget(*guild_ids)
    if on_change is not None:
        on_change(guild_ids)
