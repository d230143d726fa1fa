"""Fan theories and their polls: options, one vote per member, tallies, closing,
resolving with scores, the leaderboard, and deleting.

Scoring (see :data:`SCORING`): when a theory is resolved, the members whose vote (as it
stood when the poll closed) is for the option that came true share the poll's points:
each scores ``voters / right`` points, ``voters`` being everyone who voted in that poll
and ``right`` those who voted for the outcome.  Every resolved poll hands out one point
per voter in all, so a prediction few got right is worth more (everyone right: 1 point
each; a quarter right: 4 points each).  Re-resolving (an admin's correction) replaces
that theory's scores.
"""

from __future__ import annotations

import builtins
from collections.abc import Iterable, Mapping
from typing import Any

from bot.models import (
    Ballot,
    Job,
    JobKind,
    LeaderboardEntry,
    MemberVote,
    NewJob,
    PollState,
    Resolution,
    Tally,
    Theory,
    TheoryFields,
    TheoryStatus,
    Vote,
)

from ._conn import Connection
from ._db import Db, fetch_all, fetch_one, fetch_value
from ._rows import THEORY_SELECT, check_options, plain, theories_from_rows, theory_params
from .audit import Author, ensure_guild, record
from .errors import AlreadyExists, NoSuchRecord
from .jobs import cancel_in, complete_in, schedule_in

__all__ = ["SCORING", "TheoryQueries", "points_for", "reschedule_closing_in"]

_WRITTEN = (
    "seed_key",
    "title",
    "details",
    "source_name",
    "source_url",
    "source_certainty",
    "source_quote",
    "source_name_ko",
    "spoiler",
    "safe_title",
    "title_ko",
    "details_ko",
    "safe_title_ko",
    "sealed",
    "closes_at",
    "max_choices",
    "voter_role_id",
    "ping_role_id",
    "opens_at",
)
_INSERT = (
    f"INSERT INTO theories (guild_id, {', '.join(_WRITTEN)}, status, created_at, created_by) "
    f"VALUES (:guild_id, {', '.join(':' + n for n in _WRITTEN)}, 'open', :created_at, "
    ":created_by) ON CONFLICT (guild_id, seed_key) DO NOTHING"
)
_INSERT_OPTIONS = "INSERT INTO theory_options (theory_id, position, label, label_ko) VALUES (?, ?, ?, ?)"

# A poll takes votes while it is open, not removed, and before its closing time (even
# if the scheduler has not closed it yet).
# A scheduled poll takes none until its ``open_poll`` job has posted it (``opens_at`` NULL).
_OPEN = (
    "t.status = 'open' AND t.removed_at IS NULL AND t.opens_at IS NULL "
    "AND (t.closes_at IS NULL OR t.closes_at > :now)"
)

# How many answers a member may give, if the poll takes votes now and has the option.
_CAN_VOTE = f"""
SELECT t.max_choices, t.voter_role_id FROM theories AS t
WHERE t.id = :theory_id AND t.guild_id = :guild_id AND {_OPEN}
  AND EXISTS (SELECT 1 FROM theory_options AS o
              WHERE o.theory_id = t.id AND o.position = :option)
"""

# The common case in one statement: a one-answer poll open to everyone.  Written only if
# the poll takes votes and has the option; the member's other answer is dropped after.
_ONE_ANSWER = f"""
INSERT INTO votes (theory_id, member_id, guild_id, option_position, voted_at)
SELECT t.id, :member_id, t.guild_id, :option, :now
FROM theories AS t
WHERE t.id = :theory_id AND t.guild_id = :guild_id AND {_OPEN}
  AND t.max_choices = 1 AND t.voter_role_id IS NULL
  AND EXISTS (SELECT 1 FROM theory_options AS o
              WHERE o.theory_id = t.id AND o.position = :option)
ON CONFLICT (theory_id, member_id, option_position) DO UPDATE SET voted_at = excluded.voted_at
RETURNING option_position
"""

