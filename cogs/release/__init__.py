"""The Season 2 release tracker: ``/release``, ``/timeline``, ``/subscribe``, the countdown
reminders, and ``/admin news`` and ``/admin release``."""

from __future__ import annotations

from bot.client import HalfbieBot

from ._cog import ReleaseTracker


async def setup(bot: HalfbieBot) -> None:
    await bot.add_cog(ReleaseTracker(bot))
