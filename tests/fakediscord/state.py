"""The fake's world: users, guilds, roles, channels, members and messages.

Objects here know how to render themselves as Discord JSON payloads.  Mutating methods on
:class:`FakeGuild` tell the owning :class:`~tests.fakediscord.server.FakeDiscord` so that a
connected bot receives the matching gateway event (GUILD_ROLE_CREATE, CHANNEL_CREATE, ...).
"""

from __future__ import annotations

import copy
import datetime
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from . import limits
from .permissions import (
    ALL_PERMISSIONS,
    DEFAULT_EVERYONE,
    Perm,
    base_permissions,
    channel_permissions,
)
from .util import iso, snowflake_time

if TYPE_CHECKING:
    from .server import FakeDiscord


@dataclass(eq=False)
class FakeUser:
    id: int
    username: str
    bot: bool = False
    global_name: str | None = None
    locale: str = "en-US"

    def payload(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": str(self.id),
            "username": self.username,
            "discriminator": "0",
            "global_name": self.global_name if not self.bot else None,
            "avatar": None,
            "avatar_decoration_data": None,
            "public_flags": 0,
            "flags": 0,
            "banner": None,
            "accent_color": None,
        }
        if self.bot:
            data["bot"] = True
        return data

    @property
    def mention(self) -> str:
        return f"<@{self.id}>"


@dataclass(eq=False)
class FakeRole:
    id: int
    guild: FakeGuild
    name: str
    permissions: int = 0
    position: int = 0
    color: int = 0
    hoist: bool = False
    mentionable: bool = False
    managed: bool = False
    bot_id: int | None = None

    @property
    def is_everyone(self) -> bool:
        return self.id == self.guild.id

    @property
    def mention(self) -> str:
        return "@everyone" if self.is_everyone else f"<@&{self.id}>"

    def payload(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": str(self.id),
            "name": self.name,
            "permissions": str(int(self.permissions)),
            "position": self.position,
            "color": self.color,
            "colors": {
                "primary_color": self.color,
                "secondary_color": None,
                "tertiary_color": None,
            },
            "hoist": self.hoist,
            "icon": None,
            "unicode_emoji": None,
            "managed": self.managed,
            "mentionable": self.mentionable,
            "flags": 0,
            "description": None,
        }
        if self.bot_id is not None:
            data["tags"] = {"bot_id": str(self.bot_id)}
        return data

    def __repr__(self) -> str:
        return f"<FakeRole {self.name!r} id={self.id} pos={self.position} perms={self.permissions}>"


@dataclass(eq=False)
class FakeMember:
    user: FakeUser
    guild: FakeGuild
    roles: list[FakeRole] = field(default_factory=list)
    joined_at: str = field(default_factory=iso)
    nick: str | None = None
    locale: str = "en-US"

    @property
    def id(self) -> int:
        return self.user.id

    @property
    def name(self) -> str:
        return self.user.username

    @property
    def mention(self) -> str:
        return f"<@{self.id}>"

    @property
    def role_ids(self) -> list[int]:
        return [r.id for r in self.roles]

    @property
    def top_role(self) -> FakeRole:
        return max([self.guild.everyone, *self.roles], key=lambda r: r.position)

    @property
    def is_owner(self) -> bool:
        return self.guild.owner_id == self.id

    def guild_permissions(self) -> int:
        return self.guild.base_permissions(self)

    def permissions_in(self, channel: FakeChannel) -> int:
        return self.guild.permissions_in(self, channel)

    def payload(self, *, with_user: bool = True, permissions: int | None = None) -> dict[str, Any]:
        data: dict[str, Any] = {
            "roles": [str(r.id) for r in self.roles],
            "joined_at": self.joined_at,
            "nick": self.nick,
            "avatar": None,
            "banner": None,
            "premium_since": None,
            "deaf": False,
            "mute": False,
            "pending": False,
            "flags": 0,
            "communication_disabled_until": None,
            "unusual_dm_activity_until": None,
            "avatar_decoration_data": None,
        }
        if with_user:
            data["user"] = self.user.payload()
        if permissions is not None:
            data["permissions"] = str(permissions)
        return data

    def __repr__(self) -> str:
        return f"<FakeMember {self.name!r} id={self.id} roles={[r.name for r in self.roles]}>"


