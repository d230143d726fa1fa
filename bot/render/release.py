"""The Season 2 release card, news lines, announcements and countdown reminders.

Pure: rows in, embeds and strings out.  Every text an admin typed goes through
:func:`safe` with a budget, so a card stays within Discord's limits (a field 1,024, a
description 4,096, 6,000 in all) whatever was stored, and can never ping anyone.
Times are Discord timestamps (``<t:…:F>``, ``<t:…:R>``): every member sees their own
time zone and a live countdown.  Every word comes from the catalog in the language
``t`` is bound to (the member's for answers, the server's for channel posts).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import discord
from discord import app_commands

from bot import when
from bot.i18n import english
from bot.limits import EMBED_FIELD_VALUE
from bot.models import Certainty, ReminderKind, Stage
from bot.render import facts
from bot.render.text import clip, safe

if TYPE_CHECKING:
    from bot.i18n import Texts
    from bot.models import LastChange, NewsItem, Release, Reminder, SourceRef

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
    return f"{facts.mark(certainty)} {t(f'certainty.{certainty.value}')}"


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


def source_text(item: NewsItem, t: Texts, limit: int = SOURCE_MAX, *, linked: bool = True) -> str:
    """The source's name, linked when it has an address."""
    return source_ref_text(item.fields.source, t, limit, linked=linked)


def source_ref_text(source: SourceRef, t: Texts, limit: int = SOURCE_MAX, *, linked: bool = True) -> str:
    name = safe(facts.source_name(source, t), limit).replace("[", "(").replace("]", ")")
    url = link(source.url) if linked else None
    return f"[{name}]({url})" if url else name


def iso_day(at: float) -> str:
    """The UTC day of a Unix time, as an ISO date (how news and windows are dated)."""
    return dt.datetime.fromtimestamp(at, dt.UTC).date().isoformat()


def day_text(iso: str, t: Texts) -> str:
    """A day as readers write it: "19 July 2022", "2022년 7월 19일 (화)"."""
    return when.format_day(dt.date.fromisoformat(iso), t.language)


def age_text(iso: str, today: str, t: Texts) -> str:
    """How long ago a day was, in whole years, months or days ("4 years ago")."""
    then, now = dt.date.fromisoformat(iso), dt.date.fromisoformat(today)
    months = (now.year - then.year) * 12 + now.month - then.month - (now.day < then.day)
    if months >= 12:
        years = months // 12
        return t("ages.year") if years == 1 else t("ages.years", n=years)
    if months >= 1:
        return t("ages.month") if months == 1 else t("ages.months", n=months)
    days = (now - then).days
    if days <= 0:
        return t("ages.today")
    return t("ages.day") if days == 1 else t("ages.days", n=days)


def prediction_state(item: NewsItem, today: str, premiere_at: int | None) -> str | None:
    """What became of a dated prediction: ``superseded`` once the official date is set,
    ``passed`` once its window ended unconfirmed; None for anything else (still open, or
    no prediction of a date)."""
    end = item.fields.window_end
    if end is None:
        return None
    if premiere_at is not None:
        return "superseded"
    return "passed" if end < today else None


def news_day(item: NewsItem) -> str:
    """The day a news item is dated by: when it happened, else when it was reported."""
    return item.fields.happened_on or item.fields.reported_on


def headline(item: NewsItem, t: Texts) -> str:
    """The headline in the reader's language (a headline is spoiler-free by rule)."""
    return facts.localized(item.fields.headline, item.fields.headline_ko, t)


def details(item: NewsItem, t: Texts) -> str | None:
    f = item.fields
    return facts.localized(f.details, f.details_ko, t) if f.details else None


def news_date(item: NewsItem, t: Texts) -> str:
    f = item.fields
    if f.happened_on:
        return day_text(f.happened_on, t)
    return t("release.reported_on", date=day_text(f.reported_on, t))


def news_line(
    item: NewsItem,
    t: Texts,
    *,
    headline_max: int = 160,
    limit: int = LINE_MAX,
    state: str | None = None,
) -> str:
    """``date · headline · certainty · [what became of it ·] source``: one line of the
    card or the timeline (``state``: see :func:`prediction_state`).

    The source's link is left out when it would not fit in ``limit`` (a cut link is broken).
    """
    f = item.fields
    certainty = certainty_label(f.source.certainty, t)
    became = f"*{t(f'release.{state}')}* · " if state else ""
    start = f"**{news_date(item, t)}** · {safe(headline(item, t), headline_max)} · {certainty} · {became}"
    line = start + source_text(item, t, 80)
    return line if len(line) <= limit else clip(start + source_text(item, t, 80, linked=False), limit)


def timeline_line(item: NewsItem, t: Texts, *, today: str, premiere_at: int | None) -> str:
    state = prediction_state(item, today, premiere_at)
    line = news_line(item, t, headline_max=HEADLINE_MAX, limit=TIMELINE_LINE_MAX, state=state)
    said = details(item, t)
    if said:
        line += "\n> " + facts.shown(" ".join(said.split()), item.fields.spoiler, t.spoilers, t, 300)
    return line


