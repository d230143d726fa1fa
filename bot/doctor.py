"""``halfbie doctor``: what a host checks before members complain, in one table.

- the token: a real call to Discord's ``users/@me``, through discord.py's HTTP client;
- the intents: Halfbie asks only for Guilds, which is not privileged; the application's
  flags say whether a privileged one would be allowed, and whether an interactions
  endpoint URL keeps interactions from reaching the bot;
- the database: reachable, writable (a real write through the store), migrations
  current, and on SQLite ``PRAGMA integrity_check``;
- every server the bot is in (``users/@me/guilds``) with its settings in the store: the
  announcement channel (View Channel, Send Messages, Embed Links, resolved from the
  server's roles and the channel's overwrites), the news ping role (mentionable by the
  bot), the admin role (exists).

The per-server findings come from :func:`server_findings`, a pure function of the
settings and the server as discord.py sees it; ``/admin config show`` shows the same
findings from the gateway's cache, the doctor from the REST API.  Each finding is a
catalog key (``[doctor]`` in ``bot/i18n/*.toml``) with its fix at ``<key>_fix``.

Exit status: 0 when nothing is wrong (notes allowed), 1 when a problem was found.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, TextIO

import aiohttp
import discord

from bot.announce import CHANNEL_NEEDS
from bot.checks import assign_problem
from bot.config import Config
from bot.i18n import Catalog, Texts
from bot.models import GuildSettings
from bot.render.text import clip
from bot.store import Store, StoreError
from bot.store.health import integrity_check, newest_version

__all__ = ["Finding", "Level", "Row", "finding_text", "findings_text", "run_doctor", "server_findings"]

Level = Literal["ok", "note", "problem"]
MARKS: dict[Level, str] = {"ok": "✅", "note": "⚠️", "problem": "❌"}
FIELD_MAX = 1024  # an embed field's value


@dataclass(frozen=True, slots=True)
class Finding:
    """One thing checked on a server: ``doctor.<key>`` says what, ``doctor.<key>_fix``
    what to do (for a note or a problem)."""

    check: str  # announce_channel, ping_role, admin_role
    level: Level
    key: str
    channel_id: int | None = None
    channel_name: str | None = None
    role_id: int | None = None
    role_name: str | None = None
    missing: tuple[str, ...] = ()  # permission names (CHANNEL_NEEDS)


def server_findings(
    settings: GuildSettings,
    me: discord.Member | None,
    channel_of: Callable[[int], object],
    role_of: Callable[[int], discord.Role | None],
) -> list[Finding]:
    """What works and what does not on one server, from its settings and the server as
    discord.py sees it (``me``: the bot's member; ``channel_of`` and ``role_of`` look
    channels and roles up by id).  Pure: no request is made."""
    findings: list[Finding] = []
    channel: discord.TextChannel | None = None
    if settings.announce_channel_id is None:
        findings.append(Finding("announce_channel", "note", "channel_unset"))
    else:
        found = channel_of(settings.announce_channel_id)
        if found is None:
            findings.append(Finding("announce_channel", "problem", "channel_gone"))
        elif not isinstance(found, discord.TextChannel):
            name = str(getattr(found, "name", ""))
            findings.append(
                Finding("announce_channel", "problem", "channel_not_text", settings.announce_channel_id, name)
            )
        else:
            channel = found
            missing: tuple[str, ...] = ()
            if me is not None:
                permissions = found.permissions_for(me)
                missing = tuple(name for name in CHANNEL_NEEDS if not getattr(permissions, name))
            level: Level = "problem" if missing else "ok"
            key = "channel_missing" if missing else "channel_ok"
            findings.append(Finding("announce_channel", level, key, found.id, found.name, missing=missing))
    if settings.ping_role_id is not None:
        findings.append(_ping_role(settings.ping_role_id, role_of, me, channel))
    if settings.admin_role_id is not None:
        role = role_of(settings.admin_role_id)
        if role is None:
            findings.append(Finding("admin_role", "problem", "admin_gone"))
        else:
            findings.append(Finding("admin_role", "ok", "admin_ok", role_id=role.id, role_name=role.name))
    return findings


def _ping_role(
    role_id: int,
    role_of: Callable[[int], discord.Role | None],
    me: discord.Member | None,
    channel: discord.TextChannel | None,
) -> Finding:
    role = role_of(role_id)
    if role is None:
        return Finding("ping_role", "problem", "role_gone")

    def found(level: Level, key: str) -> Finding:
        return Finding("ping_role", level, key, role_id=role.id, role_name=role.name)

    if me is None:
        return found("ok", "role_ok")
    # As the announcer decides: the role's own setting, or Mention @everyone where it posts.
    mention_everyone = (
        channel.permissions_for(me).mention_everyone
        if channel is not None
        else me.guild_permissions.mention_everyone
    )
    if not role.mentionable and not mention_everyone:
        return found("problem", "role_quiet")
    problem = assign_problem(role, me)  # what /subscribe needs to give it
    if problem in ("everyone", "managed"):
        return found("problem", "role_unusable")
    if problem is not None:
        return found("problem", f"role_{problem}")
    return found("ok", "role_ok")


def finding_text(finding: Finding, t: Texts, *, mentions: bool = True) -> tuple[str, str | None]:
    """What was found and its fix (None when all is well), in ``t``'s language;
    ``mentions``: Discord's markup (``<#id>``), else plain names (for a terminal)."""
    if mentions:
        channel = f"<#{finding.channel_id}>"
        role = f"<@&{finding.role_id}>"
    else:
        channel = f"#{finding.channel_name}"
        role = f"@{finding.role_name}"
    permissions = ", ".join(t(f"admin_release.perm_{name}") for name in finding.missing)
    text = t(f"doctor.{finding.key}", channel=channel, role=role, permissions=permissions)
    fix = None if finding.level == "ok" else t(f"doctor.{finding.key}_fix")
    return text, fix


