"""What the bot keeps about one member in one server, and forgetting it on request.

A member's own data is their votes and the prediction points scored from them.  The
theories a member started and the audit entries naming them belong to the server (an
admin may delete a theory), so they are counted for the member to see but not deleted.
Everything here is scoped by ``(guild_id, member_id)``: one server's request never
touches another server's rows, nor another member's.
"""

from __future__ import annotations

from bot.models import DeletedMemberData, MemberData, VotedTheory

from ._conn import Connection
from ._db import Db, fetch_all

__all__ = ["MemberQueries"]


_VOTES = """
SELECT v.theory_id, t.title, v.voted_at, t.removed_at
FROM votes AS v JOIN theories AS t ON t.id = v.theory_id
WHERE v.guild_id = ? AND v.member_id = ?
ORDER BY v.voted_at DESC, v.theory_id DESC
"""

_SCORES = """
SELECT COALESCE(SUM(points), 0) AS total, COUNT(*) AS scored
FROM scores WHERE guild_id = ? AND member_id = ?
"""

_STARTED = "SELECT COUNT(*) FROM theories WHERE guild_id = ? AND created_by = ? AND removed_at IS NULL"


class MemberQueries:
    def __init__(self, db: Db) -> None:
        self._db = db

    async def data(self, guild_id: int, member_id: int) -> MemberData:
        """Everything the member may see about themself in this server."""
        votes = await self._db.read_all(_VOTES, (guild_id, member_id))
        scores = await self._db.read_one(_SCORES, (guild_id, member_id))
        started = await self._db.read_value(_STARTED, (guild_id, member_id))
        assert scores is not None
        return MemberData(
            guild_id=guild_id,
            member_id=member_id,
            votes=tuple(
                VotedTheory(
                    theory_id=int(row["theory_id"]),
                    title=str(row["title"]),
                    voted_at=int(row["voted_at"]),
                    removed=row["removed_at"] is not None,
                )
                for row in votes
            ),
            points=float(scores["total"]),
            scored=int(scores["scored"]),
            theories_started=int(started or 0),
        )

    async def delete(self, guild_id: int, member_id: int) -> DeletedMemberData:
        """Delete the member's votes and scores in this server, in one transaction;
        return what went.  Other members' votes and scores, and other servers, are
        untouched (points others scored on a theory resolved earlier stay as scored)."""

        async def job(conn: Connection) -> DeletedMemberData:
            scores = await fetch_all(
                conn,
                "DELETE FROM scores WHERE guild_id = ? AND member_id = ? RETURNING theory_id, points",
                (guild_id, member_id),
            )
            votes = await fetch_all(
                conn,
                "DELETE FROM votes WHERE guild_id = ? AND member_id = ? RETURNING theory_id",
                (guild_id, member_id),
            )
            theory_ids = {int(row["theory_id"]) for row in votes}
            theory_ids.update(int(row["theory_id"]) for row in scores)
            return DeletedMemberData(
                guild_id=guild_id,
                member_id=member_id,
                votes=len(votes),
                scores=len(scores),
                points=sum(float(row["points"]) for row in scores),
                theory_ids=tuple(sorted(theory_ids)),
            )

        return await self._db.write(job)
