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
        self._seeded: set[int] = set()
        self._seeding: dict[int, asyncio.Task[None]] = {}

    # -- start and stop ---------------------------------------------------------------------

    async def setup_hook(self) -> None:
        # Interactions can arrive before on_ready: everything they need is ready here.
        self.canon = load_canon()
        self.store = await Store.open(self.settings.db_path, clock=self.clock.now)
        log.info("Database %s at schema version %d", self.settings.db_path, self.store.version)
        self._seeded = await self.store.guilds.seeded(self.canon.version)
        for extension in find_extensions():
            await self.load_extension(extension)
        log.info("Loaded %d extensions", len(self.extensions))
        await self.tree.set_translator(Translator(self.catalog))
        await self.sync_commands(force=self.sync_mode == "force")

    async def close(self) -> None:
        await super().close()
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

    async def seed_guild(self, guild_id: int) -> None:
        """Seed a server from the canon once; a known server costs nothing."""
        if guild_id in self._seeded:
            return
        try:
            if await self.store.guilds.seed(guild_id, self.canon):
                log.info("Seeded server %d from the canon (version %d)", guild_id, self.canon.version)
        except Exception:
            log.exception("Could not seed server %d; it will be tried again at the next start", guild_id)
            return
        self._seeded.add(guild_id)

    def _schedule_seed(self, guild_id: int) -> None:
        if guild_id in self._seeded or guild_id in self._seeding:
            return
        task = asyncio.create_task(self.seed_guild(guild_id), name=f"seed-{guild_id}")
        self._seeding[guild_id] = task
        task.add_done_callback(lambda _: self._seeding.pop(guild_id, None))

    async def ensure_seeded(self, guild_id: int) -> None:
        """Make sure a server's canon is committed before reading it.

        Interactions can arrive before discord.py dispatches ``on_guild_available``
        for their server; a command that reads the server's data waits here.
        """
        if guild_id in self._seeded:
            return
        self._schedule_seed(guild_id)
        task = self._seeding.get(guild_id)
        if task is not None:
            await asyncio.shield(task)

    async def seeding_done(self) -> None:
        """Wait until every seeding under way is committed."""
        while self._seeding:
            await asyncio.gather(*self._seeding.values(), return_exceptions=True)

    async def on_guild_available(self, guild: discord.Guild) -> None:
        # Servers the bot was already in, including ones joined while it was down.
        self._schedule_seed(guild.id)

    async def on_guild_join(self, guild: discord.Guild) -> None:
        self._schedule_seed(guild.id)

    async def on_guild_remove(self, guild: discord.Guild) -> None:
        # The data stays for a grace period (a mistaken kick loses nothing).
        self._seeded.discard(guild.id)
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
