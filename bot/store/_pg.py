"""PostgreSQL behind the same interface: a connection that speaks the store's SQL.

Why an adapter rather than a second set of query modules: the statements the store runs
are standard SQL (upserts, ``RETURNING``, ``UPDATE ... FROM``, window functions) that
PostgreSQL runs as SQLite does, so one copy of every statement keeps the two stores
from drifting apart, and one test suite checks both.  What differs is handled here, in
one place:

- Parameters: ``?`` and ``:name`` become ``$1, $2, ...`` (strings, quoted names and
  comments are skipped; a name used twice is one parameter).  PostgreSQL must know each
  parameter's type where the statement does not say (a ``VALUES`` list, a ``SELECT``
  list), so a parameter gets a cast from the Python values bound to it (``int`` to
  ``int8``, ``str`` to ``text``, ``float`` to ``float8``); booleans are bound as 0/1,
  as SQLite stores them.  PostgreSQL's text cannot hold NUL, which SQLite's can: a NUL in
  a parameter (only hostile input has one) is bound as U+FFFD, so it is neither an error
  nor silently dropped.
- ``BEGIN IMMEDIATE`` is ``BEGIN`` (PostgreSQL locks rows, not the file).
- The schema: ``INTEGER`` columns are ``BIGINT`` (snowflakes, Unix seconds), ids the
  database hands out are identity columns, flags stay 0/1 integers; the version and the
  mark that the database is Halfbie's are a row of ``halfbie_schema``
  (``migrations_pg/``; SQLite keeps them in ``PRAGMA user_version`` and
  ``application_id``).  The catalogue reads of ``transfer.py`` have a PostgreSQL form.
- A lost connection: the statement raises :class:`StoreUnavailable` (a write that
  could not be committed is never reported as stored); the next transaction reconnects,
  with back-off between attempts, and says so in the log.

Rows are ``asyncpg.Record``: by column name or position, like ``sqlite3.Row``.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import re
import time
import urllib.parse
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast

import asyncpg

from ._conn import Params, Row
from ._migrate import Migration, MigrationError
from .errors import StoreOpenError, StoreUnavailable

__all__ = [
    "LISTENER_NAME",
    "MIGRATION_LOCK",
    "ChangeListener",
    "PgConnection",
    "PgReader",
    "is_postgres_url",
    "open_postgres",
    "redact",
    "translate",
]

log = logging.getLogger(__name__)

APPLICATION_ID = 1214344294  # "Half", as SQLite's application_id
MIGRATION_LOCK = 0x48616C66_6D696772  # pg_advisory_lock key ("Halfmigr"): one migrator at a time
CONNECT_TIMEOUT = 10.0
_BACKOFF_FIRST = 0.5
_BACKOFF_MAX = 30.0

_TOKEN = re.compile(r"""'(?:[^']|'')*'|"(?:[^"]|"")*"|--[^\n]*|/\*.*?\*/|::|\?|:[A-Za-z_]\w*""", re.S)
_BEGIN = re.compile(r"^\s*BEGIN(\s+(IMMEDIATE|DEFERRED|EXCLUSIVE))?\s*;?\s*$", re.I)


def is_postgres_url(target: object) -> bool:
    return isinstance(target, str) and target.split("://", 1)[0].lower() in {"postgresql", "postgres"}


def redact(url: str) -> str:
    """The URL without its password, for messages and logs."""
    try:
        parts = urllib.parse.urlsplit(url)
    except ValueError:
        return "the given PostgreSQL URL"
    if parts.password is None:
        return url
    netloc = parts.netloc.rsplit("@", 1)
    user = (parts.username or "") + ":***"
    return urllib.parse.urlunsplit(parts._replace(netloc=f"{user}@{netloc[-1]}"))


# -- SQL ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Sql:
    parts: tuple[str, ...]  # the text around each placeholder (one more than slots)
    slots: tuple[int, ...]  # the parameter number (0-based) each placeholder takes
    sources: tuple[int | str, ...]  # per parameter number: a position or a name
    named: bool


@functools.lru_cache(maxsize=1024)
def _parse(sql: str) -> _Sql:
    if _BEGIN.match(sql):
        return _Sql(("BEGIN",), (), (), False)
    parts: list[str] = []
    slots: list[int] = []
    sources: list[int | str] = []
    numbers: dict[str, int] = {}
    start = 0
    kinds: set[str] = set()
    for match in _TOKEN.finditer(sql):
        token = match.group()
        if token == "?":
            kinds.add("?")
            number = len(sources)
            sources.append(number)
        elif token.startswith(":") and token != "::":
            kinds.add(":")
            name = token[1:]
            if name not in numbers:
                numbers[name] = len(sources)
                sources.append(name)
            number = numbers[name]
        else:
            continue
        parts.append(sql[start : match.start()])
        slots.append(number)
        start = match.end()
    parts.append(sql[start:])
    if len(kinds) > 1:
        raise ValueError("a statement mixes ? and :name parameters")
    return _Sql(tuple(parts), tuple(slots), tuple(sources), kinds == {":"})


