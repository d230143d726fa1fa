"""The bot: a ``commands.Bot`` wired to the store, the canon, the one scheduler, the one
announcer and the features under ``cogs/``."""

from __future__ import annotations

import json
import logging
import pkgutil
from typing import Any, Literal

import discord
from discord.ext import commands

import cogs
from bot import __version__
from bot.announce import Announcer
from bot.canon import load_canon
from bot.clock import Clock, SystemClock
from bot.config import Config
from bot.i18n import Catalog, Texts, Translator, language_for
from bot.models import Canon
from bot.scheduler import Scheduler
from bot.search import CharacterIndexes
from bot.seeding import Seeder
from bot.store import Store
from bot.tree import HalfbieTree

log = logging.getLogger(__name__)

SyncMode = Literal["auto", "force"]
# The scheduler's name for this process's claims: a restart under the same name takes its
# own unfinished jobs back at once (another process waits for their lease to expire).
SCHEDULER_OWNER = "halfbie"


def find_extensions() -> list[str]:
    """Every extension under ``cogs/``: each top-level module or package not starting with ``_``."""
    return sorted(
        f"{cogs.__name__}.{module.name}"
        for module in pkgutil.iter_modules(cogs.__path__)
        if not module.name.startswith("_")
    )


class HalfbieBot(commands.Bot):
    tree: HalfbieTree  # tree_cls below
    # Made in setup_hook, before any extension loads or any interaction is dispatched.
    store: Store
    canon: Canon
    seeder: Seeder
    scheduler: Scheduler
    announcer: Announcer

    def __init__(
        self,
        config: Config,
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
            owner_ids=set(config.owner_ids) or None,
            # How long discord.py waits after the last GUILD_CREATE before on_ready.
            guild_ready_timeout=guild_ready_timeout,
        )
        self.config = config
        self.clock: Clock = clock or SystemClock()
        self.sync_mode: SyncMode = sync
        self.started_at = self.clock.monotonic()
        self.version = __version__
        self.catalog = Catalog.load()
        self.indexes = CharacterIndexes()

    # -- start and stop ---------------------------------------------------------------------

    async def open_store(self) -> None:
        """Open the database (applying migrations); the command line does it before logging in,
        so a database problem stops the bot before it ever reaches Discord."""
        if getattr(self, "store", None) is None:
            self.store = await Store.open(self.config.database, clock=self.clock.now)
            log.info("Database %s at schema version %d", self.store.location, self.store.version)

    async def setup_hook(self) -> None:
        # Interactions can arrive before on_ready: everything they need is ready here.
        self.canon = load_canon()
        await self.open_store()
        self.seeder = Seeder(self.store, self.canon)
        await self.seeder.load()
        self.scheduler = Scheduler(self.store, self.clock, owner=SCHEDULER_OWNER)
        self.announcer = Announcer(self.store, self.catalog, self.get_guild)
        # Features register their job handlers as they load; the scheduler starts once the
        # gateway is ready (see on_ready), so a job that came due while the bot was down
        # finds its handler, and the servers and channels it posts to.
        for extension in find_extensions():
            await self.load_extension(extension)
        log.info("Loaded %d extensions", len(self.extensions))
        await self.tree.set_translator(Translator(self.catalog))
        await self.sync_commands(force=self.sync_mode == "force")

    async def close(self) -> None:
        # The order matters: no more seeding (whoever waits for it is released) and no
        # new timed work, then the gateway (and every cog's cog_unload, which waits for
        # its own work in flight), then the store.
        seeder = getattr(self, "seeder", None)
        if seeder is not None:
            await seeder.close()
        scheduler = getattr(self, "scheduler", None)
        if scheduler is not None:
            await scheduler.stop()
        await super().close()
        store = getattr(self, "store", None)
        if store is not None:
            await store.close()

    # -- commands ---------------------------------------------------------------------------

    async def sync_commands(self, *, force: bool = False) -> bool:
        """Sync the command tree when it differs from the last one synced (or when forced)."""
        guild = discord.Object(self.config.dev_guild) if self.config.dev_guild else None
        if guild is not None:
            self.tree.copy_global_to(guild=guild)
        target = f"guild:{guild.id}" if guild else "global"
        key, ids_key = f"commands.hash.{target}", f"commands.ids.{target}"
        digest = await self.tree.payload_hash(guild)
        if not force and await self.store.meta.get(key) == digest:
            log.info("Commands unchanged since the last sync (%s); not syncing", target)
            self.tree.learn(json.loads(await self.store.meta.get(ids_key) or "{}"))
            return False
        try:
            synced = await self.tree.sync(guild=guild)
        except discord.HTTPException as exc:
            log.error("Could not sync commands to %s: %s", target, exc)
            return False
        # The ids make commands clickable in the bot's texts; kept for the next start.
        self.tree.learn({command.name: command.id for command in synced})
        await self.store.meta.set(ids_key, json.dumps(self.tree.ids))
        await self.store.meta.set(key, digest)
        log.info("Synced %d commands to %s", len(synced), target)
        return True

    # -- servers ----------------------------------------------------------------------------

    async def on_guild_available(self, guild: discord.Guild) -> None:
        # Servers the bot was already in, including ones joined while it was down.
        self.seeder.request(guild.id)

    async def on_guild_join(self, guild: discord.Guild) -> None:
        self.seeder.request(guild.id)

    async def on_guild_remove(self, guild: discord.Guild) -> None:
        # The data stays for a grace period (a mistaken kick loses nothing).
        self.seeder.forget(guild.id)
        await self.store.guilds.left(guild.id)

    async def on_ready(self) -> None:
        log.info("Ready as %s in %d servers", self.user, len(self.guilds))
        if not self.scheduler.started:  # on_ready comes again after a new session
            self.scheduler.start()

    async def on_error(self, event_method: str, /, *args: Any, **kwargs: Any) -> None:
        log.exception("Unhandled error in %s", event_method)

    async def texts(self, interaction: discord.Interaction) -> Texts:
        """The catalog in the language of this answer: the server's, or the member's client's."""
        if interaction.guild_id is None:
            return Texts(self.catalog, language_for("auto", interaction.locale))
        settings = await self.store.settings.get(interaction.guild_id)
        language = language_for(settings.language, interaction.locale)
        return Texts(self.catalog, language, settings.spoiler_mode)

    @property
    def uptime(self) -> float:
        return self.clock.monotonic() - self.started_at


def create_bot(
    config: Config,
    *,
    clock: Clock | None = None,
    sync: SyncMode = "auto",
    guild_ready_timeout: float = 2.0,
) -> HalfbieBot:
    return HalfbieBot(config, clock=clock, sync=sync, guild_ready_timeout=guild_ready_timeout)
