"""A small control API under ``/_fake/`` so that a fake running as its own process
(``python -m tests.fakediscord``) can be driven from another process (the benchmark).

Endpoints (JSON in, JSON out):

- ``GET /_fake/info`` - ids, counts, readiness, violation count.
- ``GET /_fake/guilds?offset=0&limit=100`` - guilds with their channels, roles and members.
- ``GET /_fake/violations`` - the violation list.
- ``POST /_fake/wait_ready`` ``{"timeout": 30}``.
- ``POST /_fake/add_guilds`` ``{"n": 10, "members": 3}``.
- ``POST /_fake/interaction`` ``{"kind": "slash"|"autocomplete"|"click"|"select"|"modal",
  "guild_id", "member_id", "command", "options": {...}, "focused", "message_id",
  "custom_id", "values", "modal_values", "timeout": 5, "wait": true}`` - dispatches one
  interaction; with ``wait`` it returns the bot's answer (``type``, ``data``, ``acked_after``,
  ``message``).
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import TYPE_CHECKING, Any

from aiohttp import web

from .interactions import FakeDiscordError, InteractionResult
from .util import json_response

if TYPE_CHECKING:
    from .server import FakeDiscord


def summarize(fake: FakeDiscord, r: InteractionResult) -> dict[str, Any]:
    msg = r.message
    return {
        "id": str(r.id),
        "type": r.type,
        "data": r.data,
        "acked_after": r.acked_after,
        "rejected": r.rejected,
        "message": fake._message_payload(msg) if msg is not None else None,
        "followups": [fake._message_payload(m) for m in r.followups],
    }


def add_control_routes(app: web.Application, fake: FakeDiscord) -> None:
    async def info(request: web.Request) -> web.Response:
        return json_response(
            {
                "url": fake.url,
                "gateway_url": fake.gateway_url,
                "application_id": str(fake.application_id),
                "bot_user_id": str(fake.bot_user_id),
                "guilds": len(fake.guilds),
                "ready": fake.ready.is_set(),
                "identified": fake.identified.is_set(),
                "sync_count": fake.sync_count,
                "requests": len(fake.requests),
                "violations": len(fake.violations),
                "interactions": len(fake.interactions),
                "resume_count": fake.resume_count,
            }
        )

    async def guilds(request: web.Request) -> web.Response:
        offset = int(request.query.get("offset", 0))
        limit = int(request.query.get("limit", 100))
        out = []
        for g in list(fake.guilds.values())[offset : offset + limit]:
            out.append(
                {
                    "id": str(g.id),
                    "name": g.name,
                    "general": str(g.general.id),
                    "owner_id": str(g.owner_id),
                    "channels": [{"id": str(c.id), "name": c.name} for c in g.channels],
                    "roles": [{"id": str(r.id), "name": r.name, "position": r.position} for r in g.roles],
                    "members": [
                        {"id": str(m.id), "name": m.name, "roles": [str(r.id) for r in m.roles]}
                        for m in g.members
                    ],
                }
            )
        return json_response(out)

    async def violations(request: web.Request) -> web.Response:
        return json_response(fake.violations)

    async def wait_ready(request: web.Request) -> web.Response:
        body = await request.json() if request.body_exists else {}
        try:
            await fake.wait_ready(float(body.get("timeout", 30)))
        except TimeoutError:
            return json_response({"ready": False}, 504)
        return json_response({"ready": True})

    async def add_guilds(request: web.Request) -> web.Response:
        body = await request.json()
        made = fake.add_guilds(int(body.get("n", 1)), members=int(body.get("members", 0)))
        return json_response([str(g.id) for g in made])

    async def interaction(request: web.Request) -> web.Response:
        body = await request.json()
        try:
            guild = fake.guilds[int(body["guild_id"])]
            member_id = body.get("member_id")
            member = guild.get_member(int(member_id)) if member_id else guild.owner
            if member is None:
                raise FakeDiscordError(f"no member {member_id}")
            kind = body.get("kind", "slash")
            channel = fake.channels.get(int(body["channel_id"])) if body.get("channel_id") else None
            options = body.get("options") or {}
            timeout = float(body.get("timeout", 5))
            if kind == "autocomplete":
                choices = await fake.autocomplete(
                    guild,
                    member,
                    body["command"],
                    focused=body["focused"],
                    channel=channel,
                    options=options,
                    timeout=timeout,
                )
                return json_response({"choices": choices})
            if kind == "slash":
                r = await fake.slash(guild, member, body["command"], channel=channel, options=options)
            elif kind in ("click", "select"):
                msg = fake.messages[int(body["message_id"])]
                if kind == "click":
                    r = await fake.click(guild, member, msg, body["custom_id"])
                else:
                    r = await fake.select(guild, member, msg, body["custom_id"], body.get("values") or [])
            elif kind == "modal":
                modal_msg = fake.messages.get(int(body["message_id"])) if body.get("message_id") else None
                r = await fake.submit_modal(
                    guild,
                    member,
                    body["custom_id"],
                    body.get("modal_values") or {},
                    message=modal_msg,
                )
            else:
                raise FakeDiscordError(f"unknown kind {kind!r}")
        except (FakeDiscordError, KeyError, ValueError, TypeError) as exc:
            return json_response({"error": f"{type(exc).__name__}: {exc}"}, 400)
        if body.get("wait", True):
            try:
                await r.response(timeout)
            except TimeoutError as exc:
                return json_response({"error": str(exc), **summarize(fake, r)}, 504)
            if body.get("wait_message") and r.type in (4, 5, 6, 7):
                with contextlib.suppress(TimeoutError):
                    await r.wait_message(timeout)
        return json_response(summarize(fake, r))

    async def interactions_batch(request: web.Request) -> web.Response:
        """``{"items": [<interaction body>...], "timeout": 10}``: all at once, returns summaries."""
        body = await request.json()
        items = body.get("items") or []
        timeout = float(body.get("timeout", 10))
        started: list[InteractionResult | None] = []
        for item in items:
            try:
                guild = fake.guilds[int(item["guild_id"])]
                member = guild.get_member(int(item["member_id"])) if item.get("member_id") else guild.owner
                assert member is not None
                if item.get("kind", "slash") == "slash":
                    started.append(
                        await fake.slash(guild, member, item["command"], options=item.get("options") or {})
                    )
                else:
                    msg = fake.messages[int(item["message_id"])]
                    started.append(await fake.click(guild, member, msg, item["custom_id"]))
            except (FakeDiscordError, KeyError, ValueError, AssertionError):
                started.append(None)

        async def one(r: InteractionResult | None) -> dict[str, Any]:
            if r is None:
                return {"error": "not dispatched"}
            try:
                await r.response(timeout)
            except TimeoutError as exc:
                return {"error": str(exc), **summarize(fake, r)}
            return summarize(fake, r)

        results = await asyncio.gather(*(one(r) for r in started))
        return json_response({"results": results})

    app.router.add_get("/_fake/info", info)
    app.router.add_get("/_fake/guilds", guilds)
    app.router.add_get("/_fake/violations", violations)
    app.router.add_post("/_fake/wait_ready", wait_ready)
    app.router.add_post("/_fake/add_guilds", add_guilds)
    app.router.add_post("/_fake/interaction", interaction)
    app.router.add_post("/_fake/interactions", interactions_batch)