# A member's answers are rows, one per chosen option (the primary key holds them apart).
_CHOSEN = (
    "SELECT option_position FROM votes WHERE theory_id = :theory_id AND member_id = :member_id "
    "ORDER BY option_position"
)
_ADD_CHOICE = """
INSERT INTO votes (theory_id, member_id, guild_id, option_position, voted_at)
VALUES (:theory_id, :member_id, :guild_id, :option, :now)
ON CONFLICT (theory_id, member_id, option_position) DO UPDATE SET voted_at = excluded.voted_at
"""
_DROP_OTHERS = (
    "DELETE FROM votes WHERE theory_id = :theory_id AND member_id = :member_id AND option_position <> :option"
)
_DROP_CHOICE = (
    "DELETE FROM votes WHERE theory_id = :theory_id AND member_id = :member_id AND option_position = :option"
)

_RETRACT_VOTE = f"""
DELETE FROM votes
WHERE theory_id = :theory_id AND member_id = :member_id AND guild_id = :guild_id
  AND EXISTS (SELECT 1 FROM theories AS t WHERE t.id = votes.theory_id AND {_OPEN})
RETURNING option_position
"""

_TALLY = """
SELECT o.position, COALESCE(c.n, 0) AS n, t.max_choices
FROM theory_options AS o
JOIN theories AS t ON t.id = o.theory_id
LEFT JOIN (SELECT option_position, COUNT(*) AS n FROM votes
           WHERE theory_id = :theory_id GROUP BY option_position) AS c
       ON c.option_position = o.position
WHERE o.theory_id = :theory_id AND t.guild_id = :guild_id AND t.removed_at IS NULL
ORDER BY o.position
"""


# Votes per option of many theories at once; the caller adds the WHERE on theories.
_COUNTS = """
SELECT v.theory_id, v.option_position, COUNT(*) AS n
FROM votes AS v JOIN theories AS t ON t.id = v.theory_id
"""

# Members who voted, per theory that takes several answers; the caller adds the WHERE
# (on theories ``t``, with ``t.max_choices > 1`` already in it) and the GROUP BY.
_VOTERS = """
SELECT v.theory_id, COUNT(DISTINCT v.member_id) AS n
FROM votes AS v JOIN theories AS t ON t.id = v.theory_id
WHERE t.max_choices > 1 AND
"""

_LEADERBOARD = """
SELECT member_id, total, hits, RANK() OVER (ORDER BY total DESC) AS rank
FROM (SELECT s.member_id, SUM(s.points) AS total, COUNT(*) AS hits
      FROM scores AS s JOIN theories AS t ON t.id = s.theory_id AND t.removed_at IS NULL
      WHERE s.guild_id = :guild_id GROUP BY s.member_id) AS per_member
"""

SCORING = "voters / right"  # what each right voter scores; see the module's docstring


def points_for(voters: int, right: int) -> float:
    """What each member who predicted right scores: ``voters / right`` (0 if nobody)."""
    return voters / right if right else 0.0


def _tallies(rows: Iterable[Any], theories: Iterable[Theory], voters: Iterable[Any] = ()) -> dict[int, Tally]:
    """Tallies from :data:`_COUNTS` rows, and :data:`_VOTERS` rows for the polls that take
    several answers (their counts add up to more than their voters)."""
    theories = builtins.list(theories)
    counts = {t.id: [0] * len(t.fields.options) for t in theories}
    for row in rows:
        options = counts.get(row["theory_id"])
        if options is not None and 0 <= row["option_position"] < len(options):
            options[row["option_position"]] = int(row["n"])
    members = {int(row["theory_id"]): int(row["n"]) for row in voters}
    several = {t.id for t in theories if t.fields.max_choices > 1}
    return {
        theory_id: Tally(theory_id, tuple(n), members.get(theory_id, 0) if theory_id in several else None)
        for theory_id, n in counts.items()
    }


