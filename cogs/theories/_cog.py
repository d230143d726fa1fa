"""``/theory new|list|show|mine|leaderboard``: fan-theory polls members vote on with
buttons, scored when Season 2 answers them.

Command descriptions are written here in English; the Translator gives them their
Korean from ``ko.toml`` (``[commands.text]``).  Every answer comes from the catalog.
"""

from __future__ import annotations

import logging

import discord
from discord import app_commands
from discord.ext import commands

from bot import when
from bot.checks import guild_id_of, poll_creator_only
from bot.client import HalfbieBot
from bot.i18n import english
from bot.models import (
    DEFAULT_OPTIONS,
    DEFAULT_OPTIONS_KO,
    Certainty,
    JobKind,
    SourceRef,
    TheoryFields,
    TheoryStatus,
)
from bot.render.text import points_text
from bot.render.theories import leaderboard_embed, list_line, mine_line, votes_text
from bot.ui.paginator import Paginator, line_pages

from ._admin import TheoryAdmin
from ._input import (
    parse_choices,
    parse_closing,
    parse_details,
    parse_opening,
    parse_options,
    parse_status,
    parse_title,
)
from ._polls import COG_NAME, Polls, check_role
from ._views import PollButton

log = logging.getLogger(__name__)

LIST_PER_PAGE = 10
# Slash command choices, in English; the Translator gives them their Korean names.
STATUS_CHOICES = [
    app_commands.Choice(name=english()(f"theory.choice_{s.value}"), value=s.value) for s in TheoryStatus
]


