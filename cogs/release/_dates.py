"""Reading the dates admins type: a day, an optional time, an optional time zone.

Errors are :class:`BadInput` whose message shows an example, so the admin can retype;
the example is the catalog's, in the admin's language (``t``).
"""

from __future__ import annotations

import datetime as dt
import functools
import re
import zoneinfo
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from bot.errors import BadInput
from bot.models import SourceRef

if TYPE_CHECKING:
    from bot.i18n import Texts

LINK_MAX = 300
TEN_YEARS = int(10 * 365.25 * 86400)
_DATE = re.compile(r"^\s*(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})\s*$")
_TIME = re.compile(r"^\s*(\d{1,2})(?:[:h.](\d{2}))?\s*(am|pm|a\.m\.|p\.m\.)?\s*$", re.IGNORECASE)
_OFFSET = re.compile(r"^\s*(?:utc|gmt)?\s*([+-])(\d{1,2})(?::?(\d{2}))?\s*$", re.IGNORECASE)
_ALIASES = {
    "utc": "UTC",
    "gmt": "UTC",
    "z": "UTC",
    "kst": "Asia/Seoul",
    "korea": "Asia/Seoul",
    "seoul": "Asia/Seoul",
}
POPULAR_ZONES = (
    "Asia/Seoul",
    "UTC",
    "America/Los_Angeles",
    "America/New_York",
    "Europe/London",
    "Europe/Paris",
    "Asia/Tokyo",
    "Asia/Manila",
    "Asia/Jakarta",
    "Asia/Kolkata",
    "Australia/Sydney",
    "America/Sao_Paulo",
)


@dataclass(frozen=True, slots=True)
class Premiere:
    at: int  # Unix seconds
    typed: str  # what it was read as: "2025-03-01 17:00 Asia/Seoul"
    source: SourceRef | None = None  # who gives the date


@functools.cache
def _zones() -> dict[str, str]:
    """Every IANA zone name the system knows, by its lower-case spelling."""
    try:
        names = zoneinfo.available_timezones()
    except Exception:  # no time zone database on this host
        names = set()
    return {name.lower(): name for name in names if "/" in name or name == "UTC"}


def zone_names(typed: str, limit: int = 25) -> list[str]:
    """Time zones for autocomplete: the popular ones first, then every match of ``typed``."""
    typed = typed.strip().lower()
    known = _zones()
    popular = [z for z in POPULAR_ZONES if z.lower() in known or z == "UTC"]
    if not typed:
        return popular[:limit]
    found = [z for z in popular if typed in z.lower()]
    found += sorted(name for low, name in known.items() if typed in low and name not in found)
    return found[:limit]


def _retype(key: str, t: Texts, **values: str) -> BadInput:
    """A date the admin must type again, with the example of one."""
    return BadInput(f"admin_release.{key}", example=t("admin_release.date_example"), **values)


def _zone(text: str, t: Texts) -> dt.tzinfo:
    key = text.strip()
    low = key.lower()
    if low in _ALIASES:
        key = _ALIASES[low]
        low = key.lower()
    if key == "UTC":
        return dt.UTC
    offset = _OFFSET.match(key)
    if offset:
        sign, hours, minutes = offset.group(1), int(offset.group(2)), int(offset.group(3) or 0)
        if hours > 14 or minutes >= 60:
            raise _retype("bad_zone", t, value=clip_typed(text))
        delta = dt.timedelta(hours=hours, minutes=minutes)
        return dt.timezone(-delta if sign == "-" else delta)
    name = _zones().get(low)
    if name is None:
        raise _retype("bad_zone", t, value=clip_typed(text))
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise _retype("bad_zone", t, value=clip_typed(text)) from None


def _day(text: str, message: str, t: Texts) -> dt.date:
    match = _DATE.match(text)
    if match is None:
        raise _retype(message, t, value=clip_typed(text))
    try:
        return dt.date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
    except ValueError:
        key = "bad_day" if message == "bad_date" else message
        raise _retype(key, t, value=clip_typed(text)) from None


def _time(text: str, t: Texts) -> dt.time:
    match = _TIME.match(text)
    bad = _retype("bad_time", t, value=clip_typed(text))
    if match is None:
        raise bad
    hour, minute = int(match.group(1)), int(match.group(2) or 0)
    meridiem = (match.group(3) or "").lower().replace(".", "")
    if meridiem:
        if not 1 <= hour <= 12:
            raise bad
        hour = hour % 12 + (12 if meridiem == "pm" else 0)
    if hour > 23 or minute > 59:
        raise bad
    return dt.time(hour, minute)


def parse_premiere(date: str, time: str | None, zone: str | None, *, now: float, t: Texts) -> Premiere:
    """The premiere an admin typed, as Unix seconds; BadInput (with an example) otherwise."""
    day = _day(date, "bad_date", t)
    clock = _time(time, t) if time and time.strip() else dt.time(0, 0)
    tz = _zone(zone, t) if zone and zone.strip() else dt.UTC
    try:
        moment = dt.datetime.combine(day, clock, tzinfo=tz)
        at = int(moment.timestamp())
    except (OverflowError, ValueError):
        raise _retype("bad_date", t, value=clip_typed(date)) from None
    zone_name = getattr(tz, "key", None) or moment.strftime("UTC%z")
    typed = f"{day.isoformat()} {clock.strftime('%H:%M')} {zone_name}"
    if abs(at - now) > TEN_YEARS:
        raise _retype("too_far", t, when=typed)
    return Premiere(at=at, typed=typed)


def parse_news_date(text: str, *, now: float, t: Texts) -> str:
    """An ISO day for a news item (``2024-05-01``); BadInput otherwise."""
    day = _day(text, "news_bad_date", t)
    today = dt.datetime.fromtimestamp(now, dt.UTC).date()
    if day.year < 2000 or (day - today).days > 3660:
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
