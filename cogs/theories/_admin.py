"""``/admin theory close|resolve|delete``.

Descriptions are in English here (the Translator gives them their Korean); the answers
come from the catalog (``admin_theory.*``) in the admin's language.
"""

from __future__ import annotations

import discord
from discord import app_commands

from bot.checks import AdminChecked, guild_id_of, require_admin
from bot.client import HalfbieBot
from bot.errors import BadInput, NotFound
from bot.models import TheoryStatus
from bot.render.theories import (
    option_choice,
    option_label,
    option_text,
    resolution_line,
    title_text,
    votes_text,
)
from bot.ui.confirm import Confirm

from ._input import CONFIRMED, DEBUNKED, is_default, outcomes, parse_outcome
from ._polls import Polls

OPEN = frozenset({TheoryStatus.OPEN})
RESOLVABLE = frozenset(TheoryStatus)


class TheoryAdmin(AdminChecked):
    def __init__(self, bot: HalfbieBot, polls: Polls) -> None:
        super().__init__(name="theory", description="Close, resolve and delete fan-theory polls")
        self.bot = bot
        self.polls = polls

    @app_commands.command(
        name="close", description="Close a poll now: no more votes; the final result shows on its message"
    )
    @app_commands.describe(theory="The theory (type to search)")
    async def close(self, interaction: discord.Interaction[HalfbieBot], theory: str) -> None:
        guild_id = guild_id_of(interaction)
        found = await self.polls.find(guild_id, theory)
        closed = await self.polls.close(guild_id, interaction.user.id, found.id)
        t = await self.bot.texts(interaction)
        await interaction.response.send_message(
            t("admin_theory.closed", title=title_text(closed, t, 200)), ephemeral=True
        )

    @close.autocomplete("theory")
    async def close_autocomplete(
        self, interaction: discord.Interaction[HalfbieBot], current: str
    ) -> list[app_commands.Choice[str]]:
        return await self.polls.choices(interaction, current, OPEN)

    @app_commands.command(
        name="resolve", description="Mark the option that came true and score the members who predicted it"
    )
    @app_commands.describe(
        theory="The theory (type to search)",
        outcome="The option that came true (for Agree/Disagree polls: confirmed or debunked)",
    )
    async def resolve(self, interaction: discord.Interaction[HalfbieBot], theory: str, outcome: str) -> None:
        guild_id = guild_id_of(interaction)
        found = await self.polls.find(guild_id, theory)
        option = parse_outcome(found, outcome)
        resolution = await self.polls.resolve(guild_id, interaction.user.id, found.id, option)
        resolved = resolution.theory
        t = await self.bot.texts(interaction)
        text = t(
            "admin_theory.resolved",
            title=title_text(found, t, 200),
            option=option_text(resolved, option, t, 100),
            scores=resolution_line(resolution, t),
        )
        previous = resolution.previous_outcome
        if previous is not None and previous != option and 0 <= previous < len(resolved.fields.options):
            text += t("admin_theory.corrected", previous=option_text(resolved, previous, t, 100))
        await interaction.response.send_message(text, ephemeral=True)

    @resolve.autocomplete("theory")
    async def resolve_theory_autocomplete(
        self, interaction: discord.Interaction[HalfbieBot], current: str
    ) -> list[app_commands.Choice[str]]:
        return await self.polls.choices(interaction, current, RESOLVABLE)

    @resolve.autocomplete("outcome")
    async def resolve_outcome_autocomplete(
        self, interaction: discord.Interaction[HalfbieBot], current: str
    ) -> list[app_commands.Choice[str]]:
        chosen = getattr(interaction.namespace, "theory", None)
        if interaction.guild_id is None or not isinstance(chosen, str) or not chosen:
            return []
        try:
            theory = await self.polls.find(interaction.guild_id, chosen)
        except (NotFound, BadInput):
            return []
        t = await self.bot.texts(interaction)
        choices = [option_choice(theory, index, t) for index in outcomes(theory)]
        if is_default(theory):
            for index, key in ((0, CONFIRMED), (1, DEBUNKED)):
                label = t(f"admin_theory.choice_{key}", label=option_label(theory, index, t))
                choices[index] = app_commands.Choice(name=label[:100], value=str(index + 1))
        folded = current.strip().casefold()
        return [c for c in choices if folded in c.name.casefold() or folded == c.value][:25]

    @app_commands.command(
        name="delete", description="Delete a theory and its votes for good (after a confirmation)"
    )
    @app_commands.describe(theory="The theory (type to search)")
    async def delete(self, interaction: discord.Interaction[HalfbieBot], theory: str) -> None:
        guild_id = guild_id_of(interaction)
        found = await self.polls.find(guild_id, theory)
        votes = (await self.bot.store.theories.tally(guild_id, found.id)).total
        t = await self.bot.texts(interaction)
        title = title_text(found, t, 200)

        async def confirmed(click: discord.Interaction[HalfbieBot]) -> None:
            await require_admin(click)  # permissions may have changed in the meantime
            await self.polls.delete(guild_id, click.user.id, found.id)
            await click.response.edit_message(
                content=t("admin_theory.deleted", title=title, id=found.id), view=None
            )

        await Confirm.ask(
            interaction,
            t("admin_theory.confirm", title=title, id=found.id, votes=votes_text(votes, t)),
            confirm=t("admin_theory.confirm_delete"),
            cancel=t("admin_theory.confirm_cancel"),
            cancelled=t("admin_theory.cancelled"),
            on_confirm=confirmed,
        )

    @delete.autocomplete("theory")
    async def delete_autocomplete(
        self, interaction: discord.Interaction[HalfbieBot], current: str
    ) -> list[app_commands.Choice[str]]:
        return await self.polls.choices(interaction, current)