def findings_text(findings: Sequence[Finding], t: Texts) -> str:
    """The findings as lines for an embed field (``/admin config show``)."""
    lines = []
    for finding in findings:
        text, fix = finding_text(finding, t)
        lines.append(f"{MARKS[finding.level]} {text}" + (f" {fix}" if fix else ""))
    if not any(finding.level == "problem" for finding in findings):
        lines.append(t("doctor.all_ok"))
    return clip("\n".join(lines), FIELD_MAX)


# -- the command line --------------------------------------------------------------------------


_ORDER = ("token", "intents", "interactions", "database", "migrations", "integrity")


@dataclass(frozen=True, slots=True)
class Row:
    check: str
    server: str
    level: Level
    found: str
    fix: str = ""


async def run_doctor(config: Config, *, out: TextIO | None = None) -> int:
    """Run every check, print the table; 1 if something is wrong, else 0."""
    rows: list[Row] = []
    store = await _check_database(config, rows)
    try:
        await _check_discord(config, store, rows)
    finally:
        if store is not None:
            await store.close()
    order = {check: index for index, check in enumerate(_ORDER)}
    rows.sort(key=lambda row: order.get(row.check, len(order)))  # stable: servers keep their order
    print_table(rows, out or sys.stdout)
    return 1 if any(row.level == "problem" for row in rows) else 0


def print_table(rows: Sequence[Row], out: TextIO) -> None:
    header = Row("CHECK", "SERVER", "ok", "WHAT WAS FOUND", "FIX")
    cells = [(row.check, row.server, row.level.upper(), row.found, row.fix) for row in rows]
    titles = (header.check, header.server, "STATUS", header.found, header.fix)
    widths = [max(len(cell[i]) for cell in [titles, *cells]) for i in range(4)]
    for cell in [titles, *cells]:
        line = "  ".join(value.ljust(widths[i]) for i, value in enumerate(cell[:4])) + "  " + cell[4]
        print(line.rstrip(), file=out)
    problems = sum(1 for row in rows if row.level == "problem")
    summary = "no problem found" if not problems else f"{problems} problem(s) found: see FIX"
    print(f"halfbie doctor: {summary}", file=out)


async def _check_database(config: Config, rows: list[Row]) -> Store | None:
    newest = newest_version()
    sqlite_path = None if config.database_url else Path(config.db_path)
    if sqlite_path is not None and not sqlite_path.exists():
        rows.append(
            Row(
                "database",
                "-",
                "note",
                f"no database at {sqlite_path} yet",
                "the bot creates it at its first start",
            )
        )
        return None
    try:
        store = await Store.open(config.database, migrate=False)
    except StoreError as exc:
        rows.append(
            Row("database", "-", "problem", str(exc), "see what was found; README: Backups, Upgrades")
        )
        return None
    where = f"{'SQLite' if store.path else 'PostgreSQL'} {store.location}"
    try:
        await store.meta.set("doctor-checked-at", str(int(time.time())))
    except (StoreError, OSError) as exc:
        rows.append(
            Row(
                "database", "-", "problem", f"{where}: cannot write ({exc})",
                "check the disk space and the permissions (the file, its folder, the PostgreSQL user)",
            )
        )  # fmt: skip
    else:
        rows.append(Row("database", "-", "ok", f"{where}: reachable and writable"))
    if store.version < newest:
        backup = " (it copies the file beside it first)" if store.path else ""
        rows.append(
            Row(
                "migrations", "-", "problem",
                f"schema version {store.version}; this Halfbie's is {newest}",
                f"start the bot once: it applies the migrations{backup}",
            )
        )  # fmt: skip
    else:
        rows.append(Row("migrations", "-", "ok", f"schema version {store.version}, current"))
    if store.path is not None:
        problems = await integrity_check(store.path)
        if problems == ["ok"]:
            rows.append(Row("integrity", "-", "ok", "PRAGMA integrity_check: ok"))
        else:
            rows.append(
                Row(
                    "integrity", "-", "problem",
                    f"PRAGMA integrity_check: {clip('; '.join(problems), 200)}",
                    "stop the bot and restore the last backup (halfbie backup)",
                )
            )  # fmt: skip
    return store


