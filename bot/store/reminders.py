"""Countdown reminders: scheduled with the premiere date, claimed before they are posted.

Delivery is *at most once*.  :meth:`Reminders.claim_due` commits ``pending -> claimed``
before anything is posted, and the poster then records the outcome.  A bot that stops
between the claim and the outcome leaves a claim that no later run posts again: the
next run marks it ``abandoned`` with a log line (the reminder may or may not have
reached Discord).  The other order, posting first and recording afterwards, would post
twice after such a stop; a lost reminder is the smaller harm for a countdown, and the
window is one HTTP request.

A post that Discord *refused* (no channel, no permission) certainly did not happen, so
it goes back to ``pending`` and is tried again after :data:`RETRY_AFTER`; a reminder
more than :data:`LATE_LIMIT` late (the bot was down, or the channel stayed broken) is
dropped with a log line instead of being posted.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

import aiosqlite

from bot.models import Reminder, ReminderKind, ReminderState

from ._db import Db, fetch_all

__all__ = ["ABANDON_AFTER", "LATE_LIMIT", "RETRY_AFTER", "DueReminders", "Reminders", "schedule"]

LATE_LIMIT = 86400  # a reminder more than a day late is dropped, not posted
RETRY_AFTER = 15 * 60  # a refused post is tried again this much later
ABANDON_AFTER = 10 * 60  # a claim this old belongs to a bot that stopped mid-post

_COLUMNS = "guild_id, kind, premiere_at, due_at, state, attempts, claimed_at, done_at, message_id, note"
# Servers the bot has left keep their reminders pending until it comes back (or they drop).
_IN_SERVER = (
    "NOT EXISTS (SELECT 1 FROM guilds AS g WHERE g.guild_id = reminders.guild_id AND g.left_at IS NOT NULL)"
)


def _reminder(row: sqlite3.Row) -> Reminder:
    return Reminder(
        guild_id=row["guild_id"],
        kind=ReminderKind(row["kind"]),
        premiere_at=row["premiere_at"],
        due_at=row["due_at"],
        state=ReminderState(row["state"]),
        attempts=row["attempts"],
        claimed_at=row["claimed_at"],
        done_at=row["done_at"],
        message_id=row["message_id"],
        note=row["note"],
    )


def _order(reminders: list[Reminder]) -> list[Reminder]:
    return sorted(reminders, key=lambda r: (r.due_at, r.guild_id))


async def schedule(conn: aiosqlite.Connection, guild_id: int, premiere_at: int | None, now: int) -> None:
    """(Re)schedule a server's reminders inside the job that sets its premiere date.

    A new date resets every kind: pending when its moment is still ahead, skipped when it
    has passed (a "one week to go" posted three days before would be wrong).  Rows for
    the same date are left as they are, so clearing a date and restoring it never posts a
    reminder twice.  Clearing the date cancels what has not been sent.
    """
    if premiere_at is None:
        await conn.execute("DELETE FROM reminders WHERE guild_id = ? AND state = 'pending'", (guild_id,))
        return
    rows = []
    for kind in ReminderKind:
        due_at = premiere_at - kind.offset
        state = ReminderState.PENDING if due_at > now else ReminderState.SKIPPED
        done_at = None if state is ReminderState.PENDING else now
        rows.append((guild_id, kind.value, premiere_at, due_at, state.value, done_at))
    await conn.executemany(
        "INSERT INTO reminders (guild_id, kind, premiere_at, due_at, state, done_at) "
        "VALUES (?, ?, ?, ?, ?, ?) "
        "ON CONFLICT (guild_id, kind) DO UPDATE SET premiere_at = excluded.premiere_at, "
        "due_at = excluded.due_at, state = excluded.state, done_at = excluded.done_at, "
        "attempts = 0, retry_at = NULL, claimed_at = NULL, message_id = NULL, note = NULL "
        "WHERE reminders.premiere_at <> excluded.premiere_at",
        rows,
    )


@dataclass(frozen=True, slots=True)
class DueReminders:
    """What one :meth:`Reminders.claim_due` took: post ``claimed``; log the others."""

    claimed: list[Reminder]
    dropped: list[Reminder]  # more than a day late: never posted
    abandoned: list[Reminder]  # claimed by a bot that stopped before recording the outcome


class ReminderQueries:
    def __init__(self, db: Db) -> None:
        self._db = db

    async def list(self, guild_id: int) -> list[Reminder]:
        """A server's reminders, soonest first (whatever their state)."""
        rows = await self._db.read_all(
            f"SELECT {_COLUMNS} FROM reminders WHERE guild_id = ? ORDER BY due_at, kind",
            (guild_id,),
        )
        return [_reminder(row) for row in rows]

    async def any_due(self, now: int) -> bool:
        """Whether :meth:`claim_due` has anything to do: a cheap read, so an idle minute
        costs no write transaction."""
        value = await self._db.read_value(
            "SELECT 1 FROM reminders WHERE (state = 'pending' AND due_at <= ?) "
            "OR (state = 'claimed' AND claimed_at <= ?) LIMIT 1",
            (now, now - ABANDON_AFTER),
        )
        return value is not None

    async def claim_due(self, now: int) -> DueReminders:
        """Claim every reminder due at ``now`` (at most a day late), in one transaction."""

        async def job(conn: aiosqlite.Connection) -> DueReminders:
            abandoned = await fetch_all(
                conn,
                "UPDATE reminders SET state = 'abandoned', done_at = :now, "
                "note = 'claimed but its outcome was never recorded; not posted again' "
                "WHERE state = 'claimed' AND claimed_at <= :stale "
                f"RETURNING {_COLUMNS}",
                {"now": now, "stale": now - ABANDON_AFTER},
            )
            dropped = await fetch_all(
                conn,
                "UPDATE reminders SET state = 'dropped', done_at = :now, "
                "note = COALESCE(note || '; then ', '') || 'dropped: more than a day late' "
                f"WHERE state = 'pending' AND due_at < :late AND {_IN_SERVER} "
                f"RETURNING {_COLUMNS}",
                {"now": now, "late": now - LATE_LIMIT},
            )
            claimed = await fetch_all(
                conn,
                "UPDATE reminders SET state = 'claimed', claimed_at = :now, "
                "attempts = attempts + 1 "
                "WHERE state = 'pending' AND due_at <= :now "
                f"AND (retry_at IS NULL OR retry_at <= :now) AND {_IN_SERVER} "
                f"RETURNING {_COLUMNS}",
                {"now": now},
            )
            return DueReminders(
                claimed=_order([_reminder(r) for r in claimed]),
                dropped=_order([_reminder(r) for r in dropped]),
                abandoned=_order([_reminder(r) for r in abandoned]),
            )

        return await self._db.write(job)

    async def mark_sent(self, reminder: Reminder, message_id: int, now: int) -> bool:
        """Record the post; False when the claim is gone (the date moved meanwhile)."""
        return await self._finish(
            reminder,
            "state = 'sent', done_at = :now, message_id = :message_id, note = NULL",
            {"now": now, "message_id": message_id},
        )

    async def mark_refused(self, reminder: Reminder, reason: str, now: int) -> bool:
        """Discord refused the post (so it did not happen): try again after RETRY_AFTER."""
        return await self._finish(
            reminder,
            "state = 'pending', claimed_at = NULL, retry_at = :retry, note = :note",
            {"retry": now + RETRY_AFTER, "note": reason[:500]},
        )

    async def mark_failed(self, reminder: Reminder, reason: str, now: int) -> bool:
        """The post failed in a way that may have reached Discord: never tried again."""
        return await self._finish(
            reminder,
            "state = 'failed', done_at = :now, note = :note",
            {"now": now, "note": reason[:500]},
        )

    async def _finish(self, reminder: Reminder, assignments: str, values: dict[str, object]) -> bool:
        async def job(conn: aiosqlite.Connection) -> bool:
            rows = await fetch_all(
                conn,
                f"UPDATE reminders SET {assignments} "
                "WHERE guild_id = :guild_id AND kind = :kind AND premiere_at = :premiere_at "
                "AND state = 'claimed' RETURNING guild_id",
                {
                    **values,
                    "guild_id": reminder.guild_id,
                    "kind": reminder.kind.value,
                    "premiere_at": reminder.premiere_at,
                },
            )
            return bool(rows)

        return await self._db.write(job)
