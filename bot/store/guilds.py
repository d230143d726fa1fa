"""Servers: when the bot met and left them, and seeding each from the canon once."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from bot.models import Canon, Stage

from ._conn import Connection
from ._db import Db, fetch_all, fetch_value
from ._rows import as_json, character_params, check_options, news_params, theory_params
from .audit import ensure_guild

__all__ = ["GuildQueries"]

# SQLite's default limit on parameters in one statement (PostgreSQL allows 65,535).
_MAX_VARIABLES = 32_766
# Servers per statement when seeding: 5,000 servers seed with one set-based statement
# per table.  (Their rows take two parameters each, 10,000 in all; an IN (...) list and
# the canon's rows take the rest.)
_IDS_PER_STATEMENT = 5_000


def _marks(n: int) -> str:
    return ", ".join("?" * n)


class _Values:
    """Canon rows as a ``(VALUES ...) AS v`` list: column1 is the row's position in the
    canon (the order rows get their ids in), column2... the table's columns in order."""

    def __init__(self, rows: Sequence[Mapping[str, Any]]) -> None:
        self.columns: tuple[str, ...] = tuple(rows[0]) if rows else ()
        row = f"({_marks(len(self.columns) + 1)})"
        self.sql = f"(VALUES {', '.join([row] * len(rows))}) AS v"
        self.params = [value for i, fields in enumerate(rows) for value in (i, *fields.values())]
        # A column that is NULL in every row is selected as a plain NULL: the database then
        # takes the type of the column it goes into (PostgreSQL cannot tell the type of a
        # VALUES column that holds only NULLs, and would call it text).
        self._empty = {c for c in self.columns if all(fields[c] is None for fields in rows)}

    def __bool__(self) -> bool:
        return bool(self.columns)

    def column(self, name: str) -> str:
        """The VALUES column holding the table's column ``name`` (``v.column2``, ...)."""
        return "NULL" if name in self._empty else f"v.column{self.columns.index(name) + 2}"

    def select(self) -> str:
        """``v.column2, v.column3, ...``: the table's columns, in :attr:`columns` order."""
        return ", ".join(self.column(name) for name in self.columns)