def _value(value: Any) -> Any:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, str) and "\x00" in value:
        return value.replace("\x00", "\ufffd")  # PostgreSQL's text cannot hold NUL
    return value


def _bind(parsed: _Sql, params: Params) -> list[Any]:
    if parsed.named:
        if not isinstance(params, Mapping):
            raise TypeError("a statement with :name parameters takes a mapping")
        return [_value(params[str(name)]) for name in parsed.sources]
    values = [_value(v) for v in (params.values() if isinstance(params, Mapping) else params)]
    if len(values) != len(parsed.sources):
        raise ValueError(f"the statement takes {len(parsed.sources)} parameters, {len(values)} given")
    return values


def _cast(values: Iterable[Any]) -> str:
    """The cast that tells PostgreSQL a parameter's type, from the values bound to it."""
    kinds = {type(v) for v in values if v is not None}
    if not kinds:
        return ""  # NULL only: its place in the statement decides
    if kinds <= {int}:
        return "::int8"
    if kinds <= {int, float}:
        return "::float8"
    if kinds == {str}:
        return "::text"
    if kinds == {bytes}:
        return "::bytea"
    return ""


def translate(sql: str, rows: Sequence[Params]) -> tuple[str, list[list[Any]]]:
    """The statement in PostgreSQL's parameter style, and each row's values in order."""
    parsed = _parse(sql)
    bound = [_bind(parsed, row) for row in rows] if parsed.sources else [[] for _ in rows]
    casts = [_cast(row[n] for row in bound) for n in range(len(parsed.sources))]
    text = [parsed.parts[0]]
    for slot, part in zip(parsed.slots, parsed.parts[1:], strict=True):
        text.append(f"${slot + 1}{casts[slot]}")
        text.append(part)
    return "".join(text), bound


# -- connections ---------------------------------------------------------------------------


def _is_lost(exc: BaseException, raw: asyncpg.Connection | None) -> bool:
    if isinstance(exc, asyncpg.exceptions.DataError):
        return False  # a bad argument (an InterfaceError too), not a broken connection
    if isinstance(
        exc,
        OSError
        | TimeoutError
        | asyncpg.exceptions.ConnectionDoesNotExistError
        | asyncpg.PostgresConnectionError
        | asyncpg.exceptions.OperatorInterventionError
        # A connection whose server ended it in the middle of an operation can be left
        # with its protocol stuck ("cannot switch to state 15; another operation (2) is in
        # progress", asyncpg issue 1069), e.g. when the pool resets it: it is as lost.
        | asyncpg.exceptions.InternalClientError,
    ):
        return True
    return raw is not None and raw.is_closed()


