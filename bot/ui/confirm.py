"""The one confirmation: a danger button and Cancel, for the member who asked only.

Nothing happens without a click; either click ends the view, so a second click on a
stale message does nothing.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import discord

from bot.ui.base import OwnedView

Clicked = Callable[[discord.Interaction[Any]], Awaitable[None]]


class Confirm(OwnedView):
    def __init__(
        self,
        owner_id: int,
        *,
        confirm: str,
        cancel: str,
        on_confirm: Clicked,
        on_cancel: Clicked,
        timeout: float = 300,
    ) -> None:
        super().__init__(owner_id, timeout=timeout)
        self._on_confirm = on_confirm
        self._on_cancel = on_cancel
        self.yes.label = confirm
        self.no.label = cancel

    @classmethod
    async def ask(
        cls,
        interaction: discord.Interaction[Any],
        content: str,
        *,
        confirm: str,
        cancel: str,
        cancelled: str,
        on_confirm: Clicked,
        embed: discord.Embed | None = None,
        expires: float = 300,
    ) -> Confirm:
        """Answer privately with ``content`` (and ``embed``) and the two buttons, live for
        ``expires`` seconds; Cancel says ``cancelled`` in place of the question and changes
        nothing."""

        async def on_cancel(click: discord.Interaction[Any]) -> None:
            await click.response.edit_message(content=cancelled, embed=None, view=None)

        view = cls(
            interaction.user.id,
            confirm=confirm,
            cancel=cancel,
            on_confirm=on_confirm,
            on_cancel=on_cancel,
            timeout=expires,
        )
        extra: dict[str, Any] = {} if embed is None else {"embed": embed}
        await interaction.response.send_message(content, view=view, ephemeral=True, **extra)
        view.message = await interaction.original_response()
        return view

    @discord.ui.button(style=discord.ButtonStyle.danger)
    async def yes(self, interaction: discord.Interaction, button: discord.ui.Button[Confirm]) -> None:
        self.stop()
        await self._on_confirm(interaction)

    @discord.ui.button(style=discord.ButtonStyle.secondary)
    async def no(self, interaction: discord.Interaction, button: discord.ui.Button[Confirm]) -> None:
        self.stop()
        await self._on_cancel(interaction)
