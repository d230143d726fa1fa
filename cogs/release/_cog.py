"""Members' side of the release tracker: /release, /timeline, /subscribe, and the reminders."""

from __future__ import annotations

import asyncio
import contextlib
import logging

import discord
from discord import app_commands
from discord.ext import commands, tasks

from bot.client import HalfbieBot
from bot.errors import Refused
from bot.i18n import DEFAULT, Texts
from bot.models import Certainty, Reminder
from bot.ui.paginator import Paginator, line_pages

from ._announce import Announcer

log = logging.getLogger(__name__)

LOOP_SECONDS = 60


class Release(commands.Cog):
    def __init__(self, bot: HalfbieBot) -> None:
        self.bot = bot
        self.announcer = Announcer(bot)
        self._run_lock = asyncio.Lock()

    async def cog_load(self) -> None:
        # No store (the extension loaded only to inspect its commands): nothing to remind.
        if getattr(self.bot, "store", None) is not None:
            self.reminder_loop.start()

    async def cog_unload(self) -> None:
        # Let a run in flight record its outcomes before the store closes.
        self.reminder_loop.stop()
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(10), self._run_lock:
                pass
        self.reminder_loop.cancel()

    # -- members' commands ------------------------------------------------------------

    @app_commands.command(
        name="release", description="Season 2: stage, official date with a countdown, latest news"
    )
    @app_commands.guild_only()
    async def release(self, interaction: discord.Interaction[HalfbieBot]) -> None:
        guild_id = _guild_id(interaction)
        store = self.bot.store
        await self.bot.ensure_seeded(guild_id)
        t = await self.bot.texts(interaction)
        current = await store.release.get(guild_id)
        speculation = (
            await store.news.latest(guild_id, Certainty.SPECULATION) if current.premiere_at is None else None
        )
        embed = current.card(
            t,
            latest=await store.news.list(guild_id, limit=3),
            speculation=speculation,
            official=await store.news.latest(guild_id, Certainty.OFFICIAL),
            last=await store.release.last_change(guild_id),
            article_date=self.bot.canon.article_date,
            now=int(self.bot.clock.now()),
        )
        await interaction.response.send_message(embed=embed)

    @app_commands.command(name="timeline", description="Season 2's whole release history, newest first")
    @app_commands.guild_only()
    async def timeline(self, interaction: discord.Interaction[HalfbieBot]) -> None:
        guild_id = _guild_id(interaction)
        await self.bot.ensure_seeded(guild_id)
        items = await self.bot.store.news.list(guild_id)
        t = await self.bot.texts(interaction)
        pages = line_pages(
            t("release.timeline_title"),
            [item.timeline_line(t) for item in items],
            t,
            per_page=8,
            empty=t("release.timeline_empty"),
            footer=t("release.timeline_footer"),
        )
        await Paginator(interaction.user.id, pages).send(interaction)

    @app_commands.command(name="subscribe", description="Get or drop the role pinged for Season 2 news")
    @app_commands.guild_only()
    async def subscribe(self, interaction: discord.Interaction[HalfbieBot]) -> None:
        guild_id = _guild_id(interaction)
        guild = interaction.guild
        member = interaction.user
        if guild is None or not isinstance(member, discord.Member):
            raise Refused("errors.guild_only")
        settings = await self.bot.store.settings.get(guild_id)
        if settings.ping_role_id is None:
            raise Refused("release.sub_no_role")
        role = guild.get_role(settings.ping_role_id)
        if role is None:
            raise Refused("release.sub_gone_role")
        self._check_can_assign(guild, role)
        subscribed = any(r.id == role.id for r in member.roles)
        try:
            if subscribed:
                await member.remove_roles(role, reason="/subscribe: the member opted out")
            else:
                await member.add_roles(role, reason="/subscribe: the member opted in")
        except discord.Forbidden as exc:
            log.warning(
                "Discord refused to change the news role %d of a member in server %d: %s",
                role.id,
                guild_id,
                exc.text,
            )
            raise Refused("release.sub_forbidden", role=role.mention) from exc
        t = await self.bot.texts(interaction)
        key = "release.sub_off" if subscribed else "release.sub_on"
        await interaction.response.send_message(t(key, role=role.mention), ephemeral=True)

    def _check_can_assign(self, guild: discord.Guild, role: discord.Role) -> None:
        """Refuse with the reason before asking Discord (a 403 counts against the bot)."""
        me = guild.me
        reason = None
        if role.managed or role.is_default():
            reason = "release.sub_managed"
        elif not me.guild_permissions.manage_roles:
            reason = "release.sub_no_manage"
        elif role >= me.top_role and guild.owner_id != me.id:
            reason = "release.sub_too_high"
        if reason is not None:
            said = Texts(self.bot.catalog, DEFAULT)(reason, role=role.mention)
            log.warning("Cannot manage the news role %d in server %d: %s", role.id, guild.id, said)
            raise Refused(reason, role=role.mention)

    # -- countdown reminders ----------------------------------------------------------

    @tasks.loop(seconds=LOOP_SECONDS)
    async def reminder_loop(self) -> None:
        try:
            await self.run_due()
        except Exception:
            log.exception("The reminder run failed; the next one is in %d s", LOOP_SECONDS)

    @reminder_loop.before_loop
    async def _before_reminders(self) -> None:
        await self.bot.wait_until_ready()

    async def run_due(self) -> list[Reminder]:
        """Post every reminder due now (by the bot's clock); return those posted.

        Runs one at a time, so a test's call and the loop's never overlap; the claim in
        the store keeps two processes apart as well.
        """
        async with self._run_lock:
            now = int(self.bot.clock.now())
            store = self.bot.store
            if not await store.reminders.any_due(now):
                return []
            due = await store.reminders.claim_due(now)
            for reminder in due.abandoned:
                log.warning(
                    "The %s reminder of server %d was claimed at %s by a bot that stopped "
                    "before recording whether it was posted; it is not posted again",
                    reminder.kind.value,
                    reminder.guild_id,
                    reminder.claimed_at,
                )
            for reminder in due.dropped:
                log.warning(
                    "Dropped the %s reminder of server %d: it was due at %d, more than a day "
                    "before now (%d), so it is not posted (%s)",
                    reminder.kind.value,
                    reminder.guild_id,
                    reminder.due_at,
                    now,
                    reminder.note,
                )
            posted = []
            for reminder in due.claimed:
                if await self._post_reminder(reminder):
                    posted.append(reminder)
            return posted

    async def _post_reminder(self, reminder: Reminder) -> bool:
        store = self.bot.store
        what = f"{reminder.kind.value} reminder"
        try:
            outcome = await self.announcer.post(
                reminder.guild_id, reminder.card, what=what, quiet=reminder.attempts > 1
            )
        except Exception as exc:  # a bug: recorded as failed, so never posted twice
            log.exception("Posting the %s of server %d failed", what, reminder.guild_id)
            await store.reminders.mark_failed(reminder, repr(exc), int(self.bot.clock.now()))
            return False
        now = int(self.bot.clock.now())
        if outcome.message_id is not None:
            await store.reminders.mark_sent(reminder, outcome.message_id, now)
            return True
        # Kept on the reminder for whoever reads the database: in English, like the log.
        problem = outcome.problem_text(Texts(self.bot.catalog, DEFAULT)) or "not posted"
        if outcome.definite:
            await store.reminders.mark_refused(reminder, problem, now)
        else:
            await store.reminders.mark_failed(reminder, problem, now)
        return False


def _guild_id(interaction: discord.Interaction[HalfbieBot]) -> int:
    if interaction.guild_id is None:
        raise Refused("errors.guild_only")
    return interaction.guild_id
