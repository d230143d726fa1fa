"""Dates and times as English and Korean fans type them (``bot.when``), the commands
that read them, and Korean dates out.

The clock is fixed: ``NOW`` is Monday 7 December 2026, 12:00 UTC (21:00 in Seoul, 04:00
in Los Angeles).  Weeks start on Monday: ``다음 주 금요일`` on that Monday is Friday
18 December, ``이번 주 토요일`` Saturday 12 December.
"""

from __future__ import annotations

import ast
import contextlib
import datetime as dt
import inspect
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot import when
from bot.client import HalfbieBot
from bot.errors import BadInput
from bot.i18n import Catalog, Texts
from bot.render.release import day_text
from cogs.release import _dates
from cogs.theories import _input
from tests.conftest import BotRunner
from tests.fakediscord import FakeDiscord, FakeGuild

UTC = dt.UTC
SEOUL = ZoneInfo("Asia/Seoul")
LA = ZoneInfo("America/Los_Angeles")
NOW = dt.datetime(2026, 12, 7, 12, 0, tzinfo=UTC).timestamp()  # a Monday
TODAY = dt.date(2026, 12, 7)
SUNDAY = dt.date(2026, 12, 13)


def d(month: int, day: int, year: int = 2026) -> dt.date:
    return dt.date(year, month, day)


def at(year: int, month: int, day: int, hour: int = 0, minute: int = 0, zone: dt.tzinfo = UTC) -> int:
    return int(dt.datetime(year, month, day, hour, minute, tzinfo=zone).timestamp())


# -- days -------------------------------------------------------------------------------------

DAYS = [
    # ISO and its Korean dotted twins
    ("2027-03-01", d(3, 1, 2027)),
    ("2027-3-1", d(3, 1, 2027)),
    ("2027/03/01", d(3, 1, 2027)),
    ("2027.3.1", d(3, 1, 2027)),
    ("2027. 3. 1.", d(3, 1, 2027)),
    ("2027-03-01 (월)", d(3, 1, 2027)),
    # Korean
    ("2027년 3월 1일", d(3, 1, 2027)),
    ("2027년3월1일", d(3, 1, 2027)),
    ("2027년 3월 1일 (월)", d(3, 1, 2027)),
    ("2027년 3월 1일(월)", d(3, 1, 2027)),
    ("2027년 3월 1일 월요일", d(3, 1, 2027)),
    ("3월 1일", d(3, 1, 2027)),  # the next one: past this year's, so next year's
    ("1월 1일", d(1, 1, 2027)),  # over the year's end
    ("12월 7일", TODAY),  # today counts
    ("12월 6일", d(12, 6, 2027)),
    ("12월 25일", d(12, 25)),
    ("2월 29일", d(2, 29, 2028)),  # the next one there is
    ("오늘", TODAY),
    ("내일", d(12, 8)),
    ("모레", d(12, 9)),
    ("내일모레", d(12, 9)),
    ("어제", d(12, 6)),
    ("금요일", d(12, 11)),
    ("월요일", TODAY),  # a weekday alone: the next one, today included
    ("이번 주 토요일", d(12, 12)),
    ("이번주 토요일", d(12, 12)),
    ("이번 주 월요일", TODAY),
    ("다음 주 금요일", d(12, 18)),  # the Friday of next week, not the coming one
    ("다음주 금요일", d(12, 18)),
    ("다음 주 월요일", d(12, 14)),
    ("다다음 주 금요일", d(12, 25)),
    ("지난 주 금요일", d(12, 4)),
    # English
    ("March 1 2027", d(3, 1, 2027)),
    ("March 1, 2027", d(3, 1, 2027)),
    ("1 March 2027", d(3, 1, 2027)),
    ("1st March 2027", d(3, 1, 2027)),
    ("1st of March 2027", d(3, 1, 2027)),
    ("Monday, March 1, 2027", d(3, 1, 2027)),
    ("Mon 1 March 2027", d(3, 1, 2027)),
    ("Mar 1", d(3, 1, 2027)),
    ("mar. 1", d(3, 1, 2027)),
    ("1 Mar", d(3, 1, 2027)),
    ("Sept 30", d(9, 30, 2027)),
    ("Dec 25", d(12, 25)),
    ("today", TODAY),
    ("Tomorrow", d(12, 8)),
    ("the day after tomorrow", d(12, 9)),
    ("yesterday", d(12, 6)),
    ("friday", d(12, 11)),
    ("Fri", d(12, 11)),
    ("this friday", d(12, 11)),
    ("next friday", d(12, 18)),  # as 다음 주 금요일
    ("friday next week", d(12, 18)),
    ("friday this week", d(12, 11)),
    ("friday last week", d(12, 4)),
    ("last friday", d(12, 4)),
    # typed on a phone, pasted from somewhere
    ("２０２７년 ３월 １일", d(3, 1, 2027)),  # full-width digits
    ("２０２７－０３－０１", d(3, 1, 2027)),
    ("2027\u200b-03-\u200b01", d(3, 1, 2027)),  # zero-width spaces
    ("\ufeff내일\u200d", d(12, 8)),
    ("\u202e2027-03-01", d(3, 1, 2027)),  # a direction mark
    ("  2027년   3월\t1일  ", d(3, 1, 2027)),
    ("3월 1일 (월)", d(3, 1, 2027)),
]


