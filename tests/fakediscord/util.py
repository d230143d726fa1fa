"""Small helpers shared by the fake: snowflakes, timestamps, JSON responses."""

from __future__ import annotations

import datetime
import json
import time
from typing import Any

from aiohttp import web

DISCORD_EPOCH_MS = 1420070400000


class SnowflakeGen:
    """Produces unique, increasing Discord snowflakes.

    ``next(spread=True)`` moves the timestamp part forward by at least one millisecond so
    that ids created in a burst (bulk guilds) still spread over shards
    (``shard_id = (guild_id >> 22) % shard_count``).
    """

    def __init__(self, worker: int = 1) -> None:
        self._worker = worker & 0x1F
        self._last_ms = 0
        self._inc = 0

    def next(self, *, spread: bool = False) -> int:
        now = int(time.time() * 1000) - DISCORD_EPOCH_MS
        if spread:
            now = max(now, self._last_ms + 1)
        if now <= self._last_ms:
            now = self._last_ms
            self._inc += 1
            if self._inc >= 4096:
                now += 1
                self._inc = 0
        else:
            self._inc = 0
        self._last_ms = now
        return (now << 22) | (self._worker << 17) | (1 << 12) | self._inc


def snowflake_time(snowflake: int) -> datetime.datetime:
    ms = (snowflake >> 22) + DISCORD_EPOCH_MS
    return datetime.datetime.fromtimestamp(ms / 1000, tz=datetime.UTC)


def iso(dt: datetime.datetime | None = None) -> str:
    """An ISO 8601 timestamp the way Discord writes it."""
    return (dt or datetime.datetime.now(datetime.UTC)).isoformat()


def dumps(obj: Any) -> str:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False)


def json_response(obj: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    """A JSON reply whose Content-Type is exactly ``application/json``.

    ``aiohttp.web.json_response`` appends ``; charset=utf-8`` and discord.py then treats
    the body as text, so it must not be used here.
    """
    hdrs = {"Content-Type": "application/json"}
    if headers:
        hdrs.update(headers)
    return web.Response(status=status, body=dumps(obj).encode(), headers=hdrs)


def empty_response(status: int = 204, headers: dict[str, str] | None = None) -> web.Response:
    return web.Response(status=status, headers=headers or {})


def error_body(code: int, message: str, errors: dict[str, Any] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"message": message, "code": code}
    if errors:
        body["errors"] = errors
    return body