class TheoryPolls(commands.Cog, name=COG_NAME):
    theory = app_commands.Group(
        name="theory",
        description="Fan-theory polls: vote, see results, and who predicted right",
        guild_only=True,
    )

    def __init__(self, bot: HalfbieBot) -> None:
        self.bot = bot
        self.polls = Polls(bot)
        self.admin = TheoryAdmin(bot, self.polls)

    async def cog_load(self) -> None:
        # Runs inside setup_hook: the buttons of every poll ever posted work from the
        # first interaction on, and the scheduler (started after every extension loaded)
        # closes what came due while the bot was down.
        self.bot.add_dynamic_items(PollButton)
        self.bot.tree.attach(self.admin)
        self.bot.scheduler.register(JobKind.CLOSE_POLL, self.polls.close_when_due)
        self.bot.scheduler.register(JobKind.POLL_RESULT, self.polls.post_result)
        self.bot.scheduler.register(JobKind.OPEN_POLL, self.polls.open_when_due)
        try:
            await self.polls.check_posted()  # messages a crash left behind
        except Exception:
            log.exception("Could not check the poll messages left at the last stop")

    async def cog_unload(self) -> None:
        self.bot.remove_dynamic_items(PollButton)
        self.bot.tree.detach(self.admin)
        self.bot.scheduler.unregister(JobKind.CLOSE_POLL)
        self.bot.scheduler.unregister(JobKind.POLL_RESULT)
        self.bot.scheduler.unregister(JobKind.OPEN_POLL)
        await self.polls.stop()

    @commands.Cog.listener()
    async def on_member_data_deleted(self, guild_id: int, member_id: int, theory_ids: list[int]) -> None:
        """/privacy deleted a member's votes: the polls they voted on show their new tallies."""
        for theory_id in theory_ids:
            self.polls.refresher.mark(guild_id, theory_id)

    @commands.Cog.listener()
    async def on_settings_changed(self, guild_id: int) -> None:
        """A new language or spoiler mode: every poll message posted here is rewritten."""
        for theory in await self.bot.store.theories.list(guild_id):
            if theory.message_id is not None:
                self.polls.refresher.mark(guild_id, theory.id)

    # -- members ----------------------------------------------------------------------------

    @theory.command(name="new", description="Start a fan-theory poll in this channel")
    @app_commands.describe(
        title="The theory, e.g. Byeong-chan returns in Season 2",
        details="More about it: where it comes from, what it would mean",
        options="2 to 10 options separated by | (default: Agree | Disagree | Not sure)",
        closes="When voting ends: a duration (3d, 12h, 1d 6h) or a time (2026-12-24 18:00, UTC unless given)",
        sealed="Hide the results until the poll closes (only the number of voters shows)",
        choices="How many options each member may choose (1 by default)",
        voter_role="Only members with this role may vote (everyone by default)",
        ping_role="A role pinged when the poll opens and when its result is posted",
        opens="Open the poll later, at a time (tomorrow 20:00, 2026-12-24 18:00, 2d 3h); posted here then",
    )
    @poll_creator_only()
    async def new(
        self,
        interaction: discord.Interaction[HalfbieBot],
        title: app_commands.Range[str, 1, 200],
        details: app_commands.Range[str, 1, 1000] | None = None,
        options: app_commands.Range[str, 1, 1000] | None = None,
        closes: app_commands.Range[str, 1, 40] | None = None,
        sealed: bool = False,
        choices: app_commands.Range[int, 1, 10] = 1,
        voter_role: discord.Role | None = None,
        ping_role: discord.Role | None = None,
        opens: app_commands.Range[str, 1, 40] | None = None,
    ) -> None:
        guild_id = guild_id_of(interaction)
        # The source is stored with the theory and shown on its poll message: the
        # server's language, like the message.
        proposed = (await self.bot.announcer.texts(guild_id))("theory.new_source")
        answers = parse_options(options)
        t = await self.bot.texts(interaction)
        zone = when.default_zone(t.language)  # of a time typed alone
        now = self.bot.clock.now()
        opens_at = parse_opening(opens, now, zone)
        fields = TheoryFields(
            title=parse_title(title),
            options=answers,
            # The default answers exist in both languages; typed ones are as typed.
            options_ko=DEFAULT_OPTIONS_KO if answers == DEFAULT_OPTIONS else None,
            source=SourceRef(proposed, Certainty.FAN_THEORY),
            details=parse_details(details),
            sealed=sealed,
            closes_at=parse_closing(closes, now, zone, opens_at=opens_at),
            max_choices=parse_choices(choices, len(answers)),
            voter_role_id=check_role(interaction, voter_role),
            ping_role_id=check_role(interaction, ping_role, ping=True),
            opens_at=opens_at,
        )
        await self.bot.seeder.ensure(guild_id)
        theory = await self.bot.store.theories.create(
            guild_id, interaction.user.id, fields, channel_id=interaction.channel_id
        )
        if fields.closes_at is not None or opens_at is not None:
            self.bot.scheduler.wake()  # its close_poll and open_poll jobs were committed with it
        if opens_at is not None:
            # Posted here by the scheduler at that time (see Polls.open_when_due).
            await interaction.response.send_message(
                t("theory.scheduled", id=theory.id, when=f"<t:{opens_at}:F>"), ephemeral=True
            )
            return
        await self.polls.post(interaction, theory)
        await self.polls.announce_open(theory)

    @theory.command(name="list", description="Every theory here: status, votes and the leading option")
    @app_commands.describe(status="Only theories with this status")
    @app_commands.choices(status=STATUS_CHOICES)
    async def list_(self, interaction: discord.Interaction[HalfbieBot], status: str | None = None) -> None:
        guild_id = guild_id_of(interaction)
        await self.bot.seeder.ensure(guild_id)
        store = self.bot.store.theories
        wanted = parse_status(status)
        theories = await store.list(guild_id, wanted)
        tallies = await store.tallies(guild_id)
        t = await self.bot.texts(interaction)
        lines = [list_line(theory, tallies[theory.id], t) for theory in theories if theory.id in tallies]
        pages = line_pages(
            t("theory.list_title"),
            lines,
            t,
            per_page=LIST_PER_PAGE,
            colour=discord.Colour.dark_red(),
            empty=t("theory.list_empty"),
        )
        await Paginator(interaction.user.id, pages).send(interaction, ephemeral=True)

    @theory.command(
        name="show", description="A theory's poll with its buttons (poll creators post it here again)"
    )
    @app_commands.describe(theory="The theory (type to search)")
    async def show(self, interaction: discord.Interaction[HalfbieBot], theory: str) -> None:
        guild_id = guild_id_of(interaction)
        found = await self.polls.find(guild_id, theory)
        await self.polls.post(interaction, found, public=await self.polls.may_repost(interaction, found))

    @show.autocomplete("theory")
    async def show_autocomplete(
        self, interaction: discord.Interaction[HalfbieBot], current: str
    ) -> list[app_commands.Choice[str]]:
        return await self.polls.choices(interaction, current)

    @theory.command(name="mine", description="Your votes on this server's theories (only you see them)")
    async def mine(self, interaction: discord.Interaction[HalfbieBot]) -> None:
        guild_id = guild_id_of(interaction)
        await self.bot.seeder.ensure(guild_id)
        votes = await self.bot.store.theories.votes_with_theories(guild_id, interaction.user.id)
        t = await self.bot.texts(interaction)
        points = sum(v.points or 0.0 for v in votes)
        footer = t("theory.mine_total", points=points_text(points), votes=votes_text(len(votes), t))
        pages = line_pages(
            t("theory.mine_title"),
            [mine_line(vote, t) for vote in votes],
            t,
            per_page=LIST_PER_PAGE,
            colour=discord.Colour.dark_red(),
            empty=t("theory.mine_empty"),
            footer=f"{footer} · {t('theory.mine_footer')}",
        )
        await Paginator(interaction.user.id, pages).send(interaction, ephemeral=True)

    @theory.command(name="leaderboard", description="Who predicted right: the top 10 and your rank")
    @app_commands.describe(public="Post it for everyone in the channel (default: only you see it)")
    async def leaderboard(self, interaction: discord.Interaction[HalfbieBot], public: bool = False) -> None:
        guild_id = guild_id_of(interaction)
        await self.bot.seeder.ensure(guild_id)
        store = self.bot.store.theories
        entries = await store.leaderboard(guild_id, 10)
        own = await store.rank_of(guild_id, interaction.user.id)
        # Posted for everyone: the server's language; for the member alone: theirs.
        t = await (self.bot.announcer.texts(guild_id) if public else self.bot.texts(interaction))
        await interaction.response.send_message(
            embed=leaderboard_embed(entries, own, t, who=interaction.user.display_name if public else None),
            ephemeral=not public,
        )
