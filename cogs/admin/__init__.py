"""``/admin``: one top-level group for server admins; each subgroup lives in its own module."""

from __future__ import annotations

from discord.ext import commands

from bot.checks import AdminGroup
from bot.client import HalfbieBot

from ._audit import build as build_audit
from ._characters import CharacterAdmin
from ._config import ConfigAdmin
from ._release import NewsAdmin, ReleaseAdmin
from ._theories import TheoryAdmin


class Admin(commands.Cog):
    def __init__(self, bot: HalfbieBot) -> None:
        self.bot = bot
        self.group = AdminGroup()
        self.group.add_command(build_audit(bot))
        for subgroup in (
            CharacterAdmin(bot),
            ConfigAdmin(bot),
            TheoryAdmin(bot),
            NewsAdmin(bot),
            ReleaseAdmin(bot),
        ):
            self.group.add_command(subgroup)

    async def cog_load(self) -> None:
        self.bot.tree.add_command(self.group)

    async def cog_unload(self) -> None:
        self.bot.tree.remove_command(self.group.name)


async def setup(bot: HalfbieBot) -> None:
    await bot.add_cog(Admin(bot))
