"""Halfbie: a Discord bot for fan servers of "All of Us Are Dead"."""

__version__ = "0.1.0"