@dataclass(eq=False)
class FakeChannel:
    id: int
    guild: FakeGuild | None
    name: str
    type: int = 0
    position: int = 0
    topic: str | None = None
    # target id -> {"type": 0 (role) | 1 (member), "allow": int, "deny": int}
    overwrites: dict[int, dict[str, int]] = field(default_factory=dict)
    recipients: list[FakeUser] = field(default_factory=list)
    last_message_id: int | None = None

    @property
    def mention(self) -> str:
        return f"<#{self.id}>"

    @property
    def guild_id(self) -> int | None:
        return self.guild.id if self.guild is not None else None

    def set_overwrite(self, target: FakeRole | FakeMember, *, allow: int = 0, deny: int = 0) -> None:
        """Set a permission overwrite (sends nothing; then call ``guild.update_channel``)."""
        kind = 0 if isinstance(target, FakeRole) else 1
        self.overwrites[target.id] = {"type": kind, "allow": int(allow), "deny": int(deny)}

    def payload(self) -> dict[str, Any]:
        if self.guild is None:
            return {
                "id": str(self.id),
                "type": self.type,
                "last_message_id": str(self.last_message_id) if self.last_message_id else None,
                "recipients": [u.payload() for u in self.recipients],
                "flags": 0,
            }
        return {
            "id": str(self.id),
            "type": self.type,
            "guild_id": str(self.guild.id),
            "name": self.name,
            "position": self.position,
            "permission_overwrites": [
                {
                    "id": str(tid),
                    "type": ow["type"],
                    "allow": str(ow["allow"]),
                    "deny": str(ow["deny"]),
                }
                for tid, ow in self.overwrites.items()
            ],
            "parent_id": None,
            "topic": self.topic,
            "nsfw": False,
            "rate_limit_per_user": 0,
            "last_message_id": str(self.last_message_id) if self.last_message_id else None,
            "flags": 0,
        }

    def __repr__(self) -> str:
        return f"<FakeChannel #{self.name} id={self.id}>"


