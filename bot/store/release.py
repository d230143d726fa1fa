"""The release tracker: where Season 2 stands in one server (one row per server)."""

from __future__ import annotations

import json
from typing import Any

from bot.models import (
    Job,
    JobKind,
    LastChange,
    NewJob,
    Release,
    ReleaseChange,
    Reminder,
    ReminderKind,
    SourceRef,
    Stage,
)

from ._conn import Connection, Row
from ._db import Db, fetch_one, from_row
from ._rows import as_json, changes, plain, source_from_json
from .audit import Author, ensure_guild, record
from .errors import NoSuchRecord
from .jobs import cancel_in, complete_in, schedule_in
from .news import ChangedSince

__all__ = ["ReleaseQueries", "reschedule_reminders_in"]


_RELEASE_COLUMNS = "guild_id, stage, premiere_at, updated_at, updated_by, premiere_source"


def _release(row: Row) -> Release:
    return from_row(
        Release, row, stage=Stage(row["stage"]), premiere_source=source_from_json(row["premiere_source"])
    )


def _default_release(guild_id: int) -> Release:
    return Release(guild_id, Stage.RUMOURED, premiere_at=None, updated_at=0, updated_by=None)


class ReleaseQueries:
    """Where Season 2 stands in one server."""

    def __init__(self, db: Db) -> None:
        self._db = db

    async def get(self, guild_id: int) -> Release:
        """The server's row; a rumoured release with no date before the server is seeded."""
        row = await self._db.read_one(
            f"SELECT {_RELEASE_COLUMNS} FROM release WHERE guild_id = ?", (guild_id,)
        )
        return _default_release(guild_id) if row is None else _release(row)

    async def change_stage(self, guild_id: int, actor_id: int | None, stage: Stage) -> ReleaseChange:
        """Set the stage; the change carries its audit entry and the previous values."""
        return await self._set(guild_id, actor_id, "release.stage", {"stage": Stage(stage)})

    async def change_premiere(
        self, guild_id: int, actor_id: int | None, premiere_at: int | None, source: SourceRef | None = None
    ) -> ReleaseChange:
        """Set (or clear) the premiere and where it comes from; its countdown reminders
        move in the same transaction."""
        wanted = {
            "premiere_at": premiere_at,
            "premiere_source": None if premiere_at is None else plain(source),
        }
        return await self._set(guild_id, actor_id, "release.premiere", wanted)

    async def undo(self, guild_id: int, actor_id: int | None, entry_id: int) -> ReleaseChange:
        """Put back the previous values recorded by the audit entry ``entry_id``.

        Raises NoSuchRecord when the entry is not one of this server's release changes, and
        ChangedSince when the release changed again after it (an undo never overwrites a
        later change).  The undo is itself audited, so it can be undone the same way.
        """
        now = self._db.now()

        async def job(conn: Connection) -> ReleaseChange:
            entry = await fetch_one(
                conn,
                "SELECT action, old, new FROM audit WHERE guild_id = ? AND id = ? "
                "AND action IN ('release.stage', 'release.premiere')",
                (guild_id, entry_id),
            )
            if entry is None:
                raise NoSuchRecord("release change", entry_id)
            old_values = json.loads(entry["old"] or "{}")
            new_values = json.loads(entry["new"] or "{}")
            current = await _read_release(conn, guild_id)
            now_values = _values(current)
            if any(now_values.get(key) != value for key, value in new_values.items()):
                raise ChangedSince("the release")
            wanted = {k: v for k, v in old_values.items() if k in now_values}
            if "stage" in wanted:
                wanted["stage"] = Stage(wanted["stage"])
            return await _apply(conn, guild_id, actor_id, entry["action"], wanted, now)

        return await self._db.write(job)

    async def premiere_passed(self, guild_id: int, premiere_at: int, job: Job) -> ReleaseChange | None:
        """The scheduler's ``released`` job: the premiere ``premiere_at`` has passed, so the
        stage becomes released (audited as the bot's doing, undoable like an admin's); the
        job is done in the same transaction.  None when the date moved since or the stage
        is released already."""
        now = self._db.now()

        async def work(conn: Connection) -> ReleaseChange | None:
            current = await _read_release(conn, guild_id)
            change = None
            if current.premiere_at == premiere_at and current.stage is not Stage.RELEASED:
                change = await _apply(conn, guild_id, None, "release.stage", {"stage": Stage.RELEASED}, now)
            await complete_in(conn, job, now)
            return change

        return await self._db.write(work)

    async def last_change(self, guild_id: int) -> LastChange | None:
        """The newest change of the server's release record or news, from the audit trail
        (the canon's seed counts as one); None before the server is seeded."""
        row = await self._db.read_one(
            "SELECT at, actor_id, action FROM audit WHERE guild_id = ? AND action IN ("
            + ", ".join(f"'{action}'" for action in _TRACKED)
            + ") ORDER BY id DESC LIMIT 1",
            (guild_id,),
        )
        if row is None:
            return None
        return LastChange(at=row["at"], actor_id=row["actor_id"], action=row["action"])

    async def _set(
        self, guild_id: int, actor_id: int | None, action: str, wanted: dict[str, Any]
    ) -> ReleaseChange:
        now = self._db.now()

        async def job(conn: Connection) -> ReleaseChange:
            return await _apply(conn, guild_id, actor_id, action, wanted, now)

        return await self._db.write(job)