@pytest.mark.parametrize(("typed", "expected"), DAYS)
def test_every_day_form_is_read(typed: str, expected: dt.date) -> None:
    assert when.parse_day(typed, today=TODAY) == expected


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("이번 주 토요일", d(12, 12)),  # this week's: yesterday
        ("이번 주 월요일", d(12, 7)),
        ("다음 주 월요일", d(12, 14)),  # tomorrow: next week starts tomorrow
        ("다음 주 금요일", d(12, 18)),
        ("금요일", d(12, 18)),
        ("일요일", SUNDAY),
        ("next friday", d(12, 18)),
    ],
)
def test_weeks_start_on_monday(typed: str, expected: dt.date) -> None:
    assert when.parse_day(typed, today=SUNDAY) == expected


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("3월 1일", d(3, 1)),
        ("12월 7일", TODAY),
        ("금요일", d(12, 4)),
        ("friday", d(12, 4)),
        ("Mar 1", d(3, 1)),
    ],
)
def test_past_news_reads_a_yearless_day_as_the_latest(typed: str, expected: dt.date) -> None:
    assert when.parse_day(typed, today=TODAY, prefer_past=True) == expected


@pytest.mark.parametrize(
    ("typed", "kind"),
    [
        ("", "date"),
        ("   ", "date"),
        ("\u200b", "date"),
        ("someday", "date"),
        ("3/1", "date"),  # month/day or day/month: refused rather than guessed
        ("2027-03", "date"),
        ("다음 주", "date"),
        ("금", "date"),
        ("next", "date"),
        ("March 2027", "date"),
        ("x" * 10_000, "date"),
        ("2027-02-30", "day"),
        ("2027년 2월 30일", "day"),
        ("2월 30일", "day"),
        ("13월 1일", "day"),
        ("2027-13-01", "day"),
        ("0000-01-01", "day"),
        ("2027년 3월 1일 (화)", "day"),  # 1 March 2027 is a Monday
        ("Tue 1 March 2027", "day"),
    ],
)
def test_what_is_not_a_day_is_refused_and_says_why(typed: str, kind: str) -> None:
    with pytest.raises(when.WhenError) as refused:
        when.parse_day(typed, today=TODAY)
    assert refused.value.kind == kind


# -- times of day ----------------------------------------------------------------------------

TIMES = [
    ("17:00", dt.time(17)),
    ("9:05", dt.time(9, 5)),
    ("17:00:30", dt.time(17, 0, 30)),
    ("17h30", dt.time(17, 30)),
    ("17", dt.time(17)),  # where a time is asked for, an hour alone is one
    ("5pm", dt.time(17)),
    ("5 PM", dt.time(17)),
    ("5:30 pm", dt.time(17, 30)),
    ("5:30p.m.", dt.time(17, 30)),
    ("12am", dt.time(0)),
    ("12pm", dt.time(12)),
    ("9am", dt.time(9)),
    ("noon", dt.time(12)),
    ("midnight", dt.time(0)),
    ("오후 5시", dt.time(17)),
    ("오후5시", dt.time(17)),
    ("오후 5시 30분", dt.time(17, 30)),
    ("오후 5:30", dt.time(17, 30)),
    ("오전 9시 30분", dt.time(9, 30)),
    ("오전 12시", dt.time(0)),
    ("오전 0시", dt.time(0)),
    ("오후 12시", dt.time(12)),
    ("저녁 7시", dt.time(19)),
    ("밤 11시", dt.time(23)),
    ("밤 12시", dt.time(0)),
    ("밤 1시", dt.time(1)),  # the small hours
    ("새벽 3시", dt.time(3)),
    ("아침 8시", dt.time(8)),
    ("낮 2시", dt.time(14)),
    ("낮 12시", dt.time(12)),
    ("점심 1시", dt.time(13)),
    ("17시", dt.time(17)),
    ("17시 30분", dt.time(17, 30)),
    ("5시 반", dt.time(5, 30)),
    ("오후 5시 반", dt.time(17, 30)),
    ("오후 5시 30분 15초", dt.time(17, 30, 15)),
    ("정오", dt.time(12)),
    ("자정", dt.time(0)),
    ("１７：００", dt.time(17)),  # full-width
    ("오후 ５시", dt.time(17)),
]


