"""Fan theories and their polls: options, one vote per member, tallies, closing.

Scoring, resolving and the leaderboard come later (the ``scores`` table is ready).
"""

from __future__ import annotations

import builtins
from collections.abc import Iterable

import aiosqlite

from bot.models import Tally, Theory, TheoryFields, TheoryStatus, Vote

from ._db import Db, fetch_all, fetch_one, fetch_value
from ._rows import THEORY_SELECT, check_options, plain, theories_from_rows, theory_params
from .audit import ensure_guild, record
from .errors import AlreadyExists, NotFound

__all__ = ["Theories", "insert_theories"]

_WRITTEN = (
    "seed_key",
    "title",
    "details",
    "source_name",
    "source_url",
    "source_certainty",
    "sealed",
    "closes_at",
)
_INSERT = (
    f"INSERT INTO theories (guild_id, {', '.join(_WRITTEN)}, status, created_at, created_by) "
    f"VALUES (:guild_id, {', '.join(':' + n for n in _WRITTEN)}, 'open', :created_at, "
    ":created_by) ON CONFLICT (guild_id, seed_key) DO NOTHING"
)
_INSERT_OPTIONS = "INSERT INTO theory_options (theory_id, position, label) VALUES (?, ?, ?)"

# A poll takes votes while it is open, not removed, and before its closing time (even
# if the scheduler has not closed it yet).
_OPEN = "t.status = 'open' AND t.removed_at IS NULL AND (t.closes_at IS NULL OR t.closes_at > :now)"

# One statement: the vote is written only if the poll takes votes and the option
# exists; a member's second vote replaces the first.
_CAST_VOTE = f"""
INSERT INTO votes (theory_id, member_id, guild_id, option_position, voted_at)
SELECT t.id, :member_id, t.guild_id, :option, :now
FROM theories AS t
WHERE t.id = :theory_id AND t.guild_id = :guild_id AND {_OPEN}
  AND EXISTS (SELECT 1 FROM theory_options AS o
              WHERE o.theory_id = t.id AND o.position = :option)
ON CONFLICT (theory_id, member_id) DO UPDATE
SET option_position = excluded.option_position, voted_at = excluded.voted_at
RETURNING option_position
"""

_RETRACT_VOTE = f"""
DELETE FROM votes
WHERE theory_id = :theory_id AND member_id = :member_id AND guild_id = :guild_id
  AND EXISTS (SELECT 1 FROM theories AS t WHERE t.id = votes.theory_id AND {_OPEN})
RETURNING option_position
"""

_TALLY = """
SELECT o.position, COALESCE(c.n, 0) AS n
FROM theory_options AS o
JOIN theories AS t ON t.id = o.theory_id
LEFT JOIN (SELECT option_position, COUNT(*) AS n FROM votes
           WHERE theory_id = :theory_id GROUP BY option_position) AS c
       ON c.option_position = o.position
WHERE o.theory_id = :theory_id AND t.guild_id = :guild_id AND t.removed_at IS NULL
ORDER BY o.position
"""


async def _insert_options(
    conn: aiosqlite.Connection, theory_id: int, options: Iterable[str]
) -> None:
    await conn.executemany(
        _INSERT_OPTIONS, [(theory_id, position, label) for position, label in enumerate(options)]
    )


async def insert_theories(
    conn: aiosqlite.Connection,
    guild_id: int,
    theories: Iterable[TheoryFields],
    *,
    now: int,
    actor_id: int | None,
) -> None:
    """Insert seeded theories (with options) whose seed key the server does not have yet."""
    existing = {
        row[0]
        for row in await fetch_all(
            conn,
            "SELECT seed_key FROM theories WHERE guild_id = ? AND seed_key IS NOT NULL",
            (guild_id,),
        )
    }
    new = [fields for fields in theories if fields.key not in existing]
    for fields in new:
        check_options(fields)
    await conn.executemany(
        _INSERT,
        [
            {"guild_id": guild_id, **theory_params(f), "created_at": now, "created_by": actor_id}
            for f in new
        ],
    )
    await conn.executemany(
        "INSERT INTO theory_options (theory_id, position, label) "
        "SELECT id, ?, ? FROM theories WHERE guild_id = ? AND seed_key = ?",
        [
            (position, label, guild_id, fields.key)
            for fields in new
            for position, label in enumerate(fields.options)
        ],
    )


