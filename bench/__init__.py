"""`make bench`: the bot against a bare discord.py bot, side by side, in one run."""
