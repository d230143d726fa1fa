"""Fixed lists an option offers while the admin types (certainty, spoiler level), and
reading what was typed back as the enum.

They are offered by autocomplete rather than as Discord choices: a choice's name and
value count against the 4,000 characters the one ``/admin`` command may hold in all, an
autocomplete does not, and it speaks the member's language.  What an admin types
without picking is taken too: the value, or its name in either language.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any, TypeVar

import discord
from discord import app_commands

from bot.errors import BadInput, Terms
from bot.i18n import LANGUAGES
from bot.render.text import safe

if TYPE_CHECKING:
    from bot.client import HalfbieBot
    from bot.i18n import Catalog

E = TypeVar("E", bound=enum.StrEnum)
Complete = Callable[[discord.Interaction[Any], str], Coroutine[Any, Any, list[app_commands.Choice[str]]]]


def parse(kind: type[E], typed: str, catalog: Catalog, key: str) -> E:
    """The member of ``kind`` an option names: its value, or its name (the catalog's
    ``key.format(value)``) in any language, case and spaces aside; a clear refusal otherwise."""
    folded = " ".join(typed.split()).casefold()
    for member in kind:
        names = {member.value, *(catalog.text(lang, key.format(member.value)) for lang in LANGUAGES)}
        if folded in {name.casefold() for name in names}:
            return member
    choices = Terms(key.format(m.value) for m in kind)  # named in the member's language
    raise BadInput("errors.bad_choice", value=f"“{safe(typed, 40)}”", choices=choices)


def offer(kind: type[enum.StrEnum], key: str) -> Complete:
    """An autocomplete offering ``kind``'s members by their names in the member's language."""

    async def complete(interaction: discord.Interaction[Any], current: str) -> list[app_commands.Choice[str]]:
        bot: HalfbieBot = interaction.client
        t = await bot.texts(interaction)
        typed = current.casefold().strip()
        named = [(t(key.format(m.value)), m.value) for m in kind]
        return [
            app_commands.Choice(name=name, value=value)
            for name, value in named
            if typed in name.casefold() or typed in value
        ]

    return complete
