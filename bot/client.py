"""The bot: a ``commands.Bot`` wired to the store, the canon, the one scheduler, the one
announcer and the features under ``cogs/``."""

from __future__ import annotations

import asyncio
import json
import logging
import pkgutil
from typing import Any, Literal, cast

import aiohttp
import discord
from discord.ext import commands

import cogs
from bot import __version__
from bot.announce import Announcer
from bot.canon import load_canon
from bot.clock import Clock, SystemClock
from bot.config import Config
from bot.http import HealthServer, serve
from bot.i18n import Catalog, Texts, Translator, language_for
from bot.inflight import InFlight
from bot.metrics import Metrics
from bot.models import Canon
from bot.scheduler import Scheduler, owner_name
from bot.search import CharacterIndexes
from bot.seeding import Seeder
from bot.store import Store, StoreError, StoreOpenError, StoreUnavailable
from bot.tree import HalfbieTree

log = logging.getLogger(__name__)

SyncMode = Literal["auto", "force"]
# The scheduler's name for this process's claims: a restart under the same name takes its
# own unfinished jobs back at once (another process waits for their lease to expire).  A
# process running some of the bot's shards adds them (halfbie:0-3/16): see owner_name.
SCHEDULER_OWNER = "halfbie"
# Discord allows one IDENTIFY per max_concurrency bucket every 5 s, across all of a bot's
# processes; the half second more is for the way there (a turn is claimed, then sent).
IDENTIFY_SPACING = 5.5
# How long a process waits for another one syncing the commands before going on without.
SYNC_WAIT = 60.0


def find_extensions() -> list[str]:
    """Every extension under ``cogs/``: each top-level module or package not starting with ``_``."""
    return sorted(
        f"{cogs.__name__}.{module.name}"
        for module in pkgutil.iter_modules(cogs.__path__)
        if not module.name.startswith("_")
    )


