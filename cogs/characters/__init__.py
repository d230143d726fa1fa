"""Character cards: ``/character``, ``/characters`` and ``/admin character …``."""

from __future__ import annotations

from bot.client import HalfbieBot

from ._cog import CharacterCards


async def setup(bot: HalfbieBot) -> None:
    await bot.add_cog(CharacterCards(bot))