# What the release card's "last updated" line follows.
_TRACKED = (
    "canon.seed",
    "news.add",
    "news.update",
    "news.remove",
    "news.restore",
    "release.stage",
    "release.premiere",
)


async def _schedule_reminders(conn: Connection, guild_id: int, premiere_at: int | None, now: int) -> None:
    """Inside the job that moves the premiere: one ``remind`` job per countdown moment
    still ahead; a moment already past gets none (a "one week to go" posted three days
    before would be wrong), and clearing the date cancels what has not been posted.
    Called only when the date changes, so restoring the same date never re-arms a
    reminder already sent."""
    for kind in ReminderKind:
        key = f"{guild_id}:{kind.value}"
        if premiere_at is None or premiere_at - kind.offset <= now:
            await cancel_in(conn, JobKind.REMIND, key)
            continue
        await schedule_in(conn, Reminder(guild_id, kind, premiere_at).job)
    # Once the premiere has passed, the stage is "released" without an admin.
    if premiere_at is None:
        await cancel_in(conn, JobKind.RELEASED, str(guild_id))
    else:
        payload = {"premiere_at": premiere_at}
        await schedule_in(conn, NewJob(JobKind.RELEASED, str(guild_id), premiere_at, guild_id, payload))


async def reschedule_reminders_in(conn: Connection, guild_id: int, now: int) -> None:
    """Inside an import: the reminders of the premiere date it loaded."""
    premiere_at = (await _read_release(conn, guild_id)).premiere_at
    if premiere_at is not None:
        await _schedule_reminders(conn, guild_id, premiere_at, now)


def _values(release: Release) -> dict[str, Any]:
    """What a change compares and the audit trail keeps, JSON-ready."""
    source = None if release.premiere_source is None else plain(release.premiere_source)
    return {"stage": release.stage, "premiere_at": release.premiere_at, "premiere_source": source}


async def _read_release(conn: Connection, guild_id: int) -> Release:
    row = await fetch_one(conn, f"SELECT {_RELEASE_COLUMNS} FROM release WHERE guild_id = ?", (guild_id,))
    return _default_release(guild_id) if row is None else _release(row)


async def _apply(
    conn: Connection,
    guild_id: int,
    actor_id: int | None,
    action: str,
    wanted: dict[str, Any],
    now: int,
) -> ReleaseChange:
    """Write ``wanted`` into the release row, audit it, and move the reminders with the date."""
    row = await fetch_one(conn, f"SELECT {_RELEASE_COLUMNS} FROM release WHERE guild_id = ?", (guild_id,))
    old = _default_release(guild_id) if row is None else _release(row)
    before, after = changes(_values(old), wanted)
    if not after and row is not None:
        return ReleaseChange(old, previous=old, entry_id=None)
    new = Release(
        guild_id,
        Stage(wanted.get("stage", old.stage)),
        wanted.get("premiere_at", old.premiere_at),
        updated_at=now,
        updated_by=actor_id,
        premiere_source=source_from_json(wanted["premiere_source"])
        if "premiere_source" in wanted
        else old.premiere_source,
    )
    await ensure_guild(conn, guild_id, now)
    source = None if new.premiere_source is None else as_json(plain(new.premiere_source))
    await conn.execute(
        f"INSERT INTO release ({_RELEASE_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?) "
        "ON CONFLICT (guild_id) DO UPDATE SET stage = excluded.stage, "
        "premiere_at = excluded.premiere_at, updated_at = excluded.updated_at, "
        "updated_by = excluded.updated_by, premiere_source = excluded.premiere_source",
        (guild_id, new.stage.value, new.premiere_at, now, actor_id, source),
    )
    if "premiere_at" in after:
        await _schedule_reminders(conn, guild_id, new.premiere_at, now)
    entry = await record(conn, Author(guild_id, actor_id, now), action, "release", old=before, new=after)
    return ReleaseChange(new, previous=old, entry_id=entry.id)
