"""The one way the bot posts to a server's announcement channel: news, dates, stage
changes, reminders and poll results all go through :class:`Announcer`.

Everything is checked before Discord is asked (a refused request counts toward
Discord's limit of invalid requests), and every way a post can fail becomes one
catalog phrase: told to the admin in their language, logged (and kept on a reminder)
in English.  The content of an announcement is only the role mention the bot builds
from the server's settings; what admins typed goes into the embed, which never pings.
The embed is written in the server's language: a channel post has no member whose
Discord language could apply, so "auto" means English there (:meth:`Announcer.texts`,
which the poll messages use too).

A post made by a scheduled job carries the job's ``nonce``: Discord answers a second
post with the same nonce (a retry after a crash) with the message it already created,
so the post happens once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import aiohttp
import discord

from bot.i18n import DEFAULT, Catalog, Texts, language_for
from bot.models import Announcement, GuildSettings
from bot.render.release import ping_content
from bot.store import Store

log = logging.getLogger(__name__)

# What a channel needs for the bot to post announcement cards there.
CHANNEL_NEEDS = ("view_channel", "send_messages", "embed_links")

Render = Callable[[Texts], discord.Embed]


def missing_permissions(channel: discord.abc.GuildChannel, me: discord.Member) -> list[str]:
    """What the bot lacks to post cards in ``channel`` (empty when it can)."""
    permissions = channel.permissions_for(me)
    return [name for name in CHANNEL_NEEDS if not getattr(permissions, name)]


@dataclass(frozen=True, slots=True)
class Outcome:
    """What became of one post."""

    message_id: int | None = None  # set when it was posted
    problem: str | None = None  # why it was not posted: a catalog key (admin_release.*)
    definite: bool = True  # False: the post may have reached Discord despite the error
    note: str | None = None  # posted, but something to tell the admin (a catalog key)
    channel_id: int | None = None
    error: str | None = None  # Discord's answer, for the problem's text

    @property
    def posted(self) -> bool:
        return self.message_id is not None

    def _say(self, key: str | None, t: Texts) -> str | None:
        if key is None:
            return None
        needed = ", ".join(t(f"admin_release.perm_{name}") for name in CHANNEL_NEEDS)
        return t(key, channel=f"<#{self.channel_id}>", error=self.error, perms=needed)

    def problem_text(self, t: Texts) -> str | None:
        return self._say(self.problem, t)

    def note_text(self, t: Texts) -> str | None:
        return self._say(self.note, t)


class Announcer:
    """Owned by the bot (one instance); ``guild`` looks a server up in the gateway's cache."""

    def __init__(self, store: Store, catalog: Catalog, guild: Callable[[int], discord.Guild | None]) -> None:
        self.store = store
        self.catalog = catalog
        self._guild = guild
        self.observe: Callable[[Outcome], None] | None = None  # told of every post (the metrics)

    async def texts(self, guild_id: int) -> Texts:
        """The language of what the bot posts in the server's channels."""
        return self._texts(await self.store.settings.get(guild_id))

    def _texts(self, settings: GuildSettings) -> Texts:
        """The server's language (never a member's: on "auto", the server's preferred
        locale, which Community servers set) and its spoiler mode."""
        guild = self._guild(settings.guild_id)
        locale = guild.preferred_locale if guild is not None else None
        return Texts(self.catalog, language_for(settings.language, locale), settings.spoiler_mode)

    async def post(
        self,
        guild_id: int,
        render: Render,
        *,
        what: str,
        ping: bool = True,
        nonce: str | None = None,
        quiet: bool = False,
        role_id: int | None = None,
    ) -> Outcome:
        """Post ``render(t)`` to the server's announcement channel, ``t`` in the server's
        language, pinging its news role when ``ping`` (and nobody otherwise); ``role_id``
        pings that role instead (a poll's own ping role).

        ``nonce`` makes the post idempotent for a few minutes (a job's retry).  ``quiet``
        logs a failure at INFO (a retry, already warned about once).
        """
        outcome = await self._post(guild_id, render, ping=ping, nonce=nonce, role_id=role_id)
        if self.observe is not None:
            self.observe(outcome)
        english = Texts(self.catalog, DEFAULT)
        if outcome.problem is not None:
            level = logging.INFO if quiet else logging.WARNING
            problem = outcome.problem_text(english)
            log.log(level, "Did not post the %s in server %d: %s", what, guild_id, problem)
        elif outcome.note is not None:
            log.info("Posted the %s in server %d, but %s", what, guild_id, outcome.note_text(english))
        return outcome

    async def correct(self, announcement: Announcement, render: Render, *, what: str) -> Outcome | None:
        """Edit an earlier announcement to say ``render(t)`` instead (an edit pings nobody
        again); None when it cannot be edited any more (gone, or no longer allowed), so
        the caller posts anew."""
        guild = self._guild(announcement.guild_id)
        channel = guild.get_channel(announcement.channel_id) if guild is not None else None
        if (
            guild is None
            or not isinstance(channel, discord.TextChannel)
            or missing_permissions(channel, guild.me)
        ):
            return None
        settings = await self.store.settings.get(announcement.guild_id)
        embed = render(self._texts(settings))
        try:
            await channel.get_partial_message(announcement.message_id).edit(embed=embed)
        except discord.HTTPException as exc:
            log.info("Could not correct the %s in server %d (%s): posting anew", what, guild.id, exc.status)
            return None
        return Outcome(
            message_id=announcement.message_id, channel_id=channel.id, note="admin_release.corrected"
        )

    async def _post(
        self, guild_id: int, render: Render, *, ping: bool, nonce: str | None, role_id: int | None = None
    ) -> Outcome:
        settings = await self.store.settings.get(guild_id)
        if settings.announce_channel_id is None:
            return Outcome(problem="admin_release.no_channel")
        guild = self._guild(guild_id)
        if guild is None:
            return Outcome(problem="admin_release.no_guild")
        channel = guild.get_channel(settings.announce_channel_id)
        if not isinstance(channel, discord.TextChannel):
            return Outcome(problem="admin_release.gone_channel")
        me = guild.me
        if missing_permissions(channel, me):
            return Outcome(problem="admin_release.no_perms", channel_id=channel.id)
        perms = channel.permissions_for(me)
        role: discord.Role | None = None
        note = None
        wanted = settings.ping_role_id if role_id is None else role_id
        if ping and wanted is not None:
            role = guild.get_role(wanted)
            if role is None:
                note = "admin_release.gone_role"
            elif not role.mentionable and not perms.mention_everyone:
                note = "admin_release.quiet_role"
        allowed = discord.AllowedMentions(
            everyone=False, users=False, replied_user=False, roles=[role] if role else False
        )
        embed = render(self._texts(settings))
        try:
            # discord.py sends a nonce with enforce_nonce: a second post with it returns the first.
            extra: dict[str, Any] = {} if nonce is None else {"nonce": nonce}
            message = await channel.send(
                content=ping_content(role.id if role else None),
                embed=embed,
                allowed_mentions=allowed,
                **extra,
            )
        except discord.HTTPException as exc:
            # A 4xx is a refusal: nothing was posted.  A 5xx (after discord.py's retries)
            # may have been posted anyway.
            error = f"{exc.status} {exc.text or exc.__class__.__name__}"[:200]
            if exc.status < 500:
                return Outcome(problem="admin_release.refused", channel_id=channel.id, error=error)
            return Outcome(problem="admin_release.failed", definite=False, channel_id=channel.id, error=error)
        except (TimeoutError, aiohttp.ClientError, OSError) as exc:
            return Outcome(
                problem="admin_release.failed",
                definite=False,
                channel_id=channel.id,
                error=type(exc).__name__,
            )
        return Outcome(message_id=message.id, note=note, channel_id=channel.id)
