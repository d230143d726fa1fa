"""Character cards: one row per server and key; removal is soft."""

from __future__ import annotations

import builtins
import dataclasses
from collections.abc import Iterable, Sequence

from bot.models import Character, CharacterFields, SourceRef, Status

from ._conn import Connection
from ._db import Cached, Db, fetch_one
from ._rows import CHARACTER_COLUMNS, changes, character_from_row, character_params, plain
from .audit import Author, ensure_guild, record
from .errors import AlreadyExists, NoSuchRecord

__all__ = ["CharacterQueries"]

# The columns that character_params() fills, in table order.
_PARAM_NAMES = (
    "key",
    "name",
    "role",
    "status",
    "status_source",
    "hangul",
    "hangul_source",
    "actor",
    "actor_source",
    "fate_s1",
    "season2",
    "aliases",
    "notes",
)
_INSERT = (
    f"INSERT INTO characters (guild_id, {', '.join(_PARAM_NAMES)}, updated_at, updated_by) "
    f"VALUES (:guild_id, {', '.join(':' + n for n in _PARAM_NAMES)}, :updated_at, :updated_by) "
    "ON CONFLICT (guild_id, key) DO NOTHING"
)
_SET_FIELDS = ", ".join(f"{n} = :{n}" for n in _PARAM_NAMES if n != "key")


async def _insert_characters(
    conn: Connection,
    guild_id: int,
    characters: Iterable[CharacterFields],
    *,
    now: int,
    actor_id: int | None,
) -> None:
    """Insert the ones whose key is new in the server; never touch an existing row."""
    await conn.executemany(
        _INSERT,
        [
            {
                "guild_id": guild_id,
                **character_params(fields),
                "updated_at": now,
                "updated_by": actor_id,
            }
            for fields in characters
        ],
    )


async def _read(conn: Connection, guild_id: int, key: str) -> Character | None:
    row = await fetch_one(
        conn,
        f"SELECT {CHARACTER_COLUMNS} FROM characters WHERE guild_id = ? AND key = ?",
        (guild_id, key),
    )
    return None if row is None else character_from_row(row)


async def _current(conn: Connection, guild_id: int, key: str) -> Character:
    found = await _read(conn, guild_id, key)
    if found is None or found.removed_at is not None:
        raise NoSuchRecord("character", key)
    return found