async def _read(conn: aiosqlite.Connection, guild_id: int, theory_id: int) -> Theory | None:
    rows = await fetch_all(
        conn,
        f"{THEORY_SELECT} WHERE t.guild_id = ? AND t.id = ? AND t.removed_at IS NULL "
        "ORDER BY o.position",
        (guild_id, theory_id),
    )
    found = theories_from_rows(rows)
    return found[0] if found else None


class Theories:
    def __init__(self, db: Db) -> None:
        self._db = db

    # -- reading -------------------------------------------------------------

    async def list(self, guild_id: int, status: TheoryStatus | None = None) -> list[Theory]:
        """The server's theories (not removed), newest first; only one status if given."""
        sql = f"{THEORY_SELECT} WHERE t.guild_id = ? AND t.removed_at IS NULL"
        params: tuple[object, ...] = (guild_id,)
        if status is not None:
            sql += " AND t.status = ?"
            params += (TheoryStatus(status).value,)
        rows = await self._db.read_all(sql + " ORDER BY t.id DESC, o.position", params)
        return theories_from_rows(rows)

    async def get(self, guild_id: int, theory_id: int) -> Theory | None:
        rows = await self._db.read_all(
            f"{THEORY_SELECT} WHERE t.guild_id = ? AND t.id = ? AND t.removed_at IS NULL "
            "ORDER BY o.position",
            (guild_id, theory_id),
        )
        found = theories_from_rows(rows)
        return found[0] if found else None

    async def due_to_close(self, now: int) -> builtins.list[Theory]:
        """Open polls, in every server, whose closing time has come; soonest first."""
        rows = await self._db.read_all(
            f"{THEORY_SELECT} WHERE t.status = 'open' AND t.closes_at IS NOT NULL "
            "AND t.removed_at IS NULL AND t.closes_at <= ? "
            "ORDER BY t.closes_at, t.id, o.position",
            (now,),
        )
        return theories_from_rows(rows)

    async def vote_of(self, guild_id: int, theory_id: int, member_id: int) -> int | None:
        """The option the member has voted for, or None."""
        value = await self._db.read_value(
            "SELECT option_position FROM votes "
            "WHERE theory_id = ? AND member_id = ? AND guild_id = ?",
            (theory_id, member_id, guild_id),
        )
        return None if value is None else int(value)

    async def votes_of_member(self, guild_id: int, member_id: int) -> builtins.list[Vote]:
        """The member's votes in the server, latest first."""
        rows = await self._db.read_all(
            "SELECT guild_id, theory_id, member_id, option_position, voted_at FROM votes "
            "WHERE guild_id = ? AND member_id = ? ORDER BY voted_at DESC, theory_id DESC",
            (guild_id, member_id),
        )
        return [
            Vote(
                guild_id=row["guild_id"],
                theory_id=row["theory_id"],
                member_id=row["member_id"],
                option=row["option_position"],
                voted_at=row["voted_at"],
            )
            for row in rows
        ]

    async def tally(self, guild_id: int, theory_id: int) -> Tally:
        """Votes per option, read fresh (NotFound for an unknown or removed theory)."""
        rows = await self._db.read_all(_TALLY, {"theory_id": theory_id, "guild_id": guild_id})
        if not rows:
            raise NotFound("theory", theory_id)
        return Tally(theory_id, tuple(int(row["n"]) for row in rows))

    # -- writing -------------------------------------------------------------

    async def create(self, guild_id: int, actor_id: int | None, fields: TheoryFields) -> Theory:
        """Create a theory and its poll; AlreadyExists for a seed key the server has."""
        check_options(fields)
        now = self._db.now()

        async def job(conn: aiosqlite.Connection) -> Theory:
            await ensure_guild(conn, guild_id, now)
            theory_id = await fetch_value(
                conn,
                f"{_INSERT} RETURNING id",
                {
                    "guild_id": guild_id,
                    **theory_params(fields),
                    "created_at": now,
                    "created_by": actor_id,
                },
            )
            if theory_id is None:
                raise AlreadyExists("theory", str(fields.key))
            await _insert_options(conn, theory_id, fields.options)
            await record(
                conn,
                guild_id=guild_id,
                at=now,
                actor_id=actor_id,
                action="theory.create",
                target=theory_id,
                new=plain(fields),
            )
            return Theory(
                guild_id,
                theory_id,
                fields,
                TheoryStatus.OPEN,
                created_at=now,
                created_by=actor_id,
                channel_id=None,
                message_id=None,
                outcome=None,
            )

        return await self._db.write(job)

    async def set_message(
        self, guild_id: int, theory_id: int, channel_id: int, message_id: int
    ) -> None:
        """Remember where the poll message was posted (the bot's doing; not audited)."""

        async def job(conn: aiosqlite.Connection) -> None:
            found = await fetch_value(
                conn,
                "UPDATE theories SET channel_id = ?, message_id = ? "
                "WHERE guild_id = ? AND id = ? RETURNING id",
                (channel_id, message_id, guild_id, theory_id),
            )
            if found is None:
                raise NotFound("theory", theory_id)

        await self._db.write(job)

    async def cast_vote(
        self, guild_id: int, theory_id: int, member_id: int, option: int
    ) -> int | None:
        """Record the member's vote (replacing an earlier one); return the option now
        recorded, or None when the poll is closed, removed or unknown, or the option is
        not one of its options (nothing is written then)."""
        params = {
            "guild_id": guild_id,
            "theory_id": theory_id,
            "member_id": member_id,
            "option": option,
            "now": self._db.now(),
        }

        async def job(conn: aiosqlite.Connection) -> int | None:
            rows = list(await conn.execute_fetchall(_CAST_VOTE, params))
            return int(rows[0][0]) if rows else None

        return await self._db.write(job)

    async def retract_vote(self, guild_id: int, theory_id: int, member_id: int) -> bool:
        """Take back the member's vote while the poll is open; return whether there was one."""
        params = {
            "guild_id": guild_id,
            "theory_id": theory_id,
            "member_id": member_id,
            "now": self._db.now(),
        }

        async def job(conn: aiosqlite.Connection) -> bool:
            return bool(list(await conn.execute_fetchall(_RETRACT_VOTE, params)))

        return await self._db.write(job)

    async def close(self, guild_id: int, actor_id: int | None, theory_id: int) -> Theory:
        """Stop the poll taking votes (actor None: the scheduler); closing a closed poll
        changes nothing.  Audited."""
        now = self._db.now()

        async def job(conn: aiosqlite.Connection) -> Theory:
            closed = await fetch_value(
                conn,
                "UPDATE theories SET status = 'closed' "
                "WHERE guild_id = ? AND id = ? AND status = 'open' AND removed_at IS NULL "
                "RETURNING id",
                (guild_id, theory_id),
            )
            if closed is not None:
                await record(
                    conn,
                    guild_id=guild_id,
                    at=now,
                    actor_id=actor_id,
                    action="theory.close",
                    target=theory_id,
                    old={"status": "open"},
                    new={"status": "closed"},
                )
            theory = await _read(conn, guild_id, theory_id)
            if theory is None:
                raise NotFound("theory", theory_id)
            return theory

        return await self._db.write(job)

    async def remove(self, guild_id: int, actor_id: int | None, theory_id: int) -> None:
        """Hide a theory and stop its poll (soft delete; votes are kept); audited."""
        now = self._db.now()

        async def job(conn: aiosqlite.Connection) -> None:
            row = await fetch_one(
                conn,
                "UPDATE theories SET removed_at = ? "
                "WHERE guild_id = ? AND id = ? AND removed_at IS NULL RETURNING title",
                (now, guild_id, theory_id),
            )
            if row is None:
                raise NotFound("theory", theory_id)
            await record(
                conn,
                guild_id=guild_id,
                at=now,
                actor_id=actor_id,
                action="theory.remove",
                target=theory_id,
                old={"title": row["title"]},
            )

        await self._db.write(job)
