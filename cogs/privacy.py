"""/privacy: what the bot keeps about the member in this server, and deleting it.

Only the member sees it (ephemeral), and only their own data: the theories they voted
on (titles, never anyone's votes), their prediction points, whether they hold the
server's release-news role.  "Delete my data" asks once more, then deletes their votes
and scores here in one transaction; the answer comes after the commit, and the bot
dispatches ``member_data_deleted(guild_id, member_id, theory_ids)`` so the polls can
show their new tallies.
"""

from __future__ import annotations

import enum
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.client import HalfbieBot
from bot.i18n import Texts
from bot.render.text import clip, safe
from bot.store.members import DeletedMemberData, MemberData
from bot.ui.base import OwnedView

PREFIX = "privacy."
VOTES_BUDGET = 3000  # of the description's 4,096 characters
TITLE_MAX = 150


class Say:
    """This cog's texts (the catalog's ``[privacy]`` section) in the member's language."""

    def __init__(self, texts: Texts) -> None:
        self.texts = texts

    def __call__(self, key: str, /, **values: Any) -> str:
        return self.texts(PREFIX + key, **values)


class RoleState(enum.Enum):
    UNSET = "unset"
    HAS = "has"
    HAS_NOT = "has_not"


def points_text(points: float) -> str:
    """4 → "4", 1.3333 → "1.33"."""
    return f"{points:.2f}".rstrip("0").rstrip(".")


def vote_lines(data: MemberData, say: Say, budget: int = VOTES_BUDGET) -> list[str]:
    """One line per theory voted on, latest first, cut to the budget with a count of the rest."""
    lines: list[str] = []
    used = 0
    for index, vote in enumerate(data.votes):
        line = f"• {safe(vote.title, TITLE_MAX)}" + (f" {say('removed')}" if vote.removed else "")
        rest = len(data.votes) - index
        more = say("votes.more", count=rest)
        if used + len(line) + 1 > budget - len(more) - 1 and rest > 1:
            lines.append(more)
            break
        lines.append(line)
        used += len(line) + 1
    return lines


def summary(data: MemberData, say: Say, *, server: str, role: RoleState, role_mention: str) -> discord.Embed:
    """The member's data as one embed, within Discord's limits whatever the titles are."""
    votes = vote_lines(data, say)
    body = say("votes", count=len(data.votes)) + "\n" + ("\n".join(votes) or say("votes.none"))
    embed = discord.Embed(
        title=clip(say("title", server=safe(server, 100)), 256),
        description=clip(body, 4096),
        colour=discord.Colour.dark_grey(),
    )
    points = (
        say("points.some", points=points_text(data.points), scored=data.scored)
        if data.scored
        else say("points.none")
    )
    embed.add_field(name=say("points"), value=clip(points, 1024), inline=False)
    embed.add_field(
        name=say("role"),
        value=clip(say(f"role.{role.value}", role=role_mention), 1024),
        inline=False,
    )
    if data.theories_started:
        embed.add_field(
            name=say("started"),
            value=clip(say("started.value", count=data.theories_started), 1024),
            inline=False,
        )
    embed.set_footer(text=clip(say("footer"), 2048))
    return embed


class PrivacyView(OwnedView):
    """The summary's one button: "Delete my data…", which asks for confirmation."""

    def __init__(self, cog: Privacy, owner_id: int, data: MemberData, say: Say) -> None:
        super().__init__(owner_id)
        self.cog = cog
        self.data = data
        self.say = say
        self.delete.label = say("delete")

    @discord.ui.button(label="Delete my data", style=discord.ButtonStyle.danger)
    async def delete(self, interaction: discord.Interaction, button: discord.ui.Button[PrivacyView]) -> None:
        confirm = ConfirmDelete(self.cog, self.owner_id, self.say)
        confirm.message = self.message
        self.stop()
        text = self.say("confirm", votes=len(self.data.votes), points=points_text(self.data.points))
        await interaction.response.edit_message(content=text, view=confirm)


class ConfirmDelete(OwnedView):
    def __init__(self, cog: Privacy, owner_id: int, say: Say) -> None:
        super().__init__(owner_id)
        self.cog = cog
        self.say = say
        self.yes.label = say("confirm.yes")
        self.no.label = say("confirm.no")

    @discord.ui.button(label="Yes, delete", style=discord.ButtonStyle.danger)
    async def yes(self, interaction: discord.Interaction, button: discord.ui.Button[ConfirmDelete]) -> None:
        self.stop()
        await interaction.response.defer()  # the answer waits for the commit
        deleted = await self.cog.delete(interaction)
        embed = await self.cog.summary_for(interaction, self.say)
        text = self.say(
            "deleted", votes=deleted.votes, scores=deleted.scores, points=points_text(deleted.points)
        )
        await interaction.edit_original_response(content=text, embed=embed, view=None)

    @discord.ui.button(label="Cancel", style=discord.ButtonStyle.secondary)
    async def no(self, interaction: discord.Interaction, button: discord.ui.Button[ConfirmDelete]) -> None:
        self.stop()
        await interaction.response.edit_message(content=self.say("kept"), view=None)


def _role_state(interaction: discord.Interaction, role_id: int | None) -> tuple[RoleState, str]:
    if role_id is None:
        return RoleState.UNSET, ""
    user = interaction.user
    held = isinstance(user, discord.Member) and user.get_role(role_id) is not None
    return (RoleState.HAS if held else RoleState.HAS_NOT), f"<@&{role_id}>"


class Privacy(commands.Cog):
    def __init__(self, bot: HalfbieBot) -> None:
        self.bot = bot

    async def say(self, interaction: discord.Interaction) -> Say:
        return Say(await self.bot.texts(interaction))

    async def summary_for(self, interaction: discord.Interaction, say: Say) -> discord.Embed:
        return (await self._data_and_summary(interaction, say))[1]

    async def _data_and_summary(
        self, interaction: discord.Interaction, say: Say
    ) -> tuple[MemberData, discord.Embed]:
        assert interaction.guild_id is not None
        store = self.bot.store
        data = await store.members.data(interaction.guild_id, interaction.user.id)
        settings = await store.settings.get(interaction.guild_id)
        role, mention = _role_state(interaction, settings.ping_role_id)
        server = interaction.guild.name if interaction.guild else str(interaction.guild_id)
        return data, summary(data, say, server=server, role=role, role_mention=mention)

    async def delete(self, interaction: discord.Interaction) -> DeletedMemberData:
        """Delete the member's votes and scores here; tell the polls once it is committed."""
        assert interaction.guild_id is not None
        deleted = await self.bot.store.members.delete(interaction.guild_id, interaction.user.id)
        interaction.client.dispatch(
            "member_data_deleted", deleted.guild_id, deleted.member_id, deleted.theory_ids
        )
        return deleted

    @app_commands.command(name="privacy", description="What Halfbie keeps about you here, and deleting it")
    @app_commands.guild_only()
    async def privacy(self, interaction: discord.Interaction) -> None:
        say = await self.say(interaction)
        data, embed = await self._data_and_summary(interaction, say)
        if not data.deletable:
            await interaction.response.send_message(embed=embed, ephemeral=True)
            return
        view = PrivacyView(self, interaction.user.id, data, say)
        await interaction.response.send_message(embed=embed, view=view, ephemeral=True)
        view.message = await interaction.original_response()


async def setup(bot: HalfbieBot) -> None:
    await bot.add_cog(Privacy(bot))
