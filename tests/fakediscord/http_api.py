"""Discord's REST API as far as discord.py needs it, with Discord's errors and limits."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import math
import re
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from aiohttp import web

from . import limits
from .gateway import gateway_handler
from .interactions import (
    APPLICATION_COMMAND,
    AUTOCOMPLETE,
    MESSAGE_COMPONENT,
    MODAL_SUBMIT,
    PING,
    InteractionResult,
)
from .permissions import Perm
from .server import Hold, RequestRecord
from .state import FakeChannel, FakeGuild, FakeMember, FakeMessage, FakeRole
from .util import empty_response, error_body, json_response

if TYPE_CHECKING:
    from .server import FakeDiscord

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

WHERE: web.RequestKey[str] = web.RequestKey("fakediscord_where")
BODY: web.RequestKey[Any] = web.RequestKey("fakediscord_json")
FILES: web.RequestKey[list[dict[str, Any]]] = web.RequestKey("fakediscord_files")
API: web.AppKey[HttpApi] = web.AppKey("fakediscord_api")

API_PREFIX = re.compile(r"^/api(?:/v\d+)?(/.*)$")
P = r"/api/v{ver:\d+}"
_MAJOR = re.compile(r"^/(?:(channels|guilds)/(\d+)|(webhooks|interactions)/(\d+)/([^/]+))")
_DIGITS = re.compile(r"/\d{5,}")

# How often a held request looks whether its client is still there.  aiohttp tells a handler
# nothing when the client goes away after its body was read (handler cancellation is off,
# and must stay off: it would cut every other handler short too), but the request's
# transport is gone or closing from then on.
HOLD_POLL = 0.01

# Which callback types each interaction type accepts.
CALLBACKS_FOR = {
    PING: {1},
    APPLICATION_COMMAND: {4, 5, 9, 12},
    MESSAGE_COMPONENT: {4, 5, 6, 7, 9, 12},
    AUTOCOMPLETE: {8},
    MODAL_SUBMIT: {4, 5, 6, 7},
}


class ApiError(Exception):
    def __init__(self, status: int, code: int, message: str, *, violation: bool = False) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.violation = violation


def _truthy(value: str | None) -> bool:
    return value is not None and value.lower() in ("1", "true", "yes")


def _client_gone(request: web.Request) -> bool:
    transport = request.transport
    return transport is None or transport.is_closing()


class HttpApi:
    def __init__(self, fake: FakeDiscord) -> None:
        self.fake = fake

    # ================================================================ plumbing

    @web.middleware
    async def middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        m = API_PREFIX.match(request.path)
        if m is None:
            return await handler(request)
        fake = self.fake
        api_path = m.group(1)
        method = request.method
        where = f"{method} {api_path}"
        request[WHERE] = where
        try:
            body, files = await self._read_body(request)
        except ApiError as exc:
            rec = RequestRecord(method, api_path, None)
            fake.requests.append(rec)
            rec.status = exc.status
            return json_response(error_body(exc.code, exc.message), exc.status)
        request[BODY] = body
        request[FILES] = files
        rec = RequestRecord(method, api_path, body)
        rec.query = dict(request.query)
        rec.files = len(files)
        fake.requests.append(rec)

        hold = fake._catch(where, rec)
        if hold is not None and hold.stage == "before" and not await self._wait_release(request, hold):
            return self._unanswered(request)
        resp = await self._answer(request, handler, rec)
        if hold is not None and hold.stage == "after" and not await self._wait_release(request, hold):
            return self._unanswered(request)
        return resp

    async def _wait_release(self, request: web.Request, hold: Hold) -> bool:
        """Wait until ``hold`` is released.  False: the request must end without being
        applied or answered, because its client went away (the bot was killed or gave up)
        or the fake is closing."""
        while not hold.released:
            if _client_gone(request):
                return False
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(hold._event.wait(), HOLD_POLL)
        return not hold.dropped and not _client_gone(request)

    @staticmethod
    def _unanswered(request: web.Request) -> web.Response:
        """End a held request without an answer: close its connection (if still open).
        aiohttp then fails to write the returned response and ignores that quietly (a
        debug record), so nothing is logged as an error and nothing reaches the test."""
        transport = request.transport
        if transport is not None:
            transport.close()
        return empty_response(499)  # nginx's "client closed request"; never sent

    async def _answer(self, request: web.Request, handler: Handler, rec: RequestRecord) -> web.StreamResponse:
        """Apply one recorded request: injected failures, rate limits, auth, the route."""
        fake = self.fake
        method, api_path = rec.method, rec.path
        where = request[WHERE]
        failed = self._injected_failure(where)
        if failed is not None:
            rec.status = failed.status
            return failed
        limited, rl_headers = self._rate_limit(method, api_path, where)
        if limited is not None:
            rec.status = limited.status
            return limited
        if not api_path.startswith(("/webhooks/", "/interactions/")):
            auth = request.headers.get("Authorization")
            if auth != f"Bot {fake.token}":
                rec.status = 401
                fake.http_errors.append(f"{where}: 401 Unauthorized")
                return json_response(error_body(0, "401: Unauthorized"), 401)
        try:
            resp = await handler(request)
        except ApiError as exc:
            text = f"{where}: {exc.status} {exc.code} {exc.message}"
            if exc.violation:
                fake._violation(text)
            else:
                fake.http_errors.append(text)
            resp = json_response(error_body(exc.code, exc.message), exc.status)
        rec.status = resp.status
        for k, v in rl_headers.items():
            resp.headers[k] = v
        return resp

    async def _read_body(self, request: web.Request) -> tuple[Any, list[dict[str, Any]]]:
        files: list[dict[str, Any]] = []
        if not request.body_exists:
            return None, files
        ctype = request.content_type
        if ctype == "multipart/form-data":
            form = await request.post()
            body: Any = None
            for key, value in form.items():
                if isinstance(value, web.FileField):
                    data = value.file.read()
                    files.append(
                        {
                            "field": key,
                            "filename": value.filename,
                            "size": len(data),
                            "content_type": value.content_type,
                        }
                    )
                elif key == "payload_json":
                    raw = value.decode() if isinstance(value, bytes | bytearray) else str(value)
                    try:
                        body = json.loads(raw)
                    except ValueError:
                        raise ApiError(400, 50109, "The request body contains invalid JSON.") from None
            return body, files
        raw_bytes = await request.read()
        if not raw_bytes:
            return None, files
        if ctype == "application/json":
            try:
                return json.loads(raw_bytes), files
            except ValueError:
                raise ApiError(400, 50109, "The request body contains invalid JSON.") from None
        return None, files

    def _injected_failure(self, where: str) -> web.Response | None:
        for rule in self.fake._fail_rules:
            if rule.count > 0 and rule.pattern.search(where):
                rule.count -= 1
                rule.hits += 1
                if rule.status == 429:
                    return self._too_many(rule.retry_after, bucket="fakefail", is_global=rule.is_global)
                return json_response(error_body(0, f"{rule.status}: injected failure"), rule.status)
        return None

    def _too_many(
        self, retry_after: float, *, bucket: str, is_global: bool = False, limit: int = 1
    ) -> web.Response:
        headers = {
            "Retry-After": str(max(1, math.ceil(retry_after))),
            "X-RateLimit-Scope": "global" if is_global else "user",
            "Via": "1.1 google",
        }
        if is_global:
            headers["X-RateLimit-Global"] = "true"
        else:
            headers.update(
                {
                    "X-RateLimit-Limit": str(limit),
                    "X-RateLimit-Remaining": "0",
                    "X-RateLimit-Reset": f"{time.time() + retry_after:.3f}",
                    "X-RateLimit-Reset-After": f"{retry_after:.3f}",
                    "X-RateLimit-Bucket": bucket,
                }
            )
        body = {
            "message": "You are being rate limited.",
            "retry_after": retry_after,
            "global": is_global,
        }
        return json_response(body, 429, headers)

    def _rate_limit(self, method: str, path: str, where: str) -> tuple[web.Response | None, dict[str, str]]:
        m = _MAJOR.match(path)
        major = "".join(g for g in m.groups() if g) if m else ""
        now = time.monotonic()
        for rule in self.fake._rate_rules:
            if not rule.pattern.search(where):
                continue
            start, used = rule.windows.get(major, (now, 0))
            if now - start >= rule.per:
                start, used = now, 0
            reset_after = max(0.0, rule.per - (now - start))
            if used >= rule.limit:
                self.fake.http_errors.append(f"{where}: 429 rate limited ({rule.limit}/{rule.per}s)")
                return self._too_many(reset_after, bucket=rule.name, limit=rule.limit), {}
            used += 1
            rule.windows[major] = (start, used)
            return None, {
                "X-RateLimit-Limit": str(rule.limit),
                "X-RateLimit-Remaining": str(rule.limit - used),
                "X-RateLimit-Reset": f"{time.time() + reset_after:.3f}",
                "X-RateLimit-Reset-After": f"{reset_after:.3f}",
                "X-RateLimit-Bucket": rule.name,
            }
        template = _DIGITS.sub("/{id}", path)
        bucket = hashlib.blake2s(f"{method} {template}".encode(), digest_size=8).hexdigest()
        # Generous defaults so discord.py never paces itself against a limit that is not there.
        return None, {
            "X-RateLimit-Limit": "10000",
            "X-RateLimit-Remaining": "9999",
            "X-RateLimit-Reset": f"{time.time() + 1:.3f}",
            "X-RateLimit-Reset-After": "1.000",
            "X-RateLimit-Bucket": bucket,
        }

    def _bad_request(self, request: web.Request, problems: list[limits.Problem]) -> web.Response:
        where = request[WHERE]
        for p in problems:
            self.fake._violation(f"{where}: {p}")
        if any(p.code == "50006" for p in problems):
            return json_response(error_body(50006, "Cannot send an empty message"), 400)
        return json_response(error_body(50035, "Invalid Form Body", limits.discord_errors(problems)), 400)

    async def unknown_route(self, request: web.Request) -> web.Response:
        where = request.get(WHERE, f"{request.method} {request.path}")
        self.fake._violation(f"{where}: unknown route (the fake does not implement it)")
        return json_response(error_body(0, "404: Not Found"), 404)

    # ================================================================ lookups

    def _guild(self, request: web.Request) -> FakeGuild:
        guild = self.fake.guilds.get(int(request.match_info["gid"]))
        if guild is None:
            raise ApiError(404, 10004, "Unknown Guild")
        return guild

    def _channel(self, request: web.Request) -> FakeChannel:
        ch = self.fake.channels.get(int(request.match_info["cid"]))
        if ch is None:
            raise ApiError(404, 10003, "Unknown Channel")
        return ch

    def _member(self, guild: FakeGuild, request: web.Request) -> FakeMember:
        uid = request.match_info["uid"]
        member = guild.get_member(self.fake.bot_user_id if uid == "@me" else int(uid))
        if member is None:
            raise ApiError(404, 10007, "Unknown Member")
        return member

    def _role(self, guild: FakeGuild, rid: int) -> FakeRole:
        role = guild.get_role(rid)
        if role is None:
            raise ApiError(404, 10011, "Unknown Role")
        return role

    def _channel_message(self, ch: FakeChannel, request: web.Request) -> FakeMessage:
        msg = self.fake.messages.get(int(request.match_info["mid"]))
        if msg is None or msg.deleted or msg.channel_id != ch.id or msg.ephemeral:
            raise ApiError(404, 10008, "Unknown Message")
        return msg

    def _bot_perms(self, ch: FakeChannel) -> int:
        if ch.guild is None:
            return int(
                Perm.VIEW_CHANNEL
                | Perm.SEND_MESSAGES
                | Perm.EMBED_LINKS
                | Perm.ATTACH_FILES
                | Perm.READ_MESSAGE_HISTORY
            )
        return ch.guild.permissions_in(ch.guild.bot_member, ch)

    def _need(self, perms: int, flag: Perm) -> None:
        if not perms & flag:
            raise ApiError(403, 50013, "Missing Permissions")

    def _interaction(self, request: web.Request, *, webhook: bool) -> InteractionResult:
        fake = self.fake
        token = request.match_info["token"]
        if webhook:
            if int(request.match_info["app"]) != fake.application_id:
                raise ApiError(404, 10015, "Unknown Webhook", violation=True)
            r = fake._by_token.get(token)
            if r is None:
                raise ApiError(404, 10015, "Unknown Webhook", violation=True)
            if time.monotonic() - r.dispatched_at > fake.followup_window:
                raise ApiError(401, 50027, "Invalid Webhook Token", violation=True)
            return r
        r = fake.interactions.get(int(request.match_info["iid"]))
        if r is None or r.token != token:
            raise ApiError(404, 10062, "Unknown interaction", violation=True)
        return r

    def _attachments(self, files: list[dict[str, Any]], body: Any) -> list[dict[str, Any]]:
        meta = {}
        if isinstance(body, dict):
            for a in body.get("attachments") or []:
                meta[str(a.get("id"))] = a
        out = []
        for i, f in enumerate(files):
            aid = str(self.fake.snowflakes.next())
            idx = re.sub(r"\D", "", f["field"]) or str(i)
            m = meta.get(idx, {})
            url = f"{self.fake.url}/attachments/{aid}/{f['filename']}"
            out.append(
                {
                    "id": aid,
                    "filename": m.get("filename", f["filename"]),
                    "description": m.get("description"),
                    "size": f["size"],
                    "url": url,
                    "proxy_url": url,
                    "content_type": f["content_type"],
                }
            )
        return out

    def _check_files(self, files: list[dict[str, Any]]) -> list[limits.Problem]:
        out = []
        if len(files) > 10:
            out.append(limits.Problem("files", "BASE_TYPE_MAX_LENGTH", "Must be 10 or fewer in length."))
        total = sum(f["size"] for f in files)
        if total > 10 * 1024 * 1024:
            out.append(limits.Problem("files", "FILE_TOO_LARGE", "Request entity too large (40005)"))
        return out

    # ================================================================ simple routes

    async def get_gateway(self, request: web.Request) -> web.Response:
        return json_response({"url": self.fake.gateway_url})

    async def get_gateway_bot(self, request: web.Request) -> web.Response:
        return json_response(
            {
                "url": self.fake.gateway_url,
                "shards": self.fake.recommended_shards,
                "session_start_limit": {
                    "total": 1000,
                    "remaining": 999,
                    "reset_after": 0,
                    "max_concurrency": self.fake.max_concurrency,
                },
            }
        )

    async def get_me(self, request: web.Request) -> web.Response:
        data = self.fake.bot_user.payload()
        data.update(
            {
                "verified": True,
                "mfa_enabled": False,
                "email": None,
                "locale": "en-US",
                "premium_type": 0,
            }
        )
        return json_response(data)

    async def get_user(self, request: web.Request) -> web.Response:
        user = self.fake.users.get(int(request.match_info["uid"]))
        if user is None:
            raise ApiError(404, 10013, "Unknown User")
        return json_response(user.payload())

    async def my_guilds(self, request: web.Request) -> web.Response:
        out: list[dict[str, Any]] = []
        for g in self.fake.guilds.values():
            perms = g.base_permissions(g.bot_member)
            out.append(
                {
                    "id": str(g.id),
                    "name": g.name,
                    "icon": None,
                    "owner": False,
                    "permissions": str(perms),
                    "features": [],
                }
            )
        return json_response(out)

    async def leave_guild(self, request: web.Request) -> web.Response:
        guild = self._guild(request)
        self.fake.remove_guild(guild)
        return empty_response()

    async def create_dm(self, request: web.Request) -> web.Response:
        body = request[BODY] or {}
        try:
            user = self.fake.users[int(str(body.get("recipient_id")))]
        except (KeyError, TypeError, ValueError):
            raise ApiError(400, 50035, "Invalid Form Body") from None
        ch = self.fake.dm_channels.get(user.id)
        if ch is None:
            ch = FakeChannel(
                self.fake.snowflakes.next(), None, f"dm-{user.username}", type=1, recipients=[user]
            )
            self.fake.channels[ch.id] = ch
            self.fake.dm_channels[user.id] = ch
        return json_response(ch.payload())

    async def app_info(self, request: web.Request) -> web.Response:
        fake = self.fake
        return json_response(
            {
                "id": str(fake.application_id),
                "name": fake.bot_user.username,
                "icon": None,
                "description": "Halfbie (fake)",
                "summary": "",
                "type": None,
                "hook": True,
                "bot_public": True,
                "bot_require_code_grant": False,
                "verify_key": "0" * 64,
                "owner": fake.app_owner.payload(),
                "team": None,
                "flags": fake.application_flags,
                "approximate_guild_count": len(fake.guilds),
                "redirect_uris": [],
                "interactions_endpoint_url": None,
                "tags": [],
                "install_params": None,
                "integration_types_config": {"0": {}},
                "bot": fake.bot_user.payload(),
            }
        )

    async def app_emojis(self, request: web.Request) -> web.Response:
        return json_response({"items": []})

    async def empty_list(self, request: web.Request) -> web.Response:
        return json_response([])

    # ================================================================ commands

    def _check_app(self, request: web.Request) -> None:
        if int(request.match_info["app"]) != self.fake.application_id:
            raise ApiError(403, 50001, "Missing Access")

    def _command_list(self, request: web.Request) -> tuple[list[dict[str, Any]], int | None]:
        self._check_app(request)
        gid = request.match_info.get("gid")
        if gid is None:
            return self.fake._global_commands, None
        if int(gid) not in self.fake.guilds:
            raise ApiError(403, 50001, "Missing Access")
        guild = self._guild(request)
        return self.fake._guild_commands.setdefault(guild.id, []), guild.id

    async def get_commands(self, request: web.Request) -> web.Response:
        cmds, _ = self._command_list(request)
        return json_response(cmds)

    async def put_commands(self, request: web.Request) -> web.Response:
        cmds, gid = self._command_list(request)
        body = request[BODY]
        problems = limits.validate_commands(body)
        if problems:
            return self._bad_request(request, problems)
        stored = [self.fake._store_command(c, gid, cmds) for c in body]
        if gid is None:
            self.fake._global_commands = stored
        else:
            self.fake._guild_commands[gid] = stored
        self.fake.sync_count += 1
        return json_response(stored)

    async def post_command(self, request: web.Request) -> web.Response:
        cmds, gid = self._command_list(request)
        body = request[BODY]
        problems = limits.validate_commands([body])
        if problems:
            return self._bad_request(request, problems)
        stored = self.fake._store_command(body, gid, cmds)
        cmds[:] = [c for c in cmds if c["id"] != stored["id"]] + [stored]
        return json_response(stored, 201)

    async def one_command(self, request: web.Request) -> web.Response:
        cmds, gid = self._command_list(request)
        cmd_id = request.match_info["cmd"]
        found = next((c for c in cmds if c["id"] == cmd_id), None)
        if found is None:
            raise ApiError(404, 10063, "Unknown application command")
        if request.method == "DELETE":
            cmds.remove(found)
            return empty_response()
        if request.method == "PATCH":
            merged = {**found, **(request[BODY] or {})}
            problems = limits.validate_commands([merged])
            if problems:
                return self._bad_request(request, problems)
            stored = self.fake._store_command(merged, gid, cmds)
            cmds[cmds.index(found)] = stored
            return json_response(stored)
        return json_response(found)

    # ================================================================ interactions

    async def interaction_callback(self, request: web.Request) -> web.Response:
        fake = self.fake
        where = request[WHERE]
        r = self._interaction(request, webhook=False)
        elapsed = time.monotonic() - r.dispatched_at
        if elapsed > fake.interaction_deadline:
            text = (
                f"{where}: callback {elapsed:.2f}s after the interaction was sent "
                f"(limit {fake.interaction_deadline:.0f}s) -> 10062 Unknown interaction"
            )
            fake._violation(text)
            r.rejected.append(text)
            r.signal.pulse()
            return json_response(error_body(10062, "Unknown interaction"), 404)
        if r.type is not None:
            text = f"{where}: interaction {r.id} answered twice (already type {r.type}) -> 40060"
            fake._violation(text)
            r.rejected.append(text)
            return json_response(error_body(40060, "Interaction has already been acknowledged."), 400)
        body = request[BODY]
        files = request[FILES]
        if not isinstance(body, dict):
            problems = [limits.Problem("", "DICT_TYPE_CONVERT", "Only dictionaries may be used.")]
            r.rejected.append(f"{where}: {problems[0]}")
            return self._bad_request(request, problems)
        cb = body.get("type")
        data = body.get("data") or {}
        problems = self._callback_problems(r, cb, data, files)
        if problems:
            r.rejected.append("; ".join(str(p) for p in problems))
            r.signal.pulse()
            return self._bad_request(request, problems)

        r.type = cb
        r.data = data
        r.acked_after = elapsed
        resource: dict[str, Any] = {"type": cb}
        guild_id = r.guild.id if r.guild else None
        channel_id = r.channel_id or 0
        flags = int(data.get("flags") or 0)
        if cb == 4:
            msg = fake._create_message(
                where,
                channel_id=channel_id,
                guild_id=guild_id,
                data=data,
                flags=flags,
                msg_type=20 if r.kind == APPLICATION_COMMAND else 0,
                interaction=r,
                attachments=self._attachments(files, data),
            )
            r.message_id = msg.id
            fake._watch(r, msg.id)
            resource["message"] = fake._message_payload(msg)
        elif cb == 5:
            msg = fake._create_message(
                where,
                channel_id=channel_id,
                guild_id=guild_id,
                data={"content": ""},
                flags=(flags & limits.FLAG_EPHEMERAL) | limits.FLAG_LOADING,
                msg_type=20 if r.kind == APPLICATION_COMMAND else 0,
                interaction=r,
            )
            r.message_id = msg.id
            fake._watch(r, msg.id)
        elif cb == 6 and r.source_message is not None:
            r.message_id = r.source_message.id
            fake._watch(r, r.source_message.id)
        elif cb == 7 and r.source_message is not None:
            msg = r.source_message
            r.message_id = msg.id
            fake._watch(r, msg.id)
            fake._edit_message(where, msg, data, interaction=r)
            resource["message"] = fake._message_payload(msg)
        elif cb == 9:
            fake.modals[data["custom_id"]] = data
            fake.modal_openers[data["custom_id"]] = r
        r.signal.pulse()
        if not _truthy(request.query.get("with_response")):
            return empty_response()
        msg_obj = r.message
        interaction: dict[str, Any] = {
            "id": str(r.id),
            "type": r.kind,
            "activity_instance_id": None,
            "response_message_loading": cb == 5,
            "response_message_ephemeral": bool(msg_obj.ephemeral) if msg_obj else False,
        }
        if msg_obj is not None and cb in (4, 5, 7):
            interaction["response_message_id"] = str(msg_obj.id)
        if r.channel_id:
            interaction["channel_id"] = str(r.channel_id)
        if guild_id:
            interaction["guild_id"] = str(guild_id)
        return json_response({"interaction": interaction, "resource": resource})

    def _callback_problems(
        self, r: InteractionResult, cb: Any, data: dict[str, Any], files: list[dict[str, Any]]
    ) -> list[limits.Problem]:
        allowed = CALLBACKS_FOR.get(r.kind, {1, 4, 5, 6, 7, 8, 9})
        if cb not in allowed:
            return [
                limits.Problem(
                    "type",
                    "INTERACTION_CALLBACK_TYPE_INVALID",
                    f"callback type {cb!r} is not valid for interaction type {r.kind}",
                )
            ]
        if cb in (6, 7) and r.source_message is None:
            return [limits.Problem("type", "INTERACTION_CALLBACK_TYPE_INVALID", "no message to update")]
        if cb == 4:
            return limits.validate_message(
                data, context="interaction", creating=True, files=len(files)
            ) + self._check_files(files)
        if cb == 7:
            return limits.validate_message(data, context="interaction", creating=False)
        if cb == 5:
            extra = int(data.get("flags") or 0) & ~limits.FLAG_EPHEMERAL
            if extra:
                return [
                    limits.Problem(
                        "data.flags",
                        "MESSAGE_FLAGS_INVALID",
                        "only EPHEMERAL may be set on a defer",
                    )
                ]
            return []
        if cb == 8:
            return limits.validate_autocomplete(data)
        if cb == 9:
            return limits.validate_modal(data)
        return []

    async def webhook_execute(self, request: web.Request) -> web.Response:
        fake = self.fake
        where = request[WHERE]
        r = self._interaction(request, webhook=True)
        if r.type is None or r.type in (8, 9):
            raise ApiError(
                404,
                10015,
                f"Unknown Webhook (follow-up while the interaction is in state {r.type})",
                violation=True,
            )
        body = request[BODY]
        files = request[FILES]
        problems = limits.validate_message(body, context="interaction", creating=True, files=len(files))
        problems += self._check_files(files)
        if problems:
            return self._bad_request(request, problems)
        original = r.message
        if r.type == 5 and original is not None and original.loading:
            # The first follow-up after a "thinking" defer replaces the loading message and
            # keeps the defer's ephemerality.
            data = dict(body)
            data.pop("flags", None)
            msg = fake._edit_message(where, original, data, interaction=r, finish_loading=True)
        else:
            msg = fake._create_message(
                where,
                channel_id=r.channel_id or 0,
                guild_id=r.guild.id if r.guild else None,
                data=body,
                flags=int(body.get("flags") or 0),
                interaction=r,
                attachments=self._attachments(files, body),
            )
            fake._watch(r, msg.id)
        r.followup_ids.append(msg.id)
        r.signal.pulse()
        if _truthy(request.query.get("wait")):
            return json_response(fake._message_payload(msg))
        return empty_response()

    def _webhook_message(self, r: InteractionResult, request: web.Request) -> FakeMessage:
        mid = request.match_info["mid"]
        if mid == "@original":
            if r.type is None:
                raise ApiError(
                    404, 10015, "Unknown Webhook (interaction not acknowledged yet)", violation=True
                )
            msg = r.message
        else:
            msg = self.fake.messages.get(int(mid)) if mid.isdigit() else None
            if msg is not None and msg.id != r.message_id and msg.id not in r.followup_ids:
                msg = None
        if msg is None or msg.deleted:
            raise ApiError(404, 10008, "Unknown Message")
        return msg

    async def webhook_message(self, request: web.Request) -> web.Response:
        fake = self.fake
        r = self._interaction(request, webhook=True)
        msg = self._webhook_message(r, request)
        if request.method == "GET":
            return json_response(fake._message_payload(msg))
        if request.method == "DELETE":
            fake._delete_message(msg)
            return empty_response()
        body = request[BODY] or {}
        files = request[FILES]
        problems = limits.validate_message(body, context="edit", creating=False, files=len(files))
        problems += self._check_files(files)
        if problems:
            return self._bad_request(request, problems)
        if files:
            msg.attachments += self._attachments(files, body)
        fake._edit_message(request[WHERE], msg, body, interaction=r)
        r.signal.pulse()
        return json_response(fake._message_payload(msg))

    # ================================================================ channels

    async def get_channel(self, request: web.Request) -> web.Response:
        ch = self._channel(request)
        if ch.guild is not None and not self._bot_perms(ch) & Perm.VIEW_CHANNEL:
            raise ApiError(403, 50001, "Missing Access")
        return json_response(ch.payload())

    async def create_message(self, request: web.Request) -> web.Response:
        fake = self.fake
        ch = self._channel(request)
        body = request[BODY]
        files = request[FILES]
        perms = self._bot_perms(ch)
        if not perms & Perm.VIEW_CHANNEL:
            raise ApiError(403, 50001, "Missing Access")
        self._need(perms, Perm.SEND_MESSAGES)
        if isinstance(body, dict) and body.get("embeds"):
            self._need(perms, Perm.EMBED_LINKS)
        if files:
            self._need(perms, Perm.ATTACH_FILES)
        problems = limits.validate_message(body, context="channel", creating=True, files=len(files))
        problems += self._check_files(files)
        ref = body.get("message_reference") if isinstance(body, dict) else None
        if isinstance(ref, dict) and ref.get("message_id"):
            target = fake.messages.get(int(ref["message_id"]))
            if (target is None or target.deleted) and ref.get("fail_if_not_exists", True):
                problems.append(
                    limits.Problem(
                        "message_reference", "MESSAGE_REFERENCE_UNKNOWN_MESSAGE", "Unknown message"
                    )
                )
        if problems:
            return self._bad_request(request, problems)
        nonce = body.get("nonce")
        if nonce is not None and body.get("enforce_nonce") is True:
            # A retry of a post that already went through (the answer was lost, or the bot
            # restarted): Discord answers with that message instead of posting it twice.
            earlier = fake._message_for_nonce(ch.id, fake.bot_user_id, nonce)
            if earlier is not None:
                return json_response(fake._message_payload(earlier, with_nonce=True))
        msg = fake._create_message(
            request[WHERE],
            channel_id=ch.id,
            guild_id=ch.guild_id,
            data=body,
            flags=int(body.get("flags") or 0),
            msg_type=19 if ref else 0,
            attachments=self._attachments(files, body),
            nonce=nonce,
        )
        return json_response(fake._message_payload(msg, with_nonce=True))

    async def list_messages(self, request: web.Request) -> web.Response:
        ch = self._channel(request)
        perms = self._bot_perms(ch)
        if not perms & Perm.VIEW_CHANNEL:
            raise ApiError(403, 50001, "Missing Access")
        if not perms & Perm.READ_MESSAGE_HISTORY:
            return json_response([])
        q = request.query
        limit = max(1, min(100, int(q.get("limit", 50))))
        msgs = [m for m in self.fake.messages_in(ch)]
        if "before" in q:
            msgs = [m for m in msgs if m.id < int(q["before"])]
        if "after" in q:
            msgs = [m for m in msgs if m.id > int(q["after"])]
            msgs = msgs[:limit]
        if "around" in q:
            a = int(q["around"])
            older = [m for m in msgs if m.id <= a][-(limit // 2 + 1) :]
            newer = [m for m in msgs if m.id > a][: limit - len(older)]
            msgs = older + newer
        msgs = sorted(msgs, key=lambda m: m.id, reverse=True)[:limit]
        return json_response([self.fake._message_payload(m) for m in msgs])

    async def message(self, request: web.Request) -> web.Response:
        fake = self.fake
        ch = self._channel(request)
        msg = self._channel_message(ch, request)
        perms = self._bot_perms(ch)
        if not perms & Perm.VIEW_CHANNEL:
            raise ApiError(403, 50001, "Missing Access")
        if request.method == "GET":
            self._need(perms, Perm.READ_MESSAGE_HISTORY)
            return json_response(fake._message_payload(msg))
        if request.method == "DELETE":
            if msg.author_id != fake.bot_user_id:
                self._need(perms, Perm.MANAGE_MESSAGES)
            fake._delete_message(msg)
            return empty_response()
        if msg.author_id != fake.bot_user_id:
            raise ApiError(403, 50005, "Cannot edit a message authored by another user")
        body = request[BODY] or {}
        files = request[FILES]
        if body.get("embeds"):
            self._need(perms, Perm.EMBED_LINKS)
        problems = limits.validate_message(body, context="edit", creating=False, files=len(files))
        if problems:
            return self._bad_request(request, problems)
        if files:
            msg.attachments += self._attachments(files, body)
        fake._edit_message(request[WHERE], msg, body)
        return json_response(fake._message_payload(msg))

    async def bulk_delete(self, request: web.Request) -> web.Response:
        ch = self._channel(request)
        self._need(self._bot_perms(ch), Perm.MANAGE_MESSAGES)
        for mid in (request[BODY] or {}).get("messages", []):
            msg = self.fake.messages.get(int(mid))
            if msg is not None and msg.channel_id == ch.id and not msg.deleted:
                self.fake._delete_message(msg)
        return empty_response()

    async def typing(self, request: web.Request) -> web.Response:
        self._channel(request)
        return empty_response()

    async def pin(self, request: web.Request) -> web.Response:
        ch = self._channel(request)
        msg = self._channel_message(ch, request)
        perms = self._bot_perms(ch)
        if not perms & (Perm.MANAGE_MESSAGES | Perm.PIN_MESSAGES):
            raise ApiError(403, 50013, "Missing Permissions")
        msg.pinned = request.method == "PUT"
        self.fake._touch_message(msg)
        return empty_response()

    async def list_pins(self, request: web.Request) -> web.Response:
        ch = self._channel(request)
        pins = [m for m in self.fake.messages_in(ch) if m.pinned]
        if request.path.endswith("/messages/pins"):
            return json_response(
                {
                    "items": [
                        {
                            "pinned_at": m.payload()["timestamp"],
                            "message": self.fake._message_payload(m),
                        }
                        for m in pins
                    ],
                    "has_more": False,
                }
            )
        return json_response([self.fake._message_payload(m) for m in pins])

    async def reaction(self, request: web.Request) -> web.Response:
        ch = self._channel(request)
        self._channel_message(ch, request)
        if request.method == "PUT":
            self._need(self._bot_perms(ch), Perm.ADD_REACTIONS)
        return empty_response()

    # ================================================================ guilds

    async def get_guild(self, request: web.Request) -> web.Response:
        guild = self._guild(request)
        data = guild.payload()
        for key in (
            "members",
            "channels",
            "threads",
            "presences",
            "voice_states",
            "joined_at",
            "large",
            "member_count",
        ):
            data.pop(key, None)
        if _truthy(request.query.get("with_counts")):
            data["approximate_member_count"] = guild.member_count
            data["approximate_presence_count"] = 0
        return json_response(data)

    async def guild_channels(self, request: web.Request) -> web.Response:
        guild = self._guild(request)
        return json_response([c.payload() for c in guild.channels])

    async def guild_roles(self, request: web.Request) -> web.Response:
        guild = self._guild(request)
        if request.method == "POST":
            self._need(guild.base_permissions(guild.bot_member), Perm.MANAGE_ROLES)
            body = request[BODY] or {}
            perms = int(body.get("permissions") or 0)
            bot_perms = guild.base_permissions(guild.bot_member)
            if perms & ~bot_perms:
                raise ApiError(403, 50013, "Missing Permissions")
            role = guild.add_role(
                str(body.get("name") or "new role")[:100],
                perms,
                mentionable=bool(body.get("mentionable", False)),
                color=int(body.get("color") or 0),
            )
            return json_response(role.payload())
        return json_response([r.payload() for r in guild.roles])

    async def list_members(self, request: web.Request) -> web.Response:
        guild = self._guild(request)
        q = request.query
        limit = max(1, min(1000, int(q.get("limit", 1))))
        after = int(q.get("after", 0))
        members = sorted((m for m in guild.members if m.id > after), key=lambda m: m.id)[:limit]
        return json_response([m.payload() for m in members])

    async def search_members(self, request: web.Request) -> web.Response:
        guild = self._guild(request)
        query = request.query.get("query", "").lower()
        limit = max(1, min(1000, int(request.query.get("limit", 1))))
        found = [m for m in guild.members if m.name.lower().startswith(query)][:limit]
        return json_response([m.payload() for m in found])

    async def member(self, request: web.Request) -> web.Response:
        guild = self._guild(request)
        member = self._member(guild, request)
        if request.method == "GET":
            return json_response(member.payload())
        body = request[BODY] or {}
        if "roles" in body:
            wanted = {self._role(guild, int(r)).id for r in body["roles"] or []}
            current = set(member.role_ids)
            for rid in wanted ^ current:
                self._check_manage_role(guild, self._role(guild, rid))
            member.roles = sorted((self._role(guild, r) for r in wanted), key=lambda r: r.position)
        if "nick" in body:
            if member.id != self.fake.bot_user_id:
                self._need(guild.base_permissions(guild.bot_member), Perm.MANAGE_NICKNAMES)
            member.nick = body["nick"]
        guild._member_updated(member)
        return json_response(member.payload())

    def _check_manage_role(self, guild: FakeGuild, role: FakeRole) -> None:
        bot = guild.bot_member
        if not guild.base_permissions(bot) & Perm.MANAGE_ROLES:
            raise ApiError(403, 50013, "Missing Permissions")
        if role.is_everyone or role.managed:
            raise ApiError(403, 50013, "Missing Permissions")
        if guild.owner_id != bot.id and role.position >= bot.top_role.position:
            raise ApiError(403, 50013, "Missing Permissions")

    async def member_role(self, request: web.Request) -> web.Response:
        guild = self._guild(request)
        member = self._member(guild, request)
        role = self._role(guild, int(request.match_info["rid"]))
        self._check_manage_role(guild, role)
        if request.method == "PUT":
            if role not in member.roles:
                member.roles = sorted([*member.roles, role], key=lambda r: r.position)
                guild._member_updated(member)
        elif role in member.roles:
            member.roles = [r for r in member.roles if r is not role]
            guild._member_updated(member)
        return empty_response()


def build_app(fake: FakeDiscord) -> web.Application:
    api = HttpApi(fake)
    app = web.Application(middlewares=[api.middleware], client_max_size=64 * 1024 * 1024)
    app[API] = api
    r = app.router

    async def gateway(request: web.Request) -> web.StreamResponse:
        return await gateway_handler(fake, request)

    r.add_get("/gateway", gateway)
    r.add_get("/", gateway)
    r.add_get(P + "/gateway", api.get_gateway)
    r.add_get(P + "/gateway/bot", api.get_gateway_bot)
    r.add_get(P + "/users/@me", api.get_me)
    r.add_get(P + "/users/@me/guilds", api.my_guilds)
    r.add_delete(P + r"/users/@me/guilds/{gid:\d+}", api.leave_guild)
    r.add_post(P + "/users/@me/channels", api.create_dm)
    r.add_get(P + r"/users/{uid:\d+}", api.get_user)
    r.add_get(P + "/oauth2/applications/@me", api.app_info)
    r.add_get(P + "/applications/@me", api.app_info)
    app_p = P + r"/applications/{app:\d+}"
    r.add_get(app_p + "/emojis", api.app_emojis)
    r.add_get(app_p + "/entitlements", api.empty_list)
    for base in (app_p + "/commands", app_p + r"/guilds/{gid:\d+}/commands"):
        r.add_get(base, api.get_commands)
        r.add_put(base, api.put_commands)
        r.add_post(base, api.post_command)
        r.add_get(base + "/permissions", api.empty_list)
        for method in ("GET", "PATCH", "DELETE"):
            r.add_route(method, base + r"/{cmd:\d+}", api.one_command)
    r.add_post(P + r"/interactions/{iid:\d+}/{token}/callback", api.interaction_callback)
    hook = P + r"/webhooks/{app:\d+}/{token}"
    r.add_post(hook, api.webhook_execute)
    for method in ("GET", "PATCH", "DELETE"):
        r.add_route(method, hook + "/messages/{mid}", api.webhook_message)
    ch = P + r"/channels/{cid:\d+}"
    r.add_get(ch, api.get_channel)
    r.add_post(ch + "/messages", api.create_message)
    r.add_get(ch + "/messages", api.list_messages)
    r.add_post(ch + "/messages/bulk-delete", api.bulk_delete)
    r.add_get(ch + "/messages/pins", api.list_pins)
    r.add_get(ch + "/pins", api.list_pins)
    for pin_path in (ch + r"/messages/pins/{mid:\d+}", ch + r"/pins/{mid:\d+}"):
        r.add_put(pin_path, api.pin)
        r.add_delete(pin_path, api.pin)
    for method in ("GET", "PATCH", "DELETE"):
        r.add_route(method, ch + r"/messages/{mid:\d+}", api.message)
    r.add_put(ch + r"/messages/{mid:\d+}/reactions/{emoji}/@me", api.reaction)
    r.add_delete(ch + r"/messages/{mid:\d+}/reactions/{emoji}/@me", api.reaction)
    r.add_delete(ch + r"/messages/{mid:\d+}/reactions", api.reaction)
    r.add_post(ch + "/typing", api.typing)
    g = P + r"/guilds/{gid:\d+}"
    r.add_get(g, api.get_guild)
    r.add_get(g + "/channels", api.guild_channels)
    r.add_get(g + "/roles", api.guild_roles)
    r.add_post(g + "/roles", api.guild_roles)
    r.add_get(g + "/members", api.list_members)
    r.add_get(g + "/members/search", api.search_members)
    r.add_get(g + r"/members/{uid:(\d+|@me)}", api.member)
    r.add_patch(g + r"/members/{uid:(\d+|@me)}", api.member)
    r.add_put(g + r"/members/{uid:\d+}/roles/{rid:\d+}", api.member_role)
    r.add_delete(g + r"/members/{uid:\d+}/roles/{rid:\d+}", api.member_role)

    from .control import add_control_routes

    add_control_routes(app, fake)
    r.add_route("*", "/api/{tail:.*}", api.unknown_route)
    return app
