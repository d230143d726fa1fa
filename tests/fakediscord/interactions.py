"""Interaction payloads the fake sends (INTERACTION_CREATE) and what it learns back.

:class:`InteractionResult` is what ``fake.slash`` / ``click`` / ``select`` / ``submit_modal`` /
``send_raw_interaction`` return: it fills in when the bot calls back, edits its response
or sends follow-ups.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

from . import limits
from .state import FakeChannel, FakeGuild, FakeMember, FakeMessage, FakeRole, FakeUser

if TYPE_CHECKING:
    from .server import FakeDiscord

PING = 1
APPLICATION_COMMAND = 2
MESSAGE_COMPONENT = 3
AUTOCOMPLETE = 4
MODAL_SUBMIT = 5

ATTACHMENT_SIZE_LIMIT = 10 * 1024 * 1024


class FakeDiscordError(Exception):
    """A test asked the fake for something a real Discord client could not do
    (unknown command or option, a button that is not on the message, a bad value...)."""


class Signal:
    """A pulse that any number of waiters can wait on, re-armed after each pulse."""

    __slots__ = ("_fut",)

    def __init__(self) -> None:
        self._fut: asyncio.Future[None] | None = None

    def pulse(self) -> None:
        fut = self._fut
        if fut is not None:
            self._fut = None
            if not fut.done():
                fut.set_result(None)

    async def wait_until(self, cond: Callable[[], bool], timeout: float, what: str) -> None:  # noqa: ASYNC109
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not cond():
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise TimeoutError(f"timed out after {timeout}s waiting for {what}")
            if self._fut is None or self._fut.done():
                self._fut = loop.create_future()
            try:
                await asyncio.wait_for(asyncio.shield(self._fut), remaining)
            except TimeoutError:
                if not cond():
                    raise TimeoutError(f"timed out after {timeout}s waiting for {what}") from None


class InteractionResult:
    """One interaction sent to the bot and everything the bot did with it.

    Attributes filled when the bot calls back: ``type`` (callback type), ``data`` (callback
    data), ``acked_after`` (seconds from dispatch to callback), ``rejected`` (callbacks the
    fake refused, with the reason).  ``message`` is the response message (created by a type
    4/5 callback, or the clicked message for 6/7), ``followups`` the follow-up messages.
    """

    def __init__(
        self,
        fake: FakeDiscord,
        *,
        interaction_id: int,
        token: str,
        kind: int,
        payload: dict[str, Any],
        guild: FakeGuild | None = None,
        member: FakeMember | None = None,
        channel_id: int | None = None,
        source_message: FakeMessage | None = None,
        command_name: str | None = None,
    ) -> None:
        self.fake = fake
        self.id = interaction_id
        self.token = token
        self.kind = kind
        self.payload = payload
        self.guild = guild
        self.member = member
        self.channel_id = channel_id
        self.source_message = source_message
        self.command_name = command_name
        self.dispatched_at = time.monotonic()
        self.type: int | None = None
        self.data: dict[str, Any] | None = None
        self.acked_after: float | None = None
        self.rejected: list[str] = []
        self.message_id: int | None = None
        self.followup_ids: list[int] = []
        self.signal = Signal()

    # ------------------------------------------------------------------ waiting

    async def response(self, timeout: float = 5.0) -> InteractionResult:  # noqa: ASYNC109
        """Wait for the bot's callback (any type).  Returns ``self``."""

        def done() -> bool:
            return self.type is not None

        try:
            await self.signal.wait_until(done, timeout, f"the bot to answer interaction {self.id}")
        except TimeoutError as exc:
            extra = f"; the fake rejected: {self.rejected}" if self.rejected else ""
            raise TimeoutError(f"{exc} ({self.describe()}){extra}") from None
        return self

    async def wait_followups(self, n: int = 1, timeout: float = 5.0) -> list[FakeMessage]:  # noqa: ASYNC109
        await self.signal.wait_until(
            lambda: len(self.followup_ids) >= n,
            timeout,
            f"{n} follow-up(s) to interaction {self.id}",
        )
        return self.followups

    async def wait_message(
        self,
        timeout: float = 5.0,  # noqa: ASYNC109
        predicate: Callable[[FakeMessage], bool] | None = None,
    ) -> FakeMessage:
        """Wait until the response message exists, is not "thinking" any more, and (if given)
        ``predicate(message)`` holds; returns it."""

        def ready() -> bool:
            m = self.message
            return m is not None and not m.loading and (predicate is None or predicate(m))

        await self.signal.wait_until(ready, timeout, f"the response message of interaction {self.id}")
        msg = self.message
        assert msg is not None
        return msg

    # ------------------------------------------------------------------ views

    @property
    def message(self) -> FakeMessage | None:
        return self.fake.messages.get(self.message_id) if self.message_id is not None else None

    @property
    def followups(self) -> list[FakeMessage]:
        return [self.fake.messages[i] for i in self.followup_ids]

    @property
    def flags(self) -> int:
        return int((self.data or {}).get("flags") or 0)

    @property
    def ephemeral(self) -> bool:
        if self.type in (6, 7) and self.source_message is not None:
            return self.source_message.ephemeral
        if self.message is not None:
            return self.message.ephemeral
        return bool(self.flags & limits.FLAG_EPHEMERAL)

    @property
    def deferred(self) -> bool:
        return self.type in (5, 6)

    @property
    def content(self) -> str | None:
        msg = self.message
        if msg is not None and self.type in (4, 5, 6, 7):
            return msg.content
        return (self.data or {}).get("content")

    @property
    def embeds(self) -> list[dict[str, Any]]:
        msg = self.message
        if msg is not None and self.type in (4, 5, 6, 7):
            return msg.embeds
        return list((self.data or {}).get("embeds") or [])

    @property
    def components(self) -> list[dict[str, Any]]:
        msg = self.message
        if msg is not None and self.type in (4, 5, 6, 7):
            return msg.components
        return list((self.data or {}).get("components") or [])

    @property
    def modal(self) -> dict[str, Any] | None:
        return self.data if self.type == 9 else None

    @property
    def modal_custom_id(self) -> str | None:
        return self.modal["custom_id"] if self.modal else None

    @property
    def choices(self) -> list[dict[str, Any]] | None:
        return list((self.data or {}).get("choices") or []) if self.type == 8 else None

    def custom_ids(self) -> list[str]:
        return limits.custom_ids(self.components)

    def describe(self) -> str:
        what = {2: "slash", 3: "component", 4: "autocomplete", 5: "modal submit", 1: "ping"}.get(
            self.kind, str(self.kind)
        )
        name = f" {self.command_name!r}" if self.command_name else ""
        return f"{what}{name} id={self.id} type={self.type}"

    def __repr__(self) -> str:
        return f"<InteractionResult {self.describe()} content={self.content!r}>"


