"""The scheduler's jobs: scheduled, claimed under a lease, then done, retried or failed.

A job's effect is exactly once when its handler commits the effect and
:func:`complete_in` in one writer job: a crash before that commit leaves the job claimed
(run again once its lease ends, or at once when the same process starts again), a crash
after it leaves the job done.  Every state change checks the claim (``claimed_by`` and
the id), so a process that lost its job to another (its lease ran out, the job was
re-armed or cancelled) changes nothing.

The ``*_in`` functions run inside another module's writer job, so a feature's write and
the job it schedules, cancels or completes commit together.  The SQL is standard
(``RETURNING`` too) and runs on both stores as written, but for one clause: on
PostgreSQL, where several processes (one per shard range) share the jobs, a claim locks
the rows it takes with ``FOR UPDATE SKIP LOCKED``, so two processes claiming at once
neither wait for each other nor take the same job (SQLite has one writer, and no such
clause).  A process given its :class:`~bot.shards.ShardSet` claims only the jobs of the
servers on its shards, and those of no server (the daily purge), which whichever process
comes first takes.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping
from types import MappingProxyType

from bot.models import Job, JobState, NewJob
from bot.shards import ShardSet

from ._conn import Connection, Row, is_postgres
from ._db import Db, fetch_all, fetch_one, from_row, notify_changed
from .coordination import lock_key

__all__ = ["NOTE_LIMIT", "JobQueries", "cancel_in", "complete_in", "schedule_in"]

NOTE_LIMIT = 500  # characters of a note kept (an exception's message can be long)

_COLUMNS = (
    "id, kind, key, guild_id, due_at, payload, state, attempts, failures, "
    "claimed_by, lease_until, done_at, note"
)
# Only the process holding the claim may finish a job.
_HELD = "id = :id AND state = 'claimed' AND claimed_by = :owner"


def _job(row: Row) -> Job:
    payload = MappingProxyType(json.loads(row["payload"]))
    return from_row(Job, row, payload=payload, state=JobState(row["state"]))


def _ordered(rows: list[Row]) -> list[Job]:
    # RETURNING gives rows in no particular order
    return sorted((_job(row) for row in rows), key=lambda job: (job.due_at, job.id))


def _payload_text(payload: Mapping[str, object] | None) -> str:
    """The payload as JSON, checked before any transaction (a bad one fails its caller only)."""
    if payload is None:
        return "{}"
    if not all(isinstance(name, str) for name in payload):
        raise TypeError("a job's payload is keyed by strings")
    return json.dumps(dict(payload), sort_keys=True, separators=(",", ":"), allow_nan=False)


def _note(note: str | None) -> str | None:
    return None if note is None else note[:NOTE_LIMIT]


def _marks(values: Collection[object]) -> str:
    return ", ".join("?" * len(values))


def _on_shards(shards: ShardSet | None) -> tuple[str, list[int]]:
    """The condition (and its values) for jobs a process with ``shards`` may take: every
    job when it runs them all, else those of its servers and those of no server."""
    if shards is None or shards.complete:
        return "", []
    return (
        f"AND (guild_id IS NULL OR (guild_id >> 22) % ? IN ({_marks(shards.ids)})) ",
        [shards.count, *shards.ids],
    )


async def _schedule(conn: Connection, new: NewJob, payload: str) -> Job:
    # Replace rather than update: the new row gets a new id, hence a new nonce, and a
    # run still in flight under the old id can no longer complete or retry anything.
    if is_postgres(conn):
        # Processes re-arming one job together (every process re-arms the daily purge
        # when it is ready) take turns: the second's DELETE must see the first's new row,
        # or its INSERT would meet it.  (SQLite has one writer.)
        await conn.execute("SELECT pg_advisory_xact_lock(?)", (lock_key(f"job:{new.kind}:{new.key}"),))
    await conn.execute("DELETE FROM jobs WHERE kind = ? AND key = ?", (new.kind, new.key))
    row = await fetch_one(
        conn,
        "INSERT INTO jobs (kind, key, guild_id, due_at, payload, state) "
        f"VALUES (?, ?, ?, ?, ?, 'pending') RETURNING {_COLUMNS}",
        (new.kind, new.key, new.guild_id, new.due_at, payload),
    )
    assert row is not None  # INSERT ... RETURNING returns the row it inserted
    if new.guild_id is not None:
        # The process that owns the server's shard may be another one, asleep until its
        # own next job: the notice (sent at commit) wakes its scheduler.
        await notify_changed(conn, (new.guild_id,))
    return _job(row)


async def schedule_in(conn: Connection, new: NewJob) -> Job:
    """Schedule (or re-arm) a job inside the caller's writer job, in its transaction.

    Call :meth:`bot.scheduler.Scheduler.wake` after the commit if the job may be due
    before whatever the scheduler sleeps for.
    """
    return await _schedule(conn, new, _payload_text(new.payload))


async def cancel_in(conn: Connection, kind: str, key: str) -> bool:
    """Cancel a job that has not finished, inside the caller's writer job.

    True when a pending or claimed job was removed.  A claimed one may be running: its
    handler goes on, but cannot complete or retry the job any more (its effect must be
    one a late run may still make).  A done or failed job is kept, for the record.
    """
    rows = await fetch_all(
        conn,
        "DELETE FROM jobs WHERE kind = ? AND key = ? AND state IN ('pending', 'claimed') RETURNING id",
        (kind, key),
    )
    return bool(rows)


async def complete_in(conn: Connection, job: Job, now: int, *, note: str | None = None) -> bool:
    """Mark ``job`` done inside the writer job that commits its effect.

    True if it is done under this claim (also when it already was); False when the
    claim was lost (the lease ran out and another process took it, or it was re-armed
    or cancelled): the caller's job should then raise to roll its effect back, or accept
    that another run may make it too.
    """
    owner = job.claimed_by
    if owner is None:
        raise ValueError("only a claimed job can be completed")
    rows = await fetch_all(
        conn,
        "UPDATE jobs SET state = 'done', done_at = :now, lease_until = NULL, note = :note "
        f"WHERE {_HELD} RETURNING id",
        {"id": job.id, "owner": owner, "now": now, "note": _note(note)},
    )
    if rows:
        return True
    done = await fetch_one(
        conn,
        "SELECT 1 FROM jobs WHERE id = ? AND state = 'done' AND claimed_by = ?",
        (job.id, owner),
    )
    return done is not None


class JobQueries:
    def __init__(self, db: Db) -> None:
        self._db = db

    async def schedule(self, new: NewJob) -> Job:
        """Schedule a job, or re-arm the one with this kind and key (whatever its state):
        a new row, pending at its due time, with no attempts yet."""
        text = _payload_text(new.payload)

        async def job(conn: Connection) -> Job:
            return await _schedule(conn, new, text)

        return await self._db.write(job)

    async def cancel(self, kind: str, key: str) -> bool:
        """Cancel a job that has not finished; see :func:`cancel_in`."""

        async def job(conn: Connection) -> bool:
            return await cancel_in(conn, kind, key)

        return await self._db.write(job)

    async def get(self, kind: str, key: str) -> Job | None:
        row = await self._db.read_one(f"SELECT {_COLUMNS} FROM jobs WHERE kind = ? AND key = ?", (kind, key))
        return None if row is None else _job(row)

    async def next_due(self, kinds: Collection[str], *, shards: ShardSet | None = None) -> int | None:
        """When :meth:`claim_due` (with the same ``shards``) will next find one of these
        kinds to take: the earliest pending due time or end of a lease, or None when there
        is none."""
        if not kinds:
            return None
        marks = _marks(kinds)
        ours, values = _on_shards(shards)
        value = await self._db.read_value(
            "SELECT MIN(at) FROM ("
            f"SELECT MIN(due_at) AS at FROM jobs WHERE state = 'pending' AND kind IN ({marks}) {ours}"
            "UNION ALL "
            f"SELECT MIN(lease_until) AS at FROM jobs WHERE state = 'claimed' AND kind IN ({marks}) {ours}"
            ") AS due",
            [*kinds, *values, *kinds, *values],
        )
        return None if value is None else int(value)

    async def claim_due(
        self,
        now: int,
        owner: str,
        *,
        kinds: Collection[str],
        lease: int,
        limit: int,
        shards: ShardSet | None = None,
    ) -> list[Job]:
        """Claim, in one transaction, up to ``limit`` jobs of these kinds that are due at
        ``now``: pending ones, and claimed ones whose lease has ended (their process died
        or hung).  Each is ``owner``'s until ``now + lease``; returned by due time, then id.

        With ``shards`` (a process running some of the bot's shards) only the jobs of
        servers on those shards are taken, and jobs of no server.  On PostgreSQL a job
        another process is claiming at this moment is skipped, not waited for.
        """
        if not kinds:
            return []
        marks = _marks(kinds)
        ours, values = _on_shards(shards)

        async def job(conn: Connection) -> list[Job]:
            rows = await fetch_all(
                conn,
                "UPDATE jobs SET state = 'claimed', claimed_by = ?, lease_until = ?, "
                "attempts = attempts + 1 "
                "WHERE id IN (SELECT id FROM jobs "
                f"WHERE kind IN ({marks}) {ours}"
                "AND ((state = 'pending' AND due_at <= ?) OR (state = 'claimed' AND lease_until <= ?)) "
                "ORDER BY due_at, id LIMIT ?"
                f"{' FOR UPDATE SKIP LOCKED' if is_postgres(conn) else ''}) "
                f"RETURNING {_COLUMNS}",
                [owner, now + lease, *kinds, *values, now, now, limit],
            )
            return _ordered(rows)

        return await self._db.write(job)

    async def complete(self, job: Job, *, note: str | None = None) -> bool:
        """Mark a claimed job done (its handler returned); see :func:`complete_in`."""
        now = self._db.now()

        async def write(conn: Connection) -> bool:
            return await complete_in(conn, job, now, note=note)

        return await self._db.write(write)

    async def retry(self, job: Job, at: int, note: str, *, failed: bool = False) -> bool:
        """Put a claimed job back to pending, due at ``at``; ``failed`` counts the run as
        a failure (the handler raised).  False when the claim was lost."""
        return await self._finish(
            job,
            "state = 'pending', due_at = :at, claimed_by = NULL, lease_until = NULL, "
            "failures = failures + :failed, note = :note",
            {"at": at, "failed": int(failed), "note": _note(note)},
        )

    async def fail(self, job: Job, note: str) -> bool:
        """Give up on a claimed job: failed, kept for the record.  False when the claim was lost."""
        return await self._finish(
            job,
            "state = 'failed', done_at = :now, lease_until = NULL, failures = failures + 1, note = :note",
            {"now": self._db.now(), "note": _note(note)},
        )

    async def release(self, owner: str) -> int:
        """Give back every claim of ``owner`` (pending again, due as before); returns how many.

        A process starting again under its old name calls this first: its earlier claims
        belong to a run that stopped or crashed, and need not wait for their lease.
        """

        async def job(conn: Connection) -> int:
            rows = await fetch_all(
                conn,
                "UPDATE jobs SET state = 'pending', claimed_by = NULL, lease_until = NULL "
                "WHERE state = 'claimed' AND claimed_by = ? RETURNING id",
                (owner,),
            )
            return len(rows)

        return await self._db.write(job)

    async def kinds_waiting(self) -> set[str]:
        """The kinds of jobs not finished yet: the scheduler warns about those it cannot run."""
        rows = await self._db.read_all("SELECT DISTINCT kind FROM jobs WHERE state IN ('pending', 'claimed')")
        return {str(row[0]) for row in rows}

    async def due_now(self, now: int) -> tuple[int, int | None]:
        """How many pending jobs are due at ``now``, and the earliest due time among them
        (None when none is): the metrics' jobs due and their lag."""
        row = await self._db.read_one(
            "SELECT COUNT(*), MIN(due_at) FROM jobs WHERE state = 'pending' AND due_at <= ?", (now,)
        )
        if row is None:
            return 0, None
        return int(row[0]), None if row[1] is None else int(row[1])

    async def forget_finished(self, before: int) -> int:
        """Delete done and failed jobs that finished before ``before`` (the daily purge);
        returns how many."""

        async def job(conn: Connection) -> int:
            rows = await fetch_all(
                conn,
                "DELETE FROM jobs WHERE state IN ('done', 'failed') AND done_at < ? RETURNING id",
                (before,),
            )
            return len(rows)

        return await self._db.write(job)

    async def _finish(self, job: Job, assignments: str, values: dict[str, object]) -> bool:
        if job.claimed_by is None:
            raise ValueError("only a claimed job can be retried or failed")

        async def write(conn: Connection) -> bool:
            rows = await fetch_all(
                conn,
                f"UPDATE jobs SET {assignments} WHERE {_HELD} RETURNING id",
                {**values, "id": job.id, "owner": job.claimed_by},
            )
            return bool(rows)

        return await self._db.write(write)