class FakeGuild:
    """A server.  Create with :meth:`FakeDiscord.add_guild`."""

    def __init__(self, fake: FakeDiscord, guild_id: int, name: str, *, locale: str = "en-US") -> None:
        self.fake = fake
        self.id = guild_id
        self.name = name
        self.locale = locale
        self.features: list[str] = []
        self.roles: list[FakeRole] = []  # ordered by position (0 = @everyone)
        self.channels: list[FakeChannel] = []
        self._members: dict[int, FakeMember] = {}
        self.owner_id = 0
        self.joined_at = iso()
        self.live = False  # True once the bot has been told about this guild
        self.everyone = FakeRole(guild_id, self, "@everyone", DEFAULT_EVERYONE, 0)
        self.roles.append(self.everyone)
        # Filled by FakeDiscord.add_guild:
        self.general: FakeChannel
        self.owner: FakeMember
        self.bot_member: FakeMember
        self.bot_role: FakeRole
        self.admin_role: FakeRole

    # ------------------------------------------------------------------ lookups

    @property
    def members(self) -> list[FakeMember]:
        return list(self._members.values())

    @property
    def member_count(self) -> int:
        return len(self._members)

    def get_member(self, user_id: int) -> FakeMember | None:
        return self._members.get(user_id)

    def get_role(self, role_id: int) -> FakeRole | None:
        for r in self.roles:
            if r.id == role_id:
                return r
        return None

    def role_named(self, name: str) -> FakeRole:
        for r in self.roles:
            if r.name == name:
                return r
        raise KeyError(name)

    def channel_named(self, name: str) -> FakeChannel:
        for c in self.channels:
            if c.name == name:
                return c
        raise KeyError(name)

    def member_named(self, name: str) -> FakeMember:
        for m in self._members.values():
            if m.name == name:
                return m
        raise KeyError(name)

    @property
    def role_ids(self) -> set[int]:
        return {r.id for r in self.roles}

    # -------------------------------------------------------------- permissions

    def base_permissions(self, member: FakeMember) -> int:
        return base_permissions(
            is_owner=member.id == self.owner_id,
            everyone_perms=self.everyone.permissions,
            role_perms=[r.permissions for r in member.roles],
        )

    def permissions_in(self, member: FakeMember, channel: FakeChannel | None) -> int:
        base = self.base_permissions(member)
        if channel is None or base == ALL_PERMISSIONS:
            return base
        return channel_permissions(
            base,
            guild_id=self.id,
            member_id=member.id,
            member_role_ids=member.role_ids,
            overwrites=channel.overwrites,
        )

    # ---------------------------------------------------------------- mutation

    def _renumber(self) -> None:
        for i, r in enumerate(self.roles):
            r.position = i

    def add_role(
        self,
        name: str,
        permissions: int = 0,
        position: int | None = None,
        *,
        above_bot: bool = False,
        mentionable: bool = False,
        color: int = 0,
    ) -> FakeRole:
        """Create a role.  By default it goes right above @everyone (position 1), i.e. below
        the bot's role, as Discord does for new roles; ``above_bot=True`` puts it right above
        the bot's role (so the bot cannot assign it); ``position`` sets it exactly."""
        role = FakeRole(
            self.fake.snowflakes.next(),
            self,
            name,
            int(permissions),
            mentionable=mentionable,
            color=color,
        )
        if above_bot:
            position = self.bot_role.position + 1
        pos = 1 if position is None else max(1, min(int(position), len(self.roles)))
        self.roles.insert(pos, role)
        self._renumber()
        if self.live:
            self.fake._guild_event(
                self, "GUILD_ROLE_CREATE", {"guild_id": str(self.id), "role": role.payload()}
            )
            self._send_role_positions()
        return role

    def _send_role_positions(self) -> None:
        for r in self.roles[1:]:
            self.fake._guild_event(self, "GUILD_ROLE_UPDATE", {"guild_id": str(self.id), "role": r.payload()})

    def update_role(self, role: FakeRole, *, permissions: int | None = None, name: str | None = None) -> None:
        if permissions is not None:
            role.permissions = int(permissions)
        if name is not None:
            role.name = name
        if self.live:
            self.fake._guild_event(
                self, "GUILD_ROLE_UPDATE", {"guild_id": str(self.id), "role": role.payload()}
            )

    def add_channel(
        self,
        name: str,
        *,
        bot_can_send: bool = True,
        bot_can_embed: bool = True,
        bot_can_view: bool = True,
        topic: str | None = None,
    ) -> FakeChannel:
        """A text channel.  The ``bot_can_*`` flags become a member overwrite for the bot, so
        discord.py's ``channel.permissions_for(guild.me)`` agrees with the fake."""
        ch = FakeChannel(self.fake.snowflakes.next(), self, name, position=len(self.channels), topic=topic)
        deny = 0
        if not bot_can_send:
            deny |= Perm.SEND_MESSAGES
        if not bot_can_embed:
            deny |= Perm.EMBED_LINKS
        if not bot_can_view:
            deny |= Perm.VIEW_CHANNEL
        if deny:
            ch.set_overwrite(self.bot_member, deny=deny)
        self._attach_channel(ch)
        return ch

    def _attach_channel(self, ch: FakeChannel) -> None:
        self.channels.append(ch)
        self.fake.channels[ch.id] = ch
        if self.live:
            self.fake._guild_event(self, "CHANNEL_CREATE", ch.payload())

    def update_channel(self, channel: FakeChannel) -> None:
        """Tell the bot about changed overwrites/name (CHANNEL_UPDATE)."""
        if self.live:
            self.fake._guild_event(self, "CHANNEL_UPDATE", channel.payload())

    def add_member(
        self,
        name: str,
        roles: Iterable[FakeRole] = (),
        *,
        locale: str = "en-US",
        bot: bool = False,
    ) -> FakeMember:
        user = self.fake._new_user(name, bot=bot, locale=locale)
        member = FakeMember(user, self, sorted(set(roles), key=lambda r: r.position), locale=locale)
        return self._attach_member(member)

    def _attach_member(self, member: FakeMember) -> FakeMember:
        self._members[member.id] = member
        if self.live:
            data = member.payload()
            data["guild_id"] = str(self.id)
            self.fake._guild_event(self, "GUILD_MEMBER_ADD", data, intent=1 << 1)
        return member

    def remove_member(self, member: FakeMember) -> None:
        self._members.pop(member.id, None)
        if self.live:
            self.fake._guild_event(
                self,
                "GUILD_MEMBER_REMOVE",
                {"guild_id": str(self.id), "user": member.user.payload()},
                intent=1 << 1,
            )

    def set_member_roles(self, member: FakeMember, roles: Iterable[FakeRole]) -> None:
        """Change a member's roles (as an admin would) and send GUILD_MEMBER_UPDATE."""
        member.roles = sorted(set(roles), key=lambda r: r.position)
        self._member_updated(member)

    def _member_updated(self, member: FakeMember) -> None:
        if self.live:
            data = member.payload()
            data["guild_id"] = str(self.id)
            is_bot = member.id == self.fake.bot_user_id
            self.fake._guild_event(self, "GUILD_MEMBER_UPDATE", data, intent=0 if is_bot else 1 << 1)

    # ------------------------------------------------------------------ payload

    def payload(self, *, large_threshold: int = 250, joined: bool = False) -> dict[str, Any]:
        """GUILD_CREATE data.  At start-up Discord marks guilds ``"unavailable": false``
        (discord.py then dispatches ``on_guild_available``); a live join has no
        ``unavailable`` key (``on_guild_join``)."""
        members = list(self._members.values())
        large = len(members) > large_threshold
        if large:
            members = [m for m in members if m.id in (self.owner_id, self.fake.bot_user_id)]
        data: dict[str, Any] = {
            "id": str(self.id),
            "name": self.name,
            "icon": None,
            "icon_hash": None,
            "splash": None,
            "discovery_splash": None,
            "banner": None,
            "description": None,
            "owner_id": str(self.owner_id),
            "region": "deprecated",
            "afk_channel_id": None,
            "afk_timeout": 300,
            "widget_enabled": False,
            "verification_level": 0,
            "default_message_notifications": 1,
            "explicit_content_filter": 0,
            "roles": [r.payload() for r in self.roles],
            "emojis": [],
            "stickers": [],
            "features": list(self.features),
            "mfa_level": 0,
            "application_id": None,
            "system_channel_id": str(self.general.id),
            "system_channel_flags": 0,
            "rules_channel_id": None,
            "public_updates_channel_id": None,
            "safety_alerts_channel_id": None,
            "vanity_url_code": None,
            "premium_tier": 0,
            "premium_subscription_count": 0,
            "preferred_locale": self.locale,
            "max_members": 25000000,
            "max_video_channel_users": 25,
            "max_stage_video_channel_users": 50,
            "nsfw_level": 0,
            "nsfw": False,
            "premium_progress_bar_enabled": False,
            "hub_type": None,
            "incidents_data": None,
            "joined_at": self.joined_at,
            "large": large,
            "lazy": True,
            "member_count": len(self._members),
            "members": [m.payload() for m in members],
            "channels": [c.payload() for c in self.channels],
            "threads": [],
            "voice_states": [],
            "presences": [],
            "stage_instances": [],
            "guild_scheduled_events": [],
            "soundboard_sounds": [],
            "embedded_activities": [],
        }
        if not joined:
            data["unavailable"] = False
        return data

    def __repr__(self) -> str:
        return f"<FakeGuild {self.name!r} id={self.id}>"