@pytest.mark.parametrize(("typed", "expected"), TIMES)
def test_every_time_form_is_read(typed: str, expected: dt.time) -> None:
    assert when.parse_time(typed) == expected


@pytest.mark.parametrize(
    "typed",
    ["", "25:00", "24:00", "5:60", "13pm", "0pm", "오후 13시", "오후 0시", "저녁 12시", "5시 61분", "오후",
     "pm 5pm", "5 o'clock", "soon", "x" * 10_000],
)  # fmt: skip
def test_what_is_not_a_time_is_refused(typed: str) -> None:
    with pytest.raises(when.WhenError) as refused:
        when.parse_time(typed)
    assert refused.value.kind == "time"


# -- time zones -----------------------------------------------------------------------------

ZONES = [
    ("Asia/Seoul", "Asia/Seoul"),
    ("asia/seoul", "Asia/Seoul"),
    ("KST", "Asia/Seoul"),
    ("kst", "Asia/Seoul"),
    ("서울", "Asia/Seoul"),
    ("한국", "Asia/Seoul"),
    ("대한민국", "Asia/Seoul"),
    ("Korea", "Asia/Seoul"),
    ("South Korea", "Asia/Seoul"),
    ("한국 시간", "Asia/Seoul"),
    ("한국시간", "Asia/Seoul"),
    ("(한국 시간)", "Asia/Seoul"),
    ("서울 표준시", "Asia/Seoul"),
    ("Korea Standard Time", "Asia/Seoul"),
    ("UTC", "UTC"),
    ("gmt", "UTC"),
    ("Z", "UTC"),
    ("UTC+0", "UTC"),
    ("UTC+9", "UTC+09:00"),
    ("+09:00", "UTC+09:00"),
    ("+0900", "UTC+09:00"),
    ("GMT-5", "UTC-05:00"),
    ("UTC\u22125:30", "UTC-05:30"),  # a real minus sign
    ("UTC+5:45", "UTC+05:45"),
    ("America/New York", "America/New_York"),
    ("Europe/London", "Europe/London"),
    ("ｋｓｔ", "Asia/Seoul"),
]


@pytest.mark.parametrize(("typed", "expected"), ZONES)
def test_every_zone_form_is_read(typed: str, expected: str) -> None:
    assert when.zone_name(when.parse_zone(typed)) == expected


@pytest.mark.parametrize(
    "typed", ["", "Mars/Olympus", "+15", "UTC+14:30", "UTC+9:60", "북한", "Seoul/Korea", "x" * 10_000]
)
def test_what_is_not_a_zone_is_refused(typed: str) -> None:
    with pytest.raises(when.WhenError) as refused:
        when.parse_zone(typed)
    assert refused.value.kind == "zone"


@pytest.mark.parametrize("typed", ["korea", "Korea", "한국", "서울", "kst", "KST", "ko", "대한", "seoul"])
def test_the_zone_autocomplete_offers_seoul_for_what_fans_type(typed: str) -> None:
    label, value = when.zone_choices(typed)[0]
    assert value == "Asia/Seoul"
    assert "서울" in label


def test_the_zone_autocomplete_keeps_offering_iana_names_and_offsets() -> None:
    assert [value for _, value in when.zone_choices("")][:2] == ["Asia/Seoul", "UTC"]
    assert "America/New_York" in [value for _, value in when.zone_choices("new york")]
    assert when.zone_choices("+9")[0][1] == "UTC+09:00"
    assert len(when.zone_choices("a")) == 25
    assert when.zone_choices("x" * 10_000) == []
    for _, value in when.zone_choices("e") + when.zone_choices("+5:30"):
        when.parse_zone(value)  # every value offered is read back


