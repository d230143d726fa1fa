"""Housekeeping: a server's data outlives the bot's removal by 30 days, then goes.

A mistaken kick loses nothing: the server's rows stay while the bot is away, and come
back into use if the bot is added again within :data:`RETENTION`.  Once a day (and once
at start) :meth:`Housekeeping.run_due` deletes every server the bot left longer ago than
that.  Time comes from the bot's clock, so tests move a clock and call ``run_due``.

The bot marks a server left on ``on_guild_remove``; a server removed while the bot was
down sends nothing, and a server re-added while it was down arrives as an ordinary
available server: ``run_due`` squares the database with the servers the gateway
reports before it purges anything.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

import discord
from discord.ext import commands

from bot.client import HalfbieBot

log = logging.getLogger(__name__)

DAY = 86_400
RETENTION = 30 * DAY  # how long a server's data outlives the bot's removal
INTERVAL = DAY  # how often the purge runs (and once at start)


class Housekeeping(commands.Cog):
    def __init__(self, bot: HalfbieBot) -> None:
        self.bot = bot
        self._ready = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._running = asyncio.Lock()

    async def cog_load(self) -> None:
        self._task = asyncio.create_task(self._daily(), name="housekeeping")

    async def cog_unload(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _daily(self) -> None:
        # The first run waits for READY: only then does the bot know which servers it is in.
        await self._ready.wait()
        while True:
            try:
                await self.run_due()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("Housekeeping failed; it runs again in %d s", INTERVAL)
            await asyncio.sleep(INTERVAL)

    @commands.Cog.listener()
    async def on_ready(self) -> None:
        self._ready.set()

    # -- a server comes back ---------------------------------------------------------------

    async def _back(self, guild: discord.Guild) -> None:
        if await self.bot.store.guilds.left_at(guild.id) is not None:
            await self.bot.store.guilds.seen(guild.id)
            log.info("Back in server %d: its data is kept", guild.id)

    @commands.Cog.listener()
    async def on_guild_join(self, guild: discord.Guild) -> None:
        await self._back(guild)

    @commands.Cog.listener()
    async def on_guild_available(self, guild: discord.Guild) -> None:
        await self._back(guild)

    # -- the daily run ---------------------------------------------------------------------

    def _ours(self, guild_id: int) -> bool:
        """Whether this process's shards serve the server (all of them when unsharded)."""
        count = self.bot.shard_count or 1
        if count <= 1 or self.bot.shard_id is None:
            return True
        return (guild_id >> 22) % count == self.bot.shard_id

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

    async def run_due(self, now: float | None = None) -> list[int]:
        """Purge every server the bot left more than :data:`RETENTION` ago (by the bot's
        clock unless ``now`` is given); return their ids."""
        async with self._running:
            if self.bot.is_ready():
                await self.reconcile()
            when = self.bot.clock.now() if now is None else now
            purged = await self.bot.store.guilds.purge_left_before(int(when) - RETENTION)
        if purged:
            log.info("Purged %d servers left more than 30 days ago: %s", len(purged), purged)
        return purged


async def setup(bot: HalfbieBot) -> None:
    await bot.add_cog(Housekeeping(bot))
