"""Members' side of the character cards (``/character``, ``/characters``); the cog also
attaches the admins' ``/admin character`` subgroup while it is loaded."""

from __future__ import annotations

from collections.abc import Sequence

import discord
from discord import app_commands
from discord.ext import commands

from bot.checks import guild_id_of
from bot.client import HalfbieBot
from bot.errors import BadInput, NotFound
from bot.i18n import Texts
from bot.models import Character, SpoilerMode, Status
from bot.render.characters import (
    SPOILER_STATUSES,
    STATUS_CHOICES,
    card,
    choice,
    display_name,
    list_line,
    status_label,
)
from bot.render.text import clip, safe
from bot.ui.base import OwnedView
from bot.ui.paginator import Paginator, line_pages

from ._admin import CharacterAdmin


class PickCharacter(OwnedView):
    """'Did you mean': a select of the closest names; picking shows that card."""

    def __init__(self, owner_id: int, choices: Sequence[Character], mode: SpoilerMode, t: Texts) -> None:
        super().__init__(owner_id, timeout=300)
        self.by_key = {c.fields.key: c for c in choices}
        self.mode = mode
        self.t = t
        self.pick.placeholder = t("character.pick")  # type: ignore[assignment]
        self.pick.options = [  # type: ignore[assignment]
            discord.SelectOption(
                label=clip(display_name(c, t), 100) or c.fields.key[:100], value=c.fields.key[:100]
            )
            for c in choices
        ]

    @discord.ui.select(min_values=1, max_values=1)
    async def pick(self, interaction: discord.Interaction, select: discord.ui.Select[PickCharacter]) -> None:
        character = self.by_key[select.values[0]]
        await interaction.response.edit_message(
            content=None, embed=card(character, self.mode, self.t), view=None
        )
        self.stop()


class CharacterCards(commands.Cog):
    def __init__(self, bot: HalfbieBot) -> None:
        self.bot = bot
        self.admin = CharacterAdmin(bot)

    async def cog_load(self) -> None:
        self.bot.tree.attach(self.admin)

    async def cog_unload(self) -> None:
        self.bot.tree.detach(self.admin)

    async def _characters(self, guild_id: int) -> Sequence[Character]:
        await self.bot.seeder.ensure(guild_id)
        return await self.bot.store.characters.list(guild_id)

    async def _spoiler_mode(self, guild_id: int) -> SpoilerMode:
        return (await self.bot.store.settings.get(guild_id)).spoiler_mode

    @app_commands.command(
        name="character", description="One character's card: who they are, their fate, Season 2"
    )
    @app_commands.describe(name="The character's name, their actor's, or the name in Hangul")
    @app_commands.guild_only()
    async def character(self, interaction: discord.Interaction, name: str) -> None:
        guild_id = guild_id_of(interaction)
        characters = await self._characters(guild_id)
        mode = await self._spoiler_mode(guild_id)
        t = await self.bot.texts(interaction)
        if not characters:
            raise NotFound("character.none")
        index = self.bot.indexes.of(characters)
        found = next((c for c in characters if c.fields.key == name), None) or next(
            iter(index.search(name, limit=1)), None
        )
        if found is not None:
            await interaction.response.send_message(embed=card(found, mode, t))
            return
        typed = safe(name, 100)
        closest = index.closest(name, limit=5)
        if not closest:
            raise NotFound("character.no_match_at_all", typed=typed)
        view = PickCharacter(interaction.user.id, closest, mode, t)
        await interaction.response.send_message(
            t("character.no_match", typed=typed), view=view, ephemeral=True
        )
        view.message = await interaction.original_response()

    @character.autocomplete("name")
    async def character_autocomplete(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        if interaction.guild_id is None:
            return []
        characters = await self._characters(interaction.guild_id)
        t = await self.bot.texts(interaction)
        return [choice(c, t) for c in self.bot.indexes.of(characters).search(current, limit=25)]

    @app_commands.command(name="characters", description="Every character in this server, page by page")
    @app_commands.describe(status="Only characters with this status")
    @app_commands.choices(status=STATUS_CHOICES)
    @app_commands.guild_only()
    async def characters(self, interaction: discord.Interaction, status: str | None = None) -> None:
        guild_id = guild_id_of(interaction)
        characters = await self._characters(guild_id)
        mode = await self._spoiler_mode(guild_id)
        t = await self.bot.texts(interaction)
        title = t("character.list_title")
        empty = t("character.none")
        if status is not None:
            try:
                wanted = Status(status)
            except ValueError:
                raise BadInput(
                    "errors.bad_choice", value=safe(status, 40), choices=", ".join(Status)
                ) from None
            if wanted in SPOILER_STATUSES and mode is not SpoilerMode.SHOWN:  # the list would tell
                raise BadInput("character.list_spoiler")
            characters = [c for c in characters if c.fields.status is wanted]
            title = t("character.list_title_status", status=status_label(wanted, t))
            empty = t("character.list_empty")
        pages = line_pages(
            title,
            [list_line(c, mode, t) for c in characters],
            t,
            empty=empty,
            footer=t.plain("character.list_footer"),
        )
        await Paginator(interaction.user.id, pages).send(interaction)
