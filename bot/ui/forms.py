"""One form (a modal) of a few texts, prefilled, its errors answered like every other.

A feature describes its fields and gets back what was typed, stripped (None for a field
left empty); checking it is the feature's.  Discord allows five fields a form.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

import discord

from bot.errors import answer_error
from bot.limits import MODAL_TITLE, TEXT_INPUT_LABEL, TEXT_INPUT_VALUE

Submitted = Callable[[discord.Interaction[Any], dict[str, str | None]], Awaitable[None]]
FORM_TIMEOUT = 15 * 60


@dataclass(frozen=True, slots=True)
class Field:
    key: str  # the name its value has in what the form gives back
    label: str
    default: str | None = None
    max_length: int = TEXT_INPUT_VALUE
    long: bool = True
    required: bool = False


class TextsForm(discord.ui.Modal):
    def __init__(self, title: str, fields: Sequence[Field], on_submit: Submitted) -> None:
        super().__init__(title=title[:MODAL_TITLE], timeout=FORM_TIMEOUT)
        self._done = on_submit
        self._inputs: dict[str, discord.ui.TextInput[TextsForm]] = {}
        for field in fields[:5]:
            item: discord.ui.TextInput[TextsForm] = discord.ui.TextInput(
                label=field.label[:TEXT_INPUT_LABEL],
                style=discord.TextStyle.paragraph if field.long else discord.TextStyle.short,
                max_length=field.max_length,
                required=field.required,
                default=(field.default or "")[: field.max_length] or None,
            )
            self._inputs[field.key] = item
            self.add_item(item)

    async def on_submit(self, interaction: discord.Interaction[Any]) -> None:
        values = {key: item.value.strip() or None for key, item in self._inputs.items()}
        await self._done(interaction, values)

    # discord.py's stubs give Modal.on_error the View signature (with an item); Modal's has none.
    async def on_error(self, interaction: discord.Interaction, error: Exception, /) -> None:  # type: ignore[override]
        await answer_error(interaction, error)
