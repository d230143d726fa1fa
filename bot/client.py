"""The bot: a ``commands.Bot`` wired to the store, the canon and the cogs."""

from __future__ import annotations

import asyncio
import logging
import pkgutil
from typing import Any, Literal, cast

import discord
from discord.ext import commands

import cogs
from bot import __version__
from bot.canon import load_canon
from bot.clock import Clock, SystemClock
from bot.config import Settings
from bot.i18n import Catalog, Texts, Translator, language_for
from bot.models import Canon
from bot.search import CharacterIndexes
from bot.store import Store
from bot.tree import HalfbieTree

log = logging.getLogger(__name__)

SyncMode = Literal["auto", "force"]


def find_extensions() -> list[str]:
    """Every extension under ``cogs/``: each top-level module or package not starting with ``_``."""
    return sorted(
        f"{cogs.__name__}.{module.name}"
        for module in pkgutil.iter_modules(cogs.__path__)
        if not module.name.startswith("_")
    )


class HalfbieBot(commands.Bot):
    store: Store
    canon: Canon

    def __init__(
        self,
        settings: Settings,
        *,
        clock: Clock | None = None,
        sync: SyncMode = "auto",
        guild_ready_timeout: float = 2.0,
    ) -> None:
        # Halfbie has no voice features: no warnings about voice libraries at start.
        discord.VoiceClient.warn_nacl = False
        discord.VoiceClient.warn_dave = False
        intents = discord.Intents.none()
        intents.guilds = True  # servers, channels and roles; nothing privileged
        super().__init__(
            command_prefix=commands.when_mentioned,
            help_command=None,
            tree_cls=HalfbieTree,
            intents=intents,
            allowed_mentions=discord.AllowedMentions.none(),
            member_cache_flags=discord.MemberCacheFlags.none(),
            chunk_guilds_at_startup=False,
            max_messages=None,
            owner_ids=set(settings.owner_ids) or None,
            # How long discord.py waits after the last GUILD_CREATE before on_ready.
            guild_ready_timeout=guild_ready_timeout,
        )
        self.settings = settings
        self.clock: Clock = clock or SystemClock()
        self.sync_mode: SyncMode = sync
        self.started_at = self.clock.monotonic()
        self.version = __version__
        self.catalog = Catalog.load()
        self.indexes = CharacterIndexes()
        # Seeding (see "servers" below): servers known to be at the canon's version, those
        # asked for and not yet handed to the store, and the batch the store is seeding.
        self._seeded: set[int] = set()
        self._seed_pending: set[int] = set()
        self._seed_next: asyncio.Future[None] | None = None  # done when the pending batch is
        self._seed_batch: frozenset[int] = frozenset()
        self._seed_batch_done: asyncio.Future[None] | None = None
        self._seed_removed: set[int] = set()  # servers left while their batch was seeding
        self._seeder: asyncio.Task[None] | None = None
        self._seeding_closed = False

    # -- start and stop ---------------------------------------------------------------------

    async def open_store(self) -> None:
        """Open the database (applying migrations); the command line does it before logging in,
        so a database problem stops the bot before it ever reaches Discord."""
        if getattr(self, "store", None) is None:
            self.store = await Store.open(self.settings.db_path, clock=self.clock.now)
            log.info("Database %s at schema version %d", self.settings.db_path, self.store.version)

    async def setup_hook(self) -> None:
        # Interactions can arrive before on_ready: everything they need is ready here.
        self.canon = load_canon()
        await self.open_store()
        self._seeded = await self.store.guilds.seeded(self.canon.version)
        for extension in find_extensions():
            await self.load_extension(extension)
        log.info("Loaded %d extensions", len(self.extensions))
        await self.tree.set_translator(Translator(self.catalog))
        await self.sync_commands(force=self.sync_mode == "force")

    async def close(self) -> None:
        await super().close()
        await self._stop_seeder()
        store = getattr(self, "store", None)
        if store is not None:
            await store.close()

    # -- commands ---------------------------------------------------------------------------

    async def sync_commands(self, *, force: bool = False) -> bool:
        """Sync the command tree when it differs from the last one synced (or when forced)."""
        guild = discord.Object(self.settings.dev_guild) if self.settings.dev_guild else None
        if guild is not None:
            self.tree.copy_global_to(guild=guild)
        target = f"guild:{guild.id}" if guild else "global"
        key = f"commands.hash.{target}"
        digest = await cast(HalfbieTree, self.tree).payload_hash(guild)
        if not force and await self.store.meta.get(key) == digest:
            log.info("Commands unchanged since the last sync (%s); not syncing", target)
            return False
        try:
            synced = await self.tree.sync(guild=guild)
        except discord.HTTPException as exc:
            log.error("Could not sync commands to %s: %s", target, exc)
            return False
        await self.store.meta.set(key, digest)
        log.info("Synced %d commands to %s", len(synced), target)
        return True

    # -- servers ----------------------------------------------------------------------------

    # Seeding coalesces like the store's group commit: every request adds its server to a
    # pending set, and one seeder task hands everything pending to one store.guilds.seed_many
    # call (a constant number of statements per batch), then takes what arrived meanwhile.

    def _request_seed(self, guild_id: int) -> asyncio.Future[None] | None:
        """Ask for the server to be seeded; return the future of the batch that will hold
        it (None when it is already seeded, or the bot is closing)."""
        if guild_id in self._seeded or self._seeding_closed:
            return None
        if guild_id in self._seed_batch and guild_id not in self._seed_removed:
            return self._seed_batch_done
        self._seed_pending.add(guild_id)
        if self._seed_next is None:
            self._seed_next = asyncio.get_running_loop().create_future()
        if self._seeder is None or self._seeder.done():
            self._seeder = asyncio.create_task(self._run_seeder(), name="halfbie-seeder")
            self._seeder.add_done_callback(self._seeder_stopped)
        return self._seed_next

    async def _run_seeder(self) -> None:
        while self._seed_next is not None:
            done, self._seed_next = self._seed_next, None
            batch, self._seed_pending = frozenset(self._seed_pending), set()
            self._seed_batch, self._seed_batch_done = batch, done
            try:
                if batch:
                    await self._seed_batch_now(batch)
            finally:
                self._seed_batch, self._seed_batch_done = frozenset(), None
                self._seed_removed.clear()
                if not done.done():
                    done.set_result(None)

    async def _seed_batch_now(self, batch: frozenset[int]) -> None:
        try:
            seeded = await self.store.guilds.seed_many(sorted(batch), self.canon)
        except Exception:
            # Left un-seeded: the next event or command for these servers tries again.
            log.exception("Could not seed %d servers from the canon; they will be tried again", len(batch))
            return
        self._seeded.update(batch - self._seed_removed)
        if seeded:
            log.info("Seeded %d servers from the canon (version %d)", len(seeded), self.canon.version)
            log.debug("Seeded servers: %s", seeded)

    def _seeder_stopped(self, task: asyncio.Task[None]) -> None:
        if not task.cancelled() and task.exception() is not None:
            log.error("The seeder stopped", exc_info=task.exception())

    async def _stop_seeder(self) -> None:
        """No more seeding: stop the seeder (a batch the store has started still commits)
        and release everyone waiting."""
        self._seeding_closed = True
        task = self._seeder
        if task is not None and not task.done():
            task.cancel()
            await asyncio.wait({task})
        for future in (self._seed_next, self._seed_batch_done):
            if future is not None and not future.done():
                future.set_result(None)
        self._seed_pending.clear()

    async def ensure_seeded(self, guild_id: int) -> None:
        """Make sure a server's canon is committed before reading it.

        Interactions can arrive before discord.py dispatches ``on_guild_available``
        for their server; a command that reads the server's data waits here for the
        batch that seeds it.  If that batch fails, the command goes on (the failure is
        logged, and the next request tries again).
        """
        if guild_id in self._seeded:
            return
        done = self._request_seed(guild_id)
        if done is not None:
            # shield: a cancelled command must not cancel the batch others wait for
            await asyncio.shield(done)

    async def seeding_done(self) -> None:
        """Wait until nothing is left to seed (every batch asked for is committed or failed)."""
        while (task := self._seeder) is not None and not task.done():
            await asyncio.wait({task})

    async def on_guild_available(self, guild: discord.Guild) -> None:
        # Servers the bot was already in, including ones joined while it was down.
        self._request_seed(guild.id)

    async def on_guild_join(self, guild: discord.Guild) -> None:
        self._request_seed(guild.id)

    async def on_guild_remove(self, guild: discord.Guild) -> None:
        # The data stays for a grace period (a mistaken kick loses nothing).  A seed not
        # yet handed to the store is dropped; one under way was queued before this
        # left(), so the writer commits the mark after it.
        self._seeded.discard(guild.id)
        self._seed_pending.discard(guild.id)
        if guild.id in self._seed_batch:
            self._seed_removed.add(guild.id)
        await self.store.guilds.left(guild.id)

    async def on_ready(self) -> None:
        log.info("Ready as %s in %d servers", self.user, len(self.guilds))

    async def on_error(self, event_method: str, /, *args: Any, **kwargs: Any) -> None:
        log.exception("Unhandled error in %s", event_method)

    async def texts(self, interaction: discord.Interaction) -> Texts:
        """The catalog in the language of this answer: the server's, or the member's client's."""
        setting = "auto"
        if interaction.guild_id is not None:
            setting = (await self.store.settings.get(interaction.guild_id)).language
        return Texts(self.catalog, language_for(setting, interaction.locale))

    @property
    def uptime(self) -> float:
        return self.clock.monotonic() - self.started_at


def create_bot(
    settings: Settings,
    *,
    clock: Clock | None = None,
    sync: SyncMode = "auto",
    guild_ready_timeout: float = 2.0,
) -> HalfbieBot:
    return HalfbieBot(settings, clock=clock, sync=sync, guild_ready_timeout=guild_ready_timeout)