# -- durations --------------------------------------------------------------------------------

H, D = 3600, 86400
DURATIONS = [
    ("3d", 3 * D),
    ("2d 3h", 2 * D + 3 * H),
    ("1d6h", D + 6 * H),
    ("90m", 90 * 60),
    ("10min", 600),
    ("1w", 7 * D),
    ("2 weeks", 14 * D),
    ("3 days", 3 * D),
    ("1 day and 6 hours", D + 6 * H),
    ("in 3 days", 3 * D),
    ("3일", 3 * D),
    ("2주", 14 * D),
    ("1주일", 7 * D),
    ("5시간", 5 * H),
    ("30분", 1800),
    ("1일 12시간", D + 12 * H),
    ("1시간 30분", H + 1800),
    ("3일 후", 3 * D),
    ("2시간 뒤", 2 * H),
    ("하루", D),
    ("이틀", 2 * D),
    ("３일", 3 * D),
    ("3D", 3 * D),
]


@pytest.mark.parametrize(("typed", "seconds"), DURATIONS)
def test_every_duration_form_is_read(typed: str, seconds: int) -> None:
    assert when.parse_duration(typed) == seconds


@pytest.mark.parametrize(
    "typed", ["", "soon", "3", "3mo", "d", "3일 뒤에", "3 days later later", "x" * 10_000]
)
def test_what_is_not_a_duration_is_refused(typed: str) -> None:
    with pytest.raises(when.WhenError) as refused:
        when.parse_duration(typed)
    assert refused.value.kind == "duration"


# -- moments: a day, a time and a zone in one text ------------------------------------------

MOMENTS = [
    ("2027년 3월 1일 (월) 오후 5시 서울", UTC, at(2027, 3, 1, 17, zone=SEOUL)),
    ("2027년 3월 1일 오후 5시", SEOUL, at(2027, 3, 1, 17, zone=SEOUL)),
    ("2027년3월1일오후5시", SEOUL, at(2027, 3, 1, 17, zone=SEOUL)),
    ("2027. 3. 1. 17:00 KST", UTC, at(2027, 3, 1, 17, zone=SEOUL)),
    ("3월 1일 오전 9시 30분", SEOUL, at(2027, 3, 1, 9, 30, zone=SEOUL)),
    ("내일 오후 5시", UTC, at(2026, 12, 8, 17)),
    ("내일 오후 5시", SEOUL, at(2026, 12, 8, 17, zone=SEOUL)),
    ("내일 저녁 7시", SEOUL, at(2026, 12, 8, 19, zone=SEOUL)),
    ("모레 정오", UTC, at(2026, 12, 9, 12)),
    ("다음 주 금요일 밤 11시", SEOUL, at(2026, 12, 18, 23, zone=SEOUL)),
    ("금요일 오후 6시까지", UTC, at(2026, 12, 11, 18)),
    ("금요일 자정", UTC, at(2026, 12, 11)),
    ("tomorrow 5pm KST", UTC, at(2026, 12, 8, 17, zone=SEOUL)),
    ("next friday at 5:30 pm", UTC, at(2026, 12, 18, 17, 30)),
    ("March 1, 2027 17:00 Asia/Seoul", UTC, at(2027, 3, 1, 17, zone=SEOUL)),
    ("Mon 1 March 2027, 17:00 (Asia/Seoul)", UTC, at(2027, 3, 1, 17, zone=SEOUL)),
    ("2026-12-24 18:00", UTC, at(2026, 12, 24, 18)),
    ("2026-12-24T18:00", UTC, at(2026, 12, 24, 18)),
    ("2026-12-24T18:00Z", SEOUL, at(2026, 12, 24, 18)),
    ("2026-12-24T18:00+09:00", UTC, at(2026, 12, 24, 9)),
    ("2026-12-24 18:00 UTC", SEOUL, at(2026, 12, 24, 18)),
    ("2026-12-24 18:00UTC", SEOUL, at(2026, 12, 24, 18)),
    ("2026-12-24", UTC, at(2026, 12, 24)),  # a day alone: its start
    ("2026-12-24 America/Los_Angeles", UTC, at(2026, 12, 24, zone=LA)),
    # a time alone: its next occurrence in the zone (NOW is 12:00 UTC, 21:00 in Seoul)
    ("오후 5시", UTC, at(2026, 12, 7, 17)),
    ("오후 5시", SEOUL, at(2026, 12, 8, 17, zone=SEOUL)),
    ("오전 9시", UTC, at(2026, 12, 8, 9)),
    ("12:00", UTC, at(2026, 12, 8, 12)),  # now is not ahead of now
    # Discord's timestamp markup: the moment itself, whatever the zone
    ("<t:1800000000:F>", UTC, 1_800_000_000),
    ("<t:1800000000>", SEOUL, 1_800_000_000),
    ("<t:1800000000:R>", LA, 1_800_000_000),
    # pasted with full-width digits and invisible characters
    ("２０２７년 ３월 １일 오후 ５시 서울", UTC, at(2027, 3, 1, 17, zone=SEOUL)),
    ("2027년\u200b 3월 1일 오후\u2060 5시", SEOUL, at(2027, 3, 1, 17, zone=SEOUL)),
]


