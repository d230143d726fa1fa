"""The last announcement of each topic in a server, for corrections that edit it."""

from __future__ import annotations

import json

from bot.models import Announcement

from ._conn import Connection
from ._db import Db, from_row

__all__ = ["AnnouncementQueries"]


class AnnouncementQueries:
    def __init__(self, db: Db) -> None:
        self._db = db

    async def since(self, guild_id: int, topic: str, since: int) -> Announcement | None:
        """The topic's announcement if it was posted at ``since`` or later."""
        row = await self._db.read_one(
            "SELECT guild_id, topic, channel_id, message_id, posted_at, before FROM announcements "
            "WHERE guild_id = ? AND topic = ? AND posted_at >= ?",
            (guild_id, topic, since),
        )
        if row is None:
            return None
        return from_row(
            Announcement, row, before=None if row["before"] is None else json.loads(row["before"])
        )

    async def record(self, announcement: Announcement) -> None:
        """The topic's announcement is now this message (a correction keeps the original's
        time, so a run of corrections cannot edit one message forever)."""

        async def job(conn: Connection) -> None:
            await conn.execute(
                "INSERT INTO announcements (guild_id, topic, channel_id, message_id, posted_at, before) "
                "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (guild_id, topic) DO UPDATE SET "
                "channel_id = excluded.channel_id, message_id = excluded.message_id, "
                "posted_at = excluded.posted_at, before = excluded.before",
                (
                    announcement.guild_id,
                    announcement.topic,
                    announcement.channel_id,
                    announcement.message_id,
                    announcement.posted_at,
                    json.dumps(announcement.before),
                ),
            )

        await self._db.write(job)
