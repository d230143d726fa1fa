"""Character cards: /character and /characters."""

from __future__ import annotations

from collections.abc import Sequence

import discord
from discord import app_commands
from discord.ext import commands

from bot.client import HalfbieBot
from bot.errors import BadInput, NotFound
from bot.models import Character, SpoilerMode, Status
from bot.render.characters import SPOILER_STATUSES, STATUS_LOOK
from bot.render.text import clip, safe
from bot.search import character_index
from bot.ui.base import OwnedView
from bot.ui.paginator import Paginator, line_pages

TEXT = {
    "none": "This server has no characters yet; an admin can add them with /admin character add.",
    "no_match": "No character matches {typed}. Did you mean one of these?",
    "no_match_at_all": "No character matches {typed}.",
    "pick": "Pick a character",
    "list.title": "Characters",
    "list.title.status": "Characters: {status}",
    "list.empty": "No character has that status here.",
    "list.footer": "Use /character for a full card",
    "list.spoiler": "This server leaves spoilers out, so it cannot list characters by that status.",
}

STATUS_CHOICES = [
    app_commands.Choice(name=label, value=status.value)
    for status, (_, label, _) in STATUS_LOOK.items()
]


class PickCharacter(OwnedView):
    """'Did you mean': a select of the closest names; picking shows that card."""

    def __init__(self, owner_id: int, choices: Sequence[Character], mode: SpoilerMode) -> None:
        super().__init__(owner_id, timeout=300)
        self.by_key = {c.fields.key: c for c in choices}
        self.mode = mode
        self.pick.options = [  # type: ignore[assignment]
            discord.SelectOption(
                label=clip(c.fields.name, 100) or c.fields.key[:100], value=c.fields.key[:100]
            )
            for c in choices
        ]

    @discord.ui.select(placeholder=TEXT["pick"], min_values=1, max_values=1)
    async def pick(
        self, interaction: discord.Interaction, select: discord.ui.Select[PickCharacter]
    ) -> None:
        character = self.by_key[select.values[0]]
        await interaction.response.edit_message(
            content=None, embed=character.card(self.mode), view=None
        )
        self.stop()


class Characters(commands.Cog):
    def __init__(self, bot: HalfbieBot) -> None:
        self.bot = bot

    async def _characters(self, guild_id: int) -> list[Character]:
        await self.bot.ensure_seeded(guild_id)
        return await self.bot.store.characters.list(guild_id)

    async def _spoiler_mode(self, guild_id: int) -> SpoilerMode:
        return (await self.bot.store.settings.get(guild_id)).spoiler_mode

    @app_commands.command(
        name="character", description="One character's card: who they are, their fate, Season 2"
    )
    @app_commands.describe(name="The character's name, their actor's, or the name in Hangul")
    @app_commands.guild_only()
    async def character(self, interaction: discord.Interaction, name: str) -> None:
        assert interaction.guild_id is not None
        characters = await self._characters(interaction.guild_id)
        mode = await self._spoiler_mode(interaction.guild_id)
        if not characters:
            raise NotFound(TEXT["none"])
        by_key = {c.fields.key: c for c in characters}
        found = by_key.get(name) or next(
            iter(character_index(characters).search(name, limit=1)), None
        )
        if found is not None:
            await interaction.response.send_message(embed=found.card(mode))
            return
        typed = safe(name, 100) or "that"
        closest = character_index(characters).closest(name, limit=5)
        if not closest:
            raise NotFound(TEXT["no_match_at_all"].format(typed=typed))
        view = PickCharacter(interaction.user.id, closest, mode)
        await interaction.response.send_message(
            TEXT["no_match"].format(typed=typed), view=view, ephemeral=True
        )
        view.message = await interaction.original_response()

    @character.autocomplete("name")
    async def character_autocomplete(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        if interaction.guild_id is None:
            return []
        characters = await self._characters(interaction.guild_id)
        return [c.choice() for c in character_index(characters).search(current, limit=25)]

    @app_commands.command(
        name="characters", description="Every character in this server, page by page"
    )
    @app_commands.describe(status="Only characters with this status")
    @app_commands.choices(status=STATUS_CHOICES)
    @app_commands.guild_only()
    async def characters(self, interaction: discord.Interaction, status: str | None = None) -> None:
        assert interaction.guild_id is not None
        characters = await self._characters(interaction.guild_id)
        mode = await self._spoiler_mode(interaction.guild_id)
        title = TEXT["list.title"]
        if status is not None:
            try:
                wanted = Status(status)
            except ValueError:
                wanted = None
            if wanted in SPOILER_STATUSES and mode is SpoilerMode.OMITTED:
                raise BadInput(TEXT["list.spoiler"])
            characters = [c for c in characters if c.fields.status is wanted]
            title = TEXT["list.title.status"].format(
                status=STATUS_LOOK[wanted][1] if wanted else safe(status, 30)
            )
        pages = line_pages(
            title,
            [c.list_line(mode) for c in characters],
            empty=TEXT["list.empty"] if status else TEXT["none"],
            footer=TEXT["list.footer"],
        )
        await Paginator(interaction.user.id, pages).send(interaction)


async def setup(bot: HalfbieBot) -> None:
    await bot.add_cog(Characters(bot))