class _SeedPlan:
    """The statements that seed a chunk of servers from the canon: one per table, each
    set-based, so their number does not grow with the number of servers.

    Every statement touches only the servers of its ``IN (...)`` list that are still
    behind the canon (``canon_version < ?``); the last one moves them up.  Rows go in
    by key with ON CONFLICT DO NOTHING, so nothing is added twice and an admin's edit
    or removal of a seeded row is never overwritten or undone.  News, theories and
    audit entries get their ids by server, then in canon order (lists show ties in id
    order): the same ids as seeding the servers one by one in ascending order.
    """

    def __init__(self, canon: Canon, now: int) -> None:
        for theory in canon.theories:
            check_options(theory)
        self.canon = canon
        self.now = now
        self.characters = _Values([character_params(f) for f in canon.characters])
        self.news = _Values([news_params(f) for f in canon.news])
        self.theories = _Values([theory_params(f) for f in canon.theories])
        self.options = _Values(
            [
                {"seed_key": theory.key, "position": position, "label": label, "label_ko": ko}
                for theory in canon.theories
                for position, (label, ko) in enumerate(
                    zip(theory.options, theory.options_ko or (None,) * len(theory.options), strict=True)
                )
            ]
        )
        biggest = max(len(v.params) for v in (self.characters, self.news, self.theories, self.options))
        # the ids, the canon rows, and a few scalars (now, versions, stage) per statement
        self.chunk = max(1, min(_IDS_PER_STATEMENT, _MAX_VARIABLES - biggest - 8))

    def guild_rows(self, ids: Sequence[int]) -> tuple[str, list[Any]]:
        """The chunk's server rows: new ones are added, and one the bot had left is back
        (its ``left_at`` cleared, as :meth:`Guilds.seen` does)."""
        return (
            f"INSERT INTO guilds (guild_id, first_seen_at) VALUES {', '.join(['(?, ?)'] * len(ids))} "
            "ON CONFLICT (guild_id) DO UPDATE SET left_at = NULL WHERE guilds.left_at IS NOT NULL",
            [value for guild_id in ids for value in (guild_id, self.now)],
        )

    def statements(self, ids: Sequence[int], last_theory_id: int) -> list[tuple[str, list[Any]]]:
        """Everything but the final UPDATE, for one chunk of server ids whose rows exist;
        ``last_theory_id`` is the largest theory id before these statements."""
        behind = f"g.guild_id IN ({_marks(len(ids))}) AND g.canon_version < ?"
        where = [*ids, self.canon.version]

        def copy(table: str, v: _Values, key: str, made: str, made_by: str, *, ordered: bool) -> None:
            # Every canon row for every server behind; ``made`` columns get ``made_by`` values.
            out.append(
                (
                    f"INSERT INTO {table} (guild_id, {', '.join(v.columns)}, {made}) "
                    f"SELECT g.guild_id, {v.select()}, {made_by} "
                    f"FROM guilds AS g CROSS JOIN {v.sql} WHERE {behind} "
                    f"{'ORDER BY g.guild_id, v.column1 ' if ordered else ''}"
                    f"ON CONFLICT (guild_id, {key}) DO NOTHING",
                    [self.now, *v.params, *where],
                )
            )

        out: list[tuple[str, list[Any]]] = []
        if self.characters:  # not ordered: no id to give, the key is the character's id
            copy("characters", self.characters, "key", "updated_at, updated_by", "?, NULL", ordered=False)
        if self.news:
            copy("news", self.news, "seed_key", "created_at, created_by", "?, NULL", ordered=True)
        if self.theories:
            made = "status, created_at, created_by"
            copy("theories", self.theories, "seed_key", made, "'open', ?, NULL", ordered=True)
            # Options for the theories just added (ids above the largest before them), so
            # an existing poll never gets an option the canon added to it later.
            out.append(
                (
                    "INSERT INTO theory_options (theory_id, position, label, label_ko) "
                    f"SELECT t.id, v.column3, v.column4, v.column5 FROM theories AS t "
                    f"CROSS JOIN {self.options.sql} "
                    "WHERE t.id > ? AND v.column2 = t.seed_key "
                    "ON CONFLICT (theory_id, position) DO NOTHING",
                    [*self.options.params, last_theory_id],
                )
            )

        # A server seeded from an earlier canon: the canon's rows no admin has edited
        # take the canon's corrections (a character's statements, a news item's text and
        # sources, a theory's wording and spoiler level; never a poll's options).
        def refresh(table: str, v: _Values, key: str, columns: Sequence[str], untouched: str) -> None:
            sets = ", ".join(f"{c} = {v.column(c)}" for c in columns)
            out.append(
                (
                    f"UPDATE {table} SET {sets} FROM {v.sql}, guilds AS g "
                    f"WHERE {table}.guild_id = g.guild_id AND {behind} AND g.canon_version > 0 "
                    f"AND {table}.{key} = v.column{v.columns.index(key) + 2} AND {untouched}",
                    [*v.params, *where],
                )
            )

        if self.characters:
            columns = [c for c in self.characters.columns if c != "key"]
            refresh("characters", self.characters, "key", columns, "characters.updated_by IS NULL")
        if self.news:
            columns = [c for c in self.news.columns if c not in {"seed_key", "happened_on", "reported_on"}]
            edited = (
                "NOT EXISTS (SELECT 1 FROM audit AS a WHERE a.guild_id = news.guild_id "
                "AND a.action = 'news.update' AND a.target = CAST(news.id AS TEXT))"
            )
            refresh("news", self.news, "seed_key", columns, f"news.created_by IS NULL AND {edited}")
        if self.theories:
            columns = [c for c in self.theories.columns if c not in {"seed_key", "sealed", "closes_at"}]
            refresh("theories", self.theories, "seed_key", columns, "theories.created_by IS NULL")
            # An option's Korean label, where its English label is still the canon's.
            out.append(
                (
                    f"UPDATE theory_options SET label_ko = v.column5 FROM {self.options.sql}, "
                    "theories AS t, guilds AS g WHERE theory_options.theory_id = t.id "
                    f"AND t.guild_id = g.guild_id AND {behind} AND g.canon_version > 0 "
                    "AND t.created_by IS NULL AND t.seed_key = v.column2 "
                    "AND theory_options.position = v.column3 AND theory_options.label = v.column4",
                    [*self.options.params, *where],
                )
            )
        out.append(
            (
                "INSERT INTO release (guild_id, stage, updated_at) "
                f"SELECT g.guild_id, ?, ? FROM guilds AS g WHERE {behind} "
                "ON CONFLICT (guild_id) DO NOTHING",
                [Stage(self.canon.stage).value, self.now, *where],
            )
        )
        out.append(
            (
                "INSERT INTO guild_settings (guild_id, updated_at) "
                f"SELECT g.guild_id, ? FROM guilds AS g WHERE {behind} "
                "ON CONFLICT (guild_id) DO NOTHING",
                [self.now, *where],
            )
        )
        # Says which canon version the server was at, as record() would write it.
        out.append(
            (
                "INSERT INTO audit (guild_id, at, actor_id, action, target, old, new) "
                "SELECT g.guild_id, ?, NULL, 'canon.seed', ?, "
                "'{\"canon_version\": ' || g.canon_version || '}', ? "
                f"FROM guilds AS g WHERE {behind} ORDER BY g.guild_id",
                [
                    self.now,
                    f"canon v{self.canon.version}",
                    as_json({"canon_version": self.canon.version}),
                    *where,
                ],
            )
        )
        return out

    def finish(self, ids: Sequence[int]) -> tuple[str, list[Any]]:
        """Move the chunk's servers up to the canon's version; returns those that were behind."""
        return (
            "UPDATE guilds SET canon_version = ? "
            f"WHERE guild_id IN ({_marks(len(ids))}) AND canon_version < ? RETURNING guild_id",
            [self.canon.version, *ids, self.canon.version],
        )


