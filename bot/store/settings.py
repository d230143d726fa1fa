"""Per-server settings: one row per server, defaults when there is none yet."""

from __future__ import annotations

import dataclasses
from typing import Any

from bot.models import GuildSettings, SpoilerMode

from ._conn import Connection, Row
from ._db import Cached, Db, fetch_one
from ._rows import changes, plain
from .audit import Author, ensure_guild, record

__all__ = ["SettingsQueries", "ensure_settings"]

# Every field but guild_id is a column of the same name.
_FIELDS = tuple(f.name for f in dataclasses.fields(GuildSettings) if f.name != "guild_id")
_COLUMNS = ", ".join(("guild_id", *_FIELDS))
_LANGUAGES = frozenset({"auto", "en", "ko"})
_WRITTEN = (*_FIELDS, "updated_at", "updated_by")
_UPSERT = (
    f"INSERT INTO guild_settings (guild_id, {', '.join(_WRITTEN)}) "
    f"VALUES (:guild_id, {', '.join(':' + name for name in _WRITTEN)}) "
    "ON CONFLICT (guild_id) DO UPDATE SET " + ", ".join(f"{name} = excluded.{name}" for name in _WRITTEN)
)


def _from_row(row: Row) -> GuildSettings:
    values = {name: row[name] for name in _FIELDS}
    values["spoiler_mode"] = SpoilerMode(values["spoiler_mode"])
    return GuildSettings(guild_id=row["guild_id"], **values)


def _validated(changes_: dict[str, Any]) -> dict[str, Any]:
    unknown = set(changes_) - set(_FIELDS)
    if unknown:
        raise TypeError(f"unknown settings: {', '.join(sorted(unknown))}")
    if "spoiler_mode" in changes_:
        changes_["spoiler_mode"] = SpoilerMode(changes_["spoiler_mode"])
    if "language" in changes_ and changes_["language"] not in _LANGUAGES:
        raise ValueError(f"language must be one of {', '.join(sorted(_LANGUAGES))}")
    return changes_


async def ensure_settings(conn: Connection, guild_id: int, now: int) -> None:
    """Create the default row inside a job (the seed does); never changes an existing one."""
    await conn.execute(
        "INSERT INTO guild_settings (guild_id, updated_at) VALUES (?, ?) ON CONFLICT (guild_id) DO NOTHING",
        (guild_id, now),
    )


async def _read(conn: Connection, guild_id: int) -> GuildSettings:
    row = await fetch_one(conn, f"SELECT {_COLUMNS} FROM guild_settings WHERE guild_id = ?", (guild_id,))
    return GuildSettings(guild_id=guild_id) if row is None else _from_row(row)


class SettingsQueries:
    def __init__(self, db: Db) -> None:
        self._db = db
        self._cached: Cached[GuildSettings] = Cached(db, "settings")

    async def get(self, guild_id: int) -> GuildSettings:
        """The server's settings (read for nearly every interaction: cached until changed)."""

        async def load() -> GuildSettings:
            row = await self._db.read_one(
                f"SELECT {_COLUMNS} FROM guild_settings WHERE guild_id = ?", (guild_id,)
            )
            return GuildSettings(guild_id=guild_id) if row is None else _from_row(row)

        return await self._cached.get(guild_id, load)

    async def update(self, guild_id: int, actor_id: int | None, **changes_: Any) -> GuildSettings:
        """Change some settings (``admin_role_id=..., spoiler_mode=...``); audited.

        Raises TypeError for a name that is not a setting, ValueError for a bad value.
        """
        wanted = _validated(dict(changes_))
        now = self._db.now()

        async def job(conn: Connection) -> GuildSettings:
            old = await _read(conn, guild_id)
            new = dataclasses.replace(old, **wanted)
            before, after = changes(plain(old), plain(new))
            if not after:
                return old
            await ensure_guild(conn, guild_id, now)
            values = plain(new)
            values.update(updated_at=now, updated_by=actor_id)
            await conn.execute(_UPSERT, values)
            await record(
                conn, Author(guild_id, actor_id, now), "settings.update", "settings", old=before, new=after
            )
            return new

        return await self._cached.write(guild_id, job)
