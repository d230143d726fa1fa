"""About the bot: /about."""

from __future__ import annotations

import discord
from discord import app_commands
from discord.ext import commands

from bot.client import HalfbieBot
from bot.render.text import clip, duration, latency_ms

TEXT = {
    "about.title": "Halfbie {version}",
    "about.description": (
        "A bot for *All of Us Are Dead* fan servers: character cards, the Season 2 release "
        "tracker, and fan-theory polls scored when the season airs."
    ),
    "about.uptime": "Uptime",
    "about.latency": "Gateway latency",
    "about.servers": "Servers",
    "about.canon": "Where the facts come from",
    "about.canon.value": (
        "{article} (dated {date}): every fact shows its source and how sure it is "
        "(official, reported, speculation, fan theory)."
    ),
}


class Meta(commands.Cog):
    def __init__(self, bot: HalfbieBot) -> None:
        self.bot = bot

    @app_commands.command(
        name="about", description="Version, uptime, latency, and where the facts come from"
    )
    async def about(self, interaction: discord.Interaction) -> None:
        bot = self.bot
        embed = discord.Embed(
            title=TEXT["about.title"].format(version=bot.version),
            description=TEXT["about.description"],
            colour=discord.Colour.dark_red(),
        )
        embed.add_field(name=TEXT["about.uptime"], value=duration(bot.uptime))
        embed.add_field(name=TEXT["about.latency"], value=latency_ms(bot.latency))
        embed.add_field(name=TEXT["about.servers"], value=str(len(bot.guilds)))
        canon = TEXT["about.canon.value"].format(
            article=bot.canon.article.name, date=bot.canon.article_date
        )
        embed.add_field(name=TEXT["about.canon"], value=clip(canon, 1024), inline=False)
        await interaction.response.send_message(embed=embed, ephemeral=True)


async def setup(bot: HalfbieBot) -> None:
    await bot.add_cog(Meta(bot))
