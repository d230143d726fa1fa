"""FakeDiscord: the server object tests talk to."""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from aiohttp import web

from . import limits
from .gateway import (
    INTENT_DIRECT_MESSAGES,
    INTENT_GUILD_MESSAGES,
    PRIVILEGED_INTENTS,
    GatewayConnection,
    GatewaySession,
    IdentifyRecord,
)
from .interactions import (
    APPLICATION_COMMAND,
    AUTOCOMPLETE,
    MESSAGE_COMPONENT,
    MODAL_SUBMIT,
    FakeDiscordError,
    InteractionResult,
    OptionBuilder,
    Signal,
    base_payload,
    find_command,
    modal_submit_components,
    new_token,
    wrap_options,
)
from .permissions import ADMINISTRATOR_ROLE_PERMS, BOT_ROLE_DEFAULT
from .state import FakeChannel, FakeGuild, FakeMember, FakeMessage, FakeRole, FakeUser
from .util import SnowflakeGen

SITE_DIR = Path(__file__).resolve().parent / "site"
ENV_URL = "HALFBIE_FAKE_DISCORD_URL"
ENV_TOKEN = "HALFBIE_FAKE_DISCORD_TOKEN"

DEFAULT_PARSE_CHANNEL = ("users", "roles", "everyone")
DEFAULT_PARSE_INTERACTION = ("users",)


# Shaped like a real bot token (id.timestamp.hmac) so the bot's settings accept it.
FAKE_TOKEN = "MTAwMDAwMDAwMDAwMDAwMDAx.FakeDC.ZmFrZS1kaXNjb3JkLXRva2VuLW9mZmxpbmU"

# How long a channel post's nonce is remembered for ``enforce_nonce``.  Discord documents
# "the past few minutes"; 10 minutes covers any retry discord.py or a restarted bot makes.
NONCE_WINDOW = 10 * 60.0


class RequestRecord(tuple[str, str, Any]):
    """``(method, path, json)`` of one HTTP request the bot made; ``path`` has no ``/api/v10``
    prefix.  Extra attributes: ``status``, ``query``, ``at`` (monotonic time), ``files``."""

    status: int
    query: dict[str, str]
    at: float
    files: int

    def __new__(cls, method: str, path: str, body: Any) -> RequestRecord:
        rec = super().__new__(cls, (method, path, body))
        rec.status = 0
        rec.query = {}
        rec.at = time.monotonic()
        rec.files = 0
        return rec

    @property
    def method(self) -> str:
        return self[0]

    @property
    def path(self) -> str:
        return self[1]

    @property
    def json(self) -> Any:
        return self[2]


@dataclass
class FailRule:
    pattern: re.Pattern[str]
    status: int
    count: int
    retry_after: float
    is_global: bool
    hits: int = 0


class Hold:
    """Requests caught by :meth:`FakeDiscord.hold_requests`, waiting for :meth:`release`.

    ``stage="before"``: the request is not applied and not answered until released.
    ``stage="after"``: it is applied at once, only its answer waits.  The first ``count``
    requests matching ``pattern`` are caught; after that (or after :meth:`release`) the
    hold lets everything through.  A caught request whose client goes away (the bot is
    killed, or cancels the request) ends quietly; a "before" one is then never applied.
    """

    def __init__(self, pattern: re.Pattern[str], stage: Literal["before", "after"], count: int) -> None:
        self.pattern = pattern
        self.stage: Literal["before", "after"] = stage
        self.count = count
        self.held: list[RequestRecord] = []
        self.released = False
        self.dropped = False
        self._event = asyncio.Event()
        self._caught = Signal()

    def _catch(self, where: str, rec: RequestRecord) -> bool:
        if self.released or len(self.held) >= self.count or not self.pattern.search(where):
            return False
        self.held.append(rec)
        self._caught.pulse()
        return True

    async def wait(self, timeout: float = 5.0) -> list[RequestRecord]:  # noqa: ASYNC109
        """Return (the held records) once ``count`` matching requests have been caught."""
        what = (
            f"{self.count} request(s) matching {self.pattern.pattern!r} to be held ({len(self.held)} so far)"
        )
        try:
            await self._caught.wait_until(lambda: len(self.held) >= self.count, timeout, what)
        except TimeoutError as exc:
            raise AssertionError(str(exc)) from None
        return list(self.held)

    def release(self) -> None:
        """Answer the held requests normally (a "before" one is applied first) and stop
        catching new ones."""
        self.released = True
        self._event.set()

    def _drop(self) -> None:
        """The fake is closing: end held requests without applying or answering them."""
        self.dropped = True
        self.release()

    def __repr__(self) -> str:
        state = "dropped" if self.dropped else "released" if self.released else "holding"
        return f"<Hold {self.stage} {self.pattern.pattern!r} {len(self.held)}/{self.count} {state}>"


@dataclass
class RateRule:
    pattern: re.Pattern[str]
    limit: int
    per: float
    name: str
    windows: dict[str, tuple[float, int]] = field(default_factory=dict)


