"""``/admin audit [what:]``: who changed what, when; newest first, a page at a time."""

from __future__ import annotations

from typing import Any

import discord
from discord import app_commands

from bot.checks import guild_id_of
from bot.client import HalfbieBot
from bot.render.settings import audit_line
from bot.ui.paginator import Paginator

PER_PAGE = 10
KINDS = ("character", "news", "release", "theory", "settings", "canon")
WHAT_CHOICES = [
    app_commands.Choice(name=name, value=kind)
    for kind, name in zip(
        KINDS, ("Characters", "News", "Release", "Theories", "Settings", "Seeding"), strict=True
    )
]


def build(bot: HalfbieBot) -> app_commands.Command[Any, ..., None]:
    """The command, added under /admin (whose check runs for it)."""

    @app_commands.command(name="audit", description="Who changed what, and when")
    @app_commands.describe(what="Only changes of this kind")
    @app_commands.choices(what=WHAT_CHOICES)
    async def audit(interaction: discord.Interaction[HalfbieBot], what: str | None = None) -> None:
        guild_id = guild_id_of(interaction)
        t = await bot.texts(interaction)
        prefix = f"{what}." if what in KINDS else None
        total = await bot.store.audit.count(guild_id, prefix)
        title = t("audit.title_filtered", what=t(f"audit.what_{what}")) if prefix else t("audit.title")
        pages = max((total + PER_PAGE - 1) // PER_PAGE, 1)

        async def page(index: int) -> discord.Embed:
            entries = await bot.store.audit.list(guild_id, prefix, limit=PER_PAGE, offset=index * PER_PAGE)
            names = {c.fields.key: c.fields.name for c in await bot.store.characters.list(guild_id)}
            lines = [audit_line(entry, t, names) for entry in entries]
            embed = discord.Embed(
                title=title,
                description="\n".join(lines) or t("audit.empty"),
                colour=discord.Colour.dark_grey(),
            )
            embed.set_footer(text=t("pages.page", number=index + 1, total=pages))
            return embed

        await Paginator(interaction.user.id, source=page, count=pages).send(interaction, ephemeral=True)

    return audit
