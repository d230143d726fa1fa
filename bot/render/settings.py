"""A server's settings and its audit trail, as admins see them."""

from __future__ import annotations

import json
from typing import Any

import discord

from bot.i18n import Texts
from bot.models import AuditEntry, GuildSettings
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


def _value(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return safe(text, VALUE_MAX)


def audit_line(entry: AuditEntry, t: Texts) -> str:
    """One change: when, who, what, and each changed field as old → new."""
    who = f"<@{entry.actor_id}>" if entry.actor_id else t("audit.by_canon")
    old = json.loads(entry.old) if entry.old else {}
    new = json.loads(entry.new) if entry.new else {}
    changes = [
        f"{safe(str(key), 40)}: {_value(old.get(key, '—'))} → {_value(new.get(key, '—'))}" for key in new
    ]
    changes += [f"{safe(str(key), 40)}: {_value(old[key])} → —" for key in old if key not in new]
    head = f"<t:{entry.at}:f> · {who} · `{safe(entry.action, 40)}` · {safe(entry.target, 60)}"
    return clip(head + ("\n  " + "; ".join(changes) if changes else ""), LINE_MAX)