class HalfbieBot(commands.AutoShardedBot):
    """The bot, for the shards in ``config.shards`` (sharing the database with the processes
    that run the others), or, when none are set, every shard Discord recommends.

    discord.py's ``AutoShardedBot`` with neither ``shard_ids`` nor ``shard_count`` asks
    Discord how many shards to run and runs them all, here; one shard is one connection,
    as a plain ``Bot``'s.
    """

    tree: HalfbieTree  # tree_cls below
    # Made in setup_hook, before any extension loads or any interaction is dispatched.
    store: Store
    canon: Canon
    seeder: Seeder
    scheduler: Scheduler
    announcer: Announcer
    # Health and metrics, when HALFBIE_HTTP is set (bot/http.py).
    metrics: Metrics | None = None
    health: HealthServer | None = None

    def __init__(
        self,
        config: Config,
        *,
        clock: Clock | None = None,
        sync: SyncMode = "auto",
        guild_ready_timeout: float = 2.0,
        identify_spacing: float = IDENTIFY_SPACING,
    ) -> None:
        # Halfbie has no voice features: no warnings about voice libraries at start.
        discord.VoiceClient.warn_nacl = False
        discord.VoiceClient.warn_dave = False
        intents = discord.Intents.none()
        intents.guilds = True  # servers, channels and roles; nothing privileged
        shards = config.shards
        # Interactions received and not answered yet: a stop answers them first.
        self.inflight = InFlight()
        super().__init__(
            command_prefix=commands.when_mentioned,
            http_trace=self.inflight.trace,  # tells InFlight when Discord accepted an answer
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
            # Both None (unset): discord.py asks Discord how many shards, and runs them all.
            # (discord.py types shard_ids as a list, and takes None as unset.)
            shard_ids=cast("list[int]", list(shards.ids) if shards is not None else None),
            shard_count=shards.count if shards is not None else None,
        )
        self.config = config
        self.identify_spacing = identify_spacing  # seconds between IDENTIFYs of one bucket
        self._identify_buckets: int | None = None  # Discord's max_concurrency, once asked
        self.clock: Clock = clock or SystemClock()
        self.sync_mode: SyncMode = sync
        self.started_at = self.clock.monotonic()
        self.version = __version__
        self.catalog = Catalog.load(self.tree)  # texts name commands as mentions
        self.indexes = CharacterIndexes()

    # -- start and stop ---------------------------------------------------------------------

    async def open_store(self) -> None:
        """Open the database (applying migrations); the command line does it before logging in,
        so a database problem stops the bot before it ever reaches Discord."""
        if getattr(self, "store", None) is None:
            self.store = await Store.open(self.config.database, clock=self.clock.now)
            log.info("Database %s at schema version %d", self.store.location, self.store.version)
            try:
                # Other processes' writes reach this one's caches, and wake its scheduler
                # when they concern its servers (a job scheduled elsewhere may be due here).
                await self.store.listen(self._changed_elsewhere)
            except StoreUnavailable as exc:
                raise StoreOpenError(f"cannot open the database at {self.store.location}: {exc}") from exc

    async def setup_hook(self) -> None:
        # Interactions can arrive before on_ready: everything they need is ready here.
        self.canon = load_canon()
        await self.open_store()
        self.seeder = Seeder(self.store, self.canon)
        await self.seeder.load()
        shards = self.config.shards
        if shards is not None:
            log.info("Running shards %s of %d", shards.ranges, shards.count)
        self.scheduler = Scheduler(
            self.store, self.clock, owner=owner_name(SCHEDULER_OWNER, shards), shards=shards
        )
        self.announcer = Announcer(self.store, self.catalog, self.get_guild)
        # Features register their job handlers as they load; the scheduler starts once the
        # gateway is ready (see on_ready), so a job that came due while the bot was down
        # finds its handler, and the servers and channels it posts to.
        for extension in find_extensions():
            await self.load_extension(extension)
        log.info("Loaded %d extensions", len(self.extensions))
        await self.tree.set_translator(Translator(self.catalog))
        await self.sync_commands(force=self.sync_mode == "force")
        self.health = await serve(self)  # HALFBIE_HTTP: health and metrics

    async def close(self) -> None:
        # The order matters: no more seeding (whoever waits for it is released) and no
        # new timed work, then the gateway (and every cog's cog_unload, which waits for
        # its own work in flight), then the store.  First of all, the interactions in flight
        # are answered (and new ones turned away), while the gateway and the store still run.
        await self.inflight.drain()
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
        health, self.health = self.health, None
        if health is not None:
            await health.close()

    # -- commands ---------------------------------------------------------------------------

    async def sync_commands(self, *, force: bool = False) -> bool:
        """Sync the command tree when it differs from the last one synced (or when forced).

        Once for the whole bot, however many processes start together: the sync runs
        under a lock in the database, and a process that had to wait for it looks at the
        hash of the last sync again, which the process before it has brought up to date.
        """
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
        async with self.store.coordination.exclusive(f"commands.sync.{target}", wait=SYNC_WAIT) as held:
            if not held or (not force and await self.store.meta.get(key) == digest):
                if held:
                    log.info("Commands synced to %s by another process meanwhile; not syncing", target)
                else:
                    log.warning("Another process is still syncing commands to %s; not syncing here", target)
                self.tree.learn(json.loads(await self.store.meta.get(ids_key) or "{}"))
                return False
            return await self._sync(guild, target, key, ids_key, digest)

    async def _sync(
        self, guild: discord.Object | None, target: str, key: str, ids_key: str, digest: str
    ) -> bool:
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

    # -- shards -----------------------------------------------------------------------------

    def _changed_elsewhere(self, guild_ids: tuple[int, ...]) -> None:
        scheduler = getattr(self, "scheduler", None)  # made in setup_hook, after the store
        if scheduler is not None and any(self.owns_guild(guild_id) for guild_id in guild_ids):
            scheduler.wake()

    def owns_guild(self, guild_id: int) -> bool:
        """Whether the server's events, interactions and timed jobs are this process's: its
        shard is one of ours (every server is, when this process runs every shard)."""
        shards = self.config.shards
        return shards is None or shards.owns(guild_id)

    async def before_identify_hook(self, shard_id: int | None, *, initial: bool = False) -> None:
        """Wait for this shard's turn to IDENTIFY (discord.py calls it before each one).

        With shards set, the turns are taken in the database: one IDENTIFY per bucket
        (``shard_id % max_concurrency``) every :attr:`identify_spacing` seconds, whichever
        process sends it, so processes started together never collide and a process
        restarted at once waits for the rest of its bucket's 5 s.  The wait is real time,
        as Discord's limit is.  Without shards set, discord.py paces its own shards.
        """
        if self.config.shards is None:
            await super().before_identify_hook(shard_id, initial=initial)
            return
        bucket = (shard_id or 0) % await self.identify_buckets()
        while True:
            try:
                wait = await self.store.coordination.take_identify_turn(bucket, self.identify_spacing)
            except StoreError as exc:
                log.warning(
                    "Could not take shard %s's turn to IDENTIFY in the database (%s); waiting %.1f s instead",
                    shard_id,
                    exc,
                    self.identify_spacing,
                )
                await asyncio.sleep(self.identify_spacing)
                return
            if wait <= 0:
                log.debug("Shard %s takes its turn to IDENTIFY (bucket %d)", shard_id, bucket)
                return
            log.debug("Shard %s waits %.2f s for its turn to IDENTIFY (bucket %d)", shard_id, wait, bucket)
            await asyncio.sleep(wait)

    async def identify_buckets(self) -> int:
        """Discord's ``max_concurrency``: how many IDENTIFYs may go together (one per bucket);
        asked once, from ``/gateway/bot``.  1 if Discord cannot be asked now."""
        if self._identify_buckets is None:
            try:
                limits = await self.fetch_session_start_limits()
            except (discord.DiscordException, aiohttp.ClientError, OSError, TimeoutError) as exc:
                log.warning("Could not ask Discord for max_concurrency (%s); taking 1", exc)
                return 1
            self._identify_buckets = max(1, int(limits.max_concurrency))
        return self._identify_buckets

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

    async def on_interaction(self, interaction: discord.Interaction) -> None:
        self.inflight.arrived(interaction)

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
    identify_spacing: float = IDENTIFY_SPACING,
) -> HalfbieBot:
    return HalfbieBot(
        config,
        clock=clock,
        sync=sync,
        guild_ready_timeout=guild_ready_timeout,
        identify_spacing=identify_spacing,
    )