# ------------------------------------------------------------------ payload builders


def new_token() -> str:
    return "aW50ZXJhY3Rpb246" + secrets.token_urlsafe(64)


def channel_resolved(channel: FakeChannel, permissions: int) -> dict[str, Any]:
    data = channel.payload()
    data["permissions"] = str(permissions)
    return data


def base_payload(
    fake: FakeDiscord,
    *,
    interaction_id: int,
    token: str,
    kind: int,
    guild: FakeGuild,
    member: FakeMember,
    channel: FakeChannel,
    data: dict[str, Any] | None,
    message: FakeMessage | None = None,
    locale: str | None = None,
) -> dict[str, Any]:
    perms = guild.permissions_in(member, channel)
    app_perms = guild.permissions_in(guild.bot_member, channel)
    payload: dict[str, Any] = {
        "id": str(interaction_id),
        "application_id": str(fake.application_id),
        "type": kind,
        "guild_id": str(guild.id),
        "guild": {"id": str(guild.id), "locale": guild.locale, "features": list(guild.features)},
        "channel_id": str(channel.id),
        "channel": channel_resolved(channel, perms),
        "member": member.payload(permissions=perms),
        "app_permissions": str(app_perms),
        "token": token,
        "version": 1,
        "locale": locale or member.locale,
        "guild_locale": guild.locale,
        "entitlements": [],
        "entitlement_sku_ids": [],
        "authorizing_integration_owners": {"0": str(guild.id)},
        "context": 0,
        "attachment_size_limit": ATTACHMENT_SIZE_LIMIT,
    }
    if data is not None:
        payload["data"] = data
    if message is not None:
        payload["message"] = fake._message_payload(message)
    return payload