class GuildQueries:
    def __init__(self, db: Db) -> None:
        self._db = db

    async def seen(self, guild_id: int) -> bool:
        """The bot is in this server: return True if it is new to the store.  A server
        the bot had left is simply back (its ``left_at`` is cleared)."""
        now = self._db.now()

        async def job(conn: Connection) -> bool:
            known = await fetch_value(
                conn,
                "UPDATE guilds SET left_at = NULL WHERE guild_id = ? RETURNING guild_id",
                (guild_id,),
            )
            if known is not None:
                return False
            await ensure_guild(conn, guild_id, now)
            return True

        return await self._db.write(job)

    async def left(self, guild_id: int) -> None:
        """The bot left (or was removed from) the server; its data goes at the next purge."""
        now = self._db.now()

        async def job(conn: Connection) -> None:
            await conn.execute(
                "UPDATE guilds SET left_at = ? WHERE guild_id = ? AND left_at IS NULL",
                (now, guild_id),
            )

        await self._db.write(job)

    async def left_at(self, guild_id: int) -> int | None:
        """When the bot left the server, or None (still there, or never met)."""
        value = await self._db.read_value("SELECT left_at FROM guilds WHERE guild_id = ?", (guild_id,))
        return None if value is None else int(value)

    async def seeded(self, canon_version: int) -> set[int]:
        """Servers already at ``canon_version`` that the bot has not left: at start-up
        these need neither :meth:`seen` nor :meth:`seed`."""
        rows = await self._db.read_all(
            "SELECT guild_id FROM guilds WHERE canon_version >= ? AND left_at IS NULL",
            (canon_version,),
        )
        return {int(row[0]) for row in rows}

    async def seed_many(self, guild_ids: Iterable[int], canon: Canon) -> list[int]:
        """The bot is in these servers: give each everything in the canon it does not
        have yet; return those that were behind the canon (and so were seeded), in the
        order given.

        One writer job, so all or nothing, whose number of statements does not grow with
        the number of servers (up to 5,000 servers a statement): the server rows, then
        one ``INSERT ... SELECT`` per table for all of them.  A restart adds nothing
        twice, and an admin's edit or removal of a seeded row is never overwritten or
        undone.  A server the bot had left is back, as with :meth:`seen`.
        """
        ids = list(dict.fromkeys(guild_ids))
        if not ids:
            return []
        now = self._db.now()
        # A poll whose window has passed is no question for a server seeded now.
        canon = canon.current(dt.datetime.fromtimestamp(now, dt.UTC).date().isoformat())
        plan = _SeedPlan(canon, now)  # checks the canon before anything is written

        ascending = sorted(ids)  # rows get their ids by server, whatever the chunks

        async def job(conn: Connection) -> set[int]:
            seeded: set[int] = set()  # their settings and characters change
            for start in range(0, len(ascending), plan.chunk):
                chunk = ascending[start : start + plan.chunk]
                await conn.execute(*plan.guild_rows(chunk))
                last_theory_id = await fetch_value(conn, "SELECT COALESCE(MAX(id), 0) FROM theories")
                for sql, params in plan.statements(chunk, int(last_theory_id)):
                    await conn.execute(sql, params)
                seeded.update(int(row[0]) for row in await fetch_all(conn, *plan.finish(chunk)))
            return seeded

        seeded = set(await self._db.write_servers(job))
        return [guild_id for guild_id in ids if guild_id in seeded]

    async def purge_left_before(self, ts: int) -> list[int]:
        """Delete every server the bot left before ``ts``, with all its rows (cascade)."""

        async def job(conn: Connection) -> list[int]:
            rows = await conn.execute_fetchall(
                "DELETE FROM guilds WHERE left_at IS NOT NULL AND left_at < ? RETURNING guild_id",
                (ts,),
            )
            return sorted(int(row[0]) for row in rows)

        return await self._db.write_servers(job)
