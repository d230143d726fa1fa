"""The server and the bot: ``/admin config …``, ``/admin audit``, ``/privacy``, ``/help``,
``/about``, and the daily purge of servers the bot left long ago."""

from __future__ import annotations

from bot.client import HalfbieBot

from ._about import About
from ._cog import ServerSettings
from ._housekeeping import Housekeeping
from ._privacy import Privacy


async def setup(bot: HalfbieBot) -> None:
    for cog in (ServerSettings(bot), Privacy(bot), About(bot), Housekeeping(bot)):
        await bot.add_cog(cog)
