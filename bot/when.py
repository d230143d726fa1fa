"""Dates, times, time zones and durations as English and Korean fans type them, and
dates as Korean readers expect to see them.

One reader for every command that takes a date or a time, whatever the member's
language: ``2027-03-01``, ``2027년 3월 1일 (월)``, ``2027. 3. 1.``, ``3월 1일``,
``내일``, ``다음 주 금요일``, ``March 1 2027``, ``next friday``; ``17:00``, ``5pm``,
``오후 5시 30분``, ``저녁 7시``, ``정오``; ``서울``, ``KST``, ``UTC+9``, ``Asia/Seoul``;
``2d 3h``, ``1일 12시간``; Discord's timestamp markup ``<t:1800000000:F>``.

Pure: nothing here reads a clock.  Whatever depends on the day it is today takes
``now`` (Unix seconds) and the time zone in which "today" is meant.  A text that is
none of these raises :class:`WhenError`, which says which part was wrong; the cog
turns it into its own message (with an example) in the member's language.

The rules where fans could mean two things, chosen once and kept:

- Weeks start on Monday.  ``이번 주 금요일`` / ``friday this week`` is the Friday of
  the current week (it may have passed); ``다음 주 금요일`` / ``next friday`` /
  ``friday next week`` the Friday of next week (on a Monday, eleven days on, not
  four), ``다다음 주`` the week after that, ``지난 주`` / ``friday last week`` the
  week before.  A weekday alone (``금요일``, ``friday``, ``this friday``) is the next
  one, today included; ``last friday`` the latest one before today.
- A day without a year (``3월 1일``, ``Mar 1``) is its next occurrence, today
  included; 29 February is the next one there is.  (Readers of past news ask for
  the latest one instead: ``prefer_past``.)
- A time without a day is its next occurrence after ``now``.
- ``오전``/``새벽``/``아침`` are before noon (``오전 12시`` and ``오전 0시`` are
  midnight); ``오후``/``저녁`` after (``오후 12시`` is noon); ``낮``/``점심`` 1–6
  o'clock are afternoon hours; ``밤`` 6–11 are evening hours, ``밤 12시`` is midnight
  and ``밤 1시``–``5시`` the small hours.  ``자정`` is 00:00 of the day given.
- Text is read after NFKC (full-width ``２０２７년`` is ``2027년``) with invisible
  format characters (zero-width spaces, direction marks) dropped; anything longer than
  :data:`TEXT_MAX` is refused unread.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
import unicodedata
import zoneinfo
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TypeVar

__all__ = [
    "MONTHS_EN",
    "POPULAR_ZONES",
    "SEOUL",
    "TEXT_MAX",
    "WEEKDAYS_EN",
    "WEEKDAYS_KO",
    "Moment",
    "WhenError",
    "clean",
    "discord_timestamp",
    "format_clock",
    "format_day",
    "format_moment",
    "parse_day",
    "parse_duration",
    "parse_moment",
    "parse_time",
    "parse_zone",
    "zone_choices",
    "zone_label",
    "zone_name",
]

TEXT_MAX = 100  # characters, once cleaned: no date, time or zone is longer
TOKENS_MAX = 14  # words in one moment ("2027년 3월 1일 (월) 오후 5시 30분 (한국 시간)" is 9)
SEOUL = "Asia/Seoul"
T = TypeVar("T")

# -- locale data ----------------------------------------------------------------------------

WEEKDAYS_KO = ("월", "화", "수", "목", "금", "토", "일")
WEEKDAYS_EN = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
MONTHS_EN = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
MORNING_KO, AFTERNOON_KO = "오전", "오후"
KOREA_TIME_KO = "한국 시간"

# Days counted from today.
_RELATIVE_DAYS = {
    "오늘": 0,
    "today": 0,
    "tonight": 0,
    "내일": 1,
    "tomorrow": 1,
    "모레": 2,
    "내일모레": 2,
    "내일 모레": 2,
    "day after tomorrow": 2,
    "the day after tomorrow": 2,
    "글피": 3,
    "어제": -1,
    "yesterday": -1,
    "그제": -2,
    "그저께": -2,
}
# Weeks counted from this one (Monday-start).
_WEEKS_KO = {"지난": -1, "저번": -1, "이번": 0, "다음": 1, "담": 1, "다다음": 2}
_WEEKS_EN = {"last": -1, "this": 0, "next": 1}

# Time zones by a compact spelling (lower case, no spaces, dots, dashes or brackets).
ZONE_ALIASES = {
    "utc": "UTC",
    "gmt": "UTC",
    "z": "UTC",
    "zulu": "UTC",
    "협정세계시": "UTC",
    "kst": SEOUL,
    "korea": SEOUL,
    "korean": SEOUL,
    "southkorea": SEOUL,
    "republicofkorea": SEOUL,
    "seoul": SEOUL,
    "서울": SEOUL,
    "한국": SEOUL,
    "대한민국": SEOUL,
    "남한": SEOUL,
}
_ZONE_SUFFIXES = ("standardtime", "time", "표준시", "시간", "시")
POPULAR_ZONES = (
    SEOUL,
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
_ZONE_HINTS = {SEOUL: "서울 · 한국 · KST · Korea"}

_UNITS = {
    "w": 7 * 86400,
    "wk": 7 * 86400,
    "wks": 7 * 86400,
    "week": 7 * 86400,
    "weeks": 7 * 86400,
    "주": 7 * 86400,
    "주일": 7 * 86400,
    "주간": 7 * 86400,
    "d": 86400,
    "day": 86400,
    "days": 86400,
    "일": 86400,
    "일간": 86400,
    "h": 3600,
    "hr": 3600,
    "hrs": 3600,
    "hour": 3600,
    "hours": 3600,
    "시간": 3600,
    "m": 60,
    "min": 60,
    "mins": 60,
    "minute": 60,
    "minutes": 60,
    "분": 60,
}
_COUNTED_DAYS = {"하루": 86400, "이틀": 2 * 86400, "사흘": 3 * 86400, "나흘": 4 * 86400}


class WhenError(ValueError):
    """Text that is not what was asked for.  ``kind`` says which part was wrong:
    ``date`` (not read as a day at all), ``day`` (read, but not on the calendar, or
    the weekday typed beside it is another), ``time``, ``zone`` or ``duration``."""

    def __init__(self, kind: str, text: str) -> None:
        super().__init__(f"not a {kind}: {text[:80]!r}")
        self.kind = kind
        self.text = text


# -- cleaning -------------------------------------------------------------------------------

_DASHES = str.maketrans(dict.fromkeys("\u2010\u2011\u2012\u2013\u2014\u2212\ufe63", "-"))


def clean(text: str, kind: str = "date") -> str:
    """``text`` as the readers compare it: NFKC (full-width digits and colons become
    ASCII), dashes and minus signs as ``-``, invisible format characters dropped,
    control characters and runs of spaces as one space, lower case.  Too long:
    :class:`WhenError` of ``kind``."""
    if len(text) > TEXT_MAX * 4:  # refused before any work on it
        raise WhenError(kind, text)
    text = unicodedata.normalize("NFKC", text).translate(_DASHES)
    text = "".join(
        " " if unicodedata.category(c) == "Cc" else c for c in text if unicodedata.category(c) != "Cf"
    )
    text = " ".join(text.split()).lower()
    if len(text) > TEXT_MAX:
        raise WhenError(kind, text)
    return text


# -- days -------------------------------------------------------------------------------------

_KO_WEEKDAY = "(월|화|수|목|금|토|일)"
_EN_WEEKDAY = (
    r"(mon(?:day)?|tue(?:s(?:day)?)?|wed(?:nesday)?|thu(?:r(?:s(?:day)?)?)?|fri(?:day)?|sat(?:urday)?"
    r"|sun(?:day)?)\.?"
)
_MONTH = (
    r"(jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    r"|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?"
)
_ORDINAL = r"(?:st|nd|rd|th)?"
_ISO = re.compile(r"^([0-9]{4})\s*([-/.])\s*([0-9]{1,2})\s*\2\s*([0-9]{1,2})\s*\.?$")
_KO_DAY = re.compile(r"^(?:([0-9]{4})\s*년\s*)?([0-9]{1,2})\s*월\s*([0-9]{1,2})\s*일$")
_EN_DAY_FIRST = re.compile(rf"^([0-9]{{1,2}}){_ORDINAL}\s*(?:of\s+)?{_MONTH}(?:\s+([0-9]{{4}}))?$")
_EN_MONTH_FIRST = re.compile(rf"^{_MONTH}\s*([0-9]{{1,2}}){_ORDINAL}(?:\s+([0-9]{{4}}))?$")
_WEEKDAY_HEAD = re.compile(rf"^(?:{_EN_WEEKDAY}|{_KO_WEEKDAY}요일|\(\s*{_KO_WEEKDAY}\s*\))\s+")
_WEEKDAY_TAIL = re.compile(
    rf"\s*(?:\(\s*(?:{_KO_WEEKDAY}(?:요일)?|{_EN_WEEKDAY})\s*\)|{_KO_WEEKDAY}요일|{_EN_WEEKDAY})$"
)
_KO_WEEK = re.compile(rf"^(?:(지난|저번|이번|다음|담|다다음)\s*주\s*)?{_KO_WEEKDAY}(?:요일|욜)$")
_EN_WEEK = re.compile(rf"^(?:(this|next|last)\s+)?{_EN_WEEKDAY}(?:\s+(this|next|last)\s+week)?$")


def _weekday_of(name: str) -> int:
    """0 for Monday … 6 for Sunday, from a Korean or English weekday name."""
    if name in WEEKDAYS_KO:
        return WEEKDAYS_KO.index(name)
    return [w.lower() for w in WEEKDAYS_EN].index(name[:3])


def _month_of(name: str) -> int:
    return [m.lower()[:3] for m in MONTHS_EN].index(name[:3]) + 1


def _weekday_in(match: re.Match[str]) -> int | None:
    named = next((g for g in match.groups() if g), None)
    return None if named is None else _weekday_of(named)


def _week_day(today: dt.date, weekday: int, weeks: int | None) -> dt.date:
    """The ``weekday`` of the week ``weeks`` from this one, or (None) the next one, today included."""
    if weeks is None:
        return today + dt.timedelta(days=(weekday - today.weekday()) % 7)
    monday = today - dt.timedelta(days=today.weekday())
    return monday + dt.timedelta(days=7 * weeks + weekday)


def _relative(text: str, today: dt.date, prefer_past: bool) -> dt.date | None:
    if text in _RELATIVE_DAYS:
        return today + dt.timedelta(days=_RELATIVE_DAYS[text])
    korean = _KO_WEEK.match(text)
    if korean:
        weekday = _weekday_of(korean.group(2))
        if korean.group(1) is not None:
            return _week_day(today, weekday, _WEEKS_KO[korean.group(1)])
        return _latest(today, weekday) if prefer_past else _week_day(today, weekday, None)
    english = _EN_WEEK.match(text)
    if english:
        before, weekday, after = english.group(1), _weekday_of(english.group(2)), english.group(3)
        if before and after:
            return None
        if after:  # "friday next week"
            return _week_day(today, weekday, _WEEKS_EN[after])
        if before == "next":
            return _week_day(today, weekday, 1)
        if before == "last":  # the latest one before today
            return _latest(today - dt.timedelta(days=1), weekday)
        return _latest(today, weekday) if prefer_past and not before else _week_day(today, weekday, None)
    return None


def _latest(today: dt.date, weekday: int) -> dt.date:
    """The latest ``weekday`` up to ``today``, today included."""
    return today - dt.timedelta(days=(today.weekday() - weekday) % 7)


def _calendar(year: int, month: int, day: int, text: str) -> dt.date:
    try:
        return dt.date(year, month, day)
    except ValueError:
        raise WhenError("day", text) from None


def _yearless(month: int, day: int, today: dt.date, prefer_past: bool, text: str) -> dt.date:
    """The next (or, ``prefer_past``, the latest) ``month``/``day`` from today, today included."""
    step = -1 if prefer_past else 1
    for offset in range(9):  # 29 February comes round within eight years
        try:
            found = dt.date(today.year + step * offset, month, day)
        except ValueError:
            continue
        if (found >= today) if step == 1 else (found <= today):
            return found
    raise WhenError("day", text)


def _absolute(text: str, today: dt.date, prefer_past: bool, original: str) -> dt.date:
    match = _ISO.match(text)
    if match:
        return _calendar(int(match.group(1)), int(match.group(3)), int(match.group(4)), original)
    match = _KO_DAY.match(text)
    if match:
        month, day = int(match.group(2)), int(match.group(3))
        if match.group(1):
            return _calendar(int(match.group(1)), month, day, original)
        return _yearless(month, day, today, prefer_past, original)
    for pattern, month_group, day_group in ((_EN_DAY_FIRST, 2, 1), (_EN_MONTH_FIRST, 1, 2)):
        match = pattern.match(text)
        if match:
            month, day = _month_of(match.group(month_group)), int(match.group(day_group))
            if match.group(3):
                return _calendar(int(match.group(3)), month, day, original)
            return _yearless(month, day, today, prefer_past, original)
    raise WhenError("date", original)


def parse_day(text: str, *, today: dt.date, prefer_past: bool = False) -> dt.date:
    """A day typed in English or Korean; ``today`` is the day it is in the zone meant.

    ``prefer_past``: a day without a year, or a weekday alone, is the latest one up to
    today rather than the next one (what a reader of past news means)."""
    cleaned = " ".join(clean(text).replace(",", " ").split())
    if not cleaned:
        raise WhenError("date", text)
    relative = _relative(cleaned, today, prefer_past)
    if relative is not None:
        return relative
    named: int | None = None
    bare = cleaned
    for pattern in (_WEEKDAY_TAIL, _WEEKDAY_HEAD):
        match = pattern.search(bare)
        if match and match.end() - match.start() < len(bare):
            if named is not None:
                raise WhenError("date", text)
            named = _weekday_in(match)
            bare = (bare[: match.start()] + bare[match.end() :]).strip()
    day = _absolute(bare, today, prefer_past, text)
    if named is not None and day.weekday() != named:
        raise WhenError("day", text)
    return day


# -- times of day --------------------------------------------------------------------------

_KO_PERIOD = "오전|오후|새벽|아침|낮|점심|저녁|밤"
_AMPM = r"a\.?m\.?|p\.?m\.?"
_TIME = re.compile(
    rf"^(?:at\s+)?(?P<pre>{_KO_PERIOD}|{_AMPM})?\s*"
    r"(?:(?P<kh>[0-9]{1,2})\s*시(?:\s*(?:(?P<km>[0-9]{1,2})\s*분|(?P<half>반)))?(?:\s*(?P<ks>[0-9]{1,2})\s*초)?"
    r"|(?P<h>[0-9]{1,2})(?:\s*[:h.]\s*(?P<m>[0-9]{2})(?:\s*:\s*(?P<s>[0-9]{2}))?)?)"
    rf"\s*(?P<post>{_AMPM})?$"
)
_NAMED_TIMES = {
    "정오": dt.time(12, 0),
    "noon": dt.time(12, 0),
    "midday": dt.time(12, 0),
    "자정": dt.time(0, 0),
    "midnight": dt.time(0, 0),
}


def _hour(period: str | None, hour: int) -> int | None:
    """The hour on a 24-hour clock, or None when ``period`` has no such hour."""
    if period is None:
        return hour if hour <= 23 else None
    period = period.replace(".", "")
    if period in ("am", "pm"):
        if not 1 <= hour <= 12:
            return None
        return hour % 12 + (12 if period == "pm" else 0)
    if period in ("오전", "새벽", "아침"):
        return hour % 12 if hour <= 12 else None
    if period == "오후":
        return hour % 12 + 12 if 1 <= hour <= 12 else None
    if period == "저녁":
        return hour + 12 if 1 <= hour <= 11 else None
    if period in ("낮", "점심"):
        if hour == 12 or 7 <= hour <= 11:
            return hour
        return hour + 12 if 1 <= hour <= 6 else None
    # 밤: the evening, midnight, then the small hours
    if 6 <= hour <= 11:
        return hour + 12
    return hour % 12 if hour <= 5 or hour == 12 else None


def parse_time(text: str) -> dt.time:
    """A time of day: ``17:00``, ``5pm``, ``5:30 pm``, ``오후 5시 30분``, ``저녁 7시``,
    ``5시 반``, ``정오``, ``자정``."""
    cleaned = clean(text, "time")
    named = _NAMED_TIMES.get(cleaned.removeprefix("at ").strip())
    if named is not None:
        return named
    match = _TIME.match(cleaned)
    if match is None or (match["pre"] and match["post"]):
        raise WhenError("time", text)
    korean = match["kh"] is not None
    hour = _hour(match["pre"] or match["post"], int(match["kh"] if korean else match["h"]))
    if korean:
        minute = 30 if match["half"] else int(match["km"] or 0)
        second = int(match["ks"] or 0)
    else:
        minute, second = int(match["m"] or 0), int(match["s"] or 0)
    if hour is None or minute > 59 or second > 59:
        raise WhenError("time", text)
    return dt.time(hour, minute, second)


def _bare_hour(text: str) -> bool:
    """``17``: a time only where the member was asked for a time, never inside a date."""
    return clean(text, "time").isdigit()


# -- time zones -----------------------------------------------------------------------------

_OFFSET = re.compile(r"^(?:utc|gmt)?\s*([+-])\s*([0-9]{1,2})(?:\s*:?\s*([0-9]{2}))?$")


@functools.cache
def _zones() -> dict[str, str]:
    """Every IANA zone name the system knows, by its lower-case spelling."""
    try:
        names = zoneinfo.available_timezones()
    except Exception:  # no time zone database on this host
        names = set()
    return {name.lower(): name for name in names if "/" in name or name == "UTC"}


def _compact(text: str) -> str:
    return re.sub(r"[\s.\-_()\[\]]", "", text)


def _alias(text: str) -> str | None:
    compact = _compact(text)
    if compact in ZONE_ALIASES:
        return ZONE_ALIASES[compact]
    for suffix in _ZONE_SUFFIXES:
        if compact.endswith(suffix) and compact[: -len(suffix)] in ZONE_ALIASES:
            return ZONE_ALIASES[compact[: -len(suffix)]]
    return None


def default_zone(language: str) -> dt.tzinfo:
    """The zone of a time typed without one: Seoul for a member answered in Korean (a
    Korean fan types 오후 5시 meaning Korean time, and the Korean examples say so), UTC
    otherwise."""
    return zoneinfo.ZoneInfo(SEOUL) if language == "ko" else dt.UTC


def parse_zone(text: str) -> dt.tzinfo:
    """A time zone: an IANA name (any case), a UTC offset (``+9``, ``UTC+09:00``,
    ``GMT-5``), or a name fans use (``KST``, ``Korea``, ``서울``, ``한국``,
    ``대한민국``, ``한국 시간`` → Asia/Seoul; ``UTC``, ``GMT``, ``Z``)."""
    cleaned = clean(text, "zone").strip("()[] ")
    if not cleaned:
        raise WhenError("zone", text)
    name = _alias(cleaned) or _zones().get(cleaned.replace(" ", "_"))
    if name == "UTC":
        return dt.UTC
    if name is not None:
        try:
            return zoneinfo.ZoneInfo(name)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise WhenError("zone", text) from None
    offset = _OFFSET.match(cleaned)
    if offset is None:
        raise WhenError("zone", text)
    hours, minutes = int(offset.group(2)), int(offset.group(3) or 0)
    if hours > 14 or minutes >= 60 or (hours == 14 and minutes):
        raise WhenError("zone", text)
    delta = dt.timedelta(hours=hours, minutes=minutes)
    return dt.UTC if not delta else dt.timezone(-delta if offset.group(1) == "-" else delta)


def zone_name(zone: dt.tzinfo) -> str:
    """How a zone is named back: its IANA name, ``UTC`` or ``UTC+09:00``, never ambiguous."""
    key = getattr(zone, "key", None)
    if isinstance(key, str):
        return key
    offset = zone.utcoffset(None) or dt.timedelta(0)
    if not offset:
        return "UTC"
    sign = "-" if offset < dt.timedelta(0) else "+"
    minutes = abs(int(offset.total_seconds())) // 60
    return f"UTC{sign}{minutes // 60:02d}:{minutes % 60:02d}"


def zone_label(zone: dt.tzinfo, language: str) -> str:
    """A zone as the reader says it: ``한국 시간`` for Seoul in Korean, else :func:`zone_name`."""
    name = zone_name(zone)
    return KOREA_TIME_KO if language == "ko" and name == SEOUL else name


def zone_choices(typed: str, limit: int = 25) -> list[tuple[str, str]]:
    """Time zones for an autocomplete, as (label, value): the zones fans' names point to
    (``korea``, ``한국``, ``서울``, ``kst`` → Asia/Seoul), an offset as typed, the popular
    zones matching, then every IANA name containing ``typed``."""
    try:
        text = clean(typed[: TEXT_MAX * 4], "zone")
    except WhenError:
        return []
    known = _zones()
    popular = [z for z in POPULAR_ZONES if z == "UTC" or z.lower() in known]
    found: list[str] = []
    if not text:
        found = popular
    else:
        compact = _compact(text)
        if compact:
            found += [zone for alias, zone in ZONE_ALIASES.items() if compact in alias or alias == compact]
        hit = _alias(text)
        if hit:
            found.append(hit)
        typed_zone = _part(parse_zone, text)
        if not isinstance(typed_zone, WhenError):
            found.append(zone_name(typed_zone))
        spaced = text.replace(" ", "_")
        found += [z for z in popular if spaced in z.lower()]
        found += sorted(name for low, name in known.items() if spaced in low)
    unique = list(dict.fromkeys(found))[:limit]
    return [(f"{z} ({_ZONE_HINTS[z]})" if z in _ZONE_HINTS else z, z) for z in unique]


# -- durations -------------------------------------------------------------------------------

_UNIT = "|".join(sorted((re.escape(u) for u in _UNITS), key=len, reverse=True))
_DURATION_PART = re.compile(
    rf"\s*(?:,|and)?\s*(?:([0-9]{{1,4}})\s*({_UNIT})(?![a-z가-힣])|({'|'.join(_COUNTED_DAYS)}))"
)


def parse_duration(text: str) -> int:
    """Seconds in a duration: ``3d``, ``1d 6h``, ``90m``, ``2 weeks``, ``in 3 days``,
    ``3일``, ``2주``, ``5시간``, ``30분``, ``1일 12시간``, ``이틀``, ``3일 후``."""
    cleaned = clean(text, "duration")
    cleaned = re.sub(r"^in\s+", "", cleaned)
    cleaned = re.sub(r"\s*(?:후|뒤|later|from now)$", "", cleaned)
    seconds, position, parts = 0, 0, 0
    while position < len(cleaned):
        match = _DURATION_PART.match(cleaned, position)
        if match is None or match.end() == position:
            raise WhenError("duration", text)
        if match.group(3):
            seconds += _COUNTED_DAYS[match.group(3)]
        else:
            seconds += int(match.group(1)) * _UNITS[match.group(2)]
        position, parts = match.end(), parts + 1
    if not parts:
        raise WhenError("duration", text)
    return seconds


# -- moments ----------------------------------------------------------------------------------

_STAMP = re.compile(r"^<t:(-?[0-9]{1,13})(?::[a-z])?>$")
_FILLER = frozenset({"at", "on", "the", "@", "-"})


def discord_timestamp(text: str) -> int | None:
    """The Unix time in Discord's timestamp markup (``<t:1800000000:F>``, ``<t:1800000000>``,
    what a member gets by copying a timestamp); None when ``text`` is not one."""
    match = _STAMP.match(clean(text))
    if match is None:
        return None
    seconds = int(match.group(1))
    try:
        dt.datetime.fromtimestamp(seconds, dt.UTC)
    except (OverflowError, OSError, ValueError):
        raise WhenError("date", text) from None
    return seconds


@dataclass(frozen=True, slots=True)
class Moment:
    """A day, the time of day typed (None: none was), and the zone they are in."""

    day: dt.date
    time: dt.time | None
    zone: dt.tzinfo

    def at(self, time: dt.time | None = None) -> dt.datetime:
        """The moment, at ``time`` if given, else at the time typed, else at 00:00."""
        clock = time or self.time or dt.time(0, 0)
        return dt.datetime.combine(self.day, clock, tzinfo=self.zone)


def _spaced(text: str) -> str:
    """Words a member ran together, apart: ``2026-12-24T18:00Z``, ``3월1일오후5시``,
    ``(월)오후``; commas and the particles ``까지`` / ``에`` at the end dropped."""
    text = text.replace(",", " ")
    text = re.sub(r"^([0-9]{4}-[0-9]{1,2}-[0-9]{1,2})t(?=[0-9])", r"\1 ", text)
    text = re.sub(r"([0-9]:[0-9]{2}(?::[0-9]{2})?)(z|utc|gmt|kst|[+-][0-9]{2}:?[0-9]{2})$", r"\1 \2", text)
    text = re.sub(r"([0-9]\s*일)(?=[^\s요])", r"\1 ", text)
    text = re.sub(r"\)(?=\S)", ") ", text)
    text = re.sub(rf"(?<=\S)({_KO_PERIOD}|정오|자정)", r" \1", text)
    text = re.sub(r"\s*(?:까지|에)$", "", text)
    return " ".join(text.split())


def _splits(count: int) -> Iterable[tuple[int, int]]:
    """Where the day ends and the time ends, longest day and time first."""
    for day_end in range(count, -1, -1):
        for time_end in range(count, day_end - 1, -1):
            yield day_end, time_end


def _part(read: Callable[[str], T], text: str) -> T | WhenError:
    """What ``read`` makes of ``text``, or why it could not."""
    try:
        return read(text)
    except WhenError as error:
        return error


def _time_in_moment(text: str) -> dt.time | None:
    if not text:
        return None
    if _bare_hour(text):  # "17" is a time only where a time was asked for, never in a date
        raise WhenError("time", text)
    return parse_time(text)


def _next(clock: dt.time | None, zone: dt.tzinfo, today: dt.date, now: float) -> Moment:
    """A time typed alone: today, or tomorrow once it has passed."""
    clock = clock or dt.time(0, 0)
    passed = dt.datetime.combine(today, clock, tzinfo=zone).timestamp() <= now
    return Moment(today + dt.timedelta(days=1) if passed else today, clock, zone)


def parse_moment(text: str, *, now: float, zone: dt.tzinfo, keep_zone: bool = False) -> Moment:
    """A day, an optional time and an optional zone typed together
    (``2027년 3월 1일 (월) 오후 5시 서울``, ``tomorrow 5pm KST``, ``2026-12-24T18:00Z``,
    ``금요일 오후 6시까지``), a time alone (its next occurrence), or Discord's timestamp
    markup.  ``zone`` is the zone when none is typed; with ``keep_zone`` it is the zone
    whatever is typed (a zone given elsewhere wins).

    When nothing fits, the error names the part most likely wrong: a day not on the
    calendar, else the time or the zone that follows a day read well, else the date."""
    stamp = discord_timestamp(text)
    if stamp is not None:
        local = dt.datetime.fromtimestamp(stamp, zone)
        return Moment(local.date(), local.time(), zone)
    tokens = [word for word in _spaced(clean(text)).split() if word not in _FILLER]
    if not tokens or len(tokens) > TOKENS_MAX:
        raise WhenError("date", text)
    blame: tuple[int, int, str] = (0, 0, "date")  # (how sure, -words blamed, kind)
    for day_end, time_end in _splits(len(tokens)):
        day_text = " ".join(tokens[:day_end])
        time_text = " ".join(tokens[day_end:time_end])
        zone_text = " ".join(tokens[time_end:])
        if not day_text and not time_text:
            continue
        typed_zone = _part(parse_zone, zone_text) if zone_text else zone
        tz = zone if keep_zone or isinstance(typed_zone, WhenError) else typed_zone
        today = dt.datetime.fromtimestamp(now, tz).date()
        day = _part(functools.partial(parse_day, today=today), day_text) if day_text else None
        clock = _part(_time_in_moment, time_text)
        read_well = not isinstance(typed_zone, WhenError)
        if read_well and not isinstance(day, WhenError) and not isinstance(clock, WhenError):
            return Moment(day, clock, tz) if day is not None else _next(clock, tz, today, now)
        suspect: tuple[int, int, str] = (0, 0, "date")
        if isinstance(day, WhenError):
            if day.kind == "day":
                suspect = (3, 0, "day")
        elif day is not None and isinstance(clock, WhenError):
            suspect = (2 if not isinstance(typed_zone, WhenError) else 1, -len(time_text.split()), "time")
        elif day is not None and isinstance(typed_zone, WhenError):
            suspect = (2, -len(zone_text.split()), "zone")
        if suspect[:2] > blame[:2]:
            blame = suspect
    raise WhenError(blame[2], text)


# -- what readers see -----------------------------------------------------------------------


def format_day(day: dt.date, language: str, *, weekday: bool | None = None) -> str:
    """A day as readers write it: ``2027년 3월 1일 (월)``, ``1 March 2027``.  The weekday
    is shown in Korean (as Korean readers expect) unless ``weekday`` says otherwise."""
    if language == "ko":
        text = f"{day.year}년 {day.month}월 {day.day}일"
        return f"{text} ({WEEKDAYS_KO[day.weekday()]})" if weekday is not False else text
    text = f"{day.day} {MONTHS_EN[day.month - 1]} {day.year}"
    return f"{WEEKDAYS_EN[day.weekday()]} {text}" if weekday else text


def format_clock(time: dt.time, language: str) -> str:
    """A time of day: ``오후 5시``, ``오후 5시 30분``, ``오전 0시`` (midnight); ``17:00``."""
    if language != "ko":
        return time.strftime("%H:%M:%S" if time.second else "%H:%M")
    period = MORNING_KO if time.hour < 12 else AFTERNOON_KO
    hour = time.hour % 12 or (12 if time.hour == 12 else 0)
    text = f"{period} {hour}시"
    if time.minute or time.second:
        text += f" {time.minute}분"
    if time.second:
        text += f" {time.second}초"
    return text


def format_moment(at: float | dt.datetime, zone: dt.tzinfo, language: str, *, with_zone: bool = True) -> str:
    """A moment in ``zone``: ``2027년 3월 1일 (월) 오후 5시 (한국 시간)``,
    ``Mon 1 March 2027, 17:00 (Asia/Seoul)``; shown beside a Discord timestamp, which
    each member's client shows in their own zone."""
    local = at.astimezone(zone) if isinstance(at, dt.datetime) else dt.datetime.fromtimestamp(at, zone)
    clock = format_clock(local.time(), language)
    if language == "ko":
        text = f"{format_day(local.date(), language)} {clock}"
    else:
        text = f"{format_day(local.date(), language, weekday=True)}, {clock}"
    return f"{text} ({zone_label(zone, language)})" if with_zone else text
