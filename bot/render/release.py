"""The Season 2 release card, news lines, announcements and countdown reminders.

Pure: rows in, embeds and strings out.  Every text an admin typed goes through
:func:`safe` with a budget, so a card stays within Discord's limits (a field 1,024, a
description 4,096, 6,000 in all) whatever was stored, and can never ping anyone.
Times are Discord timestamps (``<t:…:F>``, ``<t:…:R>``): every member sees their own
time zone and a live countdown.  Every word comes from the catalog in the language
``t`` is bound to (the member's for answers, the server's for channel posts).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import discord
from discord import app_commands

from bot.i18n import english
from bot.limits import EMBED_FIELD_VALUE
from bot.models import Certainty, ReminderKind, Stage
from bot.render.text import clip, safe

if TYPE_CHECKING:
    from bot.i18n import Texts
    from bot.models import LastChange, NewsItem, Release, Reminder

CERTAINTY_EMOJI: dict[Certainty, str] = {
    Certainty.OFFICIAL: "✅",
    Certainty.REPORTED: "📰",
    Certainty.SPECULATION: "🔮",
    Certainty.FAN_THEORY: "💭",
}

STAGE_LOOK: dict[Stage, tuple[str, discord.Colour]] = {
    Stage.RUMOURED: ("💬", discord.Colour.light_grey()),
    Stage.CONFIRMED: ("📣", discord.Colour.blue()),
    Stage.IN_PRODUCTION: ("🎬", discord.Colour.gold()),
    Stage.DATED: ("📅", discord.Colour.orange()),
    Stage.RELEASED: ("🧟", discord.Colour.dark_red()),
}

# Slash command choices, in English; the Translator gives them their Korean names.
STAGE_CHOICES = [
    app_commands.Choice(name=english()(f"release.stage_{stage.value}"), value=stage.value) for stage in Stage
]

# Budgets: each part under its own limit, the card under 6,000 characters in all.
HEADLINE_MAX = 200
SOURCE_MAX = 100
DETAILS_MAX = 1500
LINE_MAX = 330  # three lines fit a field of 1,024
TIMELINE_LINE_MAX = 650  # with its details (300), under the paginator's 1,000 a line
URL_MAX = 300
FIELD_MAX = EMBED_FIELD_VALUE
DESCRIPTION_MAX = 1500


def stage_name(stage: Stage, t: Texts) -> str:
    return t(f"release.stage_{stage.value}")


def stage_label(stage: Stage, t: Texts) -> str:
    return f"{STAGE_LOOK[stage][0]} {stage_name(stage, t)}"


def certainty_label(certainty: Certainty, t: Texts) -> str:
    return f"{CERTAINTY_EMOJI[certainty]} {t(f'certainty.{certainty.value}')}"


def timestamp(at: int, style: str) -> str:
    return f"<t:{int(at)}:{style}>"


def link(url: str | None) -> str | None:
    """A URL safe inside a markdown link, or None when it is not a plain http(s) address
    (or too long to show)."""
    if not url or any(c.isspace() for c in url):
        return None
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.netloc:
        return None
    escaped = url.replace("(", "%28").replace(")", "%29").replace("<", "%3C").replace(">", "%3E")
    return escaped if len(escaped) <= URL_MAX else None


def source_text(item: NewsItem, limit: int = SOURCE_MAX, *, linked: bool = True) -> str:
    """The source's name, linked when it has an address."""
    source = item.fields.source
    name = safe(source.name, limit).replace("[", "(").replace("]", ")")
    url = link(source.url) if linked else None
    return f"[{name}]({url})" if url else name


def news_date(item: NewsItem, t: Texts) -> str:
    f = item.fields
    return f.happened_on or t("release.reported_on", date=f.reported_on)


def news_line(item: NewsItem, t: Texts, *, headline_max: int = 160, limit: int = LINE_MAX) -> str:
    """``date · headline · certainty · source``: one line of the card or the timeline.

    The source's link is left out when it would not fit in ``limit`` (a cut link is broken).
    """
    f = item.fields
    certainty = certainty_label(f.source.certainty, t)
    start = f"**{news_date(item, t)}** · {safe(f.headline, headline_max)} · {certainty} · "
    line = start + source_text(item, 80)
    return line if len(line) <= limit else clip(start + source_text(item, 80, linked=False), limit)


def timeline_line(item: NewsItem, t: Texts) -> str:
    line = f"`#{item.id}` {news_line(item, t, headline_max=HEADLINE_MAX, limit=TIMELINE_LINE_MAX)}"
    if item.fields.details:
        line += "\n> " + safe(" ".join(item.fields.details.split()), 300)
    return line


def news_choice(item: NewsItem, t: Texts) -> app_commands.Choice[str]:
    """An autocomplete choice: ``#id · date · headline`` (raw text: choices never render)."""
    name = f"#{item.id} · {news_date(item, t)} · {' '.join(item.fields.headline.split())}"
    return app_commands.Choice(name=clip(name, 100), value=str(item.id))


