"""Text that goes to Discord: cut to a limit, made safe to show."""

from __future__ import annotations

import re

import discord

ELLIPSIS = "…"
BLANK = "—"  # shown for text that is empty or only spaces (Discord refuses blank fields)
# Anything that could become a mention: @everyone, @here, <@id>, <@!id>, <@&id> (any length of id).
_MENTION = re.compile(r"@(?=everyone|here|[!&]?\d)")


def clip(text: str, limit: int) -> str:
    """Cut ``text`` to at most ``limit`` characters, ending with an ellipsis when cut."""
    if len(text) <= limit:
        return text
    return text[: max(limit - 1, 0)].rstrip() + ELLIPSIS if limit > 0 else ""


def safe(text: str, limit: int) -> str:
    """Typed text shown as typed: markdown and mentions neutralised, then cut to ``limit``.

    Never blank, so it can always fill an embed field.
    """
    escaped = _MENTION.sub("@\u200b", discord.utils.escape_markdown(text))
    if not escaped.strip():
        return BLANK
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


def points_text(points: float) -> str:
    """Prediction points as people write them: 4 → "4", 1.3333 → "1.33"."""
    return f"{points:.2f}".rstrip("0").rstrip(".")