class CharacterQueries:
    def __init__(self, db: Db) -> None:
        self._db = db
        self._cached: Cached[tuple[Character, ...]] = Cached(db, "characters")

    async def list(self, guild_id: int, status: Status | None = None) -> Sequence[Character]:
        """The server's characters (not removed), by name; only one status if given.

        Read by every lookup and autocomplete, so the whole list is cached (as one tuple,
        the same object until the server's characters change).
        """

        async def load() -> tuple[Character, ...]:
            rows = await self._db.read_all(
                f"SELECT {CHARACTER_COLUMNS} FROM characters WHERE guild_id = ? AND removed_at IS NULL "
                "ORDER BY lower(name), key",
                (guild_id,),
            )
            return tuple(character_from_row(row) for row in rows)

        everyone = await self._cached.get(guild_id, load)
        if status is None:
            return everyone
        return tuple(c for c in everyone if c.fields.status is Status(status))

    async def list_removed(self, guild_id: int) -> builtins.list[Character]:
        """What an admin removed and could restore, most recently removed first."""
        rows = await self._db.read_all(
            f"SELECT {CHARACTER_COLUMNS} FROM characters "
            "WHERE guild_id = ? AND removed_at IS NOT NULL ORDER BY removed_at DESC, key",
            (guild_id,),
        )
        return [character_from_row(row) for row in rows]

    async def get(self, guild_id: int, key: str, *, include_removed: bool = False) -> Character | None:
        row = await self._db.read_one(
            f"SELECT {CHARACTER_COLUMNS} FROM characters WHERE guild_id = ? AND key = ?",
            (guild_id, key),
        )
        if row is None or (row["removed_at"] is not None and not include_removed):
            return None
        return character_from_row(row)

    async def add(self, guild_id: int, actor_id: int | None, fields: CharacterFields) -> Character:
        """Add a character; AlreadyExists if the key is taken (``removed`` says if by a
        removed card, which the admin may restore instead)."""
        now = self._db.now()

        async def job(conn: Connection) -> Character:
            await ensure_guild(conn, guild_id, now)
            existing = await _read(conn, guild_id, fields.key)
            if existing is not None:
                raise AlreadyExists("character", fields.key, removed=existing.removed_at is not None)
            await _insert_characters(conn, guild_id, [fields], now=now, actor_id=actor_id)
            await record(
                conn, Author(guild_id, actor_id, now), "character.add", fields.key, new=plain(fields)
            )
            return Character(guild_id, fields, updated_at=now, updated_by=actor_id)

        return await self._cached.write(guild_id, job)

    async def update(self, guild_id: int, actor_id: int | None, fields: CharacterFields) -> Character:
        """Replace the card whose key is ``fields.key``; audited with what changed."""
        return await self._change(guild_id, actor_id, fields.key, "character.update", fields)

    async def set_status(
        self, guild_id: int, actor_id: int | None, key: str, status: Status, source: SourceRef
    ) -> Character:
        """Change a character's status and the source of that status; audited."""
        return await self._change(
            guild_id, actor_id, key, "character.status", status=Status(status), source=source
        )

    async def _change(
        self,
        guild_id: int,
        actor_id: int | None,
        key: str,
        action: str,
        fields: CharacterFields | None = None,
        *,
        status: Status | None = None,
        source: SourceRef | None = None,
    ) -> Character:
        now = self._db.now()

        async def job(conn: Connection) -> Character:
            old = await _current(conn, guild_id, key)
            new_fields = fields
            if new_fields is None:
                assert status is not None
                assert source is not None
                new_fields = dataclasses.replace(old.fields, status=status, status_source=source)
            before, after = changes(plain(old.fields), plain(new_fields))
            if not after:
                return old
            await conn.execute(
                f"UPDATE characters SET {_SET_FIELDS}, updated_at = :updated_at, "
                "updated_by = :updated_by WHERE guild_id = :guild_id AND key = :key",
                {
                    "guild_id": guild_id,
                    **character_params(new_fields),
                    "updated_at": now,
                    "updated_by": actor_id,
                },
            )
            await record(conn, Author(guild_id, actor_id, now), action, key, old=before, new=after)
            return Character(guild_id, new_fields, updated_at=now, updated_by=actor_id)

        return await self._cached.write(guild_id, job)

    async def remove(self, guild_id: int, actor_id: int | None, key: str) -> None:
        """Hide a character (soft delete; :meth:`restore` brings it back); audited."""
        await self._set_removed(guild_id, actor_id, key, removed=True)

    async def restore(self, guild_id: int, actor_id: int | None, key: str) -> Character:
        """Bring back a removed character; audited."""
        return await self._set_removed(guild_id, actor_id, key, removed=False)

    async def _set_removed(
        self, guild_id: int, actor_id: int | None, key: str, *, removed: bool
    ) -> Character:
        now = self._db.now()
        state = "IS NULL" if removed else "IS NOT NULL"

        async def job(conn: Connection) -> Character:
            row = await fetch_one(
                conn,
                "UPDATE characters SET removed_at = ?, updated_at = ?, updated_by = ? "
                f"WHERE guild_id = ? AND key = ? AND removed_at {state} "
                f"RETURNING {CHARACTER_COLUMNS}",
                (now if removed else None, now, actor_id, guild_id, key),
            )
            if row is None:
                raise NoSuchRecord("character" if removed else "removed character", key)
            await record(
                conn,
                Author(guild_id, actor_id, now),
                "character.remove" if removed else "character.restore",
                key,
            )
            return character_from_row(row)

        return await self._cached.write(guild_id, job)
