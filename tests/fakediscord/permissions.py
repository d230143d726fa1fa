"""Discord permission bits and the permission algorithm (base + channel overwrites)."""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping, Sequence
from typing import Any


class Perm(enum.IntFlag):
    """Discord permission bits (https://discord.com/developers/docs/topics/permissions)."""

    CREATE_INSTANT_INVITE = 1 << 0
    KICK_MEMBERS = 1 << 1
    BAN_MEMBERS = 1 << 2
    ADMINISTRATOR = 1 << 3
    MANAGE_CHANNELS = 1 << 4
    MANAGE_GUILD = 1 << 5
    ADD_REACTIONS = 1 << 6
    VIEW_AUDIT_LOG = 1 << 7
    PRIORITY_SPEAKER = 1 << 8
    STREAM = 1 << 9
    VIEW_CHANNEL = 1 << 10
    SEND_MESSAGES = 1 << 11
    SEND_TTS_MESSAGES = 1 << 12
    MANAGE_MESSAGES = 1 << 13
    EMBED_LINKS = 1 << 14
    ATTACH_FILES = 1 << 15
    READ_MESSAGE_HISTORY = 1 << 16
    MENTION_EVERYONE = 1 << 17
    USE_EXTERNAL_EMOJIS = 1 << 18
    VIEW_GUILD_INSIGHTS = 1 << 19
    CONNECT = 1 << 20
    SPEAK = 1 << 21
    MUTE_MEMBERS = 1 << 22
    DEAFEN_MEMBERS = 1 << 23
    MOVE_MEMBERS = 1 << 24
    USE_VAD = 1 << 25
    CHANGE_NICKNAME = 1 << 26
    MANAGE_NICKNAMES = 1 << 27
    MANAGE_ROLES = 1 << 28
    MANAGE_WEBHOOKS = 1 << 29
    MANAGE_GUILD_EXPRESSIONS = 1 << 30
    USE_APPLICATION_COMMANDS = 1 << 31
    REQUEST_TO_SPEAK = 1 << 32
    MANAGE_EVENTS = 1 << 33
    MANAGE_THREADS = 1 << 34
    CREATE_PUBLIC_THREADS = 1 << 35
    CREATE_PRIVATE_THREADS = 1 << 36
    USE_EXTERNAL_STICKERS = 1 << 37
    SEND_MESSAGES_IN_THREADS = 1 << 38
    USE_EMBEDDED_ACTIVITIES = 1 << 39
    MODERATE_MEMBERS = 1 << 40
    VIEW_CREATOR_MONETIZATION_ANALYTICS = 1 << 41
    USE_SOUNDBOARD = 1 << 42
    CREATE_GUILD_EXPRESSIONS = 1 << 43
    CREATE_EVENTS = 1 << 44
    USE_EXTERNAL_SOUNDS = 1 << 45
    SEND_VOICE_MESSAGES = 1 << 46
    SEND_POLLS = 1 << 49
    USE_EXTERNAL_APPS = 1 << 50
    PIN_MESSAGES = 1 << 51
    BYPASS_SLOWMODE = 1 << 52

    # Aliases that read like discord.py's names.
    MANAGE_SERVER = MANAGE_GUILD
    READ_MESSAGES = VIEW_CHANNEL


ALL_PERMISSIONS: int = 0
for _p in Perm:
    ALL_PERMISSIONS |= int(_p)

DEFAULT_EVERYONE: int = int(
    Perm.VIEW_CHANNEL | Perm.SEND_MESSAGES | Perm.READ_MESSAGE_HISTORY | Perm.USE_APPLICATION_COMMANDS
)

BOT_ROLE_DEFAULT: int = int(
    Perm.SEND_MESSAGES | Perm.EMBED_LINKS | Perm.VIEW_CHANNEL | Perm.MANAGE_ROLES | Perm.READ_MESSAGE_HISTORY
)

# Permissions that Discord implicitly denies in a text channel when SEND_MESSAGES is denied.
_SEND_DEPENDENT: int = int(
    Perm.SEND_TTS_MESSAGES | Perm.EMBED_LINKS | Perm.ATTACH_FILES | Perm.MENTION_EVERYONE
)


def base_permissions(
    *,
    is_owner: bool,
    everyone_perms: int,
    role_perms: Iterable[int],
) -> int:
    """Guild-level permissions of a member (owner and administrators get everything)."""
    if is_owner:
        return ALL_PERMISSIONS
    perms = everyone_perms
    for p in role_perms:
        perms |= p
    if perms & Perm.ADMINISTRATOR:
        return ALL_PERMISSIONS
    return perms


def channel_permissions(
    base: int,
    *,
    guild_id: int,
    member_id: int,
    member_role_ids: Sequence[int],
    overwrites: Mapping[int, Mapping[str, Any]],
) -> int:
    """Apply a channel's permission overwrites to ``base`` (Discord's documented algorithm).

    ``overwrites`` maps the overwrite's target id to ``{"type": 0|1, "allow": int, "deny": int}``.
    """
    if base & Perm.ADMINISTRATOR:
        return ALL_PERMISSIONS
    perms = base
    everyone = overwrites.get(guild_id)
    if everyone is not None:
        perms &= ~int(everyone["deny"])
        perms |= int(everyone["allow"])
    allow = deny = 0
    for rid in member_role_ids:
        ow = overwrites.get(rid)
        if ow is not None and ow["type"] == 0:
            allow |= int(ow["allow"])
            deny |= int(ow["deny"])
    perms &= ~deny
    perms |= allow
    mine = overwrites.get(member_id)
    if mine is not None and mine["type"] == 1:
        perms &= ~int(mine["deny"])
        perms |= int(mine["allow"])
    if not perms & Perm.VIEW_CHANNEL:
        return 0
    if not perms & Perm.SEND_MESSAGES:
        perms &= ~_SEND_DEPENDENT
    return perms


def perm_names(value: int) -> list[str]:
    return [p.name or str(int(p)) for p in Perm if value & p and p.name]


ADMINISTRATOR_ROLE_PERMS: int = int(Perm.ADMINISTRATOR)