async def _check_discord(config: Config, store: Store | None, rows: list[Row]) -> None:
    client = discord.Client(intents=discord.Intents.none())
    try:
        try:
            await client.login(config.token)
        except discord.LoginFailure:
            rows.append(
                Row(
                    "token", "-", "problem", "Discord refused the token (401 Unauthorized)",
                    "copy the token again from the Developer Portal (Bot, Reset Token) into DISCORD_TOKEN",
                )
            )  # fmt: skip
            return
        except discord.HTTPException as exc:
            rows.append(Row("token", "-", "problem", f"Discord answered {exc.status}", "try again later"))
            return
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            rows.append(
                Row(
                    "token",
                    "-",
                    "problem",
                    f"cannot reach Discord ({exc})",
                    "check the network and try again",
                )
            )
            return
        user = client.user
        assert user is not None
        rows.append(Row("token", "-", "ok", f"logged in as {user} (id {user.id})"))
        _check_intents(config, client.application, rows)
        await _check_servers(client, user.id, store, rows)
    finally:
        await client.close()


def _bot_intents(config: Config) -> discord.Intents:
    """The intents the bot itself asks for (its own constructor decides)."""
    from bot.client import create_bot

    return create_bot(config).intents


_PRIVILEGED = {
    "members": ("gateway_guild_members", "gateway_guild_members_limited", "Server Members"),
    "presences": ("gateway_presence", "gateway_presence_limited", "Presence"),
    "message_content": ("gateway_message_content", "gateway_message_content_limited", "Message Content"),
}


def _check_intents(config: Config, application: discord.AppInfo | None, rows: list[Row]) -> None:
    intents = _bot_intents(config)
    asked = [name for name in _PRIVILEGED if getattr(intents, name)]
    flags: Any = application.flags if application is not None else None
    if not asked:
        rows.append(Row("intents", "-", "ok", "Guilds only: no privileged intent is needed"))
    for name in asked:
        full, limited, label = _PRIVILEGED[name]
        if flags is not None and not (getattr(flags, full) or getattr(flags, limited)):
            rows.append(
                Row(
                    "intents", "-", "problem", f"the bot needs the {label} intent, which is off",
                    f"turn on {label} Intent in the Developer Portal (Bot, Privileged Gateway Intents)",
                )
            )  # fmt: skip
    if application is not None and application.interactions_endpoint_url:
        rows.append(
            Row(
                "interactions", "-", "problem",
                "the application has an Interactions Endpoint URL, so no command or click reaches the bot",
                "clear Interactions Endpoint URL in the Developer Portal (General Information)",
            )
        )  # fmt: skip


async def _check_servers(client: discord.Client, bot_id: int, store: Store | None, rows: list[Row]) -> None:
    if store is None:
        rows.append(Row("servers", "-", "note", "not checked: the database cannot be read"))
        return
    english = Texts(Catalog.load(), "en")
    servers = fine = unset = 0
    async for partial in client.fetch_guilds(limit=None):
        servers += 1
        settings = await store.settings.get(partial.id)
        if (settings.announce_channel_id, settings.ping_role_id, settings.admin_role_id) == (
            None,
            None,
            None,
        ):
            unset += 1
            continue
        where = f"{clip(partial.name, 30)} ({partial.id})"
        try:
            findings = await _server(client, partial.id, bot_id, settings)
        except discord.HTTPException as exc:
            rows.append(
                Row("server", where, "problem", f"Discord refused to show it ({exc.status})", "try again")
            )
            continue
        for finding in findings:
            if finding.level == "ok":
                continue
            text, fix = finding_text(finding, english, mentions=False)
            rows.append(Row(finding.check.replace("_", " "), where, finding.level, text, fix or ""))
        if all(finding.level == "ok" for finding in findings):
            fine += 1
    detail = f"{servers} server(s): {fine} with every setting working"
    if unset:
        detail += f", {unset} with no announcement channel (nothing is posted there)"
    rows.append(Row("servers", "-", "ok", detail))


async def _server(
    client: discord.Client, guild_id: int, bot_id: int, settings: GuildSettings
) -> list[Finding]:
    """One server's findings from the REST API: its roles, its channels (with their
    overwrites) and the bot's member, resolved by discord.py as the gateway's would be."""
    guild = await client.fetch_guild(guild_id)
    channels = {channel.id: channel for channel in await guild.fetch_channels()}
    me = await guild.fetch_member(bot_id)
    return server_findings(settings, me, channels.get, guild.get_role)