# ------------------------------------------------------------------ commands & options

OPTION_TYPE_NAMES = {
    1: "SUB_COMMAND",
    2: "SUB_COMMAND_GROUP",
    3: "STRING",
    4: "INTEGER",
    5: "BOOLEAN",
    6: "USER",
    7: "CHANNEL",
    8: "ROLE",
    9: "MENTIONABLE",
    10: "NUMBER",
    11: "ATTACHMENT",
}


def find_command(
    commands_guild: list[dict[str, Any]],
    commands_global: list[dict[str, Any]],
    path: str,
    *,
    command_type: int = 1,
) -> tuple[dict[str, Any], list[dict[str, Any]], bool]:
    """``"admin character status"`` -> (top-level command, [group, sub], is_guild_command)."""
    # Context-menu names may contain spaces and have no sub-commands.
    parts = path.split() if command_type == 1 else [path]
    if not parts or not parts[0]:
        raise FakeDiscordError("empty command path")
    top = None
    is_guild = False
    for cmds, guild_flag in ((commands_guild, True), (commands_global, False)):
        for c in cmds:
            if c.get("name") == parts[0] and c.get("type", 1) == command_type:
                top, is_guild = c, guild_flag
                break
        if top is not None:
            break
    if top is None:
        known = sorted({c.get("name", "?") for c in [*commands_guild, *commands_global]})
        raise FakeDiscordError(
            f"no synced command {parts[0]!r} (type {command_type}); the bot synced: {known}. "
            "Did the bot call tree.sync()? (or preload with fake.set_commands())"
        )
    chain: list[dict[str, Any]] = []
    node = top
    for part in parts[1:]:
        subs = [o for o in node.get("options") or [] if o.get("type") in (1, 2)]
        nxt = next((o for o in subs if o.get("name") == part), None)
        if nxt is None:
            raise FakeDiscordError(
                f"command {path!r}: {node.get('name')!r} has no sub-command {part!r}; "
                f"it has {[o.get('name') for o in subs]}"
            )
        chain.append(nxt)
        node = nxt
    if any(o.get("type") in (1, 2) for o in node.get("options") or []):
        subs = [o.get("name") for o in node.get("options") or []]
        raise FakeDiscordError(f"command {path!r} needs a sub-command, one of {subs}")
    return top, chain, is_guild


