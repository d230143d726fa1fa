"""A new server gets the canon: the shared seed, over which its own edits lie.

Seeding coalesces like the store's group commit: every request adds its server to a
pending set, and one task hands everything pending to one ``store.guilds.seed_many``
call (a constant number of statements per batch), then takes what arrived meanwhile.
So a start-up that meets 10,000 servers seeds them in a handful of transactions, and a
command that arrives before its server's ``on_guild_available`` waits for the batch
that holds it instead of reading an empty server.

With the bot's shards spread over processes, each process seeds only the servers of its
own shards: their GUILD_CREATE and their interactions reach it alone, so no server is
seeded twice over.  Should two processes ever seed one server at once (while the shard
count changes, say), ``seed_many`` is safe: the second waits on the server's row, then
finds it at the canon's version and adds nothing.
"""

from __future__ import annotations

import asyncio
import logging

from bot.models import Canon
from bot.store import Store

log = logging.getLogger(__name__)


class Seeder:
    def __init__(self, store: Store, canon: Canon) -> None:
        self.store = store
        self.canon = canon
        self._seeded: set[int] = set()  # servers known to be at the canon's version
        self._pending: set[int] = set()  # asked for, not yet handed to the store
        self._next: asyncio.Future[None] | None = None  # done when the pending batch is
        self._batch: frozenset[int] = frozenset()  # the batch the store is seeding
        self._batch_done: asyncio.Future[None] | None = None
        self._removed: set[int] = set()  # servers left while their batch was seeding
        self._task: asyncio.Task[None] | None = None
        self._closed = False

    async def load(self) -> None:
        """Learn which servers are already at the canon's version (they need nothing)."""
        self._seeded = await self.store.guilds.seeded(self.canon.version)

    def request(self, guild_id: int) -> asyncio.Future[None] | None:
        """Ask for the server to be seeded; return the future of the batch that will hold
        it (None when it is already seeded, or the seeder is closed)."""
        if guild_id in self._seeded or self._closed:
            return None
        if guild_id in self._batch and guild_id not in self._removed:
            return self._batch_done
        self._pending.add(guild_id)
        if self._next is None:
            self._next = asyncio.get_running_loop().create_future()
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run(), name="halfbie-seeder")
            self._task.add_done_callback(self._stopped)
        return self._next

    async def ensure(self, guild_id: int) -> None:
        """Make sure a server's canon is committed before reading it.

        If the batch fails, the caller goes on (the failure is logged, and the next
        request tries again).
        """
        if guild_id in self._seeded:
            return
        done = self.request(guild_id)
        if done is not None:
            # shield: a cancelled command must not cancel the batch others wait for
            await asyncio.shield(done)

    def forget(self, guild_id: int) -> None:
        """The bot left the server: a seed not yet handed to the store is dropped; one under
        way was queued before the store marks the server left, so that mark lands after it."""
        self._seeded.discard(guild_id)
        self._pending.discard(guild_id)
        if guild_id in self._batch:
            self._removed.add(guild_id)

    async def idle(self) -> None:
        """Wait until nothing is left to seed (every batch asked for is committed or failed)."""
        while (task := self._task) is not None and not task.done():
            await asyncio.wait({task})

    async def close(self) -> None:
        """No more seeding: stop (a batch the store has started still commits) and release
        everyone waiting."""
        self._closed = True
        task = self._task
        if task is not None and not task.done():
            task.cancel()
            await asyncio.wait({task})
        for future in (self._next, self._batch_done):
            if future is not None and not future.done():
                future.set_result(None)
        self._pending.clear()

    async def _run(self) -> None:
        while self._next is not None:
            done, self._next = self._next, None
            batch, self._pending = frozenset(self._pending), set()
            self._batch, self._batch_done = batch, done
            try:
                if batch:
                    await self._seed(batch)
            finally:
                self._batch, self._batch_done = frozenset(), None
                self._removed.clear()
                if not done.done():
                    done.set_result(None)

    async def _seed(self, batch: frozenset[int]) -> None:
        try:
            seeded = await self.store.guilds.seed_many(sorted(batch), self.canon)
        except Exception:
            # Left un-seeded: the next event or command for these servers tries again.
            log.exception("Could not seed %d servers from the canon; they will be tried again", len(batch))
            return
        self._seeded.update(batch - self._removed)
        if seeded:
            log.info("Seeded %d servers from the canon (version %d)", len(seeded), self.canon.version)
            log.debug("Seeded servers: %s", seeded)

    def _stopped(self, task: asyncio.Task[None]) -> None:
        if not task.cancelled() and task.exception() is not None:
            log.error("The seeder stopped", exc_info=task.exception())
