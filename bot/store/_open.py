"""Opening the database file safely.

An existing file is inspected through a read-only connection before anything may
write to it, and every refusal is one plain sentence for the host.  Only a missing
file is ever created; a file that fails a check is left byte for byte as it was.
"""

from __future__ import annotations

import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path

import aiosqlite

from .errors import StoreOpenError

__all__ = ["APPLICATION_ID", "Inspection", "absolute", "check_location", "connect", "inspect"]

APPLICATION_ID = 1214344294  # "Half": set by 0001_init.sql

PRAGMAS = (
    "PRAGMA foreign_keys = ON",
    "PRAGMA synchronous = NORMAL",
    "PRAGMA busy_timeout = 5000",
)

_RESTORE = "restore a backup, or move it away and let Halfbie start afresh"


def _refuse(path: Path, reason: str) -> StoreOpenError:
    return StoreOpenError(f"cannot open the database at {path}: {reason}")


def _one_line(text: str) -> str:
    return " ".join(text.split())


def absolute(path: str | os.PathLike[str]) -> Path:
    return Path(os.fspath(path)).absolute()


def check_location(path: Path) -> bool:
    """Check the folder and the file; return whether the file exists.

    Runs before SQLite touches anything, so a refusal creates nothing.
    """
    folder = path.parent
    if not folder.exists():
        raise _refuse(path, "its folder does not exist; create it or set HALFBIE_DB")
    if not folder.is_dir():
        raise _refuse(path, f"{folder} is not a folder; set HALFBIE_DB to a path in a folder")
    exists = path.exists()
    if exists and not path.is_file():
        raise _refuse(path, "it is not a regular file; set HALFBIE_DB to a file's path")
    if exists and not os.access(path, os.R_OK | os.W_OK):
        raise _refuse(
            path,
            "the file is not readable and writable by this user; fix its permissions or set HALFBIE_DB",
        )
    if not os.access(folder, os.W_OK | os.X_OK):
        raise _refuse(
            path,
            "its folder is not writable by this user (SQLite keeps its write-ahead log "
            "beside the file); fix its permissions or set HALFBIE_DB",
        )
    return exists


@dataclass(frozen=True, slots=True)
class Inspection:
    version: int
    application_id: int
    tables: int


def _uri(path: Path, mode: str) -> str:
    return f"{path.as_uri()}?mode={mode}"


async def inspect(path: Path, newest: int) -> Inspection:
    """Look at an existing file read-only; refuse anything Halfbie should not write to."""
    try:
        conn = await aiosqlite.connect(_uri(path, "ro"), uri=True, isolation_level=None)
    except sqlite3.Error as exc:
        raise _refuse(path, f"SQLite cannot read it ({_one_line(str(exc))})") from exc
    try:
        problems = [str(row[0]) for row in await conn.execute_fetchall("PRAGMA quick_check")]
        if problems != ["ok"]:
            raise _refuse(path, f"the file is corrupt ({_one_line(problems[0])}); {_RESTORE}")
        found = Inspection(
            version=await _pragma_int(conn, "user_version"),
            application_id=await _pragma_int(conn, "application_id"),
            tables=len(list(await conn.execute_fetchall("SELECT name FROM sqlite_schema"))),
        )
    except sqlite3.DatabaseError as exc:
        message = _one_line(str(exc))
        if "not a database" in message:
            reason = "the file is not an SQLite database; move it away or set HALFBIE_DB"
        elif "malformed" in message:
            reason = f"the file is corrupt ({message}); {_RESTORE}"
        else:
            reason = f"SQLite cannot read it ({message})"
        raise _refuse(path, reason) from exc
    finally:
        await conn.close()
    if found.version > newest:
        raise _refuse(
            path,
            f"it was written by a newer version of Halfbie (schema {found.version}, this "
            f"version knows up to {newest}); upgrade Halfbie or set HALFBIE_DB",
        )
    if found.version == 0 and found.tables > 0:
        raise _refuse(path, "it is an SQLite database that Halfbie did not create; set HALFBIE_DB")
    if found.version > 0 and found.application_id != APPLICATION_ID:
        raise _refuse(path, "it is another program's SQLite database; set HALFBIE_DB")
    return found


async def _pragma_int(conn: aiosqlite.Connection, name: str) -> int:
    rows = list(await conn.execute_fetchall(f"PRAGMA {name}"))
    return int(rows[0][0])


async def connect(path: Path, *, create: bool, read_only: bool = False) -> aiosqlite.Connection:
    """Open a connection in autocommit mode (the store issues BEGIN/COMMIT itself)."""
    mode = "ro" if read_only else ("rwc" if create else "rw")
    try:
        conn = await aiosqlite.connect(_uri(path, mode), uri=True, isolation_level=None)
    except sqlite3.Error as exc:
        raise _refuse(path, f"SQLite cannot open it ({_one_line(str(exc))})") from exc
    try:
        conn.row_factory = sqlite3.Row
        if not read_only:
            rows = list(await conn.execute_fetchall("PRAGMA journal_mode = WAL"))
            if str(rows[0][0]).lower() != "wal":
                raise _refuse(path, "its filesystem does not support WAL mode; set HALFBIE_DB")
        for pragma in PRAGMAS:
            await conn.execute(pragma)
    except BaseException:
        await conn.close()
        raise
    return conn
