"""``/admin character add|edit|status|fact|remove|restore``.

A card is statements (``bot.models.Statement``): the role line, and one statement per
line of the Season 1 and Season 2 texts.  The form edits their texts; a line an admin
leaves as it was keeps its source, certainty and spoiler level, a new or changed line
takes the ones the command gives (or those of the line it replaces), and
``/admin character fact`` sets them for any one line."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Awaitable, Callable

import discord
from discord import app_commands

from bot.checks import AdminChecked, check_length, guild_id_of, require_admin
from bot.choices import offer, parse
from bot.client import HalfbieBot
from bot.errors import BadInput, NotFound, Term, answer_error
from bot.i18n import Texts, english
from bot.limits import MODAL_TITLE, TEXT_INPUT_LABEL
from bot.models import (
    Certainty,
    Character,
    CharacterFields,
    SourceRef,
    Spoiler,
    SpoilerMode,
    Statement,
    Status,
)
from bot.render.characters import STATUS_CHOICES, card, choice
from bot.render.text import clip, safe
from bot.search import normalize
from bot.ui.forms import Field, TextsForm

NAME_MAX, TEXT_MAX, SHORT_MAX = 100, 4000, 200
CLEAR = "-"  # typed as an option value: clear that field


def slug(name: str) -> str:
    return re.sub(r"[\W_]+", "-", name.casefold()).strip("-")[:60]


def checked(text: str | None, what: str, limit: int) -> str | None:
    """Text as typed (never rewritten but for the spaces around it), or a clear refusal
    when it is too long; ``what`` is the catalog key of the field's name."""
    text = check_length(text.strip() if text is not None else None, limit, what)
    return text or None


def optional(value: str | None, current: str | None, what: str) -> str | None:
    if value is None:
        return current
    if value.strip() == CLEAR:
        return None
    return checked(value, what, SHORT_MAX)


def source_of(name: str, certainty: str, url: str | None, t: Texts) -> SourceRef:
    checked_name = checked(name, "fields.source", SHORT_MAX)
    if checked_name is None:
        raise BadInput("errors.need_source")
    if url is not None:
        url = url.strip() or None
    if url is not None and (not re.match(r"^https?://\S+$", url) or len(url) > 500):
        raise BadInput("errors.bad_url")
    return SourceRef(
        name=checked_name, certainty=parse(Certainty, certainty, t.catalog, "certainty.{}"), url=url
    )


def spoiler_of(value: str | None, t: Texts) -> Spoiler | None:
    return None if value is None else parse(Spoiler, value, t.catalog, "spoiler.{}")


def texts_of(statements: tuple[Statement, ...]) -> str:
    """Statements as the form shows them: one per line."""
    return "\n".join(s.text for s in statements)


def restate(
    typed: str | None,
    old: tuple[Statement, ...],
    source: SourceRef | None,
    spoiler: Spoiler | None,
    fallback: SourceRef,
) -> tuple[Statement, ...]:
    """The statements of a form's text, one per non-empty line: a line as it was keeps
    its statement; a new or changed line takes the given source and spoiler level, or
    those of the statement it replaces (same place), or ``fallback`` and a spoiler."""
    kept = {s.text: s for s in old}
    out = []
    for i, text in enumerate(line.strip() for line in (typed or "").splitlines() if line.strip()):
        if text in kept:
            out.append(kept[text])
            continue
        before = old[i] if i < len(old) else None
        out.append(
            Statement(
                text=text,
                source=source or (before.source if before else fallback),
                spoiler=spoiler or (before.spoiler if before else Spoiler.FINALE),
            )
        )
    return tuple(out)


def korean_lines(statements: tuple[Statement, ...]) -> str | None:
    """The Korean twins as the form shows them, a line each; None when there are none."""
    if not any(s.ko for s in statements):
        return None
    return "\n".join(s.ko or "" for s in statements)


def with_korean(statements: tuple[Statement, ...], typed: str | None, part: str) -> tuple[Statement, ...]:
    """Each statement with the Korean line of the same place; an empty form clears them."""
    if typed is None:
        return tuple(dataclasses.replace(s, ko=None) for s in statements)
    check_length(typed, TEXT_MAX, "fields.season2" if part == "season2" else "fields.fate")
    lines = [line.strip() for line in typed.splitlines() if line.strip()]
    if len(lines) != len(statements):
        raise BadInput(
            "admin_character.ko_lines", part=Term(f"admin_character.part_{part}"), count=len(statements)
        )
    return tuple(dataclasses.replace(s, ko=ko) for s, ko in zip(statements, lines, strict=True))


