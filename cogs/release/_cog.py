"""Members' side of the release tracker (``/release``, ``/timeline``, ``/subscribe``) and
its countdown reminders; the cog also attaches ``/admin news`` and ``/admin release``."""

from __future__ import annotations

import datetime as dt
import logging

import discord
from discord import app_commands
from discord.ext import commands

from bot.checks import assign_problem, guild_id_of, require_admin
from bot.client import HalfbieBot
from bot.errors import Refused
from bot.i18n import DEFAULT, Texts
from bot.models import Certainty, Job, JobKind, NewsItem, Reminder
from bot.render.release import (
    age_text,
    day_text,
    iso_day,
    news_day,
    release_card,
    reminder_card,
    timeline_line,
)
from bot.scheduler import RetryLater
from bot.ui.paginator import Paginator, line_pages

from ._admin import NewsAdmin, ReleaseAdmin

log = logging.getLogger(__name__)

LATE_LIMIT = 86400  # a reminder more than a day late is dropped, not posted
RETRY_AFTER = 15 * 60  # a refused post (no channel, no permission) is tried again this much later
STALE_AFTER = 90  # days: newer news than this and the record reads as kept up to date
RETRY_SOON = 60  # a post that may have reached Discord: again soon, within the nonce's window


class ReleaseTracker(commands.Cog):
    def __init__(self, bot: HalfbieBot) -> None:
        self.bot = bot
        self.admin = (NewsAdmin(bot), ReleaseAdmin(bot))

    async def cog_load(self) -> None:
        self.bot.tree.attach(*self.admin)
        self.bot.scheduler.register(JobKind.REMIND, self.remind)
        self.bot.scheduler.register(JobKind.RELEASED, self.released)

    async def cog_unload(self) -> None:
        self.bot.tree.detach(*self.admin)
        self.bot.scheduler.unregister(JobKind.REMIND)
        self.bot.scheduler.unregister(JobKind.RELEASED)

    # -- members' commands ------------------------------------------------------------

    @app_commands.command(
        name="release", description="Season 2: stage, official date with a countdown, latest news"
    )
    @app_commands.guild_only()
    async def release(self, interaction: discord.Interaction[HalfbieBot]) -> None:
        guild_id = guild_id_of(interaction)
        store = self.bot.store
        await self.bot.seeder.ensure(guild_id)
        t = await self.bot.texts(interaction)
        current = await store.release.get(guild_id)
        speculation = (
            await store.news.latest(guild_id, Certainty.SPECULATION) if current.premiere_at is None else None
        )
        latest = await store.news.list(guild_id, limit=3)
        now = int(self.bot.clock.now())
        embed = release_card(
            current,
            t,
            latest=latest,
            speculation=speculation,
            official=await store.news.latest(guild_id, Certainty.OFFICIAL),
            last=await store.release.last_change(guild_id),
            now=now,
        )
        await interaction.response.send_message(embed=embed)
        await self._nudge_admin(interaction, latest, now, t)

    async def _nudge_admin(
        self, interaction: discord.Interaction[HalfbieBot], latest: list[NewsItem], now: int, t: Texts
    ) -> None:
        """An admin who looks at a record whose newest news is over :data:`STALE_AFTER`
        days old is told, privately, how to bring it up to date."""
        newest = max((news_day(item) for item in latest), default=None)
        today = iso_day(now)
        if (
            newest is not None
            and (dt.date.fromisoformat(today) - dt.date.fromisoformat(newest)).days <= STALE_AFTER
        ):
            return
        try:
            await require_admin(interaction)
        except Refused:
            return
        if newest is None:
            text = t("release.stale_none")
        else:
            text = t("release.stale", date=day_text(newest, t), age=age_text(newest, today, t))
        await interaction.followup.send(text, ephemeral=True)

    @app_commands.command(name="timeline", description="Season 2's whole release history, newest first")
    @app_commands.guild_only()
    async def timeline(self, interaction: discord.Interaction[HalfbieBot]) -> None:
        guild_id = guild_id_of(interaction)
        await self.bot.seeder.ensure(guild_id)
        items = await self.bot.store.news.list(guild_id)
        premiere_at = (await self.bot.store.release.get(guild_id)).premiere_at
        today = iso_day(self.bot.clock.now())
        t = await self.bot.texts(interaction)
        pages = line_pages(
            t("release.timeline_title"),
            [timeline_line(item, t, today=today, premiere_at=premiere_at) for item in items],
            t,
            per_page=8,
            empty=t("release.timeline_empty"),
            footer=t("release.timeline_footer"),
        )
        await Paginator(interaction.user.id, pages).send(interaction)

    @app_commands.command(name="subscribe", description="Get or drop the role pinged for Season 2 news")
    @app_commands.guild_only()
    async def subscribe(self, interaction: discord.Interaction[HalfbieBot]) -> None:
        guild_id = guild_id_of(interaction)
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
        problem = assign_problem(role, guild.me)
        if problem is not None:
            key = f"release.sub_{problem}"
            said = Texts(self.bot.catalog, DEFAULT)(key, role=role.mention)
            log.warning("Cannot manage the news role %d in server %d: %s", role.id, guild.id, said)
            raise Refused(key, role=role.mention)
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

    # -- countdown reminders: jobs of the one scheduler -----------------------------------

    async def released(self, job: Job) -> None:
        """The premiere has passed: the stage is released, without waiting for an admin
        (the premiere reminder has told the channel already)."""
        premiere_at = job.payload.get("premiere_at")
        if job.guild_id is None or not isinstance(premiere_at, int):
            raise ValueError(f"a released job names its server and premiere, not {dict(job.payload)}")
        change = await self.bot.store.release.premiere_passed(job.guild_id, premiere_at, job)
        if change is not None:
            log.info("Season 2 premiered in server %d: its stage is now released", job.guild_id)

    async def remind(self, job: Job) -> None:
        """Post one countdown reminder, exactly once (the post carries the job's nonce).

        A post Discord refused certainly did not happen: tried again later.  One that
        may have reached Discord is tried again too, with the same nonce, so Discord
        hands back the message it made instead of a second one.  A reminder more than a
        day late (the bot was down) is dropped with a log line rather than posted.
        """
        reminder = Reminder.from_payload(job.guild_id, job.payload)
        late = int(self.bot.clock.now()) - job.due_at
        if late > LATE_LIMIT:
            log.warning(
                "Dropped the %s reminder of server %s: it was due %d s ago, more than a day",
                reminder.kind.value,
                job.guild_id,
                late,
            )
            return
        outcome = await self.bot.announcer.post(
            reminder.guild_id,
            lambda t: reminder_card(reminder, t),
            what=f"{reminder.kind.value} reminder",
            nonce=job.nonce,
            quiet=job.attempts > 1,
        )
        if outcome.posted:
            return
        # Kept on the job for whoever reads the database: in English, like the log.
        problem = outcome.problem_text(Texts(self.bot.catalog, DEFAULT)) or "not posted"
        raise RetryLater(RETRY_AFTER if outcome.definite else RETRY_SOON, problem)
