"""Housekeeping: a server's data outlives the bot's removal by 30 days, then goes.

A mistaken kick loses nothing: the server's rows stay while the bot is away, and come
back into use if the bot is added again within :data:`RETENTION`.  The purge is a job of
the one scheduler: due once the bot is ready, then once a day, it deletes every server
the bot left longer ago than that.

The bot marks a server left on ``on_guild_remove``; a server removed while the bot was
down sends nothing, and a server re-added while it was down arrives as an ordinary
available server (seeding clears its mark): the purge squares the database with the
servers the gateway reports before it deletes anything.
"""

from __future__ import annotations

import logging

from discord.ext import commands

from bot.client import HalfbieBot
from bot.models import Job, JobKind, NewJob
from bot.scheduler import RetryLater

log = logging.getLogger(__name__)

DAY = 86_400
RETENTION = 30 * DAY  # how long a server's data outlives the bot's removal
INTERVAL = DAY  # how often the purge runs (and once at start)
PURGE_KEY = "daily"  # the one purge job


class Housekeeping(commands.Cog):
    def __init__(self, bot: HalfbieBot) -> None:
        self.bot = bot

    async def cog_load(self) -> None:
        self.bot.scheduler.register(JobKind.PURGE, self.purge)

    async def cog_unload(self) -> None:
        self.bot.scheduler.unregister(JobKind.PURGE)

    @commands.Cog.listener()
    async def on_ready(self) -> None:
        # Only now does the bot know which servers it is in: the purge runs at once.
        await self.bot.scheduler.add(NewJob(JobKind.PURGE, PURGE_KEY, int(self.bot.clock.now())))

    async def purge(self, job: Job) -> None:
        """Purge every server the bot left more than :data:`RETENTION` ago, then come back
        in a day (the next run is scheduled before this one counts as done)."""
        if not self.bot.is_ready():
            raise RetryLater(60, "waiting for the gateway to say which servers the bot is in")
        await self.reconcile()
        now = int(self.bot.clock.now())
        purged = await self.bot.store.guilds.purge_left_before(now - RETENTION)
        if purged:
            log.info("Purged %d servers left more than 30 days ago: %s", len(purged), purged)
        forgotten = await self.bot.store.jobs.forget_finished(now - RETENTION)
        if forgotten:
            log.info("Forgot %d jobs finished more than 30 days ago", forgotten)
        await self.bot.scheduler.add(NewJob(JobKind.PURGE, PURGE_KEY, now + INTERVAL))

    def _ours(self, guild_id: int) -> bool:
        """Whether this process's shards serve the server (all of them when unsharded): a
        server on another process's shard is not in this one's ``bot.guilds``, yet not gone."""
        return self.bot.owns_guild(guild_id)

    async def reconcile(self) -> tuple[list[int], list[int]]:
        """Mark left the servers the bot is no longer in (removed while it was down), and
        clear the mark of servers it is in again; return both lists.  Needs READY."""
        store = self.bot.store
        in_discord = {guild.id for guild in self.bot.guilds}
        in_store = await store.guilds.seeded(0)  # every server not marked left
        gone = sorted(g for g in in_store - in_discord if self._ours(g))
        back = [g for g in sorted(in_discord - in_store) if await store.guilds.left_at(g) is not None]
        for guild_id in gone:
            await store.guilds.left(guild_id)
        for guild_id in back:
            await store.guilds.seen(guild_id)
        if gone or back:
            log.info("Servers left while down: %s; back again: %s", gone, back)
        return gone, back