class OptionBuilder:
    """Converts test kwargs to interaction options plus ``resolved`` data."""

    def __init__(self, fake: FakeDiscord, guild: FakeGuild, member: FakeMember, channel: FakeChannel) -> None:
        self.fake = fake
        self.guild = guild
        self.member = member
        self.channel = channel
        self.resolved: dict[str, dict[str, Any]] = {}

    def _res(self, kind: str) -> dict[str, Any]:
        return self.resolved.setdefault(kind, {})

    def _add_user(self, target: FakeMember | FakeUser) -> str:
        if isinstance(target, FakeMember):
            self._res("users")[str(target.id)] = target.user.payload()
            perms = self.guild.permissions_in(target, self.channel)
            self._res("members")[str(target.id)] = target.payload(with_user=False, permissions=perms)
        else:
            self._res("users")[str(target.id)] = target.payload()
            m = self.guild.get_member(target.id)
            if m is not None:
                perms = self.guild.permissions_in(m, self.channel)
                self._res("members")[str(m.id)] = m.payload(with_user=False, permissions=perms)
        return str(target.id)

    def _add_role(self, role: FakeRole) -> str:
        self._res("roles")[str(role.id)] = role.payload()
        return str(role.id)

    def _add_channel(self, ch: FakeChannel) -> str:
        perms = self.guild.permissions_in(self.member, ch)
        self._res("channels")[str(ch.id)] = channel_resolved(ch, perms)
        return str(ch.id)

    def _lookup_id(self, value: int) -> FakeMember | FakeRole | FakeChannel | FakeUser | None:
        return (
            self.guild.get_member(value)
            or self.guild.get_role(value)
            or self.fake.channels.get(value)
            or self.fake.users.get(value)
        )

    def convert(self, opt: Mapping[str, Any], value: Any, where: str) -> Any:
        t = opt.get("type")
        name = opt.get("name")
        if t == 3:
            if not isinstance(value, str):
                raise FakeDiscordError(f"{where}: option {name!r} is a STRING, got {value!r}")
            lo, hi = opt.get("min_length"), opt.get("max_length")
            if (lo is not None and len(value) < lo) or (hi is not None and len(value) > hi):
                raise FakeDiscordError(f"{where}: {name!r} must be {lo}..{hi} characters long")
            if len(value) > 6000:
                raise FakeDiscordError(f"{where}: {name!r} longer than 6000 characters")
        elif t == 4:
            if isinstance(value, str) and value.lstrip("-").isdigit():
                value = int(value)
            if isinstance(value, bool) or not isinstance(value, int):
                raise FakeDiscordError(f"{where}: option {name!r} is an INTEGER, got {value!r}")
            if abs(value) > 2**53:
                raise FakeDiscordError(f"{where}: {name!r} out of Discord's integer range")
        elif t == 10:
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise FakeDiscordError(f"{where}: option {name!r} is a NUMBER, got {value!r}")
        elif t == 5:
            if not isinstance(value, bool):
                raise FakeDiscordError(f"{where}: option {name!r} is a BOOLEAN, got {value!r}")
        elif t in (6, 7, 8, 9):
            if isinstance(value, int) and not isinstance(value, bool):
                found = self._lookup_id(value)
                if found is None:
                    raise FakeDiscordError(f"{where}: no user/role/channel with id {value}")
                value = found
            if t == 6 and isinstance(value, FakeMember | FakeUser):
                return self._add_user(value)
            if t == 8 and isinstance(value, FakeRole):
                return self._add_role(value)
            if t == 7 and isinstance(value, FakeChannel):
                types = opt.get("channel_types")
                if types and value.type not in types:
                    raise FakeDiscordError(f"{where}: {name!r} accepts channel types {types}")
                return self._add_channel(value)
            if t == 9 and isinstance(value, FakeMember | FakeUser):
                return self._add_user(value)
            if t == 9 and isinstance(value, FakeRole):
                return self._add_role(value)
            raise FakeDiscordError(f"{where}: option {name!r} is a {OPTION_TYPE_NAMES[t]}, got {value!r}")
        elif t == 11:
            att = self._attachment(value)
            self._res("attachments")[att["id"]] = att
            return att["id"]
        else:
            raise FakeDiscordError(f"{where}: option {name!r} has unsupported type {t!r}")
        if t in (4, 10):
            lo, hi = opt.get("min_value"), opt.get("max_value")
            if (lo is not None and value < lo) or (hi is not None and value > hi):
                raise FakeDiscordError(f"{where}: {name!r} must be within {lo}..{hi}")
        choices = opt.get("choices")
        if choices and value not in [c.get("value") for c in choices]:
            raise FakeDiscordError(
                f"{where}: {value!r} is not one of the choices of {name!r}: "
                f"{[c.get('value') for c in choices]}"
            )
        return value

    def _attachment(self, value: Any) -> dict[str, Any]:
        if isinstance(value, str):
            value = {"filename": value}
        if not isinstance(value, dict):
            raise FakeDiscordError(f"attachment must be a filename or a dict, got {value!r}")
        aid = str(self.fake.snowflakes.next())
        filename = value.get("filename", "file.txt")
        return {
            "id": aid,
            "filename": filename,
            "size": int(value.get("size", 1)),
            "url": f"{self.fake.url}/attachments/{aid}/{filename}",
            "proxy_url": f"{self.fake.url}/attachments/{aid}/{filename}",
            "content_type": value.get("content_type", "text/plain"),
        }

    def build(
        self,
        defs: list[dict[str, Any]],
        values: Mapping[str, Any],
        where: str,
        *,
        focused: str | None = None,
    ) -> list[dict[str, Any]]:
        by_name = {o.get("name"): o for o in defs}
        unknown = [k for k in values if k not in by_name]
        if unknown:
            raise FakeDiscordError(f"{where}: unknown option(s) {unknown}; options are {list(by_name)}")
        if focused is not None and focused not in by_name:
            raise FakeDiscordError(f"{where}: no option {focused!r} to focus; options are {list(by_name)}")
        out: list[dict[str, Any]] = []
        for o in defs:
            name = o["name"]
            if name == focused:
                if not o.get("autocomplete"):
                    raise FakeDiscordError(f"{where}: option {name!r} has no autocomplete")
                raw = values.get(name, "")
                # Autocomplete values arrive as the raw text typed so far, whatever the type.
                out.append({"name": name, "type": o["type"], "value": str(raw), "focused": True})
                continue
            if name not in values or values[name] is None:
                if o.get("required") and focused is None:
                    raise FakeDiscordError(f"{where}: required option {name!r} missing")
                continue
            out.append({"name": name, "type": o["type"], "value": self.convert(o, values[name], where)})
        return out


