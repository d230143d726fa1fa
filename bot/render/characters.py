"""Character cards, list lines and autocomplete choices: within limits whatever admins typed."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands

from bot.i18n import english
from bot.limits import EMBED_FIELD_VALUE, EMBED_TITLE
from bot.models import Certainty, SourceRef, SpoilerMode, Status
from bot.render.text import clip, safe

if TYPE_CHECKING:
    from bot.i18n import Texts
    from bot.models import Character

STATUS_LOOK: dict[Status, tuple[str, discord.Colour]] = {
    Status.ALIVE: ("🟢", discord.Colour.green()),
    Status.ZOMBIE: ("🧟", discord.Colour.dark_red()),
    Status.HALFBIE: ("🌗", discord.Colour.purple()),
    Status.IMMUNE: ("🛡️", discord.Colour.blue()),
    Status.PRESUMED_DEAD: ("🕯️", discord.Colour.dark_grey()),
    Status.UNKNOWN: ("❔", discord.Colour.light_grey()),
}
# A status that reveals a turn or a death is itself a spoiler.
# In a zombie series who is alive is the spoiler too: every known status is one.
SPOILER_STATUSES = frozenset(set(Status) - {Status.UNKNOWN})
HIDDEN_COLOUR = discord.Colour.dark_theme()

# Slash command choices, in English; the Translator gives them their Korean names.
STATUS_CHOICES = [app_commands.Choice(name=english()(f"status.{s.value}"), value=s.value) for s in Status]
CERTAINTY_CHOICES = [
    app_commands.Choice(name=english()(f"certainty.{c.value}"), value=c.value) for c in Certainty
]

# Budgets that keep a card under 6,000 characters in all, each part under its own limit.
TITLE_MAX, ROLE_MAX, SHORT_FIELD_MAX, LONG_FIELD_MAX, NOTE_MAX, FOOTER_MAX = (
    EMBED_TITLE,
    1000,
    256,
    EMBED_FIELD_VALUE,
    512,
    400,
)


def status_label(status: Status, t: Texts) -> str:
    return t(f"status.{status.value}")


def source_text(source: SourceRef, t: Texts) -> str:
    return t("card.source", name=source.name, certainty=t(f"certainty.{source.certainty.value}"))


def spoiler(text: str, limit: int) -> str:
    """Spoiler-tag text already made safe (escaped ``|`` cannot close the tag early)."""
    return "||" + safe(text, limit - 4) + "||"


def spoiler_text(text: str, mode: SpoilerMode, t: Texts, limit: int) -> str:
    """The one rule for spoiler-level text: as it is where the server shows spoilers,
    behind a spoiler tag where it hides them, a short note where it leaves them out."""
    if mode is SpoilerMode.OMITTED:
        return t("card.omitted")
    if mode is SpoilerMode.HIDDEN:
        return spoiler(text, limit)
    return safe(text, limit)


def status_text(character: Character, mode: SpoilerMode, t: Texts) -> str:
    status = character.fields.status
    shown = f"{STATUS_LOOK[status][0]} {status_label(status, t)}"
    if status in SPOILER_STATUSES:
        if mode is SpoilerMode.OMITTED:
            return t("card.status_hidden")
        if mode is SpoilerMode.HIDDEN:
            return f"||{shown}||"
    return shown


def colour(character: Character, mode: SpoilerMode) -> discord.Colour:
    if character.fields.status in SPOILER_STATUSES and mode is not SpoilerMode.SHOWN:
        return HIDDEN_COLOUR  # the colour would give the spoiler away
    return STATUS_LOOK[character.fields.status][1]


def card(character: Character, mode: SpoilerMode, t: Texts, *, admin: bool = False) -> discord.Embed:
    """A character's card; ``admin`` adds the editors' notes (where a fact comes from
    outside the article), which are for the people who keep the card, not for fans."""
    f = character.fields
    title = safe(f.name, TITLE_MAX)
    if f.hangul:
        title = clip(f"{safe(f.name, 200)} ({safe(f.hangul, 50)})", TITLE_MAX)
    embed = discord.Embed(title=title, description=safe(f.role, ROLE_MAX), colour=colour(character, mode))
    embed.add_field(
        name=t("card.actor"), value=safe(f.actor, SHORT_FIELD_MAX) if f.actor else t("card.actor_unknown")
    )
    status = status_text(character, mode, t)
    if f.status_source != f.source:  # the card's own source is in its footer: said once
        status += f"\n*{safe(source_text(f.status_source, t), 300)}*"
    embed.add_field(name=t("card.status"), value=status)
    if f.fate_s1:
        embed.add_field(
            name=t("card.fate"), value=spoiler_text(f.fate_s1, mode, t, LONG_FIELD_MAX), inline=False
        )
    # What is said of Season 2 tells who is still around to return: a spoiler too.
    season2 = spoiler_text(f.season2, mode, t, LONG_FIELD_MAX) if f.season2 else t("card.season2_unknown")
    embed.add_field(name=t("card.season2"), value=season2, inline=False)
    if admin and f.notes:
        embed.add_field(name=t("card.note"), value=safe(f.notes, NOTE_MAX), inline=False)
    embed.set_footer(text=clip(source_text(f.source, t), FOOTER_MAX))
    return embed


def list_line(character: Character, mode: SpoilerMode, t: Texts) -> str:
    f = character.fields
    actor = f" · {safe(f.actor, 40)}" if f.actor else ""
    # Each part has its own budget, so the line is never cut inside a spoiler tag.
    return f"**{safe(f.name, 80)}**{actor} · {status_text(character, mode, t)}"


def choice(character: Character) -> app_commands.Choice[str]:
    f = character.fields
    name = f.name if not f.actor else f"{f.name} ({f.actor})"
    return app_commands.Choice(name=clip(name.strip() or f.key, 100), value=f.key[:100])
