"""Health and metrics over HTTP, when the host sets HALFBIE_HTTP (off by default).

- ``/healthz``: 200 whenever the event loop answers (a container's HEALTHCHECK, a
  liveness probe: a bot stuck in a blocking call answers nothing).
- ``/readyz``: 200 when every shard of this process has its gateway session and the store
  can commit writes, 503 with the reasons otherwise (also while the bot is stopping).
- ``/metrics``: :class:`bot.metrics.Metrics`, in Prometheus' text format.

Served by aiohttp (which discord.py already brings) on the bot's own loop, started at the
end of ``setup_hook`` and stopped last in ``close``.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING

import discord
from aiohttp import web
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4

from bot.metrics import Metrics

if TYPE_CHECKING:
    from bot.client import HalfbieBot

__all__ = ["HealthServer", "HttpError", "ShardWatch", "readiness", "serve"]

log = logging.getLogger(__name__)


class HttpError(Exception):
    """The address cannot be served; the message is one line for the host."""


class ShardWatch:
    """Which of this process's shards have a gateway session, from discord.py's events
    (connect and resume, disconnect): ``is_ready()`` stays true while a shard reconnects."""

    def __init__(self, bot: HalfbieBot) -> None:
        self._sharded = isinstance(bot, discord.AutoShardedClient)
        self.connected: dict[int, bool] = {}
        if self._sharded:
            bot.add_listener(self._up, "on_shard_connect")
            bot.add_listener(self._up, "on_shard_resumed")
            bot.add_listener(self._down, "on_shard_disconnect")
        else:
            bot.add_listener(self._connect, "on_connect")
            bot.add_listener(self._connect, "on_resumed")
            bot.add_listener(self._disconnect, "on_disconnect")

    def __call__(self) -> Mapping[int, bool]:
        return self.connected

    async def _up(self, shard_id: int) -> None:
        self.connected[shard_id] = True

    async def _down(self, shard_id: int) -> None:
        self.connected[shard_id] = False

    async def _connect(self) -> None:
        self.connected[0] = True

    async def _disconnect(self) -> None:
        self.connected[0] = False


def readiness(bot: HalfbieBot, watch: ShardWatch) -> list[str]:
    """Why this process is not ready to serve, or nothing when it is."""
    problems: list[str] = []
    if bot.is_closed() or bot.inflight.draining:
        problems.append("stopping")
    elif not bot.is_ready():
        problems.append("starting: the gateway has not sent every server yet")
    if isinstance(bot, discord.AutoShardedClient):
        shards = {shard_id: not info.is_closed() for shard_id, info in bot.shards.items()}
    else:
        shards = {bot.shard_id or 0: True}
    for shard_id, open_ in sorted(shards.items()):
        if not (open_ and watch.connected.get(shard_id, False)):
            problems.append(f"shard {shard_id} has no gateway session")
    store = getattr(bot, "store", None)
    if store is None or not store.available:
        problems.append("the store cannot commit writes")
    return problems


class HealthServer:
    def __init__(self, bot: HalfbieBot, metrics: Metrics, watch: ShardWatch) -> None:
        self._bot = bot
        self._metrics = metrics
        self._watch = watch
        app = web.Application()
        app.router.add_get("/healthz", self._healthz)
        app.router.add_get("/readyz", self._readyz)
        app.router.add_get("/metrics", self._scrape)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False)
        self.port: int | None = None

    async def start(self, host: str, port: int) -> None:
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        try:
            await site.start()
        except OSError as exc:
            await self._runner.cleanup()
            raise HttpError(
                f"cannot serve health and metrics at {host}:{port} ({exc.strerror or exc}); "
                "change HALFBIE_HTTP or stop what uses that port"
            ) from None
        address = self._runner.addresses[0]
        self.port = int(address[1])
        log.info("Serving /healthz, /readyz and /metrics at http://%s:%d", host, self.port)

    async def close(self) -> None:
        await self._runner.cleanup()

    async def _healthz(self, request: web.Request) -> web.Response:
        return web.Response(text="ok\n")

    async def _readyz(self, request: web.Request) -> web.Response:
        store = getattr(self._bot, "store", None)
        if store is not None and not store.available:
            await store.reconnect()  # an idle bot would otherwise wait for its next write
        problems = readiness(self._bot, self._watch)
        if problems:
            return web.Response(status=503, text="".join(f"{problem}\n" for problem in problems))
        return web.Response(text="ready\n")

    async def _scrape(self, request: web.Request) -> web.Response:
        body = await self._metrics.render()
        # Text format 0.0.4: what every Prometheus (2.x and 3.x) and agent reads.
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_PLAIN_0_0_4})


async def serve(bot: HalfbieBot) -> HealthServer | None:
    """Start health and metrics if the host asked for them (HALFBIE_HTTP), wiring the
    metrics' hooks into the bot's parts; None when off."""
    address = bot.config.http_address
    if address is None:
        return None
    watch = ShardWatch(bot)
    metrics = Metrics(bot, watch)
    bot.metrics = metrics
    bot.inflight.observers.append(metrics.acknowledged)
    bot.inflight.late_observers.append(metrics.late_error)
    bot.store.writer.on_commit = metrics.store_commit
    bot.announcer.observe = metrics.channel_post
    server = HealthServer(bot, metrics, watch)
    await server.start(*address)
    return server
