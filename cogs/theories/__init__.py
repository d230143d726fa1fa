"""Fan-theory polls: ``/theory …``, the poll buttons, the closing loop, the tally refresher.

The admin side (``/admin theory close|resolve|delete``) lives in ``cogs/admin``.
"""

from __future__ import annotations

from bot.client import HalfbieBot

from ._cog import Theories


async def setup(bot: HalfbieBot) -> None:
    await bot.add_cog(Theories(bot))