def wrap_options(
    chain: Iterable[Mapping[str, Any]], leaf_options: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Nest leaf options inside their sub-command (and group) the way Discord sends them."""
    options = leaf_options
    for node in reversed(list(chain)):
        options = [{"name": node["name"], "type": node["type"], "options": options}]
    return options


# ------------------------------------------------------------------ modal submits


def modal_submit_components(
    modal: Mapping[str, Any] | None, values: Mapping[str, Any]
) -> list[dict[str, Any]]:
    """Mirror the modal the bot sent (action rows or labels), filling in ``values``."""
    if modal is None:
        return [
            {"type": 1, "components": [{"type": 4, "custom_id": cid, "value": str(v)}]}
            for cid, v in values.items()
        ]
    known: set[str] = set()
    out: list[dict[str, Any]] = []
    for comp in modal.get("components") or []:
        t = comp.get("type")
        if t == 1:
            row = []
            for ti in comp.get("components") or []:
                row.append(_submit_value(ti, values, known))
            out.append({"type": 1, "components": row})
        elif t == 18:
            inner = comp.get("component") or {}
            entry: dict[str, Any] = {"type": 18, "component": _submit_value(inner, values, known)}
            if "id" in comp:
                entry["id"] = comp["id"]
            out.append(entry)
        elif t == 10:
            entry = {"type": 10}
            if "id" in comp:
                entry["id"] = comp["id"]
            out.append(entry)
    unknown = [k for k in values if k not in known]
    if unknown:
        raise FakeDiscordError(
            f"modal {modal.get('custom_id')!r} has no input(s) {unknown}; it has {sorted(known)}"
        )
    return out


def _submit_value(comp: Mapping[str, Any], values: Mapping[str, Any], known: set[str]) -> dict[str, Any]:
    cid = comp.get("custom_id", "")
    known.add(cid)
    t = comp.get("type")
    entry: dict[str, Any] = {"type": t, "custom_id": cid}
    if "id" in comp:
        entry["id"] = comp["id"]
    value = values.get(cid)
    if t == 4:
        text = "" if value is None else str(value)
        if value is None and comp.get("required", True):
            raise FakeDiscordError(f"text input {cid!r} is required")
        lo, hi = comp.get("min_length"), comp.get("max_length")
        if text and ((lo is not None and len(text) < lo) or (hi is not None and len(text) > hi)):
            raise FakeDiscordError(f"text input {cid!r} must be {lo}..{hi} characters long")
        if len(text) > limits.TEXT_INPUT_VALUE_MAX:
            raise FakeDiscordError(f"text input {cid!r} longer than {limits.TEXT_INPUT_VALUE_MAX}")
        entry["value"] = text
    elif t == 23:
        entry["value"] = bool(value)
    elif t == 21:
        entry["value"] = value
    else:
        if value is None:
            vals: list[Any] = []
        elif isinstance(value, list | tuple):
            vals = list(value)
        else:
            vals = [value]
        entry["values"] = [str(getattr(v, "id", v)) for v in vals]
    return entry
