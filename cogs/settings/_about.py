"""About the bot: ``/help`` (built from the command tree itself) and ``/about``."""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.checks import ADMIN_PERMISSIONS, require_admin, require_poll_creator
from bot.client import HalfbieBot
from bot.errors import Refused
from bot.i18n import Texts
from bot.limits import EMBED_FIELD_VALUE
from bot.render import facts
from bot.render.release import day_text
from bot.render.text import clip, duration

ADMIN = "admin"  # the section of every /admin command, last
LINE_MAX = 160
AnyCommand = app_commands.Command[Any, ..., Any]


def section_of(command: AnyCommand) -> str:
    """The feature a command belongs to: the package under ``cogs/`` that defines it (its
    catalog heading is ``help.<package>``), or the admin section for anything under /admin."""
    if (command.root_parent or command).name == ADMIN:
        return ADMIN
    module = command.callback.__module__.split(".")
    return module[1] if len(module) > 2 and module[0] == "cogs" else module[-1]


def leaves(
    command: AnyCommand | app_commands.Group,
) -> Iterator[AnyCommand]:
    if isinstance(command, app_commands.Group):
        for child in command.commands:
            yield from leaves(child)
    else:
        yield command


class About(commands.Cog):
    def __init__(self, bot: HalfbieBot) -> None:
        self.bot = bot

    async def _may_use(self, interaction: discord.Interaction[HalfbieBot], command: AnyCommand) -> bool:
        """Whether the member passes the command's in-bot permission check here."""
        root = command.root_parent or command
        permissions = root.default_permissions
        if permissions is None:
            return True
        try:
            if permissions == ADMIN_PERMISSIONS:
                await require_admin(interaction)
            else:
                await require_poll_creator(interaction)
        except Refused:
            return False
        return True

    def _name(self, command: AnyCommand, t: Texts) -> str:
        """A mention (Discord shows it in the member's language), or the name in theirs
        before the ids are known; in Korean, with the old name of a renamed command."""
        path = command.qualified_name
        names = self.bot.catalog.commands["names"] if t.language == "ko" else {}
        shown = self.bot.tree.mention(path) or f"`/{' '.join(names.get(w, w) for w in path.split())}`"
        formerly = self.bot.catalog.commands["formerly"] if t.language == "ko" else {}
        if not any(word in formerly for word in path.split()):
            return shown
        old = " ".join(formerly.get(w, names.get(w, w)) for w in path.split())
        return f"{shown} {t('help.formerly', name=old)}"

    def _description(self, command: AnyCommand, t: Texts) -> str:
        if t.language != "ko":
            return command.description
        return self.bot.catalog.commands["text"].get(command.description, command.description)

    @app_commands.command(name="help", description="What you can do here, and how prediction points work")
    async def help(self, interaction: discord.Interaction[HalfbieBot]) -> None:
        t = await self.bot.texts(interaction)
        sections: dict[str, list[str]] = {}
        for top in sorted(self.bot.tree.get_commands(), key=lambda c: c.name):
            if not isinstance(top, app_commands.Command | app_commands.Group):
                continue
            for command in leaves(top):
                if not await self._may_use(interaction, command):
                    continue
                line = f"{self._name(command, t)} {self._description(command, t)}"
                sections.setdefault(section_of(command), []).append(clip(line, LINE_MAX))
        embed = discord.Embed(title=t("help.title"), colour=discord.Colour.dark_red())
        for name in sorted(sections, key=lambda name: (name == ADMIN, name)):
            lines = sections[name]
            # A field holds 1,024 characters: a long section continues in another field.
            chunk: list[str] = []
            for line in lines:
                if sum(len(x) + 1 for x in chunk) + len(line) > 1000:
                    embed.add_field(name=t(f"help.{name}"), value="\n".join(chunk), inline=False)
                    chunk = []
                chunk.append(line)
            if chunk:
                embed.add_field(name=t(f"help.{name}"), value="\n".join(chunk), inline=False)
        embed.add_field(name=t("help.scoring"), value=t("help.scoring_text"), inline=False)
        await interaction.response.send_message(embed=embed, ephemeral=True)

    @app_commands.command(name="about", description="Version, uptime, latency, and where the facts come from")
    async def about(self, interaction: discord.Interaction) -> None:
        bot = self.bot
        t = await bot.texts(interaction)
        embed = discord.Embed(
            title=t("about.title", version=bot.version),
            description=t("about.description"),
            colour=discord.Colour.dark_red(),
        )
        latency = bot.latency
        embed.add_field(name=t("about.uptime"), value=duration(bot.uptime))
        embed.add_field(
            name=t("about.latency"),
            value=f"{latency * 1000:.0f} ms" if math.isfinite(latency) else t("about.latency_unknown"),
        )
        embed.add_field(name=t("about.servers"), value=str(len(bot.guilds)))
        article = facts.source_name(bot.canon.article, t)
        if bot.canon.premise:
            premise = facts.localized(bot.canon.premise, bot.canon.premise_ko or None, t)
            show = t("about.show_value", premise=premise, article=article)
            embed.add_field(name=t("about.show"), value=clip(show, EMBED_FIELD_VALUE), inline=False)
        canon = t("about.canon_value", article=article, date=day_text(bot.canon.article_date, t))
        embed.add_field(name=t("about.canon"), value=clip(canon, 1024), inline=False)
        await interaction.response.send_message(embed=embed, ephemeral=True)