def _when(at: int, style: str = "F") -> dict[str, str]:
    """The ``full`` and ``relative`` timestamps the catalog's texts take."""
    return {"full": timestamp(at, style), "relative": timestamp(at, "R")}


def release_card(
    release: Release,
    t: Texts,
    *,
    latest: Sequence[NewsItem],
    speculation: NewsItem | None,
    official: NewsItem | None,
    last: LastChange | None,
    article_date: str,
    now: int,
) -> discord.Embed:
    """The /release card: stage, official date or none (and the latest speculation as
    speculation), the latest three news items, and who last updated it when."""
    colour = STAGE_LOOK[release.stage][1]
    if release.premiere_at is not None:
        key = "release.premiere_future" if release.premiere_at > now else "release.premiere_past"
        description = t(key, **_when(release.premiere_at))
        description += f" · {certainty_label(Certainty.OFFICIAL, t)}"
    else:
        description = t("release.premiere_none")
        if speculation is not None:
            line = news_line(speculation, t, headline_max=300, limit=DESCRIPTION_MAX - 100)
            description += "\n" + t("release.speculation", line=line)
    embed = discord.Embed(title=t("release.card_title"), description=description, colour=colour)

    stage = f"**{stage_label(release.stage, t)}**"
    if official is not None:
        stage += "\n" + t(
            "release.official",
            date=news_date(official, t),
            headline=safe(official.fields.headline, HEADLINE_MAX),
            source=f"{certainty_label(Certainty.OFFICIAL, t)} · {source_text(official)}",
        )
    embed.add_field(name=t("release.stage"), value=clip(stage, FIELD_MAX), inline=False)

    lines = [news_line(item, t) for item in latest[:3]]
    embed.add_field(
        name=t("release.news"),
        value=clip("\n".join(lines), FIELD_MAX) if lines else t("release.news_none"),
        inline=False,
    )
    if last is not None:
        when = _when(last.at, "f")
        if last.actor_id is not None:
            updated = t("release.updated_by", actor=last.actor_id, **when)
        elif last.action == "canon.seed":
            updated = t("release.updated_canon", article_date=article_date, **when)
        else:
            updated = t("release.updated_bot", **when)
        embed.add_field(name=t("release.updated"), value=updated, inline=False)
    embed.set_footer(text=t("release.card_footer"))
    return embed


# -- announcements ----------------------------------------------------------------------


def ping_content(role_id: int | None) -> str | None:
    """The only text an announcement's content carries: the server's news role, or nothing."""
    return None if role_id is None else f"<@&{int(role_id)}>"


def news_announcement(item: NewsItem, t: Texts) -> discord.Embed:
    f = item.fields
    description = f"**{safe(f.headline, HEADLINE_MAX)}**"
    if f.details:
        description += "\n\n" + safe(f.details, DETAILS_MAX)
    embed = discord.Embed(
        title=t("release.news_title"),
        description=description,
        colour=STAGE_LOOK[Stage.CONFIRMED][1],
    )
    embed.add_field(name=t("release.news_date"), value=news_date(item, t))
    embed.add_field(name=t("release.news_certainty"), value=certainty_label(f.source.certainty, t))
    embed.add_field(name=t("release.news_source"), value=source_text(item))
    embed.set_footer(text=t("release.announce_footer"))
    return embed


def stage_announcement(release: Release, old: Stage, t: Texts) -> discord.Embed:
    embed = discord.Embed(
        title=t("release.stage_title", stage=stage_label(release.stage, t)),
        description=t("release.stage_body", old=stage_name(old, t), new=stage_name(release.stage, t)),
        colour=STAGE_LOOK[release.stage][1],
    )
    embed.set_footer(text=t("release.announce_footer"))
    return embed


def date_announcement(release: Release, old_premiere: int | None, t: Texts) -> discord.Embed:
    assert release.premiere_at is not None
    when = _when(release.premiere_at)
    if old_premiere is None:
        title = t("release.date_title")
        body = t("release.date_body", **when)
    else:
        title = t("release.date_moved_title")
        body = t("release.date_moved_body", old=timestamp(old_premiere, "F"), **when)
    embed = discord.Embed(title=title, description=body, colour=STAGE_LOOK[Stage.DATED][1])
    embed.set_footer(text=t("release.announce_footer"))
    return embed


def reminder_card(reminder: Reminder, t: Texts) -> discord.Embed:
    premiere = reminder.kind is ReminderKind.PREMIERE
    body = "reminder.body_now" if premiere else "reminder.body_future"
    embed = discord.Embed(
        title=t(f"reminder.{reminder.kind.value}"),
        description=t(body, **_when(reminder.premiere_at)),
        colour=STAGE_LOOK[Stage.RELEASED if premiere else Stage.DATED][1],
    )
    embed.set_footer(text=t("release.announce_footer"))
    return embed