@pytest.mark.parametrize(("typed", "zone", "expected"), MOMENTS)
def test_every_moment_form_is_read(typed: str, zone: dt.tzinfo, expected: int) -> None:
    assert when.parse_moment(typed, now=NOW, zone=zone).at().timestamp() == expected


def test_today_is_the_day_it_is_in_the_zone() -> None:
    sunday_night = dt.datetime(2026, 12, 6, 20, 0, tzinfo=UTC).timestamp()  # Monday 05:00 in Seoul
    assert when.parse_moment("내일", now=sunday_night, zone=UTC).day == d(12, 7)
    assert when.parse_moment("내일", now=sunday_night, zone=SEOUL).day == d(12, 8)
    assert when.parse_moment("내일 KST", now=sunday_night, zone=UTC).day == d(12, 8)
    assert when.parse_moment("3월 1일", now=sunday_night, zone=LA).day == d(3, 1, 2027)
    # a zone given elsewhere (the command's own option) wins over one typed in the date
    kept = when.parse_moment("내일 KST", now=sunday_night, zone=UTC, keep_zone=True)
    assert (kept.day, kept.zone) == (d(12, 7), UTC)


@pytest.mark.parametrize(
    ("typed", "kind"),
    [
        ("someday", "date"),
        ("", "date"),
        ("2025-02-30", "day"),
        ("2025-02-30 17:00", "day"),
        ("2027-01-01 25:00", "time"),
        ("2027-01-01 오후 13시", "time"),
        ("2027-01-01 17:00 Mars/Olympus", "zone"),
        ("March 1 17", "time"),  # an hour alone is not a time inside a date
        ("<t:99999999999999:F>", "date"),
        ("x" * 10_000, "date"),
        ("1 2 3 4 5 6 7 8 9 10 11 12 13 14 15", "date"),
    ],
)
def test_a_moment_that_cannot_be_read_names_the_part_that_is_wrong(typed: str, kind: str) -> None:
    with pytest.raises(when.WhenError) as refused:
        when.parse_moment(typed, now=NOW, zone=UTC)
    assert refused.value.kind == kind


# -- what readers see -----------------------------------------------------------------------


def test_korean_dates_read_as_korean_readers_write_them() -> None:
    five = dt.datetime(2027, 3, 1, 17, 0, tzinfo=SEOUL)
    assert when.format_day(d(3, 1, 2027), "ko") == "2027년 3월 1일 (월)"
    assert when.format_moment(five, SEOUL, "ko", with_zone=False) == "2027년 3월 1일 (월) 오후 5시"
    assert when.format_moment(five, SEOUL, "ko") == "2027년 3월 1일 (월) 오후 5시 (한국 시간)"
    assert when.format_moment(five.replace(minute=30), SEOUL, "ko", with_zone=False).endswith("오후 5시 30분")
    assert when.format_clock(dt.time(0, 0), "ko") == "오전 0시"
    assert when.format_clock(dt.time(12, 0), "ko") == "오후 12시"
    assert when.format_clock(dt.time(9, 5), "ko") == "오전 9시 5분"
    assert when.format_moment(five, UTC, "ko") == "2027년 3월 1일 (월) 오전 8시 (UTC)"
    assert when.format_moment(five.timestamp(), dt.timezone(dt.timedelta(hours=9)), "ko").endswith(
        "(UTC+09:00)"
    )