class PgConnection:
    """The writer's connection: aiosqlite's calls over one asyncpg connection.

    When the connection is lost, every statement raises :class:`StoreUnavailable` until
    the next ``BEGIN``, which reconnects (at most once per back-off period: 0.5 s,
    doubling up to 30 s); a transaction is never carried over to a new connection.
    """

    dialect = "postgresql"

    def __init__(self, raw: asyncpg.Connection, url: str) -> None:
        self._raw: asyncpg.Connection | None = raw
        self._url = url
        self._delay = _BACKOFF_FIRST
        self._retry_at = 0.0

    @property
    def in_transaction(self) -> bool:
        return self._raw is not None and not self._raw.is_closed() and bool(self._raw.is_in_transaction())

    @property
    def available(self) -> bool:
        """Whether the connection is up (False from a loss until the reconnection)."""
        return self._raw is not None and not self._raw.is_closed()

    @property
    def url(self) -> str:
        """Where the database is (with its password: never log it; see :func:`redact`)."""
        return self._url

    @property
    def server_pid(self) -> int | None:
        """The PostgreSQL backend serving this connection now (a notification this process
        sent carries it), or None while the connection is lost."""
        raw = self._raw
        return None if raw is None or raw.is_closed() else int(raw.get_server_pid())

    async def execute(self, sql: str, parameters: Params = (), /) -> None:
        text, rows = translate(sql, [parameters])
        if text != "BEGIN":
            await self._call("execute", text, rows[0])
            return
        await self._ensure()
        try:
            await self._call("execute", text, [])
        except StoreUnavailable:
            # Lost before anything was in the transaction (the loss was noticed only
            # now): one fresh connection, so the batch need not fail for it.
            await self._ensure()
            await self._call("execute", text, [])

    async def executemany(self, sql: str, parameters: Iterable[Params], /) -> None:
        rows = list(parameters)
        if not rows:
            return
        text, bound = translate(sql, rows)
        raw = self._live()
        try:
            await raw.executemany(text, bound)
        except BaseException as exc:
            self._check(exc)
            raise

    async def execute_fetchall(self, sql: str, parameters: Params = (), /) -> list[Row]:
        text, rows = translate(sql, [parameters])
        return cast("list[Row]", await self._call("fetch", text, rows[0]))

    async def close(self) -> None:
        raw, self._raw = self._raw, None
        if raw is not None and not raw.is_closed():
            try:
                await asyncio.wait_for(raw.close(), timeout=5)
            except Exception:
                raw.terminate()

    async def _call(self, method: str, text: str, values: list[Any]) -> Any:
        raw = self._live()
        try:
            if method == "execute" and not values:
                return await raw.execute(text)
            return await getattr(raw, method)(text, *values)
        except BaseException as exc:
            self._check(exc)
            raise

    def _live(self) -> asyncpg.Connection:
        if self._raw is not None and self._raw.is_closed():
            log.warning("lost the connection to PostgreSQL at %s", redact(self._url))
            self._raw = None
        if self._raw is None:
            raise StoreUnavailable("the connection to PostgreSQL was lost; nothing was written")
        return self._raw

    def _check(self, exc: BaseException) -> None:
        if isinstance(exc, Exception) and _is_lost(exc, self._raw):
            log.warning("lost the connection to PostgreSQL at %s (%s)", redact(self._url), _one_line(exc))
            raw, self._raw = self._raw, None
            if raw is not None:
                raw.terminate()
            raise StoreUnavailable("the connection to PostgreSQL was lost; nothing was written") from exc

    async def _ensure(self) -> None:
        """Before a transaction: reconnect if the connection was lost (with back-off)."""
        if self._raw is not None and not self._raw.is_closed():
            return
        if self._raw is not None:
            log.warning("lost the connection to PostgreSQL at %s", redact(self._url))
            self._raw = None
        now = time.monotonic()
        if now < self._retry_at:
            raise StoreUnavailable("PostgreSQL is unreachable; nothing was written (reconnecting)")
        try:
            self._raw = await asyncpg.connect(self._url, timeout=CONNECT_TIMEOUT)
        except Exception as exc:
            self._retry_at = now + self._delay
            log.warning(
                "cannot reach PostgreSQL at %s (%s); next try in %.1f s",
                redact(self._url),
                _one_line(exc),
                self._delay,
            )
            self._delay = min(self._delay * 2, _BACKOFF_MAX)
            raise StoreUnavailable("PostgreSQL is unreachable; nothing was written (reconnecting)") from exc
        self._delay = _BACKOFF_FIRST
        self._retry_at = 0.0
        log.warning("reconnected to PostgreSQL at %s", redact(self._url))


class PgReader:
    """Reads from a small pool (each read is one statement, in autocommit)."""

    dialect = "postgresql"
    in_transaction = False

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def execute(self, sql: str, parameters: Params = (), /) -> None:
        text, rows = translate(sql, [parameters])
        await self._run("execute", text, rows[0])

    async def executemany(self, sql: str, parameters: Iterable[Params], /) -> None:
        raise TypeError("the reader does not write")

    async def execute_fetchall(self, sql: str, parameters: Params = (), /) -> list[Row]:
        text, rows = translate(sql, [parameters])
        return cast("list[Row]", await self._run("fetch", text, rows[0]))

    async def _run(self, method: str, text: str, values: list[Any]) -> Any:
        # A read is tried once more on another connection: the pool replaces one that
        # was lost (PostgreSQL restarted), and reading twice changes nothing.
        for attempt in (1, 2):
            try:
                return await getattr(self._pool, method)(text, *values)
            except Exception as exc:
                if not _is_lost(exc, None):
                    raise
                if attempt == 2:
                    raise StoreUnavailable("PostgreSQL is unreachable; try again") from exc
                log.warning("a read lost its connection to PostgreSQL (%s); trying again", _one_line(exc))
        raise AssertionError("unreachable")

    async def close(self) -> None:
        try:
            await asyncio.wait_for(self._pool.close(), timeout=5)
        except Exception:
            self._pool.terminate()


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__


# -- hearing other processes' writes -------------------------------------------------------

