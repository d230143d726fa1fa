"""Fan-theory polls: ``/theory …``, the poll buttons, closing and result cards (jobs of the
one scheduler), the tally refresher, and ``/admin theory close|resolve|delete``."""

from __future__ import annotations

from bot.client import HalfbieBot

from ._cog import TheoryPolls


async def setup(bot: HalfbieBot) -> None:
    await bot.add_cog(TheoryPolls(bot))