def test_english_dates_read_as_english_readers_write_them() -> None:
    five = dt.datetime(2027, 3, 1, 17, 0, tzinfo=SEOUL)
    assert when.format_day(d(3, 1, 2027), "en") == "1 March 2027"
    assert when.format_day(d(3, 1, 2027), "en", weekday=True) == "Mon 1 March 2027"
    assert when.format_moment(five, SEOUL, "en") == "Mon 1 March 2027, 17:00 (Asia/Seoul)"


def test_news_days_render_in_the_readers_language() -> None:
    catalog = Catalog.load()
    assert day_text("2027-03-01", Texts(catalog, "ko")) == "2027년 3월 1일 (월)"
    assert day_text("2022-07-19", Texts(catalog, "en")) == "19 July 2022"


ROUND_TRIP_ZONES = [
    UTC,
    SEOUL,
    dt.timezone(dt.timedelta(hours=5, minutes=30)),
    dt.timezone(-dt.timedelta(hours=9, minutes=30)),
    dt.timezone(dt.timedelta(hours=14)),
]


@settings(max_examples=300)
@given(
    seconds=st.integers(
        min_value=int(dt.datetime(1990, 1, 1, tzinfo=UTC).timestamp()),
        max_value=int(dt.datetime(2200, 12, 31, tzinfo=UTC).timestamp()),
    ),
    zone=st.sampled_from(ROUND_TRIP_ZONES),
    language=st.sampled_from(["ko", "en"]),
    default=st.sampled_from([UTC, SEOUL, LA]),
)
def test_a_formatted_moment_reads_back_as_the_same_moment(
    seconds: int, zone: dt.tzinfo, language: str, default: dt.tzinfo
) -> None:
    text = when.format_moment(seconds, zone, language)
    assert when.parse_moment(text, now=NOW, zone=default).at().timestamp() == seconds, text
    bare = when.format_moment(seconds, zone, language, with_zone=False)
    assert when.parse_moment(bare, now=NOW, zone=zone).at().timestamp() == seconds, bare


@settings(max_examples=300)
@given(
    st.text(max_size=120)
    | st.text(alphabet="0123456789년월일시분 :-./()오전후내모레주금요다음kstmarpn", max_size=60)
)
def test_any_text_is_read_or_refused_never_crashes(text: str) -> None:
    readers = [
        lambda: when.parse_day(text, today=TODAY),
        lambda: when.parse_time(text),
        lambda: when.parse_zone(text),
        lambda: when.parse_duration(text),
        lambda: when.parse_moment(text, now=NOW, zone=SEOUL),
    ]
    for read in readers:
        with contextlib.suppress(when.WhenError):
            read()
    for _, value in when.zone_choices(text):
        when.parse_zone(value)


def test_the_readers_never_look_at_a_clock() -> None:
    """``now`` comes in; nothing in bot.when asks the system for the time."""
    tree = ast.parse(Path(inspect.getfile(when)).read_text("utf-8"))
    imported = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    called = {
        node.func.attr
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
    }
    assert "time" not in imported
    assert not called & {"now", "today", "utcnow", "monotonic", "localtime"}


# -- the commands' readers ---------------------------------------------------------------------

KO = Texts(Catalog.load(), "ko")
EN = Texts(Catalog.load(), "en")


@pytest.mark.parametrize(
    ("date", "time", "zone", "expected"),
    [
        ("2027년 3월 1일", "오후 5시", "서울", at(2027, 3, 1, 17, zone=SEOUL)),
        ("2027-03-01", "17:00", "Asia/Seoul", at(2027, 3, 1, 17, zone=SEOUL)),
        ("2027-03-01", "17:00", "KST", at(2027, 3, 1, 17, zone=SEOUL)),
        ("2027-03-01", None, None, at(2027, 3, 1)),  # 00:00 UTC, as the example says
        ("2027년 3월 1일 오후 5시 서울", None, None, at(2027, 3, 1, 17, zone=SEOUL)),
        ("2027-03-01 09:00 UTC", "오후 5시", "한국", at(2027, 3, 1, 17, zone=SEOUL)),  # options win
        ("3월 1일", "5pm", "Korea", at(2027, 3, 1, 17, zone=SEOUL)),
        ("다음 주 금요일", "저녁 7시", "대한민국", at(2026, 12, 18, 19, zone=SEOUL)),
        ("<t:1800000000:F>", None, "서울", 1_800_000_000),
    ],
)
def test_a_premiere_is_read_in_either_language(
    date: str, time: str | None, zone: str | None, expected: int
) -> None:
    assert _dates.parse_premiere(date, time, zone, now=NOW, t=KO).at == expected
    assert _dates.parse_premiere(date, time, zone, now=NOW, t=EN).at == expected