def status_of(value: str, t: Texts) -> Status:
    return parse(Status, value, t.catalog, "status.{}")


CERTAINTY_OFFER, SPOILER_OFFER = offer(Certainty, "certainty.{}"), offer(Spoiler, "spoiler.{}")
PARTS = ("role", "hangul", "actor", "status", "fate_s1", "season2")
PART_CHOICES = [app_commands.Choice(name=english()(f"admin_character.part_{p}"), value=p) for p in PARTS]


def with_fact(
    fields: CharacterFields, part: str, line: int, source: SourceRef, spoiler: Spoiler | None
) -> CharacterFields:
    """The card with one line's source, certainty and spoiler level set."""
    if part in ("role", "hangul", "actor") and spoiler not in (None, Spoiler.NONE):
        raise BadInput("admin_character.spoiler_free")
    match part:
        case "role":
            return dataclasses.replace(fields, role=dataclasses.replace(fields.role, source=source))
        case "status":
            return dataclasses.replace(fields, status_source=source)
        case "hangul" if fields.hangul is not None:
            return dataclasses.replace(fields, hangul_source=source)
        case "actor" if fields.actor is not None:
            return dataclasses.replace(fields, actor_source=source)
        case "fate_s1" if 1 <= line <= len(fields.fate_s1):
            return dataclasses.replace(fields, fate_s1=_set(fields.fate_s1, line, source, spoiler))
        case "season2" if 1 <= line <= len(fields.season2):
            return dataclasses.replace(fields, season2=_set(fields.season2, line, source, spoiler))
        case _ if part in PARTS:
            raise BadInput("admin_character.no_line", line=line)
    raise BadInput("errors.bad_choice", value=safe(part, 40), choices=", ".join(PARTS))


def _set(
    statements: tuple[Statement, ...], line: int, source: SourceRef, spoiler: Spoiler | None
) -> tuple[Statement, ...]:
    old = statements[line - 1]
    new = dataclasses.replace(old, source=source, spoiler=spoiler or old.spoiler)
    return (*statements[: line - 1], new, *statements[line:])


Input = discord.ui.TextInput["CharacterModal"]
Submit = Callable[[discord.Interaction[HalfbieBot], dict[str, str | None]], Awaitable[None]]


class CharacterModal(discord.ui.Modal):
    """The long texts of a card, prefilled with the current values."""

    def __init__(self, title: str, current: CharacterFields | None, on_submit: Submit, t: Texts) -> None:
        super().__init__(title=clip(title, MODAL_TITLE), timeout=900)
        self._on_submit = on_submit
        self.t = t

        def field(label: str, value: str | None, *, long: bool = True, required: bool = False) -> Input:
            return discord.ui.TextInput(
                label=clip(t(label), TEXT_INPUT_LABEL),
                style=discord.TextStyle.paragraph if long else discord.TextStyle.short,
                max_length=TEXT_MAX if long else NAME_MAX,
                required=required,
                default=(value or "")[: TEXT_MAX if long else NAME_MAX] if current else None,
            )

        self.name_input = field(
            "admin_character.name", current.name if current else None, long=False, required=True
        )
        self.role = field("admin_character.role", current.role.text if current else None, required=True)
        self.fate = field("admin_character.fate", texts_of(current.fate_s1) if current else None)
        self.season2 = field("admin_character.season2", texts_of(current.season2) if current else None)
        self.notes = field("admin_character.notes", current.notes if current else None)
        for item in (self.name_input, self.role, self.fate, self.season2, self.notes):
            self.add_item(item)

    async def on_submit(self, interaction: discord.Interaction[HalfbieBot]) -> None:  # type: ignore[override]
        await require_admin(interaction)  # permissions may have changed while the modal was open
        values = {
            "name": checked(self.name_input.value, "fields.name", NAME_MAX),
            "role": checked(self.role.value, "fields.role", TEXT_MAX),
            "fate_s1": checked(self.fate.value, "fields.fate", TEXT_MAX),
            "season2": checked(self.season2.value, "fields.season2", TEXT_MAX),
            "notes": checked(self.notes.value, "fields.notes", TEXT_MAX),
        }
        if not values["name"]:
            raise BadInput("admin_character.empty_name")
        await self._on_submit(interaction, values)

    async def on_error(self, interaction: discord.Interaction, error: Exception, /) -> None:  # type: ignore[override]
        await answer_error(interaction, error)


