"""A server's settings and its audit trail, as admins see them."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import discord

from bot.i18n import Texts
from bot.models import AuditEntry, GuildSettings, Stage, Status
from bot.render.characters import status_label
from bot.render.release import stage_label
from bot.render.text import clip, safe

VALUE_MAX = 60
LINE_MAX = 360


def describe_settings(settings: GuildSettings, t: Texts) -> discord.Embed:
    none = t("config.none")

    def role(role_id: int | None) -> str:
        return f"<@&{role_id}>" if role_id else none

    rows = [
        ("admin_role", role(settings.admin_role_id)),
        ("announce_channel", f"<#{settings.announce_channel_id}>" if settings.announce_channel_id else none),
        ("ping_role", role(settings.ping_role_id)),
        ("spoilers", t(f"config.spoilers_{settings.spoiler_mode.value}")),
        ("language", t(f"config.language_{settings.language}")),
        ("poll_creators", role(settings.poll_creator_role_id)),
    ]
    embed = discord.Embed(title=t("config.title"), colour=discord.Colour.dark_red())
    for key, value in rows:
        embed.add_field(name=t(f"config.{key}"), value=f"{value}\n-# {t(f'config.{key}_help')}", inline=False)
    return embed


# Settings as the audit trail names them (the store's columns) -> their catalog names.
_SETTINGS = {
    "admin_role_id": "admin_role",
    "announce_channel_id": "announce_channel",
    "ping_role_id": "ping_role",
    "spoiler_mode": "spoilers",
    "language": "language",
    "poll_creator_role_id": "poll_creators",
}


def _setting_value(name: str, value: Any, t: Texts) -> str:
    if value is None:
        return t("config.none")
    if name == "announce_channel_id":
        return f"<#{int(value)}>"
    if name.endswith("_role_id"):
        return f"<@&{int(value)}>"
    if name == "spoiler_mode":
        return t(f"config.spoilers_{value}")
    if name == "language":
        return t(f"config.language_{value}")
    return safe(str(value), VALUE_MAX)


def _day(value: Any, t: Texts) -> str:
    return t("config.none") if value is None else f"<t:{int(value)}:D>"


def _text(values: dict[str, Any], key: str, fallback: str) -> str:
    value = values.get(key)
    return f"**{safe(str(value), VALUE_MAX)}**" if isinstance(value, str) and value.strip() else fallback


def audit_line(entry: AuditEntry, t: Texts, names: Mapping[str, str] | None = None) -> str:
    """One change as a sentence in the reader's language: who did what, and when (a
    Discord timestamp); names, never ids or JSON, and nothing that pings.  ``names``:
    the server's characters by key, for a change that does not carry the name."""
    who = f"<@{entry.actor_id}>" if entry.actor_id else t("audit.by_bot")
    old: dict[str, Any] = json.loads(entry.old) if entry.old else {}
    new: dict[str, Any] = json.loads(entry.new) if entry.new else {}
    target = safe(entry.target, VALUE_MAX)
    action = entry.action
    if action == "settings.update":
        changes = [
            t(
                "audit.change",
                setting=t(f"config.{_SETTINGS.get(key, key)}") if key in _SETTINGS else safe(key, 40),
                old=_setting_value(key, old.get(key), t),
                new=_setting_value(key, new.get(key), t),
            )
            for key in new
        ]
        text = t("audit.act_settings_update", who=who, changes="; ".join(changes))
    elif action == "release.stage":
        text = t(
            "audit.act_release_stage",
            who=who,
            old=_stage(old.get("stage"), t),
            new=_stage(new.get("stage"), t),
        )
    elif action == "release.premiere":
        before, after = old.get("premiere_at"), new.get("premiere_at")
        key = "cleared" if after is None else "set" if before is None else "moved"
        text = t(f"audit.act_release_premiere_{key}", who=who, old=_day(before, t), new=_day(after, t))
    elif not t.catalog.has(f"audit.act_{action.replace('.', '_')}"):
        text = t("audit.act_other", who=who, action=safe(action, 40), target=target)
    elif action.startswith("character."):
        known = (names or {}).get(entry.target)
        name = _text(new, "name", _text(old, "name", _text({"name": known}, "name", f"`{target}`")))
        status = action == "character.status"
        text = t(
            f"audit.act_{action.replace('.', '_')}",
            who=who,
            name=name,
            old=_status(old.get("status"), t) if status else "",
            new=_status(new.get("status"), t) if status else "",
        )
    elif action.startswith("news."):
        headline = _text(new, "headline", _text(old, "headline", ""))
        text = t(f"audit.act_{action.replace('.', '_')}", who=who, id=target, headline=headline)
    elif action == "canon.seed":
        text = t("audit.act_canon_seed", version=int(new.get("canon_version", 0)))
    else:  # theory.*
        title = _text(new, "title", _text(old, "title", ""))
        option = _text(new, "option", "")
        text = t(f"audit.act_{action.replace('.', '_')}", who=who, id=target, title=title, option=option)
    return clip(f"{text} · <t:{entry.at}:R>", LINE_MAX)


def _stage(value: Any, t: Texts) -> str:
    try:
        return stage_label(Stage(value), t)
    except ValueError:
        return t("config.none")


def _status(value: Any, t: Texts) -> str:
    try:
        return status_label(Status(value), t)
    except ValueError:
        return t("config.none")
