"""Views and dynamic items whose errors reach the member like a command's do."""

from __future__ import annotations

import contextlib
from typing import Any

import discord

from bot.errors import answer_error, texts_for, turned_away
from bot.logs import bind


class View(discord.ui.View):
    """A view whose callback errors get the one polite answer (and a logged traceback)."""

    async def on_error(
        self, interaction: discord.Interaction, error: Exception, item: discord.ui.Item[Any], /
    ) -> None:
        await answer_error(interaction, error)


class OwnedView(View):
    """A view only the member who asked can use (paging buttons, confirmations)."""

    def __init__(self, owner_id: int, *, timeout: float | None = 600) -> None:
        super().__init__(timeout=timeout)
        self.owner_id = owner_id
        self.message: discord.InteractionMessage | discord.Message | None = None

    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        if interaction.user.id == self.owner_id:
            return True
        t = await texts_for(interaction)
        await interaction.response.send_message(t("errors.owner_only"), ephemeral=True)
        return False

    async def on_timeout(self) -> None:
        # Grey the buttons out so nobody clicks a dead view.
        for child in self.children:
            if isinstance(child, discord.ui.Button | discord.ui.Select):
                child.disabled = True
        if self.message is not None:
            # The message may be gone or the interaction token expired: nothing to grey out.
            with contextlib.suppress(discord.HTTPException):
                await self.message.edit(view=self)


async def guarded(interaction: discord.Interaction, handler: Any) -> None:
    """Run a dynamic item's handler; discord.py only logs their errors, we answer them."""
    bind(interaction)  # its log records name it
    if await turned_away(interaction):  # the bot is stopping
        handler.close()
        return
    try:
        await handler
    except Exception as error:
        await answer_error(interaction, error)