class FakeMessage:
    """A message the bot (or the fake) created: channel message, interaction response or
    follow-up.  Fields reflect the latest version; ``history`` keeps earlier versions.

    ``nonce`` is the nonce the channel post that created it carried (as sent: discord.py
    sends a string), None for interaction messages, which take none."""

    def __init__(
        self,
        *,
        message_id: int,
        channel_id: int,
        guild_id: int | None,
        author: FakeUser,
        data: dict[str, Any],
        flags: int = 0,
        msg_type: int = 0,
        webhook_id: int | None = None,
        application_id: int | None = None,
        interaction_id: int | None = None,
        interaction_metadata: dict[str, Any] | None = None,
        attachments: list[dict[str, Any]] | None = None,
        nonce: str | int | None = None,
    ) -> None:
        self.id = message_id
        self.nonce = nonce
        self.channel_id = channel_id
        self.guild_id = guild_id
        self.author = author
        self.author_id = author.id
        self.type = msg_type
        self.webhook_id = webhook_id
        self.application_id = application_id
        self.interaction_id = interaction_id
        self.interaction_metadata = interaction_metadata
        self.content: str = ""
        self.embeds: list[dict[str, Any]] = []
        self.components: list[dict[str, Any]] = []
        self.flags: int = flags
        self.allowed_mentions: dict[str, Any] | None = None
        self.attachments: list[dict[str, Any]] = list(attachments or [])
        self.poll: dict[str, Any] | None = None
        self.tts = False
        self.pinned = False
        self.message_reference: dict[str, Any] | None = None
        self.edits = 0
        self.history: list[dict[str, Any]] = []
        self.pinged: set[str] = set()
        self.deleted = False
        self.created_at = snowflake_time(message_id)
        self.edited_at: datetime.datetime | None = None
        self._apply(data, initial=True)

    # ------------------------------------------------------------------ state

    def _apply(self, data: dict[str, Any], *, initial: bool = False) -> None:
        if "content" in data:
            self.content = data["content"] if data["content"] is not None else ""
        if "embeds" in data:
            self.embeds = copy.deepcopy(data["embeds"] or [])
        if "components" in data:
            self.components = copy.deepcopy(data["components"] or [])
        if "flags" in data and data["flags"] is not None:
            keep = self.flags & limits.FLAG_EPHEMERAL
            self.flags = int(data["flags"]) | keep
        if "allowed_mentions" in data:
            self.allowed_mentions = data["allowed_mentions"]
        if "attachments" in data and not initial:
            keep_ids = {str(a.get("id")) for a in data["attachments"] or []}
            self.attachments = [a for a in self.attachments if str(a["id"]) in keep_ids]
        if initial:
            self.tts = bool(data.get("tts", False))
            self.poll = data.get("poll")
            self.message_reference = data.get("message_reference")

    def snapshot(self) -> dict[str, Any]:
        return {
            "content": self.content,
            "embeds": copy.deepcopy(self.embeds),
            "components": copy.deepcopy(self.components),
            "flags": self.flags,
            "pinged": set(self.pinged),
        }

    def _edit(self, data: dict[str, Any]) -> None:
        self.history.append(self.snapshot())
        self._apply(data)
        self.edits += 1
        self.edited_at = datetime.datetime.now(datetime.UTC)

    # ------------------------------------------------------------------ views

    @property
    def ephemeral(self) -> bool:
        return bool(self.flags & limits.FLAG_EPHEMERAL)

    @property
    def loading(self) -> bool:
        """True for a deferred ("thinking") response that has not been filled in yet."""
        return bool(self.flags & limits.FLAG_LOADING)

    def custom_ids(self) -> list[str]:
        return limits.custom_ids(self.components)

    def component(self, custom_id: str) -> dict[str, Any] | None:
        for c in limits.iter_components(self.components):
            if c.get("custom_id") == custom_id:
                return c
        return None

    def buttons(self) -> list[dict[str, Any]]:
        return [c for c in limits.iter_components(self.components) if c.get("type") == 2]

    @property
    def text(self) -> str:
        """Content plus every embed's title/description/fields/footer, for easy asserts."""
        parts = [self.content]
        for e in self.embeds:
            parts += [e.get("title") or "", e.get("description") or ""]
            for f in e.get("fields") or []:
                parts += [f.get("name") or "", f.get("value") or ""]
            parts.append((e.get("footer") or {}).get("text") or "")
            parts.append((e.get("author") or {}).get("name") or "")
        for c in limits.iter_components(self.components):
            if c.get("type") == 10:
                parts.append(c.get("content") or "")
        return "\n".join(p for p in parts if p)

    def payload(self, *, mentions: Sequence[dict[str, Any]] = (), with_nonce: bool = False) -> dict[str, Any]:
        """The message as Discord sends it.  ``with_nonce``: Discord echoes the nonce only in
        the answer to the POST that created it and in its MESSAGE_CREATE, not when the
        message is fetched or edited later."""
        data: dict[str, Any] = {
            "id": str(self.id),
            "type": self.type,
            "channel_id": str(self.channel_id),
            "author": self.author.payload(),
            "content": self.content,
            "timestamp": iso(self.created_at),
            "edited_timestamp": iso(self.edited_at) if self.edited_at else None,
            "tts": self.tts,
            "mention_everyone": "everyone" in self.pinged,
            "mentions": list(mentions),
            "mention_roles": [p.split(":", 1)[1] for p in sorted(self.pinged) if p.startswith("role:")],
            "mention_channels": [],
            "attachments": copy.deepcopy(self.attachments),
            "embeds": copy.deepcopy(self.embeds),
            "reactions": [],
            "pinned": self.pinned,
            "flags": self.flags,
            "components": copy.deepcopy(self.components),
        }
        if self.webhook_id is not None:
            data["webhook_id"] = str(self.webhook_id)
        if self.application_id is not None:
            data["application_id"] = str(self.application_id)
        if self.interaction_metadata is not None:
            data["interaction_metadata"] = copy.deepcopy(self.interaction_metadata)
        if self.poll is not None:
            data["poll"] = copy.deepcopy(self.poll)
        if self.message_reference is not None:
            data["message_reference"] = copy.deepcopy(self.message_reference)
        if with_nonce and self.nonce is not None:
            data["nonce"] = self.nonce
        return data

    def __repr__(self) -> str:
        flags = " ephemeral" if self.ephemeral else ""
        flags += " loading" if self.loading else ""
        return (
            f"<FakeMessage id={self.id} channel={self.channel_id}{flags} "
            f"edits={self.edits} content={self.content[:40]!r}>"
        )
