"""The Season 2 release tracker: /release, /timeline, /subscribe and the countdown reminders.

The admins' side (``/admin news``, ``/admin release``) lives in ``cogs/admin/_release.py``.
"""

from __future__ import annotations

from bot.client import HalfbieBot

from ._cog import Release


async def setup(bot: HalfbieBot) -> None:
    await bot.add_cog(Release(bot))
