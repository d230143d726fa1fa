"""The poll's buttons: DynamicItems, so they work on any poll message, after any restart."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import discord

from bot.client import HalfbieBot
from bot.render.theories import CUSTOM_ID_TEMPLATE, RETRACT, poll_buttons, retract_id, vote_id
from bot.ui.base import guarded

if TYPE_CHECKING:
    from bot.i18n import Texts
    from bot.models import Theory


class PollButton(discord.ui.DynamicItem[discord.ui.Button[discord.ui.View]], template=CUSTOM_ID_TEMPLATE):
    """``poll:<theory id>:<option>`` or ``poll:<theory id>:retract``.

    The custom id carries everything a vote needs, so no view is kept in memory and a
    poll posted months ago works as soon as the bot is up (registered in setup_hook).
    """

    def __init__(
        self,
        theory_id: int,
        option: int | None,
        *,
        label: str | None = None,
        style: discord.ButtonStyle = discord.ButtonStyle.primary,
        row: int | None = None,
    ) -> None:
        custom_id = retract_id(theory_id) if option is None else vote_id(theory_id, option)
        super().__init__(discord.ui.Button(label=label, style=style, custom_id=custom_id, row=row))
        self.theory_id = theory_id
        self.option = option

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction[Any],
        item: discord.ui.Item[Any],
        match: re.Match[str],
        /,
    ) -> PollButton:
        option = match["option"]
        label = item.label if isinstance(item, discord.ui.Button) else None
        return cls(int(match["theory"]), None if option == RETRACT else int(option), label=label)

    async def callback(self, interaction: discord.Interaction[HalfbieBot]) -> None:  # type: ignore[override]
        # discord.py only logs a DynamicItem's errors: guarded answers the member too.
        await guarded(interaction, self._vote(interaction))

    async def _vote(self, interaction: discord.Interaction[HalfbieBot]) -> None:
        from ._polls import service  # the service imports this module

        await service(interaction.client).vote(
            interaction, self.theory_id, self.option, clicked=self.item.label
        )


def poll_view(theory: Theory, t: Texts) -> discord.ui.View | None:
    """The poll's buttons (labelled in the server's language), or None once it is closed
    (the edit then removes them)."""
    specs = poll_buttons(theory, t)
    if not specs:
        return None
    view = discord.ui.View(timeout=None)
    for spec in specs:
        view.add_item(PollButton(theory.id, spec.option, label=spec.label, style=spec.style, row=spec.row))
    return view
