"""The floor: a bare discord.py bot that only acknowledges interactions.

Same intents as Halfbie (guilds only), nothing else: no store, no cogs, no rendering.
Run by the benchmark as its own process against the offline Discord.
"""

from __future__ import annotations

import os

import discord


class Bare(discord.Client):
    async def on_interaction(self, interaction: discord.Interaction) -> None:
        if interaction.type is discord.InteractionType.autocomplete:
            await interaction.response.autocomplete([])
        else:
            await interaction.response.send_message("ok", ephemeral=True)


def main() -> None:
    client = Bare(intents=discord.Intents(guilds=True))
    client.run(os.environ["DISCORD_TOKEN"], log_handler=None)


if __name__ == "__main__":
    main()
