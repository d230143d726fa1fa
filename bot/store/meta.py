"""Bot-wide key/value pairs (the hash of the last synced command tree, ...)."""

from __future__ import annotations

from ._conn import Connection
from ._db import Db

__all__ = ["MetaQueries"]


class MetaQueries:
    def __init__(self, db: Db) -> None:
        self._db = db

    async def get(self, key: str) -> str | None:
        value = await self._db.read_value("SELECT value FROM meta WHERE key = ?", (key,))
        return None if value is None else str(value)

    async def set(self, key: str, value: str) -> None:
        async def job(conn: Connection) -> None:
            await conn.execute(
                "INSERT INTO meta (key, value) VALUES (?, ?) "
                "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                (key, value),
            )

        await self._db.write(job)

    async def delete(self, key: str) -> bool:
        """Forget ``key``; return whether it was set."""

        async def job(conn: Connection) -> bool:
            rows = await conn.execute_fetchall("DELETE FROM meta WHERE key = ? RETURNING key", (key,))
            return bool(list(rows))

        return await self._db.write(job)