class CharacterAdmin(AdminChecked):
    def __init__(self, bot: HalfbieBot) -> None:
        super().__init__(name="character", description="Character cards")
        self.bot = bot

    async def _get(self, guild_id: int, typed: str) -> Character:
        """The character an admin means: the key autocomplete sends, or any name
        ``/character`` understands (Hangul, an actor's, a typo); an ambiguous name answers
        with the candidates and changes nothing."""
        await self.bot.seeder.ensure(guild_id)
        character = await self.bot.store.characters.get(guild_id, typed)
        if character is not None:
            return character
        characters = await self.bot.store.characters.list(guild_id)
        found, candidates = self.bot.indexes.of(characters).resolve(typed)
        if found is not None:
            return found
        if candidates:
            names = ", ".join(f"**{safe(c.fields.name, 60)}**" for c in candidates)
            raise NotFound("admin_character.ambiguous", typed=safe(typed, 100), names=names)
        raise NotFound("admin_character.unknown", key=safe(typed, 100))

    async def _show(
        self, interaction: discord.Interaction[HalfbieBot], key: str, character: Character
    ) -> None:
        """Confirm a change with the card as members see it: spoilers behind tags as the
        server hides them (also where it leaves them out: the admin must see what they typed)."""
        guild_id = guild_id_of(interaction)
        mode = (await self.bot.store.settings.get(guild_id)).spoiler_mode
        t = await self.bot.texts(interaction)
        embed = card(character, SpoilerMode.HIDDEN if mode is SpoilerMode.OMITTED else mode, t, admin=True)
        await interaction.response.send_message(t(key), embed=embed, ephemeral=True)

    @app_commands.command(name="add", description="Add a character (long texts in a form)")
    @app_commands.describe(
        source="Where this comes from",
        certainty="How sure the source is",
        status="Status now",
        actor="The actor",
        hangul="Name in Hangul",
        source_url="Link to the source",
        spoiler="Spoiler level of the Season 1/2 lines",
    )
    @app_commands.choices(status=STATUS_CHOICES)
    @app_commands.autocomplete(certainty=CERTAINTY_OFFER, spoiler=SPOILER_OFFER)
    async def add(
        self,
        interaction: discord.Interaction[HalfbieBot],
        source: str,
        certainty: str = Certainty.REPORTED.value,
        status: str = Status.UNKNOWN.value,
        actor: str | None = None,
        hangul: str | None = None,
        source_url: str | None = None,
        spoiler: str = Spoiler.FINALE.value,
    ) -> None:
        guild_id = guild_id_of(interaction)
        t = await self.bot.texts(interaction)
        source_ref = source_of(source, certainty, source_url, t)
        level = spoiler_of(spoiler, t)
        new_status = status_of(status, t)
        actor_text = optional(actor, None, "fields.actor")
        hangul_text = optional(hangul, None, "fields.hangul")

        async def create(
            modal_interaction: discord.Interaction[HalfbieBot], values: dict[str, str | None]
        ) -> None:
            name = values["name"] or ""
            taken = {
                normalize(n) for c in await self.bot.store.characters.list(guild_id) for n in c.search_names
            }
            if normalize(name) in taken:
                raise BadInput("admin_character.name_taken", name=safe(name, 100))
            key = slug(name) or f"character-{modal_interaction.id}"
            fields = CharacterFields(
                key=key,
                name=name,
                role=Statement(values["role"] or "", source_ref),
                status=new_status,
                status_source=source_ref,
                hangul=hangul_text,
                hangul_source=source_ref if hangul_text else None,
                actor=actor_text,
                actor_source=source_ref if actor_text else None,
                fate_s1=restate(values["fate_s1"], (), source_ref, level, source_ref),
                season2=restate(values["season2"], (), source_ref, level, source_ref),
                notes=values["notes"],
            )
            await self.bot.seeder.ensure(guild_id)
            character = await self.bot.store.characters.add(guild_id, modal_interaction.user.id, fields)
            await self._show(modal_interaction, "admin_character.added", character)

        modal = CharacterModal(t("admin_character.modal_add"), None, create, t)
        await interaction.response.send_modal(modal)

    @app_commands.command(name="edit", description="Edit a character (long texts in a form)")
    @app_commands.describe(
        character="The character",
        actor="The actor (- clears)",
        hangul="Name in Hangul (- clears)",
        source="Source of new or changed lines",
        certainty="How sure that source is",
        source_url="Link to that source",
        korean="Edit the Korean texts instead",
    )
    @app_commands.autocomplete(certainty=CERTAINTY_OFFER)
    async def edit(
        self,
        interaction: discord.Interaction[HalfbieBot],
        character: str,
        actor: str | None = None,
        hangul: str | None = None,
        source: str | None = None,
        certainty: str | None = None,
        source_url: str | None = None,
        korean: bool = False,
    ) -> None:
        guild_id = guild_id_of(interaction)
        t = await self.bot.texts(interaction)
        current = (await self._get(guild_id, character)).fields
        if korean:
            await self._edit_korean(interaction, current, t)
            return
        given: SourceRef | None = None
        if source is not None or certainty is not None or source_url is not None:
            base = current.role.source
            given = source_of(source or base.name, certainty or base.certainty, source_url, t)
        actor_text = optional(actor, current.actor, "fields.actor")
        hangul_text = optional(hangul, current.hangul, "fields.hangul")

        def named(text: str | None, old: str | None, old_source: SourceRef | None) -> SourceRef | None:
            if text is None:
                return None
            return old_source if text == old and old_source else (given or current.role.source)

        async def save(
            modal_interaction: discord.Interaction[HalfbieBot], values: dict[str, str | None]
        ) -> None:
            role_text = values["role"] or ""
            role = current.role
            if role_text != role.text:  # the role line stays spoiler-free whatever is given
                role = Statement(role_text, given or role.source)
            fields = dataclasses.replace(
                current,
                name=values["name"] or current.name,
                role=role,
                fate_s1=restate(values["fate_s1"], current.fate_s1, given, None, role.source),
                season2=restate(values["season2"], current.season2, given, None, role.source),
                notes=values["notes"],
                actor=actor_text,
                actor_source=named(actor_text, current.actor, current.actor_source),
                hangul=hangul_text,
                hangul_source=named(hangul_text, current.hangul, current.hangul_source),
            )
            updated = await self.bot.store.characters.update(guild_id, modal_interaction.user.id, fields)
            await self._show(modal_interaction, "admin_character.updated", updated)

        modal = CharacterModal(t("admin_character.modal_edit"), current, save, t)
        await interaction.response.send_modal(modal)

    async def _edit_korean(
        self, interaction: discord.Interaction[HalfbieBot], current: CharacterFields, t: Texts
    ) -> None:
        """The Korean twin of each statement of a card, in a form of its own: a line per
        line of the English, in the same order (an empty field clears them)."""
        guild_id = guild_id_of(interaction)
        fields = [
            Field("role", t("admin_character.role_ko"), current.role.ko, TEXT_MAX),
            Field("fate_s1", t("admin_character.fate_ko"), korean_lines(current.fate_s1), TEXT_MAX),
            Field("season2", t("admin_character.season2_ko"), korean_lines(current.season2), TEXT_MAX),
        ]

        async def save(
            modal_interaction: discord.Interaction[HalfbieBot], values: dict[str, str | None]
        ) -> None:
            await require_admin(modal_interaction)  # permissions may have changed meanwhile
            updated = dataclasses.replace(
                current,
                role=dataclasses.replace(current.role, ko=checked(values["role"], "fields.role", TEXT_MAX)),
                fate_s1=with_korean(current.fate_s1, values["fate_s1"], "fate_s1"),
                season2=with_korean(current.season2, values["season2"], "season2"),
            )
            saved = await self.bot.store.characters.update(guild_id, modal_interaction.user.id, updated)
            await self._show(modal_interaction, "admin_character.updated", saved)

        await interaction.response.send_modal(TextsForm(t("admin_character.form_korean_title"), fields, save))

    @app_commands.command(name="fact", description="Source and spoiler level of one line")
    @app_commands.describe(
        character="The character",
        part="Which part",
        line="Which line (1 = first)",
        source="Where it comes from",
        certainty="How sure the source is",
        source_url="Link to the source",
        spoiler="Spoiler level",
    )
    @app_commands.choices(part=PART_CHOICES)
    @app_commands.autocomplete(certainty=CERTAINTY_OFFER, spoiler=SPOILER_OFFER)
    async def fact(
        self,
        interaction: discord.Interaction[HalfbieBot],
        character: str,
        part: str,
        source: str,
        certainty: str,
        line: app_commands.Range[int, 1, 50] = 1,
        source_url: str | None = None,
        spoiler: str | None = None,
    ) -> None:
        guild_id = guild_id_of(interaction)
        t = await self.bot.texts(interaction)
        current = (await self._get(guild_id, character)).fields
        fields = with_fact(
            current, part, line, source_of(source, certainty, source_url, t), spoiler_of(spoiler, t)
        )
        updated = await self.bot.store.characters.update(guild_id, interaction.user.id, fields)
        await self._show(interaction, "admin_character.updated", updated)

    @app_commands.command(name="status", description="Change a character's status, with its source")
    @app_commands.describe(
        character="The character",
        status="New status",
        source="Where this comes from",
        certainty="How sure the source is",
        source_url="Link to the source",
    )
    @app_commands.choices(status=STATUS_CHOICES)
    @app_commands.autocomplete(certainty=CERTAINTY_OFFER)
    async def status(
        self,
        interaction: discord.Interaction[HalfbieBot],
        character: str,
        status: str,
        source: str,
        certainty: str = Certainty.REPORTED.value,
        source_url: str | None = None,
    ) -> None:
        guild_id = guild_id_of(interaction)
        t = await self.bot.texts(interaction)
        new_status, source_ref = status_of(status, t), source_of(source, certainty, source_url, t)
        key = (await self._get(guild_id, character)).fields.key
        updated = await self.bot.store.characters.set_status(
            guild_id, interaction.user.id, key, new_status, source_ref
        )
        await self._show(interaction, "admin_character.updated", updated)

    @app_commands.command(name="remove", description="Remove a character (it can be restored)")
    @app_commands.describe(character="The character")
    async def remove(self, interaction: discord.Interaction[HalfbieBot], character: str) -> None:
        guild_id = guild_id_of(interaction)
        found = await self._get(guild_id, character)
        await self.bot.store.characters.remove(guild_id, interaction.user.id, found.fields.key)
        t = await self.bot.texts(interaction)
        message = t("admin_character.removed", name=safe(found.fields.name, NAME_MAX))
        await interaction.response.send_message(message, ephemeral=True)

    @app_commands.command(name="restore", description="Bring back a removed character")
    @app_commands.describe(character="The removed character")
    async def restore(self, interaction: discord.Interaction[HalfbieBot], character: str) -> None:
        guild_id = guild_id_of(interaction)
        found = await self.bot.store.characters.get(guild_id, character, include_removed=True)
        if found is None:  # a name typed instead of picked: the removed ones it could mean
            removed = await self.bot.store.characters.list_removed(guild_id)
            found, _ = self.bot.indexes.of(removed).resolve(character)
        if found is None or found.removed_at is None:
            raise NotFound("admin_character.no_removed", key=safe(character, 100))
        key = found.fields.key
        restored = await self.bot.store.characters.restore(guild_id, interaction.user.id, key)
        await self._show(interaction, "admin_character.restored", restored)

    @edit.autocomplete("character")
    @fact.autocomplete("character")
    @status.autocomplete("character")
    @remove.autocomplete("character")
    async def character_autocomplete(
        self, interaction: discord.Interaction[HalfbieBot], current: str
    ) -> list[app_commands.Choice[str]]:
        if interaction.guild_id is None:
            return []
        characters = await self.bot.store.characters.list(interaction.guild_id)
        t = await self.bot.texts(interaction)
        return [choice(c, t) for c in self.bot.indexes.of(characters).search(current, limit=25)]

    @restore.autocomplete("character")
    async def removed_autocomplete(
        self, interaction: discord.Interaction[HalfbieBot], current: str
    ) -> list[app_commands.Choice[str]]:
        if interaction.guild_id is None:
            return []
        removed = await self.bot.store.characters.list_removed(interaction.guild_id)
        t = await self.bot.texts(interaction)
        return [choice(c, t) for c in self.bot.indexes.of(removed).search(current, limit=25)]
