"""Reading the dates admins type: a day, an optional time, an optional time zone.

The reading itself is :mod:`bot.when` (English and Korean forms alike: ``2027-03-01``,
``2027년 3월 1일``, ``3월 1일``, ``다음 주 금요일``, ``오후 5시``, ``서울``, Discord
timestamps); here its errors become :class:`BadInput` whose message shows an example,
so the admin can retype; the example is the catalog's, in the admin's language (``t``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from bot import when
from bot.errors import BadInput
from bot.models import SourceRef

if TYPE_CHECKING:
    from bot.i18n import Texts

LINK_MAX = 300
TEN_YEARS = int(10 * 365.25 * 86400)
# What part of a date was wrong (bot.when's kinds) -> the message that says so.
_MESSAGES = {"date": "bad_date", "day": "bad_day", "time": "bad_time", "zone": "bad_zone"}


@dataclass(frozen=True, slots=True)
class Premiere:
    at: int  # Unix seconds
    typed: str  # what it was read as, in the admin's language: "Mon 1 March 2027, 17:00 (Asia/Seoul)"
    source: SourceRef | None = None  # who gives the date


def zone_names(typed: str, limit: int = 25) -> list[tuple[str, str]]:
    """Time zones for autocomplete, as (label, value): the zone a fan's name for it points
    to first (``korea``, ``한국``, ``서울``, ``kst`` → Asia/Seoul), then the popular
    ones, then every IANA name matching ``typed``."""
    return when.zone_choices(typed, limit)


def _retype(key: str, t: Texts, **values: str) -> BadInput:
    """A date the admin must type again, with the example of one."""
    return BadInput(f"admin_release.{key}", example=t("admin_release.date_example"), **values)


def _zone(text: str, t: Texts) -> dt.tzinfo:
    try:
        return when.parse_zone(text)
    except when.WhenError:
        raise _retype("bad_zone", t, value=clip_typed(text)) from None


def _time(text: str, t: Texts) -> dt.time:
    try:
        return when.parse_time(text)
    except when.WhenError:
        raise _retype("bad_time", t, value=clip_typed(text)) from None


def parse_premiere(
    date: str, time: str | None, zone: str | None, *, now: float, t: Texts, default_zone: dt.tzinfo = dt.UTC
) -> Premiere:
    """The premiere an admin typed, as Unix seconds; BadInput (with an example) otherwise.

    ``date`` may carry its own time and zone (``2027년 3월 1일 오후 5시 서울``) or be a
    Discord timestamp; the ``time`` and ``timezone`` options, when given, win over them.
    No time: 00:00; no zone: ``default_zone`` (Seoul for an answer in Korean, UTC
    otherwise: ``when.default_zone``)."""
    tz = _zone(zone, t) if zone and zone.strip() else None
    clock = _time(time, t) if time and time.strip() else None
    try:
        moment = when.parse_moment(date, now=now, zone=tz or default_zone, keep_zone=tz is not None)
        start = moment.at(clock)
        at = int(start.timestamp())
    except when.WhenError as error:
        raise _retype(_MESSAGES.get(error.kind, "bad_date"), t, value=clip_typed(date)) from None
    except (OverflowError, ValueError):
        raise _retype("bad_date", t, value=clip_typed(date)) from None
    typed = when.format_moment(start, moment.zone, t.language)
    if abs(at - now) > TEN_YEARS:
        raise _retype("too_far", t, when=typed)
    return Premiere(at=at, typed=typed)


def parse_news_date(text: str, *, now: float, t: Texts) -> str:
    """An ISO day for a news item (``2024-05-01``); BadInput otherwise.  News is mostly
    past: a day without a year, or a weekday alone, is the latest one up to today (UTC)."""
    today_utc = dt.datetime.fromtimestamp(now, dt.UTC).date()
    try:
        day = when.parse_day(text, today=today_utc, prefer_past=True)
    except when.WhenError:
        raise BadInput("admin_release.news_bad_date", value=clip_typed(text)) from None
    if day.year < 2000 or (day - today_utc).days > 3660:
        raise BadInput("admin_release.news_too_far", value=clip_typed(text))
    return day.isoformat()


def today(now: float) -> str:
    return dt.datetime.fromtimestamp(now, dt.UTC).date().isoformat()


def parse_link(text: str) -> str:
    """A plain http(s) address, as typed; BadInput otherwise."""
    url = text.strip()
    parts = urlsplit(url)
    if (
        parts.scheme not in {"http", "https"}
        or not parts.netloc
        or any(c.isspace() for c in url)
        or len(url) > LINK_MAX
    ):
        raise BadInput("admin_release.bad_link", value=clip_typed(text))
    return url


def clip_typed(text: str) -> str:
    """Typed text quoted back in an error: short, and without backticks that end the quote."""
    return text.replace("`", "'")[:80]
