"""The gateway websocket: HELLO, IDENTIFY/READY, heartbeats, RESUME, dispatch with sequence
numbers and a replay buffer.

IDENTIFY is paced as Discord paces it when ``FakeDiscord.identify_window`` is set (Discord's
is :data:`IDENTIFY_WINDOW`): one per bucket (``shard_id % max_concurrency``, the
``max_concurrency`` that ``/gateway/bot`` reports) per window, across every connection of
the bot; one that comes sooner is answered with op 9 INVALID_SESSION (``d: false``), as
Discord documents ("Apps are limited by maximum concurrency when identifying. If your app
exceeds this limit, Discord will respond with an Invalid Session").  Every IDENTIFY is
recorded (``FakeDiscord.identify_log``), accepted or not, with its shard and time.

Frames are sent as uncompressed TEXT: discord.py asks for ``compress=zlib-stream`` (or zstd)
in the query string but only decompresses BINARY frames, and reads TEXT frames as JSON.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import json
import logging
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from aiohttp import WSMsgType, web

from .util import dumps

if TYPE_CHECKING:
    from .server import FakeDiscord

_log = logging.getLogger("fakediscord.gateway")

OP_DISPATCH = 0
OP_HEARTBEAT = 1
OP_IDENTIFY = 2
OP_PRESENCE = 3
OP_VOICE_STATE = 4
OP_RESUME = 6
OP_RECONNECT = 7
OP_REQUEST_MEMBERS = 8
OP_INVALID_SESSION = 9
OP_HELLO = 10
OP_HEARTBEAT_ACK = 11

INTENT_GUILDS = 1 << 0
INTENT_MEMBERS = 1 << 1
INTENT_GUILD_MESSAGES = 1 << 9
INTENT_DIRECT_MESSAGES = 1 << 12
INTENT_PRESENCES = 1 << 8
INTENT_MESSAGE_CONTENT = 1 << 15
PRIVILEGED_INTENTS = INTENT_MEMBERS | INTENT_PRESENCES | INTENT_MESSAGE_CONTENT

REPLAY_BUFFER = 100_000
IDENTIFY_WINDOW = 5.0  # Discord's: one IDENTIFY per bucket per 5 seconds


@dataclass(frozen=True, slots=True)
class IdentifyRecord:
    """One IDENTIFY the fake received: for which shard (``(0, 1)`` when unsharded), when
    (``time.monotonic()``), and whether it was accepted or refused as too soon."""

    shard: tuple[int, int]
    at: float
    accepted: bool

    @property
    def shard_id(self) -> int:
        return self.shard[0]


class GatewaySession:
    """One identified session (one shard).  Outlives its websocket so it can be resumed."""

    def __init__(self, fake: FakeDiscord, *, intents: int, shard: tuple[int, int]) -> None:
        self.fake = fake
        self.id = secrets.token_hex(16)
        self.intents = intents
        self.shard = shard
        self.seq = 0
        self.buffer: collections.deque[tuple[int, str]] = collections.deque(maxlen=REPLAY_BUFFER)
        self.conn: GatewayConnection | None = None
        self.invalidated = False

    def owns_guild(self, guild_id: int) -> bool:
        shard_id, count = self.shard
        return count <= 1 or (guild_id >> 22) % count == shard_id

    def dispatch(self, event: str, data: Any, *, on_sent: Callable[[], None] | None = None) -> int:
        self.seq += 1
        frame = dumps({"op": OP_DISPATCH, "t": event, "s": self.seq, "d": data})
        self.buffer.append((self.seq, frame))
        if self.conn is not None and not self.conn.closed:
            self.conn.send(frame, on_sent=on_sent)
        return self.seq


class GatewayConnection:
    """One websocket.  Frames go through a queue drained by a single writer task, so the
    order of events is the order of ``send`` calls."""

    def __init__(self, fake: FakeDiscord, ws: web.WebSocketResponse) -> None:
        self.fake = fake
        self.ws = ws
        self.session: GatewaySession | None = None
        self.queue: asyncio.Queue[tuple[str, Callable[[], None] | None] | None] = asyncio.Queue()
        self.closed = False
        self.writer = asyncio.create_task(self._write_loop(), name="fakediscord-gateway-writer")
        self.opened_at = time.monotonic()
        self.barriers: list[tuple[int, asyncio.Future[None]]] = []

    def send(self, frame: str, *, on_sent: Callable[[], None] | None = None) -> None:
        if not self.closed:
            self.queue.put_nowait((frame, on_sent))

    def send_op(self, op: int, data: Any) -> None:
        self.send(dumps({"op": op, "d": data}))

    async def _write_loop(self) -> None:
        try:
            while True:
                item = await self.queue.get()
                if item is None:
                    return
                frame, on_sent = item
                if frame:
                    await self.ws.send_str(frame)
                if on_sent is not None:
                    on_sent()
        except (ConnectionError, RuntimeError):  # peer went away mid-write
            self.closed = True
        except asyncio.CancelledError:
            pass

    async def close(self, code: int) -> None:
        """Close after everything already queued has been written."""
        if self.closed:
            return
        self.queue.put_nowait(None)
        with contextlib.suppress(asyncio.TimeoutError, asyncio.CancelledError, Exception):
            await asyncio.wait_for(asyncio.shield(self.writer), timeout=5)
        self.closed = True
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.ws.close(code=code, message=b"fake close"), timeout=5)

    def abort(self) -> None:
        self.closed = True
        self.writer.cancel()


async def gateway_handler(fake: FakeDiscord, request: web.Request) -> web.StreamResponse:
    ws = web.WebSocketResponse(max_msg_size=0, autoclose=True, autoping=True)
    await ws.prepare(request)
    conn = GatewayConnection(fake, ws)
    fake._gateway_connections.add(conn)
    fake.gateway_queries.append(dict(request.query))
    conn.send_op(OP_HELLO, {"heartbeat_interval": fake.heartbeat_interval_ms, "_trace": ["fake-gateway"]})
    try:
        async for msg in ws:
            if msg.type != WSMsgType.TEXT:
                if msg.type == WSMsgType.BINARY:
                    fake._violation("gateway: client sent a BINARY frame")
                continue
            try:
                payload = json.loads(msg.data)
            except ValueError:
                await conn.close(4002)  # decode error
                break
            await _handle_op(fake, conn, payload)
            if conn.closed:
                break
    finally:
        conn.closed = True
        conn.writer.cancel()
        fake._gateway_connections.discard(conn)
        if conn.session is not None and conn.session.conn is conn:
            conn.session.conn = None
    return ws


async def _handle_op(fake: FakeDiscord, conn: GatewayConnection, payload: dict[str, Any]) -> None:
    op = payload.get("op")
    data = payload.get("d")
    fake.gateway_ops_received.append(op if isinstance(op, int) else -1)
    if op == OP_HEARTBEAT:
        conn.send_op(OP_HEARTBEAT_ACK, None)
        if conn.barriers and isinstance(data, int):
            keep = []
            for seq, fut in conn.barriers:
                if data >= seq:
                    if not fut.done():
                        fut.set_result(None)
                else:
                    keep.append((seq, fut))
            conn.barriers = keep
    elif op == OP_IDENTIFY:
        await _identify(fake, conn, data or {})
    elif op == OP_RESUME:
        await _resume(fake, conn, data or {})
    elif op == OP_REQUEST_MEMBERS:
        _request_members(fake, conn, data or {})
    elif op in (OP_PRESENCE, OP_VOICE_STATE):
        pass
    else:
        await conn.close(4001)  # unknown opcode


async def _identify(fake: FakeDiscord, conn: GatewayConnection, data: dict[str, Any]) -> None:
    if conn.session is not None:
        await conn.close(4005)  # already authenticated
        return
    if data.get("token") != fake.token:
        fake.identify_failures += 1
        await conn.close(4004)  # authentication failed
        return
    intents = data.get("intents")
    if not isinstance(intents, int):
        await conn.close(4013)  # invalid intents
        return
    if intents & PRIVILEGED_INTENTS & ~fake.allowed_privileged_intents:
        await conn.close(4014)  # disallowed intents
        return
    shard_data = data.get("shard") or [0, 1]
    shard = (int(shard_data[0]), int(shard_data[1]))
    if shard[1] < 1 or not 0 <= shard[0] < shard[1]:
        await conn.close(4010)  # invalid shard
        return
    now = time.monotonic()
    bucket = shard[0] % max(1, fake.max_concurrency)
    last = fake._bucket_identified.get(bucket)
    if fake.identify_window > 0 and last is not None and now - last < fake.identify_window:
        # Too soon after the bucket's last IDENTIFY: Discord answers with INVALID_SESSION.
        fake.identify_log.append(IdentifyRecord(shard, now, accepted=False))
        fake.identify_rejections += 1
        conn.send_op(OP_INVALID_SESSION, False)
        return
    fake._bucket_identified[bucket] = now
    fake.identify_log.append(IdentifyRecord(shard, now, accepted=True))
    fake.identify_times.append(now)
    fake.intents = intents
    fake.identify_payloads.append(data)
    session = GatewaySession(fake, intents=intents, shard=shard)
    fake._sessions[session.id] = session
    # A new identify for a shard replaces the old session of that shard.
    old = fake._shard_sessions.get(shard)
    if old is not None:
        old.invalidated = True
    fake._shard_sessions[shard] = session
    session.conn = conn
    conn.session = session
    fake.identified.set()
    fake._ready_shards.discard(shard)
    fake.ready.clear()

    guilds = [g for g in fake.guilds.values() if session.owns_guild(g.id)]
    ready: dict[str, Any] = {
        "v": 10,
        "user": fake.bot_user.payload() | {"verified": True, "mfa_enabled": False, "email": None},
        "guilds": [{"id": str(g.id), "unavailable": True} for g in guilds],
        "session_id": session.id,
        "session_type": "normal",
        "resume_gateway_url": fake.gateway_url,
        "application": {"id": str(fake.application_id), "flags": fake.application_flags},
        "private_channels": [],
        "relationships": [],
        "presences": [],
        "guild_join_requests": [],
        "geo_ordered_rtc_regions": ["local"],
        "user_settings": {},
        "auth": {},
        "_trace": ["fake-gateway"],
    }
    if "shard" in data:
        ready["shard"] = [shard[0], shard[1]]
    session.dispatch("READY", ready)
    threshold = int(data.get("large_threshold") or 250)
    for g in guilds:
        g.live = True
        session.dispatch("GUILD_CREATE", g.payload(large_threshold=min(threshold, 250)))
        # Let other tasks (and the writer) run during a large burst.
        await asyncio.sleep(0)

    def _mark_ready() -> None:
        fake._ready_shards.add(shard)
        if fake._all_shards_ready():
            fake.ready.set()

    conn.send("", on_sent=_mark_ready)


async def _resume(fake: FakeDiscord, conn: GatewayConnection, data: dict[str, Any]) -> None:
    session = fake._sessions.get(str(data.get("session_id")))
    if data.get("token") != fake.token:
        await conn.close(4004)
        return
    if session is None or session.invalidated or not fake.allow_resume:
        conn.send_op(OP_INVALID_SESSION, False)
        return
    seq = data.get("seq") or 0
    if session.buffer and session.buffer[0][0] > seq + 1:
        conn.send_op(OP_INVALID_SESSION, False)  # too far behind to replay
        return
    if session.conn is not None and session.conn is not conn:
        session.conn.abort()
    session.conn = conn
    conn.session = session
    replayed = 0
    for s, frame in session.buffer:
        if s > seq:
            conn.send(frame)
            replayed += 1
    fake.resume_count += 1
    fake.replayed_events += replayed
    session.dispatch("RESUMED", {"_trace": ["fake-gateway"]}, on_sent=fake._resumed_event.set)


def _request_members(fake: FakeDiscord, conn: GatewayConnection, data: dict[str, Any]) -> None:
    session = conn.session
    if session is None:
        return
    gid = data.get("guild_id")
    gids = gid if isinstance(gid, list) else [gid]
    nonce = data.get("nonce")
    user_ids = data.get("user_ids")
    query = data.get("query")
    limit = int(data.get("limit") or 0)
    for g_id in gids:
        try:
            guild = fake.guilds.get(int(str(g_id)))
        except ValueError:
            continue
        if guild is None:
            continue
        members = guild.members
        if user_ids:
            wanted = {int(u) for u in (user_ids if isinstance(user_ids, list) else [user_ids])}
            members = [m for m in members if m.id in wanted]
        elif query:
            members = [m for m in members if m.name.lower().startswith(str(query).lower())]
        if limit:
            members = members[:limit]
        chunks = [members[i : i + 1000] for i in range(0, len(members), 1000)] or [[]]
        for i, chunk in enumerate(chunks):
            payload: dict[str, Any] = {
                "guild_id": str(guild.id),
                "members": [m.payload() for m in chunk],
                "chunk_index": i,
                "chunk_count": len(chunks),
                "not_found": [],
            }
            if nonce is not None:
                payload["nonce"] = nonce
            session.dispatch("GUILD_MEMBERS_CHUNK", payload)