def test_a_premiere_is_echoed_in_the_admins_language() -> None:
    typed = ("2027년 3월 1일", "오후 5시 30분", "서울")
    assert (
        _dates.parse_premiere(*typed, now=NOW, t=KO).typed == "2027년 3월 1일 (월) 오후 5시 30분 (한국 시간)"
    )
    assert _dates.parse_premiere(*typed, now=NOW, t=EN).typed == "Mon 1 March 2027, 17:30 (Asia/Seoul)"


@pytest.mark.parametrize(
    ("date", "time", "zone", "key"),
    [
        ("언젠가", None, None, "admin_release.bad_date"),
        ("2027년 2월 30일", None, None, "admin_release.bad_day"),
        ("2027-01-01", "오후 13시", None, "admin_release.bad_time"),
        ("2027-01-01", None, "화성", "admin_release.bad_zone"),
        ("2027-01-01 25:00", None, None, "admin_release.bad_time"),
        ("2045년 1월 1일", None, None, "admin_release.too_far"),
        ("２" * 10_000, None, None, "admin_release.bad_date"),
    ],
)
def test_a_wrong_premiere_answers_with_an_example(
    date: str, time: str | None, zone: str | None, key: str
) -> None:
    with pytest.raises(BadInput) as refused:
        _dates.parse_premiere(date, time, zone, now=NOW, t=KO)
    assert refused.value.key == key
    assert "2027년 3월 1일" in refused.value.values["example"]


def test_news_days_are_read_in_either_language() -> None:
    assert _dates.parse_news_date("2024년 5월 1일", now=NOW, t=KO) == "2024-05-01"
    assert _dates.parse_news_date("2024. 5. 1.", now=NOW, t=KO) == "2024-05-01"
    assert _dates.parse_news_date("3월 1일", now=NOW, t=KO) == "2026-03-01"  # news is past
    assert _dates.parse_news_date("어제", now=NOW, t=KO) == "2026-12-06"
    assert _dates.parse_news_date("May 1 2024", now=NOW, t=EN) == "2024-05-01"
    for wrong in ("언젠가", "2024년 2월 30일", "x" * 10_000):
        with pytest.raises(BadInput) as refused:
            _dates.parse_news_date(wrong, now=NOW, t=KO)
        assert refused.value.key == "admin_release.news_bad_date"


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("3d", NOW + 3 * D),
        ("2d 3h", NOW + 2 * D + 3 * H),
        ("3일", NOW + 3 * D),
        ("2주", NOW + 14 * D),
        ("5시간", NOW + 5 * H),
        ("30분", NOW + 1800),
        ("1일 12시간", NOW + D + 12 * H),
        ("2026-12-24 18:00", at(2026, 12, 24, 18)),  # UTC when no zone is typed
        ("2026-12-24 18:00 KST", at(2026, 12, 24, 18, zone=SEOUL)),
        ("12월 24일 오후 6시 서울", at(2026, 12, 24, 18, zone=SEOUL)),
        ("금요일 오후 6시까지", at(2026, 12, 11, 18)),
        ("내일", at(2026, 12, 8)),
        ("<t:1800000000:F>", 1_800_000_000),
        ("<t:1800000000>", 1_800_000_000),
    ],
)
def test_a_closing_time_is_read_in_either_language(typed: str, expected: float) -> None:
    assert _input.parse_closing(typed, NOW) == int(expected)


@pytest.mark.parametrize(
    ("typed", "key"),
    [
        ("soon", "theory.closes_bad"),
        ("언젠가", "theory.closes_bad"),
        ("2026년 2월 30일", "theory.closes_bad"),
        ("2001-01-01 00:00", "theory.closes_past"),
        ("어제", "theory.closes_past"),
        ("<t:1000000000:F>", "theory.closes_past"),
        ("1분", "theory.closes_soon"),
        ("400일", "theory.closes_far"),
        ("2030년 1월 1일", "theory.closes_far"),
        ("３일" * 21, "errors.too_long"),  # over the option's 40 characters
    ],
)
def test_a_wrong_closing_time_is_refused_with_its_message(typed: str, key: str) -> None:
    with pytest.raises(BadInput) as refused:
        _input.parse_closing(typed, NOW)
    assert refused.value.key == key


