"""Character cards, list lines and autocomplete choices: within limits whatever admins typed."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands

from bot.models import Certainty, SourceRef, SpoilerMode, Status
from bot.render.text import clip, safe

if TYPE_CHECKING:
    from bot.models import Character

STATUS_LOOK: dict[Status, tuple[str, str, discord.Colour]] = {
    Status.ALIVE: ("🟢", "Alive", discord.Colour.green()),
    Status.ZOMBIE: ("🧟", "Zombie", discord.Colour.dark_red()),
    Status.HALFBIE: ("🌗", "Halfbie", discord.Colour.purple()),
    Status.IMMUNE: ("🛡️", "Immune", discord.Colour.blue()),
    Status.PRESUMED_DEAD: ("🕯️", "Presumed dead", discord.Colour.dark_grey()),
    Status.UNKNOWN: ("❔", "Unknown", discord.Colour.light_grey()),
}
# A status that reveals a turn or a death is itself a spoiler.
SPOILER_STATUSES = frozenset({Status.ZOMBIE, Status.HALFBIE, Status.IMMUNE, Status.PRESUMED_DEAD})
HIDDEN_COLOUR = discord.Colour.dark_theme()

CERTAINTY_LABEL = {
    Certainty.OFFICIAL: "official",
    Certainty.REPORTED: "reported",
    Certainty.SPECULATION: "speculation",
    Certainty.FAN_THEORY: "fan theory",
}

TEXT = {
    "actor": "Actor",
    "actor.unknown": "Not named in the source",
    "status": "Status",
    "status.hidden": "Hidden (spoiler)",
    "fate": "Season 1 fate",
    "season2": "Season 2",
    "season2.unknown": "The source says nothing about Season 2.",
    "note": "Note",
    "source": "Source: {name} · {certainty}",
    "omitted": "Left out (this server hides spoilers)",
}

# Budgets that keep a card under 6,000 characters in all, each part under its own limit.
TITLE_MAX, ROLE_MAX, SHORT_FIELD_MAX, LONG_FIELD_MAX, NOTE_MAX, FOOTER_MAX = (
    256,
    1000,
    256,
    1024,
    512,
    400,
)


def source_text(source: SourceRef) -> str:
    return TEXT["source"].format(name=source.name, certainty=CERTAINTY_LABEL[source.certainty])


def spoiler(text: str, limit: int) -> str:
    """Spoiler-tag text already made safe (escaped ``|`` cannot close the tag early)."""
    return "||" + safe(text, limit - 4) + "||"


def status_text(character: Character, mode: SpoilerMode) -> str:
    symbol, label, _ = STATUS_LOOK[character.fields.status]
    shown = f"{symbol} {label}"
    if character.fields.status in SPOILER_STATUSES:
        if mode is SpoilerMode.OMITTED:
            return TEXT["status.hidden"]
        if mode is SpoilerMode.HIDDEN:
            return f"||{shown}||"
    return shown


def colour(character: Character, mode: SpoilerMode) -> discord.Colour:
    if character.fields.status in SPOILER_STATUSES and mode is not SpoilerMode.SHOWN:
        return HIDDEN_COLOUR  # the colour would give the spoiler away
    return STATUS_LOOK[character.fields.status][2]


def card(character: Character, mode: SpoilerMode) -> discord.Embed:
    f = character.fields
    title = (
        safe(f.name, TITLE_MAX)
        if not f.hangul
        else clip(f"{safe(f.name, 200)} ({safe(f.hangul, 50)})", TITLE_MAX)
    )
    embed = discord.Embed(
        title=title, description=safe(f.role, ROLE_MAX), colour=colour(character, mode)
    )
    embed.add_field(
        name=TEXT["actor"],
        value=safe(f.actor, SHORT_FIELD_MAX) if f.actor else TEXT["actor.unknown"],
    )
    status_source = f"*{safe(source_text(f.status_source), 300)}*"
    embed.add_field(name=TEXT["status"], value=f"{status_text(character, mode)}\n{status_source}")
    if f.fate_s1:
        if mode is SpoilerMode.OMITTED:
            fate = TEXT["omitted"]
        elif mode is SpoilerMode.HIDDEN:
            fate = spoiler(f.fate_s1, LONG_FIELD_MAX)
        else:
            fate = safe(f.fate_s1, LONG_FIELD_MAX)
        embed.add_field(name=TEXT["fate"], value=fate, inline=False)
    embed.add_field(
        name=TEXT["season2"],
        value=safe(f.season2, LONG_FIELD_MAX) if f.season2 else TEXT["season2.unknown"],
        inline=False,
    )
    if f.notes:
        embed.add_field(name=TEXT["note"], value=safe(f.notes, NOTE_MAX), inline=False)
    embed.set_footer(text=clip(source_text(f.source), FOOTER_MAX))
    return embed


def list_line(character: Character, mode: SpoilerMode) -> str:
    f = character.fields
    actor = f" · {safe(f.actor, 40)}" if f.actor else ""
    # Each part has its own budget, so the line is never cut inside a spoiler tag.
    return f"**{safe(f.name, 80)}**{actor} · {status_text(character, mode)}"


def choice(character: Character) -> app_commands.Choice[str]:
    f = character.fields
    name = f.name if not f.actor else f"{f.name} ({f.actor})"
    return app_commands.Choice(name=clip(name.strip() or f.key, 100), value=f.key[:100])
