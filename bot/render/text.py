"""Text that goes to Discord: cut to a limit, made safe to show."""

from __future__ import annotations

import math

import discord

ELLIPSIS = "…"


def clip(text: str, limit: int) -> str:
    """Cut ``text`` to at most ``limit`` characters, ending with an ellipsis when cut."""
    if len(text) <= limit:
        return text
    return text[: max(limit - 1, 0)].rstrip() + ELLIPSIS if limit > 0 else ""


def safe(text: str, limit: int) -> str:
    """Typed text shown as typed: markdown and mentions neutralised, then cut to ``limit``."""
    escaped = discord.utils.escape_mentions(discord.utils.escape_markdown(text))
    return clip(escaped, limit)


def duration(seconds: float) -> str:
    """A short human duration: '3 d 4 h', '5 min 2 s'."""
    seconds = int(seconds)
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days} d {hours} h"
    if hours:
        return f"{hours} h {minutes} min"
    if minutes:
        return f"{minutes} min {secs} s"
    return f"{secs} s"


def latency_ms(seconds: float) -> str:
    return "not measured yet" if not math.isfinite(seconds) else f"{seconds * 1000:.0f} ms"