async def _insert_options(conn: Connection, theory_id: int, fields: TheoryFields) -> None:
    korean = fields.options_ko or (None,) * len(fields.options)
    await conn.executemany(
        _INSERT_OPTIONS,
        [(theory_id, i, label, ko) for i, (label, ko) in enumerate(zip(fields.options, korean, strict=True))],
    )


async def _read(conn: Connection, guild_id: int, theory_id: int) -> Theory | None:
    rows = await fetch_all(
        conn,
        f"{THEORY_SELECT} WHERE t.guild_id = ? AND t.id = ? AND t.removed_at IS NULL ORDER BY o.position",
        (guild_id, theory_id),
    )
    found = theories_from_rows(rows)
    return found[0] if found else None


class TheoryQueries:
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
            f"{THEORY_SELECT} WHERE t.guild_id = ? AND t.id = ? AND t.removed_at IS NULL ORDER BY o.position",
            (guild_id, theory_id),
        )
        found = theories_from_rows(rows)
        return found[0] if found else None

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
        """Votes per option, read fresh (NoSuchRecord for an unknown or removed theory)."""
        rows = await self._db.read_all(_TALLY, {"theory_id": theory_id, "guild_id": guild_id})
        if not rows:
            raise NoSuchRecord("theory", theory_id)
        voters = None
        if int(rows[0]["max_choices"]) > 1:
            voters = int(
                await self._db.read_value(
                    "SELECT COUNT(DISTINCT member_id) FROM votes WHERE theory_id = ?", (theory_id,)
                )
            )
        return Tally(theory_id, tuple(int(row["n"]) for row in rows), voters)

    # -- writing -------------------------------------------------------------

    async def create(
        self, guild_id: int, actor_id: int | None, fields: TheoryFields, *, channel_id: int | None = None
    ) -> Theory:
        """Create a theory and its poll; AlreadyExists for a seed key the server has.

        A poll with ``fields.opens_at`` is scheduled: its ``open_poll`` job (committed
        with it, as the ``close_poll`` job is) posts it in ``channel_id`` at that time."""
        check_options(fields)
        if fields.opens_at is not None and channel_id is None:
            raise ValueError("a scheduled poll needs the channel it is posted in")
        now = self._db.now()

        async def job(conn: Connection) -> Theory:
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
            await _insert_options(conn, theory_id, fields)
            if fields.closes_at is not None:
                await schedule_in(conn, close_job(guild_id, theory_id, fields.closes_at))
            if fields.opens_at is not None:
                await conn.execute("UPDATE theories SET channel_id = ? WHERE id = ?", (channel_id, theory_id))
                await schedule_in(conn, open_job(guild_id, theory_id, fields.opens_at))
            await record(conn, Author(guild_id, actor_id, now), "theory.create", theory_id, new=plain(fields))
            return Theory(
                guild_id,
                theory_id,
                fields,
                TheoryStatus.OPEN,
                created_at=now,
                created_by=actor_id,
                channel_id=channel_id if fields.opens_at is not None else None,
                message_id=None,
                outcome=None,
            )

        return await self._db.write(job)

    async def cast_vote(self, guild_id: int, theory_id: int, member_id: int, option: int) -> int | None:
        """Make ``option`` the member's one answer (replacing any earlier ones); return it,
        or None when the poll is closed, removed or unknown, or the option is not one of
        its options (nothing is written then)."""
        params = self._vote_params(guild_id, theory_id, member_id, option)

        async def job(conn: Connection) -> int | None:
            if await fetch_one(conn, _CAN_VOTE, params) is None:
                return None
            await conn.execute(_DROP_OTHERS, params)
            await conn.execute(_ADD_CHOICE, params)
            return option

        return await self._db.write(job)

    async def choose(
        self,
        guild_id: int,
        theory_id: int,
        member_id: int,
        option: int,
        roles: Iterable[int] = (),
    ) -> Ballot | None:
        """A click on ``option`` by a member with ``roles``: in a one-answer poll it
        becomes the member's answer (as :meth:`cast_vote`); in a poll of up to *k*
        answers it is toggled, and refused (nothing written) when the member already has
        *k*, or lacks the poll's voter role.  Read and written in one writer job, so
        concurrent clicks by one member leave exactly the set their order of commits
        implies.  None when the poll takes no votes or lacks the option."""
        params = self._vote_params(guild_id, theory_id, member_id, option)
        held = frozenset(roles)

        async def job(conn: Connection) -> Ballot | None:
            if await fetch_one(conn, _ONE_ANSWER, params) is not None:  # two statements, not three
                await conn.execute(_DROP_OTHERS, params)
                return Ballot((option,), option, added=True, full=False, max_choices=1)
            row = await fetch_one(conn, _CAN_VOTE, params)
            if row is None:
                return None
            most = int(row["max_choices"])
            need = row["voter_role_id"]
            if need is not None and int(need) not in held:
                held_now = tuple(int(r[0]) for r in await fetch_all(conn, _CHOSEN, params))
                return Ballot(
                    held_now, option, added=False, full=False, max_choices=most, need_role=int(need)
                )
            if most == 1:
                await conn.execute(_DROP_OTHERS, params)
                await conn.execute(_ADD_CHOICE, params)
                return Ballot((option,), option, added=True, full=False, max_choices=1)
            chosen = [int(row[0]) for row in await fetch_all(conn, _CHOSEN, params)]
            if option in chosen:
                await conn.execute(_DROP_CHOICE, params)
                chosen.remove(option)
                return Ballot(tuple(chosen), option, added=False, full=False, max_choices=most)
            if len(chosen) >= most:
                return Ballot(tuple(chosen), option, added=False, full=True, max_choices=most)
            await conn.execute(_ADD_CHOICE, params)
            return Ballot(tuple(sorted([*chosen, option])), option, added=True, full=False, max_choices=most)

        return await self._db.write(job)

    def _vote_params(self, guild_id: int, theory_id: int, member_id: int, option: int) -> dict[str, Any]:
        return {
            "guild_id": guild_id,
            "theory_id": theory_id,
            "member_id": member_id,
            "option": option,
            "now": self._db.now(),
        }

    async def retract_vote(self, guild_id: int, theory_id: int, member_id: int) -> bool:
        """Take back the member's vote while the poll is open; return whether there was one."""
        params = {
            "guild_id": guild_id,
            "theory_id": theory_id,
            "member_id": member_id,
            "now": self._db.now(),
        }

        async def job(conn: Connection) -> bool:
            return bool(list(await conn.execute_fetchall(_RETRACT_VOTE, params)))

        return await self._db.write(job)

    # -- polls on their messages ----------------------------------------------------------

    async def poll_state(self, guild_id: int, theory_id: int) -> PollState | None:
        """The theory, its tally read fresh, and what its message showed last (None if
        the theory is unknown or removed)."""
        theory = await self.get(guild_id, theory_id)
        if theory is None:
            return None
        rows = await self._db.read_all(
            f"{_COUNTS} WHERE t.id = ? AND t.guild_id = ? GROUP BY v.theory_id, v.option_position",
            (theory_id, guild_id),
        )
        voters = (
            await self._db.read_all(
                f"{_VOTERS} t.id = ? AND t.guild_id = ? GROUP BY v.theory_id", (theory_id, guild_id)
            )
            if theory.fields.max_choices > 1
            else []
        )
        shown = await self._db.read_value("SELECT shown FROM theories WHERE id = ?", (theory_id,))
        return PollState(theory, _tallies(rows, [theory], voters)[theory_id], shown)

    async def posted_polls(self) -> builtins.list[PollState]:
        """Every poll, in every server, whose message is still in a channel (not removed):
        the start-up check for messages left behind by a crash."""
        rows = await self._db.read_all(
            f"{THEORY_SELECT} WHERE t.message_id IS NOT NULL AND t.removed_at IS NULL "
            "ORDER BY t.id, o.position"
        )
        theories = theories_from_rows(rows)
        if not theories:
            return []
        counts = await self._db.read_all(
            f"{_COUNTS} WHERE t.message_id IS NOT NULL AND t.removed_at IS NULL "
            "GROUP BY v.theory_id, v.option_position"
        )
        shown = {
            row["id"]: row["shown"]
            for row in await self._db.read_all(
                "SELECT id, shown FROM theories WHERE message_id IS NOT NULL AND removed_at IS NULL"
            )
        }
        voters = await self._db.read_all(
            f"{_VOTERS} t.message_id IS NOT NULL AND t.removed_at IS NULL GROUP BY v.theory_id"
        )
        tallies = _tallies(counts, theories, voters)
        return [PollState(t, tallies[t.id], shown.get(t.id)) for t in theories]

    async def tallies(self, guild_id: int) -> dict[int, Tally]:
        """Votes per option of every theory of the server (not removed), in one read."""
        theories = await self.list(guild_id)
        rows = await self._db.read_all(
            f"{_COUNTS} WHERE t.guild_id = ? AND t.removed_at IS NULL "
            "GROUP BY v.theory_id, v.option_position",
            (guild_id,),
        )
        voters = await self._db.read_all(
            f"{_VOTERS} t.guild_id = ? AND t.removed_at IS NULL GROUP BY v.theory_id", (guild_id,)
        )
        return _tallies(rows, theories, voters)

    async def set_shown(self, guild_id: int, theory_id: int, message_id: int, shown: str) -> None:
        """Record what the poll message shows now (only if it is still that message)."""

        async def job(conn: Connection) -> None:
            await conn.execute(
                "UPDATE theories SET shown = ? WHERE guild_id = ? AND id = ? AND message_id = ?",
                (shown, guild_id, theory_id, message_id),
            )

        await self._db.write(job)

    async def forget_message(self, guild_id: int, theory_id: int, message_id: int) -> None:
        """The poll message is gone (deleted in Discord): stop refreshing it."""

        async def job(conn: Connection) -> None:
            await conn.execute(
                "UPDATE theories SET channel_id = NULL, message_id = NULL, shown = NULL "
                "WHERE guild_id = ? AND id = ? AND message_id = ?",
                (guild_id, theory_id, message_id),
            )

        await self._db.write(job)

    async def post_message(
        self, guild_id: int, theory_id: int, channel_id: int, message_id: int, shown: str
    ) -> tuple[int, int] | None:
        """Remember a newly posted poll message and what it shows; return where the
        previous one was (channel, message), if any, so it can be retired."""

        async def job(conn: Connection) -> tuple[int, int] | None:
            old = await fetch_one(
                conn,
                "SELECT channel_id, message_id FROM theories "
                "WHERE guild_id = ? AND id = ? AND removed_at IS NULL",
                (guild_id, theory_id),
            )
            if old is None:
                raise NoSuchRecord("theory", theory_id)
            await conn.execute(
                "UPDATE theories SET channel_id = ?, message_id = ?, shown = ? WHERE guild_id = ? AND id = ?",
                (channel_id, message_id, shown, guild_id, theory_id),
            )
            if old["message_id"] is None or old["message_id"] == message_id:
                return None
            return int(old["channel_id"]), int(old["message_id"])

        return await self._db.write(job)

    # -- opening a scheduled poll -------------------------------------------------------------

    async def open_scheduled(
        self,
        guild_id: int,
        theory_id: int,
        job: Job,
        posted: tuple[int, int, str] | None,
    ) -> bool:
        """The ``open_poll`` job's commit: the poll takes votes from now, its message
        (``posted``: channel, message, what it shows; None when it could not be posted)
        recorded, audited, and the job completed, in one transaction.  False (only the
        job completed) if the poll was opened, closed or deleted meanwhile."""
        now = self._db.now()

        async def work(conn: Connection) -> bool:
            opened = await fetch_value(
                conn,
                "UPDATE theories SET opens_at = NULL "
                "WHERE guild_id = ? AND id = ? AND status = 'open' AND removed_at IS NULL "
                "AND opens_at IS NOT NULL RETURNING title",
                (guild_id, theory_id),
            )
            if opened is not None:
                if posted is None:
                    await conn.execute(
                        "UPDATE theories SET message_id = NULL, shown = NULL WHERE id = ?", (theory_id,)
                    )
                else:
                    await conn.execute(
                        "UPDATE theories SET channel_id = ?, message_id = ?, shown = ? WHERE id = ?",
                        (*posted, theory_id),
                    )
                await record(
                    conn,
                    Author(guild_id, None, now),
                    "theory.open",
                    theory_id,
                    old={"opens_at": job.due_at},
                    new={"title": opened, "message_id": None if posted is None else posted[1]},
                )
            await complete_in(conn, job, now)
            return opened is not None

        return await self._db.write(work)

    # -- closing ----------------------------------------------------------------------------

    async def close_poll(
        self, guild_id: int, actor_id: int | None, theory_id: int, *, job: Job | None = None
    ) -> tuple[Theory, bool]:
        """Close an open poll; return the theory and whether this call closed it (a
        closed or resolved poll is left as it is).  Audited, and its result card is a
        ``poll_result`` job committed with the close.  ``job`` is the scheduler's
        ``close_poll`` job doing it (actor None), done in the same transaction; an admin's
        close cancels that job instead.  NoSuchRecord if unknown."""
        now = self._db.now()

        async def work(conn: Connection) -> tuple[Theory, bool]:
            closed = await _close(conn, guild_id, theory_id, actor_id, now)
            if job is not None:
                await complete_in(conn, job, now)
            else:
                await cancel_in(conn, JobKind.CLOSE_POLL, str(theory_id))
            return closed

        return await self._db.write(work)

    async def is_open(self, guild_id: int, theory_id: int) -> bool:
        """Whether the poll takes votes now (open, not removed, before its closing time)."""
        value = await self._db.read_value(
            f"SELECT 1 FROM theories AS t WHERE t.id = :theory_id AND t.guild_id = :guild_id AND {_OPEN}",
            {"theory_id": theory_id, "guild_id": guild_id, "now": self._db.now()},
        )
        return value is not None

    # -- resolving and scores ----------------------------------------------------------------

    async def resolve(self, guild_id: int, actor_id: int | None, theory_id: int, outcome: int) -> Resolution:
        """Mark the option that came true, closing the poll if it was open, and score the
        members whose vote is for it (``voters / right`` points each).  Resolving again
        replaces the outcome and that theory's scores.  Audited.

        NoSuchRecord for an unknown or removed theory; ValueError for an option it lacks.
        """
        now = self._db.now()

        async def job(conn: Connection) -> Resolution:
            before = await _read(conn, guild_id, theory_id)
            if before is None:
                raise NoSuchRecord("theory", theory_id)
            if not 0 <= outcome < len(before.fields.options):
                raise ValueError(f"theory {theory_id} has no option {outcome}")
            await conn.execute(
                "UPDATE theories SET status = 'resolved', outcome = ? WHERE id = ?",
                (outcome, theory_id),
            )
            counts = await fetch_one(
                conn,
                "SELECT COUNT(DISTINCT member_id) AS voters, "
                "COALESCE(SUM(CASE WHEN option_position = ? THEN 1 ELSE 0 END), 0) AS hits "
                "FROM votes WHERE theory_id = ?",
                (outcome, theory_id),
            )
            assert counts is not None
            voters, right = int(counts["voters"]), int(counts["hits"])
            points = points_for(voters, right)
            await conn.execute("DELETE FROM scores WHERE theory_id = ?", (theory_id,))
            await conn.execute(
                "INSERT INTO scores (guild_id, theory_id, member_id, points) "
                "SELECT guild_id, theory_id, member_id, ? FROM votes "
                "WHERE theory_id = ? AND option_position = ?",
                (points, theory_id, outcome),
            )
            await cancel_in(conn, JobKind.CLOSE_POLL, str(theory_id))
            entry = await record(
                conn,
                Author(guild_id, actor_id, now),
                "theory.resolve",
                theory_id,
                old={"status": before.status.value, "outcome": before.outcome},
                new={
                    "status": "resolved",
                    "outcome": outcome,
                    "option": before.fields.options[outcome],
                    "voters": voters,
                    "right": right,
                    "points": points,
                },
            )
            scores = {"voters": voters, "right": right, "points": points, "previous_outcome": before.outcome}
            await _schedule_result(conn, guild_id, theory_id, entry.id, now, scores)
            theory = await _read(conn, guild_id, theory_id)
            assert theory is not None
            return Resolution(theory, voters, right, points, before.outcome)

        return await self._db.write(job)

    async def leaderboard(self, guild_id: int, limit: int = 10) -> builtins.list[LeaderboardEntry]:
        """The members with the most points in the server, best first (ties by id)."""
        rows = await self._db.read_all(
            f"{_LEADERBOARD} ORDER BY total DESC, hits DESC, member_id LIMIT :limit",
            {"guild_id": guild_id, "limit": limit},
        )
        return [_entry(row) for row in rows]

    async def rank_of(self, guild_id: int, member_id: int) -> LeaderboardEntry | None:
        """The member's place on the server's leaderboard, or None without points."""
        row = await self._db.read_one(
            f"SELECT * FROM ({_LEADERBOARD}) AS ranked WHERE member_id = :member_id",
            {"guild_id": guild_id, "member_id": member_id},
        )
        return None if row is None else _entry(row)

    async def votes_with_theories(self, guild_id: int, member_id: int) -> builtins.list[MemberVote]:
        """The member's votes in the server with their theories and any points scored,
        latest first (only the member ever sees this)."""
        votes = await self.votes_of_member(guild_id, member_id)
        if not votes:
            return []
        theories = {t.id: t for t in await self.list(guild_id)}
        points = {
            row["theory_id"]: float(row["points"])
            for row in await self._db.read_all(
                "SELECT theory_id, points FROM scores WHERE guild_id = ? AND member_id = ?",
                (guild_id, member_id),
            )
        }
        # A several-answer poll's answers are one line: the latest vote's place, every option.
        chosen: dict[int, builtins.list[int]] = {}
        latest: dict[int, Vote] = {}
        for v in votes:
            chosen.setdefault(v.theory_id, []).append(v.option)
            latest.setdefault(v.theory_id, v)
        return [
            MemberVote(
                theories[v.theory_id],
                min(chosen[v.theory_id]),
                v.voted_at,
                points.get(v.theory_id),
                tuple(sorted(chosen[v.theory_id])) if len(chosen[v.theory_id]) > 1 else (),
            )
            for v in latest.values()
            if v.theory_id in theories
        ]

    # -- deleting -------------------------------------------------------------------------

    async def delete(self, guild_id: int, actor_id: int | None, theory_id: int) -> Theory:
        """Delete a theory for good: its votes and scores go, and the theory is hidden
        (its row stays, so its id, still carried by old buttons, is never reused).
        Audited with what was deleted.  Returns the theory as it was."""
        now = self._db.now()

        async def job(conn: Connection) -> Theory:
            theory = await _read(conn, guild_id, theory_id)
            if theory is None:
                raise NoSuchRecord("theory", theory_id)
            votes = await fetch_value(conn, "SELECT COUNT(*) FROM votes WHERE theory_id = ?", (theory_id,))
            scores = await fetch_value(conn, "SELECT COUNT(*) FROM scores WHERE theory_id = ?", (theory_id,))
            await conn.execute("DELETE FROM scores WHERE theory_id = ?", (theory_id,))
            await conn.execute("DELETE FROM votes WHERE theory_id = ?", (theory_id,))
            await cancel_in(conn, JobKind.CLOSE_POLL, str(theory_id))
            await cancel_in(conn, JobKind.OPEN_POLL, str(theory_id))
            await conn.execute(
                "UPDATE theories SET removed_at = ?, shown = NULL WHERE id = ?",
                (now, theory_id),
            )
            await record(
                conn,
                Author(guild_id, actor_id, now),
                "theory.delete",
                theory_id,
                old={
                    "title": theory.fields.title,
                    "options": list(theory.fields.options),
                    "status": theory.status.value,
                    "outcome": theory.outcome,
                    "votes": int(votes),
                    "scores": int(scores),
                },
            )
            return theory

        return await self._db.write(job)


