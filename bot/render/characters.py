"""Character cards, list lines and autocomplete choices: within limits whatever admins typed."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands

from bot.i18n import english
from bot.limits import EMBED_FIELD_VALUE, EMBED_TITLE
from bot.models import SourceRef, SpoilerMode, Status
from bot.render import facts
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
# A status that reveals a turn or a death is itself a spoiler.  In a zombie series who
# is alive is the spoiler too: every known status is one (CharacterFields.status_spoiler).
SPOILER_STATUSES = frozenset(set(Status) - {Status.UNKNOWN})
HIDDEN_COLOUR = discord.Colour.dark_theme()

# Slash command choices, in English; the Translator gives them their Korean names.
STATUS_CHOICES = [app_commands.Choice(name=english()(f"status.{s.value}"), value=s.value) for s in Status]
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


def status_text(character: Character, mode: SpoilerMode, t: Texts) -> str:
    """The status with its look, through the one spoiler rule (every known status is a
    spoiler in a zombie series); no certainty mark (lists), see :func:`card`."""
    status = character.fields.status
    shown_text = f"{STATUS_LOOK[status][0]} {status_label(status, t)}"
    if not facts.hides(character.fields.status_spoiler, mode):
        return shown_text
    if mode is SpoilerMode.OMITTED:
        return t("card.status_hidden")
    return f"||{shown_text}||"


def colour(character: Character, mode: SpoilerMode) -> discord.Colour:
    if facts.hides(character.fields.status_spoiler, mode):
        return HIDDEN_COLOUR  # the colour would give the spoiler away
    return STATUS_LOOK[character.fields.status][1]


def _named(text: str, source: SourceRef | None, limit: int) -> str:
    """A name given as a fact (the actor, the Hangul name), with its certainty mark."""
    tail = f" {facts.mark(source.certainty)}" if source else ""
    return safe(text, limit - len(tail)) + tail


def display_name(character: Character, t: Texts) -> str:
    """The name a reader knows first: the Hangul name for a Korean reader."""
    f = character.fields
    return f.hangul if t.language == "ko" and f.hangul else f.name


def actor_name(character: Character, t: Texts) -> str | None:
    """Who plays them, Hangul first for a Korean reader (윤찬영 (Yoon Chan-young))."""
    f = character.fields
    if f.actor is None:
        return None
    return f"{f.actor_ko} ({f.actor})" if t.language == "ko" and f.actor_ko else f.actor


def card(character: Character, mode: SpoilerMode, t: Texts, *, admin: bool = False) -> discord.Embed:
    """A character's card: each statement with its own certainty mark and through the one
    spoiler rule, the legend and the sources once in the footer.  ``admin`` adds the
    editors' notes, which are for the people who keep the card, not for fans."""
    f = character.fields
    title = safe(f.name, TITLE_MAX)
    if f.hangul and t.language == "ko":  # Hangul first, the romanisation after
        title = clip(f"{_named(f.hangul, f.hangul_source, 60)} ({safe(f.name, 200)})", TITLE_MAX)
    elif f.hangul:
        title = clip(f"{safe(f.name, 200)} ({_named(f.hangul, f.hangul_source, 60)})", TITLE_MAX)
    description = facts.line(f.role, mode, t, ROLE_MAX)
    embed = discord.Embed(title=title, description=description, colour=colour(character, mode))
    actor = actor_name(character, t)
    actor = _named(actor, f.actor_source, SHORT_FIELD_MAX) if actor else t("card.actor_unknown")
    embed.add_field(name=t("card.actor"), value=actor)
    status = f"{status_text(character, mode, t)} {facts.mark(f.status_source.certainty)}"
    embed.add_field(name=t("card.status"), value=status)
    if f.fate_s1:
        embed.add_field(
            name=t("card.fate"), value=facts.lines(f.fate_s1, mode, t, LONG_FIELD_MAX), inline=False
        )
    season2 = facts.lines(f.season2, mode, t, LONG_FIELD_MAX) if f.season2 else t("card.season2_unknown")
    embed.add_field(name=t("card.season2"), value=season2, inline=False)
    if admin and f.notes:
        embed.add_field(name=t("card.note"), value=safe(f.notes, NOTE_MAX), inline=False)
    refs = [s for s in (f.hangul_source, f.actor_source, f.status_source) if s is not None]
    refs += [statement.source for statement in f.statements]
    footer = f"{facts.legend((r.certainty for r in refs), t)}\n{facts.sources(refs, t)}"
    embed.set_footer(text=clip(footer, FOOTER_MAX))
    return embed


def list_line(character: Character, mode: SpoilerMode, t: Texts) -> str:
    actor = actor_name(character, t)
    shown = f" · {safe(actor, 60)}" if actor else ""
    # Each part has its own budget, so the line is never cut inside a spoiler tag.
    return f"**{safe(display_name(character, t), 80)}**{shown} · {status_text(character, mode, t)}"


def choice(character: Character, t: Texts) -> app_commands.Choice[str]:
    """An autocomplete choice in the member's language (이청산 (윤찬영) for a Korean)."""
    f = character.fields
    name, actor = display_name(character, t), (f.actor_ko if t.language == "ko" else None) or f.actor
    label = name if not actor else f"{name} ({actor})"
    return app_commands.Choice(name=clip(label.strip() or f.key, 100), value=f.key[:100])