def news_choice(item: NewsItem, t: Texts) -> app_commands.Choice[str]:
    """An autocomplete choice: ``#id · date · headline`` (raw text: choices never render)."""
    name = f"#{item.id} · {news_date(item, t)} · {' '.join(headline(item, t).split())}"
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
    now: int,
) -> discord.Embed:
    """The /release card: stage, the official date or none (with the latest speculation
    as speculation, while its window is open), the latest three news items, and how old
    the newest fact is: the record is dated by its facts, never by when it was copied."""
    today = iso_day(now)
    colour = STAGE_LOOK[release.stage][1]
    if release.premiere_at is not None:
        key = "release.premiere_future" if release.premiere_at > now else "release.premiere_past"
        description = t(key, **_when(release.premiere_at)) + " · " + date_source(release, t)
    else:
        description = t("release.premiere_none")
        if speculation is not None and prediction_state(speculation, today, None) is None:
            line = news_line(speculation, t, headline_max=300, limit=DESCRIPTION_MAX - 100)
            description += "\n" + t("release.speculation", line=line)
    embed = discord.Embed(title=t("release.card_title"), description=description, colour=colour)

    stage = f"**{stage_label(release.stage, t)}**"
    if official is not None:
        stage += "\n" + t(
            "release.official",
            date=news_date(official, t),
            headline=safe(headline(official, t), HEADLINE_MAX),
            source=f"{certainty_label(Certainty.OFFICIAL, t)} · {source_text(official, t)}",
        )
    embed.add_field(name=t("release.stage"), value=clip(stage, FIELD_MAX), inline=False)

    lines = [
        news_line(item, t, state=prediction_state(item, today, release.premiere_at)) for item in latest[:3]
    ]
    embed.add_field(
        name=t("release.news"),
        value=clip("\n".join(lines), FIELD_MAX) if lines else t("release.news_none"),
        inline=False,
    )
    if latest:
        newest = max(news_day(item) for item in latest)
        value = t("release.newest_value", date=day_text(newest, t), age=age_text(newest, today, t))
        if last is not None and last.action != "canon.seed":
            relative = timestamp(last.at, "R")
            changed = (
                t("release.changed_by", actor=last.actor_id, relative=relative)
                if last.actor_id is not None
                else t("release.changed_bot", relative=relative)
            )
            value += "\n" + changed
        embed.add_field(name=t("release.newest"), value=clip(value, FIELD_MAX), inline=False)
    embed.set_footer(text=t.plain("release.card_footer"))
    return embed


# -- announcements ----------------------------------------------------------------------


def ping_content(role_id: int | None) -> str | None:
    """The only text an announcement's content carries: the server's news role, or nothing."""
    return None if role_id is None else f"<@&{int(role_id)}>"


def news_announcement(item: NewsItem, t: Texts) -> discord.Embed:
    f = item.fields
    description = f"**{safe(headline(item, t), HEADLINE_MAX)}**"
    said = details(item, t)
    if said:
        description += "\n\n" + facts.shown(said, f.spoiler, t.spoilers, t, DETAILS_MAX)
    embed = discord.Embed(
        title=t("release.news_title"),
        description=description,
        colour=STAGE_LOOK[Stage.CONFIRMED][1],
    )
    embed.add_field(name=t("release.news_date"), value=news_date(item, t))
    embed.add_field(name=t("release.news_certainty"), value=certainty_label(f.source.certainty, t))
    embed.add_field(name=t("release.news_source"), value=source_text(item, t))
    embed.set_footer(text=t.plain("release.announce_footer"))
    return embed


def stage_announcement(release: Release, old: Stage, t: Texts) -> discord.Embed:
    embed = discord.Embed(
        title=t("release.stage_title", stage=stage_label(release.stage, t)),
        description=t("release.stage_body", old=stage_name(old, t), new=stage_name(release.stage, t)),
        colour=STAGE_LOOK[release.stage][1],
    )
    embed.set_footer(text=t.plain("release.announce_footer"))
    return embed


def date_source(release: Release, t: Texts) -> str:
    """How sure the date is and who gives it (a date set before sources were asked for
    was set by the server's admins as official)."""
    source = release.premiere_source
    if source is None:
        return certainty_label(Certainty.OFFICIAL, t)
    return f"{certainty_label(source.certainty, t)} · {source_ref_text(source, t)}"


def date_announcement(release: Release, old_premiere: int | None, t: Texts) -> discord.Embed:
    assert release.premiere_at is not None
    when = _when(release.premiere_at)
    if old_premiere is None:
        title = t("release.date_title")
        body = t("release.date_body", **when)
    else:
        title = t("release.date_moved_title")
        body = t("release.date_moved_body", old=timestamp(old_premiere, "F"), **when)
    body += "\n" + date_source(release, t)
    embed = discord.Embed(title=title, description=body, colour=STAGE_LOOK[Stage.DATED][1])
    embed.set_footer(text=t.plain("release.announce_footer"))
    return embed


def reminder_card(reminder: Reminder, t: Texts) -> discord.Embed:
    premiere = reminder.kind is ReminderKind.PREMIERE
    body = "reminder.body_now" if premiere else "reminder.body_future"
    embed = discord.Embed(
        title=t(f"reminder.{reminder.kind.value}"),
        description=t(body, **_when(reminder.premiere_at)),
        colour=STAGE_LOOK[Stage.RELEASED if premiere else Stage.DATED][1],
    )
    embed.set_footer(text=t.plain("release.announce_footer"))
    return embed