# -- end to end, in a Korean server ------------------------------------------------------------


async def korean_server(fake_discord: FakeDiscord, bot: HalfbieBot) -> FakeGuild:
    guild = fake_discord.add_guild("지금 우리 학교는 팬", locale="ko")
    await fake_discord.barrier()
    await bot.store.settings.update(guild.id, None, language="ko")
    return guild


async def test_an_admin_sets_the_premiere_in_korean(
    runner: BotRunner, bot: HalfbieBot, fake_discord: FakeDiscord
) -> None:
    guild = await korean_server(fake_discord, bot)
    owner = guild.owner
    for typed in ("korea", "한국", "서울", "kst"):
        choices = await fake_discord.autocomplete(
            guild, owner, "admin release date", focused="timezone", timezone=typed
        )
        assert choices[0]["value"] == "Asia/Seoul", typed

    asked = await fake_discord.slash(
        guild, owner, "admin release date", locale="ko",
        date="2027년 3월 1일", time="오후 5시", timezone="서울", source="넷플릭스",
    )  # fmt: skip
    await asked.response()
    assert asked.message is not None
    premiere = at(2027, 3, 1, 17, zone=SEOUL)
    assert f"<t:{premiere}:F>" in asked.embeds[0]["description"]  # the post, previewed
    yes = asked.message.buttons()[0]["custom_id"]  # the first date asks to be confirmed
    click = await fake_discord.click(guild, owner, asked, yes)
    await click.response()
    [answer] = await click.wait_followups(1)
    assert (await bot.store.release.get(guild.id)).premiere_at == premiere
    assert "2027년 3월 1일 (월) 오후 5시 (한국 시간)" in answer.content  # read as
    assert f"<t:{premiere}:F>" in answer.content  # beside the timestamp

    wrong = await fake_discord.slash(
        guild, owner, "admin release date", locale="ko", date="2027년 2월 30일", source="넷플릭스"
    )
    await wrong.response()
    assert "`2027년 2월 30일`" in (wrong.content or "")
    assert "`2027년 3월 1일`" in (wrong.content or "")  # a Korean example to follow
    assert (await bot.store.release.get(guild.id)).premiere_at == premiere


async def test_a_poll_closes_when_a_korean_fan_says(
    runner: BotRunner, bot: HalfbieBot, fake_discord: FakeDiscord
) -> None:
    guild = await korean_server(fake_discord, bot)
    now = int(bot.clock.now())
    for closes, expected in (
        ("2027년 3월 1일 오후 5시 서울", at(2027, 3, 1, 17, zone=SEOUL)),
        ("1일 12시간", now + D + 12 * H),
    ):
        made = await fake_discord.slash(
            guild,
            guild.owner,
            "theory new",
            locale="ko",
            options={"title": f"청산이 돌아온다 {closes}", "closes": closes},
        )
        await made.response()
        assert made.message is not None, made.content
        theory_id = int(made.custom_ids()[0].split(":")[1])
        theory = await bot.store.theories.get(guild.id, theory_id)
        assert theory is not None
        assert theory.fields.closes_at == expected
    wrong = await fake_discord.slash(
        guild, guild.owner, "theory new", locale="ko", options={"title": "틀린 마감", "closes": "언젠가"}
    )
    await wrong.response()
    assert wrong.ephemeral
    assert "언젠가" in (wrong.content or "")
    assert "`12월 24일 오후 6시`" in (wrong.content or "")  # a Korean example to follow

    # A time typed without a zone by a member answered in Korean is Korean time.
    made = await fake_discord.slash(
        guild,
        guild.owner,
        "theory new",
        locale="ko",
        options={"title": "마감 시각만", "closes": "2027-03-01 17:00"},
    )
    await made.response()
    assert made.message is not None, made.content
    theory = await bot.store.theories.get(guild.id, int(made.custom_ids()[0].split(":")[1]))
    assert theory is not None
    assert theory.fields.closes_at == at(2027, 3, 1, 17, zone=SEOUL)