LISTENER_NAME = "halfbie listener"  # its application_name in pg_stat_activity
_LISTENER_CHECK = 30.0  # seconds between checks that a quiet listening connection is alive


class ChangeListener:
    """``LISTEN`` on one channel, on a connection of its own, for as long as the store is open.

    Each notification's payload goes to ``on_notice`` (unless ``ignore`` says this process
    sent it).  Notifications sent while the connection is down are lost for good, so
    ``on_lost`` is called when it goes (the caller stops trusting what it cached) and
    ``on_back`` once it listens again; it reconnects by itself with back-off (0.5 s,
    doubling up to 30 s) and says so in the log.  A quiet connection is checked every
    30 s, so a silent network loss is noticed too.
    """

    def __init__(
        self,
        url: str,
        channel: str,
        *,
        on_notice: Callable[[str], None],
        on_lost: Callable[[], None],
        on_back: Callable[[], None],
        ignore: Callable[[int], bool] = lambda pid: False,
    ) -> None:
        self._url = url
        self._channel = channel
        self._on_notice = on_notice
        self._on_lost = on_lost
        self._on_back = on_back
        self._ignore = ignore
        self._raw: asyncpg.Connection | None = None
        self._task: asyncio.Task[None] | None = None
        self._closed = False
        self.listening = asyncio.Event()  # set while LISTEN is in effect
        self.reconnects = 0  # times it listened again after a loss

    async def start(self) -> None:
        """Listen now (raising :class:`StoreUnavailable` if PostgreSQL cannot be reached),
        then keep listening in a task of its own."""
        self._raw = await self._listen()
        self.listening.set()
        self._task = asyncio.get_running_loop().create_task(self._run(), name="halfbie-store-listener")

    async def close(self) -> None:
        self._closed = True
        task, self._task = self._task, None
        if task is not None and not task.done():
            task.cancel()
            await asyncio.wait({task})
        raw, self._raw = self._raw, None
        if raw is not None:
            await _close_quietly(raw)
        self.listening.clear()

    async def _listen(self) -> asyncpg.Connection:
        try:
            raw = await asyncpg.connect(
                self._url, timeout=CONNECT_TIMEOUT, server_settings={"application_name": LISTENER_NAME}
            )
        except Exception as exc:
            raise StoreUnavailable(f"cannot listen for changes: {_one_line(exc)}") from exc
        try:
            await raw.add_listener(self._channel, self._heard)
        except BaseException as exc:
            raw.terminate()
            if isinstance(exc, Exception):
                raise StoreUnavailable(f"cannot listen for changes: {_one_line(exc)}") from exc
            raise
        return raw

    def _heard(self, conn: object, pid: int, channel: str, payload: object) -> None:
        if not self._ignore(pid):
            self._on_notice(str(payload))

    async def _run(self) -> None:
        delay = _BACKOFF_FIRST
        while not self._closed:
            raw = self._raw
            if raw is not None:
                await self._watch(raw)
                if self._closed:
                    return
                self._raw = None
                self.listening.clear()
                raw.terminate()
                log.warning(
                    "lost the connection that hears other processes' changes at %s; "
                    "nothing is cached until it is back",
                    redact(self._url),
                )
                self._on_lost()
                delay = _BACKOFF_FIRST
            try:
                self._raw = await self._listen()
            except StoreUnavailable as exc:
                log.warning("%s; next try in %.1f s", exc, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, _BACKOFF_MAX)
                continue
            self.reconnects += 1
            self.listening.set()
            self._on_back()
            log.warning("listening for other processes' changes again at %s", redact(self._url))

    async def _watch(self, raw: asyncpg.Connection) -> None:
        """Return once the connection is lost."""
        gone = asyncio.Event()
        raw.add_termination_listener(lambda _conn: gone.set())
        while not raw.is_closed():
            try:
                await asyncio.wait_for(gone.wait(), timeout=_LISTENER_CHECK)
                return
            except TimeoutError:
                pass
            try:
                await asyncio.wait_for(raw.fetchval("SELECT 1"), timeout=CONNECT_TIMEOUT)
            except Exception:
                return


# -- opening -------------------------------------------------------------------------------


def _refuse(url: str, reason: str) -> StoreOpenError:
    return StoreOpenError(f"cannot open the database at {redact(url)}: {reason}")