def _entry(row: Any) -> LeaderboardEntry:
    return LeaderboardEntry(
        member_id=int(row["member_id"]),
        rank=int(row["rank"]),
        points=float(row["total"]),
        right=int(row["hits"]),
    )


def close_job(guild_id: int, theory_id: int, closes_at: int) -> NewJob:
    """A poll's ``close_poll`` job, due at its closing time."""
    return NewJob(JobKind.CLOSE_POLL, str(theory_id), closes_at, guild_id, {"theory_id": theory_id})


def open_job(guild_id: int, theory_id: int, opens_at: int) -> NewJob:
    """A scheduled poll's ``open_poll`` job, due at its opening time."""
    return NewJob(JobKind.OPEN_POLL, str(theory_id), opens_at, guild_id, {"theory_id": theory_id})


async def reschedule_closing_in(conn: Connection, guild_id: int) -> None:
    """Inside an import: the closing and opening jobs of the open polls it loaded."""
    rows = await fetch_all(
        conn,
        "SELECT id, closes_at FROM theories WHERE guild_id = ? AND status = 'open' "
        "AND removed_at IS NULL AND closes_at IS NOT NULL",
        (guild_id,),
    )
    for row in rows:
        theory_id = int(row["id"])
        await schedule_in(conn, close_job(guild_id, theory_id, int(row["closes_at"])))
    rows = await fetch_all(
        conn,
        "SELECT id, opens_at FROM theories WHERE guild_id = ? AND status = 'open' "
        "AND removed_at IS NULL AND opens_at IS NOT NULL",
        (guild_id,),
    )
    for row in rows:
        await schedule_in(conn, open_job(guild_id, int(row["id"]), int(row["opens_at"])))