class FakeDiscord:
    """A local Discord (HTTP API + gateway) for discord.py.  See the package docstring."""

    def __init__(
        self,
        token: str = FAKE_TOKEN,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        interaction_deadline: float = 3.0,
        realistic_rate_limits: bool = False,
        bot_name: str = "Halfbie",
    ) -> None:
        self.token = token
        self.host = host
        self.port = port
        self.snowflakes = SnowflakeGen()
        self.application_id = self.snowflakes.next()
        self.bot_user_id = self.application_id
        self.bot_user = FakeUser(self.bot_user_id, bot_name, bot=True)
        self.app_owner = FakeUser(self.snowflakes.next(), "halfbie-dev")
        self.application_flags = 1 << 23 | 1 << 19 | 1 << 15  # intents enabled (limited)
        self.url = ""
        self.gateway_url = ""
        self.interaction_deadline = interaction_deadline
        self.followup_window = 15 * 60.0
        self.nonce_window = NONCE_WINDOW
        self.heartbeat_interval_ms = 41250
        self.recommended_shards = 1
        # IDENTIFY pacing (gateway.py): /gateway/bot's max_concurrency, and the window one
        # bucket (shard_id % max_concurrency) waits between IDENTIFYs.  0: not enforced (a
        # test that checks pacing sets it; Discord's is gateway.IDENTIFY_WINDOW, 5 s).
        self.max_concurrency = 1
        self.identify_window = 0.0
        self.allowed_privileged_intents = PRIVILEGED_INTENTS
        self.allow_resume = True

        # world
        self.users: dict[int, FakeUser] = {
            self.bot_user.id: self.bot_user,
            self.app_owner.id: self.app_owner,
        }
        self.guilds: dict[int, FakeGuild] = {}
        self.channels: dict[int, FakeChannel] = {}
        self.messages: dict[int, FakeMessage] = {}
        self.dm_channels: dict[int, FakeChannel] = {}  # by recipient user id
        self._channel_messages: dict[int, list[FakeMessage]] = {}
        # (channel id, author id) -> nonce (as text) -> (monotonic time, message), oldest first
        self._nonces: dict[tuple[int, int], dict[str, tuple[float, FakeMessage]]] = {}
        self._user_counter = 0

        # commands
        self._global_commands: list[dict[str, Any]] = []
        self._guild_commands: dict[int, list[dict[str, Any]]] = {}
        self.sync_count = 0
        self.command_version = 0

        # interactions
        self.interactions: dict[int, InteractionResult] = {}
        self._by_token: dict[str, InteractionResult] = {}
        self.modals: dict[str, dict[str, Any]] = {}
        self.modal_openers: dict[str, InteractionResult] = {}
        self._msg_watchers: dict[int, set[InteractionResult]] = {}
        self._msg_signals: dict[int, Signal] = {}
        self._channel_signals: dict[int, Signal] = {}

        # records
        self.requests: list[RequestRecord] = []
        self.violations: list[str] = []
        self.http_errors: list[str] = []
        self.allowed_pings: set[str] = set()
        self.forbid_user_pings = False

        # gateway
        self.identified = asyncio.Event()
        self.ready = asyncio.Event()
        self.identify_times: list[float] = []
        self.identify_payloads: list[dict[str, Any]] = []
        self.identify_failures = 0
        self.identify_log: list[IdentifyRecord] = []  # every IDENTIFY, accepted or refused
        self.identify_rejections = 0  # refused as too soon in their bucket (op 9)
        self._bucket_identified: dict[int, float] = {}  # bucket -> its last accepted IDENTIFY
        self.intents: int | None = None
        self.resume_count = 0
        self.replayed_events = 0
        self.gateway_queries: list[dict[str, str]] = []
        self.gateway_ops_received: list[int] = []
        self._resumed_event = asyncio.Event()
        self._sessions: dict[str, GatewaySession] = {}
        self._shard_sessions: dict[tuple[int, int], GatewaySession] = {}
        self._ready_shards: set[tuple[int, int]] = set()
        self._gateway_connections: set[GatewayConnection] = set()

        # faults
        self._fail_rules: list[FailRule] = []
        self._rate_rules: list[RateRule] = []
        self._holds: list[Hold] = []
        if realistic_rate_limits:
            self.rate_limit(r"^POST /channels/\d+/messages$", 5, 5.0)
            self.rate_limit(r"^PATCH /channels/\d+/messages/\d+$", 5, 5.0)
            self.rate_limit(r"^(PUT|DELETE) /guilds/\d+/members/\d+/roles/\d+$", 10, 10.0)

        self._runner: web.AppRunner | None = None
        self._patch_saved: list[tuple[Any, str, Any]] = []

    # ================================================================ lifecycle

    async def start(self) -> FakeDiscord:
        from .http_api import build_app

        app = build_app(self)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port, backlog=4096)
        await site.start()
        addr = self._runner.addresses[0]
        self.port = int(addr[1])
        self.url = f"http://{self.host}:{self.port}"
        self.gateway_url = f"ws://{self.host}:{self.port}/gateway"
        return self

    async def close(self) -> None:
        """Stop serving.  Requests still held by :meth:`hold_requests` are dropped: a
        "before" one is never applied, and their connections close without an answer."""
        for hold in self._holds:
            hold._drop()
        for conn in list(self._gateway_connections):
            await conn.close(1001)
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeDiscord:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    @property
    def api_base(self) -> str:
        return f"{self.url}/api/v10"

    @contextlib.contextmanager
    def patched(self) -> Iterator[FakeDiscord]:
        """Point discord.py at the fake (``Route.BASE`` and ``DEFAULT_GATEWAY``); restore after."""
        import discord.gateway
        import discord.http
        import yarl

        saved = [
            (discord.http.Route, "BASE", discord.http.Route.BASE),
            (
                discord.gateway.DiscordWebSocket,
                "DEFAULT_GATEWAY",
                discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY,
            ),
        ]
        discord.http.Route.BASE = self.api_base
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(self.gateway_url)
        try:
            yield self
        finally:
            for obj, name, value in saved:
                setattr(obj, name, value)

    def env(self, *, inherit: bool = True) -> dict[str, str]:
        """Environment for a subprocess bot: ``PYTHONPATH`` gets the fake's ``site`` directory
        (its ``sitecustomize`` patches discord.py at start) and ``HALFBIE_FAKE_DISCORD_URL`` is
        set.  With ``inherit`` (default) the current environment is included."""
        existing = os.environ.get("PYTHONPATH", "")
        pythonpath = str(SITE_DIR) + (os.pathsep + existing if existing else "")
        extra = {"PYTHONPATH": pythonpath, ENV_URL: self.url, ENV_TOKEN: self.token}
        if not inherit:
            return extra
        env = dict(os.environ)
        env.update(extra)
        return env

    async def wait_ready(self, timeout: float = 10.0) -> None:  # noqa: ASYNC109
        """Wait until READY and every GUILD_CREATE have been written to the bot's socket."""
        await asyncio.wait_for(self.ready.wait(), timeout)

    async def wait_identified(self, timeout: float = 10.0) -> None:  # noqa: ASYNC109
        await asyncio.wait_for(self.identified.wait(), timeout)

    async def wait_resumed(self, timeout: float = 10.0) -> None:  # noqa: ASYNC109
        await asyncio.wait_for(self._resumed_event.wait(), timeout)

    def identified_at(self, shard_id: int) -> list[float]:
        """When each accepted IDENTIFY of the shard came (``time.monotonic()``), oldest first."""
        return [r.at for r in self.identify_log if r.accepted and r.shard_id == shard_id]

    def _all_shards_ready(self) -> bool:
        counts = {s[1] for s in self._shard_sessions}
        if not counts:
            return False
        count = max(counts)
        return all((i, count) in self._ready_shards for i in range(count))

    # ================================================================ world building

    def _new_user(self, name: str, *, bot: bool = False, locale: str = "en-US") -> FakeUser:
        user = FakeUser(self.snowflakes.next(), name, bot=bot, global_name=name, locale=locale)
        self.users[user.id] = user
        return user

    def add_guild(
        self,
        name: str = "AoUAD Fans",
        *,
        locale: str = "en-US",
        owner_name: str = "owner",
        members: int = 0,
    ) -> FakeGuild:
        """A server with @everyone, the bot's "Halfbie" role (middle of the list), an "Admin"
        role (ADMINISTRATOR, held by the owner) above it, a #general text channel, the owner
        and the bot as members, plus ``members`` plain members.  Sent live (GUILD_CREATE, like
        a join) when the bot is already connected."""
        guild = FakeGuild(self, self.snowflakes.next(spread=True), name, locale=locale)
        guild.bot_role = FakeRole(
            self.snowflakes.next(),
            guild,
            self.bot_user.username,
            BOT_ROLE_DEFAULT,
            managed=True,
            bot_id=self.bot_user_id,
        )
        guild.admin_role = FakeRole(
            self.snowflakes.next(), guild, "Admin", ADMINISTRATOR_ROLE_PERMS, hoist=True
        )
        guild.roles += [guild.bot_role, guild.admin_role]
        guild._renumber()
        owner_user = self._new_user(owner_name)
        guild.owner = FakeMember(owner_user, guild, [guild.admin_role])
        guild.owner_id = owner_user.id
        guild._members[owner_user.id] = guild.owner
        guild.bot_member = FakeMember(self.bot_user, guild, [guild.bot_role])
        guild._members[self.bot_user_id] = guild.bot_member
        guild.general = FakeChannel(self.snowflakes.next(), guild, "general", position=0)
        guild.channels.append(guild.general)
        self.channels[guild.general.id] = guild.general
        for i in range(members):
            guild.add_member(f"member{i + 1}")
        self.guilds[guild.id] = guild
        session = self._session_for(guild.id)
        if session is not None:
            guild.live = True
            session.dispatch("GUILD_CREATE", guild.payload(joined=True))
        return guild

    def add_guilds(self, n: int, *, members: int = 0, prefix: str = "Guild") -> list[FakeGuild]:
        return [self.add_guild(f"{prefix} {i + 1}", members=members) for i in range(n)]

    def remove_guild(self, guild: FakeGuild) -> None:
        """The bot is removed from the server (GUILD_DELETE without ``unavailable``)."""
        self.guilds.pop(guild.id, None)
        for ch in guild.channels:
            self.channels.pop(ch.id, None)
        self._guild_commands.pop(guild.id, None)
        if guild.live:
            self._guild_event(guild, "GUILD_DELETE", {"id": str(guild.id)})
        guild.live = False

    @property
    def member_count(self) -> int:
        return sum(g.member_count for g in self.guilds.values())

    # ================================================================ gateway helpers

    def _session_for(self, guild_id: int | None) -> GatewaySession | None:
        for shard, s in self._shard_sessions.items():
            if s.invalidated:
                continue
            if guild_id is None or s.owns_guild(guild_id) or shard[1] <= 1:
                return s
        return None

    def _guild_event(self, guild: FakeGuild, event: str, data: Any, *, intent: int = 0) -> None:
        session = self._session_for(guild.id)
        if session is None:
            return
        if intent and not session.intents & intent:
            return
        session.dispatch(event, data)

    def dispatch_event(self, event: str, data: Any, *, guild: FakeGuild | None = None) -> None:
        """Send any gateway event (for tests of events the fake does not model)."""
        session = self._session_for(guild.id if guild else None)
        if session is None:
            raise FakeDiscordError("the bot is not connected to the gateway")
        session.dispatch(event, data)

    async def barrier(self, timeout: float = 5.0) -> None:  # noqa: ASYNC109
        """Wait until the bot has *parsed* every event sent so far (its caches are up to
        date; event handlers it spawned may still run).  Sends op 1 HEARTBEAT, which
        discord.py answers at once with its last sequence number."""
        waits = []
        for session in list(self._shard_sessions.values()):
            conn = session.conn
            if conn is None or conn.closed or session.invalidated:
                continue
            fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            conn.barriers.append((session.seq, fut))
            conn.send_op(1, None)
            waits.append(fut)
        if waits:
            await asyncio.wait_for(asyncio.gather(*waits), timeout)

    async def drop_gateway(self, code: int = 4000) -> None:
        """Close the bot's gateway socket(s) with a resumable close code: discord.py
        reconnects and RESUMEs; events dispatched meanwhile are replayed."""
        self._resumed_event.clear()
        for conn in list(self._gateway_connections):
            await conn.close(code)

    async def send_reconnect(self) -> None:
        """Op 7 RECONNECT: Discord asks the client to reconnect and resume."""
        self._resumed_event.clear()
        for conn in list(self._gateway_connections):
            conn.send_op(7, None)

    async def invalidate_session(self) -> None:
        """Op 9 INVALID_SESSION (not resumable): the bot must IDENTIFY again."""
        for s in list(self._shard_sessions.values()):
            s.invalidated = True
        self.identified.clear()
        self.ready.clear()
        for conn in list(self._gateway_connections):
            conn.send_op(9, False)

    # ================================================================ commands

    def synced_commands(self, guild: FakeGuild | int | None = None) -> list[dict[str, Any]]:
        """The command payloads last PUT (global, or for ``guild``), with their ids."""
        if guild is None:
            return list(self._global_commands)
        gid = guild if isinstance(guild, int) else guild.id
        return list(self._guild_commands.get(gid, []))

    def set_commands(
        self, commands: Sequence[Mapping[str, Any]], guild: FakeGuild | None = None
    ) -> list[dict[str, Any]]:
        """Preload commands as if synced in an earlier run (Discord keeps them)."""
        stored = [self._store_command(c, guild.id if guild else None) for c in commands]
        if guild is None:
            self._global_commands = stored
        else:
            self._guild_commands[guild.id] = stored
        return stored

    def _store_command(
        self,
        cmd: Mapping[str, Any],
        guild_id: int | None,
        existing: Sequence[Mapping[str, Any]] = (),
    ) -> dict[str, Any]:
        self.command_version += 1
        prev = next(
            (
                c
                for c in existing
                if c.get("name") == cmd.get("name") and c.get("type", 1) == cmd.get("type", 1)
            ),
            None,
        )
        out: dict[str, Any] = {
            "id": prev["id"] if prev else str(self.snowflakes.next()),
            "application_id": str(self.application_id),
            "version": str(self.snowflakes.next()),
            "type": cmd.get("type", 1),
            "name": cmd.get("name"),
            "name_localizations": cmd.get("name_localizations"),
            "description": cmd.get("description", ""),
            "description_localizations": cmd.get("description_localizations"),
            "options": cmd.get("options") or [],
            "default_member_permissions": cmd.get("default_member_permissions"),
            "dm_permission": cmd.get("dm_permission", True),
            "contexts": cmd.get("contexts"),
            "integration_types": cmd.get("integration_types", [0]),
            "nsfw": cmd.get("nsfw", False),
        }
        if guild_id is not None:
            out["guild_id"] = str(guild_id)
        return out

    # ================================================================ messages

    def messages_in(self, channel: FakeChannel | int, *, include_deleted: bool = False) -> list[FakeMessage]:
        cid = channel if isinstance(channel, int) else channel.id
        msgs = self._channel_messages.get(cid, [])
        return [m for m in msgs if include_deleted or not m.deleted]

    def _channel_signal(self, cid: int) -> Signal:
        sig = self._channel_signals.get(cid)
        if sig is None:
            sig = self._channel_signals[cid] = Signal()
        return sig

    def _msg_signal(self, mid: int) -> Signal:
        sig = self._msg_signals.get(mid)
        if sig is None:
            sig = self._msg_signals[mid] = Signal()
        return sig

    async def wait_for_message(
        self,
        channel: FakeChannel | int,
        predicate: Callable[[FakeMessage], bool] | None = None,
        timeout: float = 5.0,  # noqa: ASYNC109
        *,
        after: int = 0,
    ) -> FakeMessage:
        """The first (non-deleted) channel message matching ``predicate`` - including ones
        already there; pass ``after=len(fake.messages_in(ch))`` to only see new ones."""
        cid = channel if isinstance(channel, int) else channel.id
        found: list[FakeMessage] = []

        def check() -> bool:
            for m in self._channel_messages.get(cid, [])[after:]:
                if not m.deleted and (predicate is None or predicate(m)):
                    found.append(m)
                    return True
            return False

        await self._channel_signal(cid).wait_until(check, timeout, f"a message in channel {cid}")
        return found[0]

    async def wait_for_edit(
        self,
        message: FakeMessage,
        count: int = 1,
        timeout: float = 5.0,  # noqa: ASYNC109
    ) -> FakeMessage:
        """Wait until ``message`` has been edited at least ``count`` times in all."""
        await self._msg_signal(message.id).wait_until(
            lambda: message.edits >= count,
            timeout,
            f"{count} edit(s) of message {message.id} (has {message.edits})",
        )
        return message

    def _message_payload(self, msg: FakeMessage, *, with_nonce: bool = False) -> dict[str, Any]:
        mentions = []
        for p in sorted(msg.pinged):
            if p.startswith("user:"):
                u = self.users.get(int(p[5:]))
                if u is not None:
                    mentions.append(u.payload())
        return msg.payload(mentions=mentions, with_nonce=with_nonce)

    def _gateway_message_payload(self, msg: FakeMessage, *, with_nonce: bool = False) -> dict[str, Any]:
        data = self._message_payload(msg, with_nonce=with_nonce)
        if msg.guild_id is not None:
            data["guild_id"] = str(msg.guild_id)
            guild = self.guilds.get(msg.guild_id)
            member = guild.get_member(msg.author_id) if guild else None
            if member is not None and msg.webhook_id is None:
                data["member"] = member.payload(with_user=False)
        return data

    def _compute_pings(
        self,
        msg: FakeMessage,
        data: Mapping[str, Any],
        *,
        default_parse: Iterable[str],
    ) -> set[str]:
        if msg.ephemeral:
            return set()
        guild = self.guilds.get(msg.guild_id) if msg.guild_id else None
        reply_user = None
        ref = msg.message_reference
        if ref and ref.get("message_id"):
            ref_msg = self.messages.get(int(ref["message_id"]))
            if ref_msg is not None and ref_msg.author_id != self.bot_user_id:
                reply_user = ref_msg.author_id
        # An edit without allowed_mentions keeps the message's earlier ones (already merged
        # into msg.allowed_mentions by FakeMessage._apply).
        return limits.compute_pings(
            limits.message_texts({"content": msg.content, "components": msg.components}),
            msg.allowed_mentions,
            default_parse=default_parse,
            guild_id=guild.id if guild else None,
            role_ids=guild.role_ids if guild else set(),
            reply_user_id=reply_user,
        )

    def _check_pings(self, where: str, msg: FakeMessage, invoker_id: int | None) -> None:
        for p in sorted(msg.pinged):
            if p in self.allowed_pings:
                continue
            if p == "everyone" or p.startswith("role:"):
                what = "@everyone/@here" if p == "everyone" else f"role {p[5:]}"
                self._violation(
                    f"{where}: message {msg.id} would ping {what} "
                    f"(allowed_pings={sorted(self.allowed_pings)})"
                )
            elif self.forbid_user_pings and p != f"user:{invoker_id}":
                self._violation(f"{where}: message {msg.id} would ping {p}")

    def _create_message(
        self,
        where: str,
        *,
        channel_id: int,
        guild_id: int | None,
        data: dict[str, Any],
        flags: int = 0,
        msg_type: int = 0,
        interaction: InteractionResult | None = None,
        attachments: list[dict[str, Any]] | None = None,
        nonce: str | int | None = None,
    ) -> FakeMessage:
        msg = FakeMessage(
            message_id=self.snowflakes.next(),
            channel_id=channel_id,
            guild_id=guild_id,
            author=self.bot_user,
            data=data,
            flags=flags,
            msg_type=msg_type,
            webhook_id=self.application_id if interaction is not None else None,
            application_id=self.application_id if interaction is not None else None,
            interaction_id=interaction.id if interaction is not None else None,
            interaction_metadata=self._interaction_metadata(interaction),
            attachments=attachments,
            nonce=nonce,
        )
        msg.flags = flags
        default_parse = DEFAULT_PARSE_INTERACTION if interaction is not None else DEFAULT_PARSE_CHANNEL
        msg.pinged = self._compute_pings(msg, data, default_parse=default_parse)
        self._check_pings(where, msg, interaction.member.id if interaction and interaction.member else None)
        self.messages[msg.id] = msg
        if nonce is not None:
            self._remember_nonce(msg, nonce)
        if not msg.ephemeral:
            self._channel_messages.setdefault(channel_id, []).append(msg)
            ch = self.channels.get(channel_id)
            if ch is not None:
                ch.last_message_id = msg.id
            self._message_event("MESSAGE_CREATE", msg)
        self._channel_signal(channel_id).pulse()
        return msg

    def _nonces_of(self, channel_id: int, author_id: int) -> dict[str, tuple[float, FakeMessage]]:
        """The live nonces of one author in one channel; forgets those past ``nonce_window``
        (entries are in creation order, so only the front needs looking at)."""
        seen = self._nonces.setdefault((channel_id, author_id), {})
        horizon = time.monotonic() - self.nonce_window
        while seen:
            key, (at, _) = next(iter(seen.items()))
            if at > horizon:
                break
            del seen[key]
        return seen

    def _remember_nonce(self, msg: FakeMessage, nonce: str | int) -> None:
        seen = self._nonces_of(msg.channel_id, msg.author_id)
        key = str(nonce)
        seen.pop(key, None)  # re-inserted at the end: the dict stays in creation order
        seen[key] = (time.monotonic(), msg)

    def _message_for_nonce(self, channel_id: int, author_id: int, nonce: str | int) -> FakeMessage | None:
        """The message this author created in this channel with ``nonce`` within
        ``nonce_window``, if it still exists.  Nonces compare as text: 123 and "123" are one
        nonce (discord.py always sends ``str(nonce)``)."""
        found = self._nonces_of(channel_id, author_id).get(str(nonce))
        if found is None or found[1].deleted:
            return None
        return found[1]

    def _interaction_metadata(self, r: InteractionResult | None) -> dict[str, Any] | None:
        if r is None:
            return None
        meta: dict[str, Any] = {
            "id": str(r.id),
            "type": r.kind,
            "user": r.member.user.payload() if r.member else self.bot_user.payload(),
            "authorizing_integration_owners": {"0": str(r.guild.id)} if r.guild else {},
        }
        if r.kind == APPLICATION_COMMAND and r.command_name:
            meta["name"] = r.command_name
            meta["command_type"] = 1
        if r.source_message is not None:
            meta["interacted_message_id"] = str(r.source_message.id)
        return meta

    def _edit_message(
        self,
        where: str,
        msg: FakeMessage,
        data: dict[str, Any],
        *,
        interaction: InteractionResult | None = None,
        finish_loading: bool = False,
    ) -> FakeMessage:
        was_loading = msg.loading
        msg._edit(data)
        if finish_loading or was_loading:
            msg.flags &= ~limits.FLAG_LOADING
        default_parse = DEFAULT_PARSE_INTERACTION if msg.webhook_id is not None else DEFAULT_PARSE_CHANNEL
        if "content" in data or "allowed_mentions" in data or "components" in data:
            msg.pinged = self._compute_pings(msg, data, default_parse=default_parse)
            invoker = interaction.member.id if interaction and interaction.member else None
            self._check_pings(where, msg, invoker)
        if not msg.ephemeral:
            self._message_event("MESSAGE_UPDATE", msg)
        self._touch_message(msg)
        return msg

    def _delete_message(self, msg: FakeMessage) -> None:
        msg.deleted = True
        if not msg.ephemeral:
            data: dict[str, Any] = {"id": str(msg.id), "channel_id": str(msg.channel_id)}
            if msg.guild_id:
                data["guild_id"] = str(msg.guild_id)
            self._message_event("MESSAGE_DELETE", msg, data)
        self._touch_message(msg)

    def _touch_message(self, msg: FakeMessage) -> None:
        sig = self._msg_signals.get(msg.id)
        if sig is not None:
            sig.pulse()
        for r in self._msg_watchers.get(msg.id, ()):
            r.signal.pulse()
        self._channel_signal(msg.channel_id).pulse()

    def _watch(self, r: InteractionResult, msg_id: int) -> None:
        self._msg_watchers.setdefault(msg_id, set()).add(r)

    def _message_event(self, event: str, msg: FakeMessage, data: dict[str, Any] | None = None) -> None:
        session = self._session_for(msg.guild_id)
        intent = INTENT_GUILD_MESSAGES if msg.guild_id is not None else INTENT_DIRECT_MESSAGES
        if session is None or not session.intents & intent:
            return
        if data is None:
            data = self._gateway_message_payload(msg, with_nonce=event == "MESSAGE_CREATE")
        session.dispatch(event, data)

    # ================================================================ violations

    def _violation(self, text: str) -> None:
        self.violations.append(text)

    def take_violations(self) -> list[str]:
        """Return and clear the recorded violations (for tests that provoke them)."""
        out = list(self.violations)
        self.violations.clear()
        return out

    # ================================================================ faults

    def fail_requests(
        self,
        pattern: str,
        status: int = 429,
        count: int = 1,
        retry_after: float = 0.05,
        *,
        is_global: bool = False,
    ) -> FailRule:
        """Make the next ``count`` requests whose ``"METHOD /path"`` (no ``/api/v10``) matches
        the regex ``pattern`` fail with ``status`` (429 carries Discord's body and headers)."""
        rule = FailRule(re.compile(pattern), status, count, retry_after, is_global)
        self._fail_rules.append(rule)
        return rule

    def hold_requests(self, pattern: str, *, stage: Literal["before", "after"], count: int = 1) -> Hold:
        """Hold the next ``count`` requests whose ``"METHOD /path"`` matches ``pattern``, to
        stop (or kill) the bot at an exact step.  ``stage="before"``: not applied, no answer;
        ``stage="after"``: applied (a message is created and dispatched), only the answer is
        withheld.  ``await hold.wait()`` until they are caught, then ``hold.release()`` or kill
        the client (the held requests then end quietly, a "before" one never applied)."""
        if stage not in ("before", "after"):
            raise ValueError(f"stage must be 'before' or 'after', not {stage!r}")
        if count < 1:
            raise ValueError(f"count must be at least 1, not {count}")
        hold = Hold(re.compile(pattern), stage, count)
        self._holds = [h for h in self._holds if not h.released]  # released ones catch nothing
        self._holds.append(hold)
        return hold

    def _catch(self, where: str, rec: RequestRecord) -> Hold | None:
        """The first active hold that takes this request, if any."""
        for hold in self._holds:
            if hold._catch(where, rec):
                return hold
        return None

    def rate_limit(self, pattern: str, limit: int, per: float) -> RateRule:
        """Enforce a real per-route limit (``limit`` requests per ``per`` seconds, per major
        parameter such as the channel id), with Discord's headers and 429s."""
        rule = RateRule(re.compile(pattern), limit, per, f"fake{len(self._rate_rules)}")
        self._rate_rules.append(rule)
        return rule

    # ================================================================ interactions

    async def _require_session(self, guild: FakeGuild | None) -> GatewaySession:
        session = self._session_for(guild.id if guild else None)
        if session is None:
            try:
                await asyncio.wait_for(self.identified.wait(), 5.0)
            except TimeoutError:
                raise FakeDiscordError("the bot never connected to the fake gateway") from None
            session = self._session_for(guild.id if guild else None)
        if session is None:
            raise FakeDiscordError("no gateway session for this guild")
        return session

    def _check_guild_member(self, guild: FakeGuild, member: FakeMember) -> None:
        if self.guilds.get(guild.id) is not guild:
            raise FakeDiscordError(f"{guild!r} is not (any more) a guild of the fake")
        if guild.get_member(member.id) is not member:
            raise FakeDiscordError(f"{member!r} is not a member of {guild!r}")

    async def _dispatch_interaction(
        self,
        *,
        kind: int,
        guild: FakeGuild,
        member: FakeMember,
        channel: FakeChannel,
        data: dict[str, Any],
        message: FakeMessage | None = None,
        locale: str | None = None,
        command_name: str | None = None,
    ) -> InteractionResult:
        session = await self._require_session(guild)
        iid = self.snowflakes.next()
        token = new_token()
        payload = base_payload(
            self,
            interaction_id=iid,
            token=token,
            kind=kind,
            guild=guild,
            member=member,
            channel=channel,
            data=data,
            message=message,
            locale=locale,
        )
        r = InteractionResult(
            self,
            interaction_id=iid,
            token=token,
            kind=kind,
            payload=payload,
            guild=guild,
            member=member,
            channel_id=channel.id,
            source_message=message,
            command_name=command_name,
        )
        self.interactions[iid] = r
        self._by_token[token] = r
        r.dispatched_at = time.monotonic()
        session.dispatch("INTERACTION_CREATE", payload)
        return r

    def _command_lists(self, guild: FakeGuild) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        return self._guild_commands.get(guild.id, []), self._global_commands

    async def slash(
        self,
        guild: FakeGuild,
        member: FakeMember,
        command: str,
        /,
        *,
        channel: FakeChannel | None = None,
        options: Mapping[str, Any] | None = None,
        locale: str | None = None,
        **kwargs: Any,
    ) -> InteractionResult:
        """Run slash command ``command`` ("name" or "group sub" paths) as ``member``.
        Options come as kwargs (or ``options=`` for names that clash or are not identifiers)."""
        values = {**(options or {}), **kwargs}
        return await self._command_interaction(
            APPLICATION_COMMAND, guild, member, command, channel, values, locale=locale
        )

    async def _command_interaction(
        self,
        kind: int,
        guild: FakeGuild,
        member: FakeMember,
        command: str,
        channel: FakeChannel | None,
        values: dict[str, Any],
        *,
        locale: str | None = None,
        focused: str | None = None,
    ) -> InteractionResult:
        """A slash command or its autocomplete, with options typed by the synced command."""
        self._check_guild_member(guild, member)
        channel = channel or guild.general
        top, chain, is_guild = find_command(*self._command_lists(guild), command)
        leaf = chain[-1] if chain else top
        builder = OptionBuilder(self, guild, member, channel)
        leaf_opts = builder.build(leaf.get("options") or [], values, f"/{command}", focused=focused)
        data: dict[str, Any] = {
            "id": top["id"],
            "name": top["name"],
            "type": 1,
            "options": wrap_options(chain, leaf_opts),
        }
        if builder.resolved:
            data["resolved"] = builder.resolved
        if is_guild:
            data["guild_id"] = str(guild.id)
        return await self._dispatch_interaction(
            kind=kind,
            guild=guild,
            member=member,
            channel=channel,
            data=data,
            locale=locale,
            command_name=command,
        )

    async def context_menu(
        self,
        guild: FakeGuild,
        member: FakeMember,
        name: str,
        target: FakeMember | FakeMessage,
        /,
        *,
        channel: FakeChannel | None = None,
    ) -> InteractionResult:
        """A user (target is a member) or message (target is a message) context-menu command."""
        self._check_guild_member(guild, member)
        channel = channel or guild.general
        ctype = 2 if isinstance(target, FakeMember) else 3
        top, _, is_guild = find_command(*self._command_lists(guild), name, command_type=ctype)
        data: dict[str, Any] = {
            "id": top["id"],
            "name": top["name"],
            "type": ctype,
            "target_id": str(target.id),
        }
        if isinstance(target, FakeMember):
            builder = OptionBuilder(self, guild, member, channel)
            builder._add_user(target)
            data["resolved"] = builder.resolved
        else:
            data["resolved"] = {"messages": {str(target.id): self._message_payload(target)}}
        if is_guild:
            data["guild_id"] = str(guild.id)
        return await self._dispatch_interaction(
            kind=APPLICATION_COMMAND,
            guild=guild,
            member=member,
            channel=channel,
            data=data,
            command_name=name,
        )

    async def autocomplete_result(
        self,
        guild: FakeGuild,
        member: FakeMember,
        command: str,
        /,
        *,
        focused: str,
        channel: FakeChannel | None = None,
        options: Mapping[str, Any] | None = None,
        **kwargs: Any,
    ) -> InteractionResult:
        """Like :meth:`autocomplete` but returns the :class:`InteractionResult` at once."""
        values = {**(options or {}), **kwargs}
        return await self._command_interaction(
            AUTOCOMPLETE, guild, member, command, channel, values, focused=focused
        )

    async def autocomplete(
        self,
        guild: FakeGuild,
        member: FakeMember,
        command: str,
        /,
        *,
        focused: str,
        channel: FakeChannel | None = None,
        options: Mapping[str, Any] | None = None,
        timeout: float = 5.0,  # noqa: ASYNC109
        **kwargs: Any,
    ) -> list[dict[str, Any]]:
        """Type into option ``focused`` (its text is ``kwargs[focused]``) and return the
        choices the bot offered (type 8 callback)."""
        r = await self.autocomplete_result(
            guild, member, command, focused=focused, channel=channel, options=options, **kwargs
        )
        await r.response(timeout)
        if r.type != 8:
            raise FakeDiscordError(f"autocomplete answered with callback type {r.type}, not 8")
        return r.choices or []

    def _resolve_message(self, message: FakeMessage | InteractionResult) -> FakeMessage:
        if isinstance(message, InteractionResult):
            msg = message.message
            if msg is None:
                raise FakeDiscordError(f"{message!r} has no response message to click on")
            return msg
        return message

    async def click(
        self,
        guild: FakeGuild,
        member: FakeMember,
        message: FakeMessage | InteractionResult,
        custom_id: str,
    ) -> InteractionResult:
        """Press the button ``custom_id`` on ``message`` (component_type 2)."""
        self._check_guild_member(guild, member)
        msg = self._resolve_message(message)
        comp = msg.component(custom_id)
        if comp is None:
            raise FakeDiscordError(
                f"no component {custom_id!r} on message {msg.id}; it has {msg.custom_ids()}"
            )
        if comp.get("type") != 2:
            raise FakeDiscordError(f"component {custom_id!r} is type {comp.get('type')}, not a button")
        if comp.get("disabled"):
            raise FakeDiscordError(f"button {custom_id!r} is disabled")
        if msg.deleted:
            raise FakeDiscordError(f"message {msg.id} was deleted")
        data: dict[str, Any] = {"custom_id": custom_id, "component_type": 2}
        if "id" in comp:
            data["id"] = comp["id"]
        channel = self.channels.get(msg.channel_id) or guild.general
        return await self._dispatch_interaction(
            kind=MESSAGE_COMPONENT,
            guild=guild,
            member=member,
            channel=channel,
            data=data,
            message=msg,
        )

    async def select(
        self,
        guild: FakeGuild,
        member: FakeMember,
        message: FakeMessage | InteractionResult,
        custom_id: str,
        values: Sequence[Any],
    ) -> InteractionResult:
        """Choose ``values`` in the select menu ``custom_id`` (string, user, role, mentionable
        or channel select; for the latter pass Fake* objects or ids)."""
        self._check_guild_member(guild, member)
        msg = self._resolve_message(message)
        comp = msg.component(custom_id)
        if comp is None:
            raise FakeDiscordError(
                f"no component {custom_id!r} on message {msg.id}; it has {msg.custom_ids()}"
            )
        ctype = comp.get("type")
        if ctype not in (3, 5, 6, 7, 8):
            raise FakeDiscordError(f"component {custom_id!r} is type {ctype}, not a select")
        if comp.get("disabled"):
            raise FakeDiscordError(f"select {custom_id!r} is disabled")
        lo, hi = comp.get("min_values", 1), comp.get("max_values", 1)
        if not lo <= len(values) <= hi:
            raise FakeDiscordError(f"select {custom_id!r} takes {lo}..{hi} values, got {len(values)}")
        channel = self.channels.get(msg.channel_id) or guild.general
        data: dict[str, Any] = {"custom_id": custom_id, "component_type": ctype}
        if ctype == 3:
            allowed = [o.get("value") for o in comp.get("options") or []]
            bad = [v for v in values if v not in allowed]
            if bad:
                raise FakeDiscordError(f"select {custom_id!r} has no option(s) {bad}; options are {allowed}")
            data["values"] = list(values)
        else:
            builder = OptionBuilder(self, guild, member, channel)
            out = []
            for v in values:
                if isinstance(v, FakeMember | FakeUser):
                    out.append(builder._add_user(v))
                elif isinstance(v, FakeRole):
                    out.append(builder._add_role(v))
                elif isinstance(v, FakeChannel):
                    out.append(builder._add_channel(v))
                else:
                    out.append(str(v))
            data["values"] = out
            data["resolved"] = builder.resolved
        if "id" in comp:
            data["id"] = comp["id"]
        return await self._dispatch_interaction(
            kind=MESSAGE_COMPONENT,
            guild=guild,
            member=member,
            channel=channel,
            data=data,
            message=msg,
        )

    async def submit_modal(
        self,
        guild: FakeGuild,
        member: FakeMember,
        modal: str | InteractionResult,
        values: Mapping[str, Any],
        *,
        message: FakeMessage | None = None,
        channel: FakeChannel | None = None,
    ) -> InteractionResult:
        """Submit a modal.  ``modal`` is the :class:`InteractionResult` that opened it or a
        modal custom_id (the message it was opened from is used as ``message``).  ``values``
        maps input custom_ids to text (selects: lists; checkboxes: bools).  The submitted
        structure mirrors the modal the bot last sent with that custom_id."""
        self._check_guild_member(guild, member)
        if isinstance(modal, InteractionResult):
            if modal.modal is None:
                raise FakeDiscordError(f"{modal!r} did not answer with a modal (type {modal.type})")
            custom_id = modal.modal["custom_id"]
            definition: dict[str, Any] | None = modal.modal
            if message is None:
                message = modal.source_message
            if channel is None and modal.channel_id is not None:
                channel = self.channels.get(modal.channel_id)
        else:
            custom_id = modal
            definition = self.modals.get(custom_id)
            opener = self.modal_openers.get(custom_id)
            if opener is not None:
                if message is None:
                    message = opener.source_message
                if channel is None and opener.channel_id is not None:
                    channel = self.channels.get(opener.channel_id)
        channel = channel or (self.channels.get(message.channel_id) if message else None) or guild.general
        data: dict[str, Any] = {
            "custom_id": custom_id,
            "components": modal_submit_components(definition, values),
        }
        return await self._dispatch_interaction(
            kind=MODAL_SUBMIT,
            guild=guild,
            member=member,
            channel=channel,
            data=data,
            message=message,
        )

    async def send_raw_interaction(
        self, payload: dict[str, Any], *, guild: FakeGuild | None = None
    ) -> InteractionResult:
        """Send ``payload`` as INTERACTION_CREATE exactly as given (hostile-input tests).  If it
        has ``id`` and ``token`` the bot's callbacks are accepted and tracked as usual."""
        gid = payload.get("guild_id")
        if guild is None and gid is not None:
            with contextlib.suppress(TypeError, ValueError):
                guild = self.guilds.get(int(gid))
        session = await self._require_session(guild)
        try:
            iid = int(payload.get("id"))  # type: ignore[arg-type]
        except (TypeError, ValueError):
            iid = self.snowflakes.next()
        token = payload.get("token")
        token = token if isinstance(token, str) else new_token()
        member = None
        if guild is not None and isinstance(payload.get("member"), dict):
            with contextlib.suppress(TypeError, ValueError, KeyError):
                member = guild.get_member(int(payload["member"]["user"]["id"]))
        kind = payload.get("type")
        cid = payload.get("channel_id")
        r = InteractionResult(
            self,
            interaction_id=iid,
            token=token,
            kind=kind if isinstance(kind, int) else -1,
            payload=payload,
            guild=guild,
            member=member,
            channel_id=int(cid) if isinstance(cid, str) and cid.isdigit() else None,
        )
        self.interactions[iid] = r
        self._by_token[token] = r
        r.dispatched_at = time.monotonic()
        session.dispatch("INTERACTION_CREATE", payload)
        return r

    def interaction_payload(
        self,
        guild: FakeGuild,
        member: FakeMember,
        *,
        kind: int = APPLICATION_COMMAND,
        data: dict[str, Any] | None = None,
        channel: FakeChannel | None = None,
    ) -> dict[str, Any]:
        """A complete, valid INTERACTION_CREATE payload to start a hostile one from."""
        return base_payload(
            self,
            interaction_id=self.snowflakes.next(),
            token=new_token(),
            kind=kind,
            guild=guild,
            member=member,
            channel=channel or guild.general,
            data=data,
        )


# Re-exported for convenience.
__all__ = ["NONCE_WINDOW", "FakeDiscord", "FakeDiscordError", "Hold", "RequestRecord"]
