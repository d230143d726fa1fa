"""Paged lists: embeds within Discord's limits, buttons only the asker can use."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence

import discord

from bot.i18n import Catalog, Texts
from bot.render.text import clip
from bot.ui.base import OwnedView

DESCRIPTION_BUDGET = 3800  # under 4,096, leaving room in the 6,000 total for title and footer
FOOTER_MAX = 200


def line_pages(
    title: str,
    lines: Sequence[str],
    t: Texts | None = None,
    *,
    per_page: int = 15,
    colour: discord.Colour | None = None,
    empty: str | None = None,
    footer: str | None = None,
) -> list[discord.Embed]:
    """Split lines into embeds: at most ``per_page`` lines and never over the limits."""
    t = t or Texts(Catalog.load(), "en")
    chunks: list[list[str]] = []
    current: list[str] = []
    size = 0
    for raw in lines:
        line = clip(raw, 1000)  # one line can never take a whole page
        if current and (len(current) >= per_page or size + len(line) + 1 > DESCRIPTION_BUDGET):
            chunks.append(current)
            current, size = [], 0
        current.append(line)
        size += len(line) + 1
    if current:
        chunks.append(current)
    title = clip(title, 200)
    if not chunks:
        return [discord.Embed(title=title, description=empty or t("pages.empty"), colour=colour)]
    pages = []
    for number, chunk in enumerate(chunks, start=1):
        embed = discord.Embed(title=title, description="\n".join(chunk), colour=colour)
        page_text = t("pages.page", number=number, total=len(chunks))
        embed.set_footer(text=clip(f"{footer} · {page_text}" if footer else page_text, FOOTER_MAX))
        pages.append(embed)
    return pages


PageSource = Callable[[int], Awaitable[discord.Embed]]


class Paginator(OwnedView):
    """Previous / next over pages: pre-rendered embeds, or a source read one page at a time."""

    def __init__(
        self,
        owner_id: int,
        pages: Sequence[discord.Embed] = (),
        *,
        source: PageSource | None = None,
        count: int | None = None,
        timeout: float = 600,
    ) -> None:
        super().__init__(owner_id, timeout=timeout)
        self.pages = list(pages)
        self.source = source
        self.count = max(count if count is not None else len(self.pages), 1)
        self.index = 0
        self._sync_buttons()

    async def _page(self, index: int) -> discord.Embed:
        if self.source is not None:
            return await self.source(index)
        return self.pages[index]

    def _sync_buttons(self) -> None:
        self.previous.disabled = self.index == 0
        self.next.disabled = self.index >= self.count - 1
        self.position.label = f"{self.index + 1}/{self.count}"

    async def send(self, interaction: discord.Interaction, *, ephemeral: bool = False) -> None:
        first = await self._page(0)
        if self.count == 1:  # nothing to turn: no buttons
            await interaction.response.send_message(embed=first, ephemeral=ephemeral)
            self.stop()
            return
        await interaction.response.send_message(embed=first, view=self, ephemeral=ephemeral)
        self.message = await interaction.original_response()

    async def _show(self, interaction: discord.Interaction) -> None:
        self._sync_buttons()
        await interaction.response.edit_message(embed=await self._page(self.index), view=self)

    @discord.ui.button(label="◀", style=discord.ButtonStyle.secondary)
    async def previous(self, interaction: discord.Interaction, button: discord.ui.Button[Paginator]) -> None:
        self.index = max(self.index - 1, 0)
        await self._show(interaction)

    @discord.ui.button(label="1/1", style=discord.ButtonStyle.secondary, disabled=True)
    async def position(self, interaction: discord.Interaction, button: discord.ui.Button[Paginator]) -> None:
        await interaction.response.defer()  # a label, not a control

    @discord.ui.button(label="▶", style=discord.ButtonStyle.secondary)
    async def next(self, interaction: discord.Interaction, button: discord.ui.Button[Paginator]) -> None:
        self.index = min(self.index + 1, self.count - 1)
        await self._show(interaction)