async def _schedule_result(
    conn: Connection,
    guild_id: int,
    theory_id: int,
    entry_id: int,
    now: int,
    scores: Mapping[str, object],
) -> None:
    """The result card of a close or a resolve (the audit entry names the event), posted
    by the scheduler once the change has committed."""
    payload = {"theory_id": theory_id, **scores}
    await schedule_in(conn, NewJob(JobKind.POLL_RESULT, f"{theory_id}:{entry_id}", now, guild_id, payload))


async def _close(
    conn: Connection, guild_id: int, theory_id: int, actor_id: int | None, now: int
) -> tuple[Theory, bool]:
    """Inside a job: stop an open poll taking votes (audited); the theory as it is now, and
    whether this call closed it. NoSuchRecord if there is no such theory."""
    closed = await fetch_value(
        conn,
        "UPDATE theories SET status = 'closed' "
        "WHERE guild_id = ? AND id = ? AND status = 'open' AND removed_at IS NULL "
        "RETURNING id",
        (guild_id, theory_id),
    )
    if closed is not None:
        entry = await record(
            conn,
            Author(guild_id, actor_id, now),
            "theory.close",
            theory_id,
            old={"status": "open"},
            new={"status": "closed"},
        )
        await _schedule_result(conn, guild_id, theory_id, entry.id, now, {})
    theory = await _read(conn, guild_id, theory_id)
    if theory is None:
        raise NoSuchRecord("theory", theory_id)
    return theory, closed is not None
