"""Attaches ``/admin config …`` and ``/admin audit`` to the bot's ``/admin`` group."""

from __future__ import annotations

from discord.ext import commands

from bot.client import HalfbieBot

from ._audit import build as build_audit
from ._config import ConfigAdmin


class ServerSettings(commands.Cog):
    def __init__(self, bot: HalfbieBot) -> None:
        self.bot = bot
        self.admin = (ConfigAdmin(bot), build_audit(bot))

    async def cog_load(self) -> None:
        self.bot.tree.attach(*self.admin)

    async def cog_unload(self) -> None:
        self.bot.tree.detach(*self.admin)
