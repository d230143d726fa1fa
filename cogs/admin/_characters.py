"""``/admin character add|edit|status|remove|restore``."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Awaitable, Callable

import discord
from discord import app_commands

from bot.checks import AdminChecked, require_admin
from bot.client import HalfbieBot
from bot.errors import BadInput, NotFound, answer_error
from bot.models import Certainty, Character, CharacterFields, SourceRef, SpoilerMode, Status
from bot.render.characters import CERTAINTY_LABEL, STATUS_LOOK
from bot.search import character_index

TEXT = {
    "group": "Add and correct this server's character cards",
    "added": "Added. The card as members will see it:",
    "updated": "Saved. The card as members will see it:",
    "removed": "Removed **{name}**. `/admin character restore` brings it back.",
    "restored": "Restored. The card as members will see it:",
    "unknown": "There is no character {key!r} here; pick one from the list.",
    "no_removed": "There is no removed character {key!r} to restore.",
    "empty_name": "A character needs a name.",
    "too_long": "{what} is too long ({length} characters; at most {limit}).",
    "bad_url": "The source link must start with http:// or https:// (at most 500 characters).",
    "modal.add": "New character",
    "modal.edit": "Edit character",
    "name": "Name",
    "role": "Role in the story",
    "fate": "Season 1 fate (shown as a spoiler)",
    "season2": "Season 2",
    "notes": "Notes (where facts come from)",
}
NAME_MAX, TEXT_MAX, SHORT_MAX = 100, 4000, 200
CLEAR = "-"  # typed as an option value: clear that field

STATUS_CHOICES = [
    app_commands.Choice(name=label, value=s.value) for s, (_, label, _) in STATUS_LOOK.items()
]
CERTAINTY_CHOICES = [
    app_commands.Choice(name=label, value=c.value) for c, label in CERTAINTY_LABEL.items()
]


def slug(name: str) -> str:
    return re.sub(r"[\W_]+", "-", name.casefold()).strip("-")[:60]


def checked(text: str | None, what: str, limit: int) -> str | None:
    """Text as typed (never rewritten), or a clear refusal when it is absurdly long."""
    if text is None:
        return None
    text = text.strip()
    if len(text) > limit:
        raise BadInput(TEXT["too_long"].format(what=what, length=len(text), limit=limit))
    return text or None


def optional(value: str | None, current: str | None, what: str) -> str | None:
    if value is None:
        return current
    if value.strip() == CLEAR:
        return None
    return checked(value, what, SHORT_MAX)


def source_of(name: str, certainty: str, url: str | None) -> SourceRef:
    checked_name = checked(name, "The source", SHORT_MAX)
    if checked_name is None:
        raise BadInput("Say where this comes from (the source).")
    if url is not None:
        url = url.strip() or None
    if url is not None and (not re.match(r"^https?://\S+$", url) or len(url) > 500):
        raise BadInput(TEXT["bad_url"])
    try:
        return SourceRef(name=checked_name, certainty=Certainty(certainty), url=url)
    except ValueError:
        raise BadInput(
            f"Unknown certainty; choose one of {', '.join(CERTAINTY_LABEL.values())}."
        ) from None


def status_of(value: str) -> Status:
    try:
        return Status(value)
    except ValueError:
        raise BadInput(
            f"Unknown status; choose one of {', '.join(s.value for s in Status)}."
        ) from None


Input = discord.ui.TextInput["CharacterModal"]
Submit = Callable[[discord.Interaction[HalfbieBot], dict[str, str | None]], Awaitable[None]]


class CharacterModal(discord.ui.Modal):
    """The long texts of a card, prefilled with the current values."""

    def __init__(self, title: str, current: CharacterFields | None, on_submit: Submit) -> None:
        super().__init__(title=title, timeout=900)
        self._on_submit = on_submit

        def field(
            label: str, value: str | None, *, long: bool = True, required: bool = False
        ) -> Input:
            return discord.ui.TextInput(
                label=label,
                style=discord.TextStyle.paragraph if long else discord.TextStyle.short,
                max_length=TEXT_MAX if long else NAME_MAX,
                required=required,
                default=(value or "")[: TEXT_MAX if long else NAME_MAX] if current else None,
            )

        self.name_input = field(
            TEXT["name"], current.name if current else None, long=False, required=True
        )
        self.role = field(TEXT["role"], current.role if current else None, required=True)
        self.fate = field(TEXT["fate"], current.fate_s1 if current else None)
        self.season2 = field(TEXT["season2"], current.season2 if current else None)
        self.notes = field(TEXT["notes"], current.notes if current else None)
        for item in (self.name_input, self.role, self.fate, self.season2, self.notes):
            self.add_item(item)

    async def on_submit(self, interaction: discord.Interaction[HalfbieBot]) -> None:  # type: ignore[override]
        await require_admin(interaction)  # permissions may have changed while the modal was open
        values = {
            "name": checked(self.name_input.value, TEXT["name"], NAME_MAX),
            "role": checked(self.role.value, TEXT["role"], TEXT_MAX),
            "fate_s1": checked(self.fate.value, TEXT["fate"], TEXT_MAX),
            "season2": checked(self.season2.value, TEXT["season2"], TEXT_MAX),
            "notes": checked(self.notes.value, TEXT["notes"], TEXT_MAX),
        }
        if not values["name"]:
            raise BadInput(TEXT["empty_name"])
        await self._on_submit(interaction, values)

    async def on_error(self, interaction: discord.Interaction, error: Exception, /) -> None:  # type: ignore[override]
        await answer_error(interaction, error)


class CharacterAdmin(AdminChecked):
    def __init__(self, bot: HalfbieBot) -> None:
        super().__init__(name="character", description=TEXT["group"])
        self.bot = bot

    async def _get(self, guild_id: int, key: str) -> Character:
        await self.bot.ensure_seeded(guild_id)
        character = await self.bot.store.characters.get(guild_id, key)
        if character is None:
            raise NotFound(TEXT["unknown"].format(key=key[:100]))
        return character

    async def _show(
        self, interaction: discord.Interaction[HalfbieBot], text: str, character: Character
    ) -> None:
        assert interaction.guild_id is not None
        mode = (await self.bot.store.settings.get(interaction.guild_id)).spoiler_mode
        embed = character.card(SpoilerMode.SHOWN if mode is SpoilerMode.HIDDEN else mode)
        await interaction.response.send_message(text, embed=embed, ephemeral=True)

    @app_commands.command(name="add", description="Add a character (the long texts come in a form)")
    @app_commands.describe(
        source="Where the facts come from (e.g. Netflix, an interview)",
        certainty="How sure the source is",
        status="The character's status now",
        actor="Who plays the character",
        hangul="The name in Hangul",
        source_url="A link to the source",
    )
    @app_commands.choices(status=STATUS_CHOICES, certainty=CERTAINTY_CHOICES)
    async def add(
        self,
        interaction: discord.Interaction[HalfbieBot],
        source: str,
        certainty: str = Certainty.REPORTED.value,
        status: str = Status.UNKNOWN.value,
        actor: str | None = None,
        hangul: str | None = None,
        source_url: str | None = None,
    ) -> None:
        assert interaction.guild_id is not None
        guild_id = interaction.guild_id
        source_ref = source_of(source, certainty, source_url)
        new_status = status_of(status)
        actor_text = optional(actor, None, "The actor")
        hangul_text = optional(hangul, None, "The Hangul name")

        async def create(
            modal_interaction: discord.Interaction[HalfbieBot], values: dict[str, str | None]
        ) -> None:
            name = values["name"] or ""
            key = slug(name) or f"character-{modal_interaction.id}"
            fields = CharacterFields(
                key=key,
                name=name,
                hangul=hangul_text,
                actor=actor_text,
                role=values["role"] or "",
                status=new_status,
                fate_s1=values["fate_s1"],
                season2=values["season2"],
                source=source_ref,
                status_source=source_ref,
                notes=values["notes"],
            )
            await self.bot.ensure_seeded(guild_id)
            character = await self.bot.store.characters.add(
                guild_id, modal_interaction.user.id, fields
            )
            await self._show(modal_interaction, TEXT["added"], character)

        await interaction.response.send_modal(CharacterModal(TEXT["modal.add"], None, create))

    @app_commands.command(
        name="edit", description="Edit a character's card (the long texts come in a form)"
    )
    @app_commands.describe(
        character="The character to edit",
        actor="Who plays the character (- to clear)",
        hangul="The name in Hangul (- to clear)",
        source="Where the card's facts come from",
        certainty="How sure that source is",
        source_url="A link to the source (- to clear)",
    )
    @app_commands.choices(certainty=CERTAINTY_CHOICES)
    async def edit(
        self,
        interaction: discord.Interaction[HalfbieBot],
        character: str,
        actor: str | None = None,
        hangul: str | None = None,
        source: str | None = None,
        certainty: str | None = None,
        source_url: str | None = None,
    ) -> None:
        assert interaction.guild_id is not None
        guild_id = interaction.guild_id
        current = (await self._get(guild_id, character)).fields
        source_ref = current.source
        if source is not None or certainty is not None or source_url is not None:
            url = (
                current.source.url
                if source_url is None
                else (None if source_url.strip() == CLEAR else source_url)
            )
            source_ref = source_of(
                source or current.source.name, certainty or current.source.certainty, url
            )
        actor_text = optional(actor, current.actor, "The actor")
        hangul_text = optional(hangul, current.hangul, "The Hangul name")

        async def save(
            modal_interaction: discord.Interaction[HalfbieBot], values: dict[str, str | None]
        ) -> None:
            fields = dataclasses.replace(
                current,
                name=values["name"] or current.name,
                role=values["role"] or "",
                fate_s1=values["fate_s1"],
                season2=values["season2"],
                notes=values["notes"],
                actor=actor_text,
                hangul=hangul_text,
                source=source_ref,
            )
            updated = await self.bot.store.characters.update(
                guild_id, modal_interaction.user.id, fields
            )
            await self._show(modal_interaction, TEXT["updated"], updated)

        await interaction.response.send_modal(CharacterModal(TEXT["modal.edit"], current, save))

    @app_commands.command(
        name="status", description="Change a character's status, with the source that says so"
    )
    @app_commands.describe(
        character="The character",
        status="The new status",
        source="Where this comes from (e.g. Netflix, an episode, an interview)",
        certainty="How sure that source is",
        source_url="A link to the source",
    )
    @app_commands.choices(status=STATUS_CHOICES, certainty=CERTAINTY_CHOICES)
    async def status(
        self,
        interaction: discord.Interaction[HalfbieBot],
        character: str,
        status: str,
        source: str,
        certainty: str = Certainty.REPORTED.value,
        source_url: str | None = None,
    ) -> None:
        assert interaction.guild_id is not None
        await self._get(interaction.guild_id, character)
        updated = await self.bot.store.characters.set_status(
            interaction.guild_id,
            interaction.user.id,
            character,
            status_of(status),
            source_of(source, certainty, source_url),
        )
        await self._show(interaction, TEXT["updated"], updated)

    @app_commands.command(name="remove", description="Remove a character (it can be restored)")
    @app_commands.describe(character="The character to remove")
    async def remove(self, interaction: discord.Interaction[HalfbieBot], character: str) -> None:
        assert interaction.guild_id is not None
        found = await self._get(interaction.guild_id, character)
        await self.bot.store.characters.remove(interaction.guild_id, interaction.user.id, character)
        name = discord.utils.escape_markdown(found.fields.name)[:NAME_MAX]
        await interaction.response.send_message(TEXT["removed"].format(name=name), ephemeral=True)

    @app_commands.command(name="restore", description="Bring back a removed character")
    @app_commands.describe(character="The removed character")
    async def restore(self, interaction: discord.Interaction[HalfbieBot], character: str) -> None:
        assert interaction.guild_id is not None
        found = await self.bot.store.characters.get(
            interaction.guild_id, character, include_removed=True
        )
        if found is None or found.removed_at is None:
            raise NotFound(TEXT["no_removed"].format(key=character[:100]))
        restored = await self.bot.store.characters.restore(
            interaction.guild_id, interaction.user.id, character
        )
        await self._show(interaction, TEXT["restored"], restored)

    @edit.autocomplete("character")
    @status.autocomplete("character")
    @remove.autocomplete("character")
    async def character_autocomplete(
        self, interaction: discord.Interaction[HalfbieBot], current: str
    ) -> list[app_commands.Choice[str]]:
        if interaction.guild_id is None:
            return []
        characters = await self.bot.store.characters.list(interaction.guild_id)
        return [c.choice() for c in character_index(characters).search(current, limit=25)]

    @restore.autocomplete("character")
    async def removed_autocomplete(
        self, interaction: discord.Interaction[HalfbieBot], current: str
    ) -> list[app_commands.Choice[str]]:
        if interaction.guild_id is None:
            return []
        removed = await self.bot.store.characters.list_removed(interaction.guild_id)
        return [c.choice() for c in character_index(removed).search(current, limit=25)]