async def _connect(url: str) -> asyncpg.Connection:
    try:
        return await asyncpg.connect(url, timeout=CONNECT_TIMEOUT)
    except (asyncpg.InvalidPasswordError, asyncpg.InvalidAuthorizationSpecificationError) as exc:
        raise _refuse(
            url, f"PostgreSQL refused the login ({_one_line(exc)}); check HALFBIE_DATABASE_URL"
        ) from exc
    except asyncpg.InvalidCatalogNameError as exc:
        raise _refuse(url, f"{_one_line(exc)}; create it (createdb) or fix HALFBIE_DATABASE_URL") from exc
    except (ValueError, asyncpg.ClientConfigurationError) as exc:
        raise _refuse(url, f"the URL is not valid ({_one_line(exc)}); fix HALFBIE_DATABASE_URL") from exc
    except (OSError, TimeoutError) as exc:
        raise _refuse(
            url, f"PostgreSQL does not answer there ({_one_line(exc)}); start it or fix HALFBIE_DATABASE_URL"
        ) from exc
    except asyncpg.PostgresError as exc:
        raise _refuse(url, f"PostgreSQL refused the connection ({_one_line(exc)})") from exc


async def _read_version(raw: asyncpg.Connection, url: str, newest: int) -> int:
    """The schema version; refuse another program's database and a newer Halfbie's."""
    marked = await raw.fetchval("SELECT to_regclass('halfbie_schema') IS NOT NULL")
    if not marked:
        tables = await raw.fetchval(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = current_schema()"
        )
        if tables:
            raise _refuse(
                url,
                "it is a PostgreSQL database that Halfbie did not create (it has tables and no "
                "halfbie_schema); point HALFBIE_DATABASE_URL at an empty database",
            )
        return 0
    row = await raw.fetchrow("SELECT application_id, version FROM halfbie_schema")
    if row is None or row["application_id"] != APPLICATION_ID:
        raise _refuse(url, "it is another program's database; point HALFBIE_DATABASE_URL elsewhere")
    version = int(row["version"])
    if version > newest:
        raise _refuse(
            url,
            f"it was written by a newer version of Halfbie (schema {version}, this version knows "
            f"up to {newest}); upgrade Halfbie or point HALFBIE_DATABASE_URL elsewhere",
        )
    return version


async def _apply(raw: asyncpg.Connection, url: str, migrations: Sequence[Migration], newest: int) -> int:
    """Apply what is missing, each migration in its own transaction, under an advisory
    lock so that two processes starting together do not both apply one."""
    await raw.execute("SELECT pg_advisory_lock($1)", MIGRATION_LOCK)
    try:
        version = await _read_version(raw, url, newest)
        for migration in migrations:  # on a new database the first is the baseline
            if migration.version <= version:
                continue
            try:
                async with raw.transaction():
                    for statement in migration.statements:
                        await raw.execute(statement)
                    await raw.execute("UPDATE halfbie_schema SET version = $1", migration.version)
            except asyncpg.PostgresError as exc:
                raise MigrationError(
                    f"cannot open the database at {redact(url)}: migration {migration.name} failed "
                    f"({_one_line(exc)}); the database was left at version {version}"
                ) from exc
            version = migration.version
        return version
    finally:
        await raw.execute("SELECT pg_advisory_unlock($1)", MIGRATION_LOCK)


async def open_postgres(
    url: str, migrations: Sequence[Migration], *, newest: int, migrate: bool
) -> tuple[int, PgConnection, PgReader]:
    """Connect, check, migrate; return the version, the writer's connection and the reader."""
    raw = await _connect(url)
    try:
        return await _open(raw, url, migrations, newest=newest, migrate=migrate)
    except StoreOpenError:
        await _close_quietly(raw)
        raise
    except (OSError, TimeoutError, asyncpg.InterfaceError, asyncpg.PostgresError) as exc:
        await _close_quietly(raw)
        raise _refuse(url, f"PostgreSQL failed while opening ({_one_line(exc)})") from exc
    except BaseException:
        await _close_quietly(raw)
        raise


async def _close_quietly(raw: asyncpg.Connection) -> None:
    try:
        await asyncio.wait_for(raw.close(), timeout=5)
    except Exception:
        raw.terminate()


async def _open(
    raw: asyncpg.Connection, url: str, migrations: Sequence[Migration], *, newest: int, migrate: bool
) -> tuple[int, PgConnection, PgReader]:
    if migrate:
        version = await _apply(raw, url, migrations, newest)
    else:
        version = await _read_version(raw, url, newest)
        if version == 0:
            raise _refuse(url, "it holds no Halfbie data yet")
    pool = await asyncpg.create_pool(
        url,
        min_size=1,
        max_size=4,
        timeout=CONNECT_TIMEOUT,
        server_settings={"default_transaction_read_only": "on"},
    )
    assert pool is not None
    return version, PgConnection(raw, url), PgReader(pool)
