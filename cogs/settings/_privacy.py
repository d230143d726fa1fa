"""/privacy: what the bot keeps about the member in this server, and deleting it.

Only the member sees it (ephemeral), and only their own data: the theories they voted
on (titles, never anyone's votes), their prediction points, whether they hold the
server's release-news role.  "Delete my data" asks once more, then deletes their votes
and scores here in one transaction; the answer comes after the commit, and the bot
dispatches ``member_data_deleted(guild_id, member_id, theory_ids)`` so the polls can
show their new tallies.
"""

from __future__ import annotations

import discord
from discord import app_commands
from discord.ext import commands

from bot.checks import guild_id_of
from bot.client import HalfbieBot
from bot.models import DeletedMemberData, MemberData
from bot.render.privacy import RoleState, Say, summary
from bot.render.text import points_text
from bot.render.theories import votes_text
from bot.ui.base import OwnedView
from bot.ui.confirm import Confirm


def points_phrase(points: float, say: Say) -> str:
    """ "1 prediction point", "2.5 prediction points"."""
    return say("points_one" if points == 1 else "points_many", points=points_text(points))


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
        say = self.say

        async def yes(click: discord.Interaction) -> None:
            await click.response.defer()  # the answer waits for the commit
            deleted = await self.cog.delete(click)
            embed = await self.cog.summary_for(click, say)
            text = say(
                "deleted",
                votes=votes_text(deleted.votes, say.texts),
                scores=say("scores_one" if deleted.scores == 1 else "scores", count=deleted.scores),
                points=points_phrase(deleted.points, say),
            )
            await click.edit_original_response(content=text, embed=embed, view=None)

        async def no(click: discord.Interaction) -> None:
            await click.response.edit_message(content=say("kept"), view=None)

        confirm = Confirm(
            self.owner_id, confirm=say("confirm.yes"), cancel=say("confirm.no"), on_confirm=yes, on_cancel=no
        )
        confirm.message = self.message
        self.stop()
        text = say(
            "confirm",
            votes=votes_text(len(self.data.votes), say.texts),
            points=points_phrase(self.data.points, say),
        )
        await interaction.response.edit_message(content=text, view=confirm)


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
        guild_id = guild_id_of(interaction)
        store = self.bot.store
        data = await store.members.data(guild_id, interaction.user.id)
        settings = await store.settings.get(guild_id)
        role, mention = _role_state(interaction, settings.ping_role_id)
        server = interaction.guild.name if interaction.guild else str(guild_id)
        return data, summary(data, say, server=server, role=role, role_mention=mention)

    async def delete(self, interaction: discord.Interaction) -> DeletedMemberData:
        """Delete the member's votes and scores here; tell the polls once it is committed."""
        deleted = await self.bot.store.members.delete(guild_id_of(interaction), interaction.user.id)
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
