"""What members and admins type for polls, read strictly: options, closing times,
theory references (autocomplete values arrive as raw strings) and outcomes.

Pure: a mistake raises a :mod:`bot.errors` class with a catalog key (``theory.*``,
``admin_theory.*``), answered in the member's language.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Sequence

from bot import when
from bot.checks import check_length
from bot.errors import BadInput, NotFound
from bot.limits import BUTTON_LABEL
from bot.models import DEFAULT_OPTIONS, Theory, TheoryStatus

OPTION_MAX = BUTTON_LABEL  # an option is a button's label (its number goes in front, clipped)
OPTIONS_MIN, OPTIONS_MAX = 2, 10
SEPARATOR = "|"
MIN_OPEN = 5 * 60  # seconds
MAX_OPEN = 366 * 86400
CONFIRMED, DEBUNKED = "confirmed", "debunked"

_THEORY_ID = re.compile(r"^\s*#?(\d{1,19})\b")


def parse_options(text: str | None) -> tuple[str, ...]:
    """``"Yes | No | Maybe"`` → the options; nothing typed → Agree / Disagree / Not sure."""
    if text is None or not text.strip():
        return DEFAULT_OPTIONS
    check_length(text, RAW_OPTIONS_MAX, "fields.options")
    options = tuple(part.strip() for part in text.split(SEPARATOR) if part.strip())
    if not OPTIONS_MIN <= len(options) <= OPTIONS_MAX:
        raise BadInput("theory.options_count", count=len(options))
    seen: set[str] = set()
    for number, option in enumerate(options, start=1):
        if len(option) > OPTION_MAX:
            raise BadInput("theory.option_too_long", number=number, length=len(option), limit=OPTION_MAX)
        folded = option.casefold()
        if folded in seen:
            raise BadInput("theory.options_same", option=option[:OPTION_MAX])
        seen.add(folded)
    return options


TITLE_MAX, DETAILS_MAX, RAW_OPTIONS_MAX, CLOSES_MAX = 200, 1000, 1000, 40


def parse_choices(count: int, options: int) -> int:
    """How many options a member may choose: 1 up to the number of options."""
    if not 1 <= count <= options:
        raise BadInput("theory.choices_bad", count=count, options=options)
    return count


def parse_title(text: str) -> str:
    title = (check_length(text, TITLE_MAX, "fields.title") or "").strip()
    if not title:
        raise BadInput("theory.title_blank")
    return title


def parse_details(text: str | None) -> str | None:
    details = check_length(text, DETAILS_MAX, "fields.details")
    return details.strip() if details and details.strip() else None


def parse_status(text: str | None) -> TheoryStatus | None:
    """A status from its fixed choices (a crafted request can send anything)."""
    if text is None:
        return None
    try:
        return TheoryStatus(text)
    except ValueError:
        raise BadInput("theory.status_unknown", text=text[:40]) from None


def parse_opening(text: str | None, now: float, zone: dt.tzinfo = dt.UTC) -> int | None:
    """When a scheduled poll opens, in Unix seconds; nothing typed → None (at once).

    What :func:`parse_closing` reads (a duration counts from now); a time already passed,
    or further than a poll may stay open, is refused."""
    if text is None or not text.strip():
        return None
    raw = (check_length(text, CLOSES_MAX, "fields.opens") or "").strip()
    opens_at = _moment(raw, now, zone, "theory.opens_bad")
    if opens_at <= now:
        raise BadInput("theory.opens_past")
    if opens_at - now > MAX_OPEN:
        raise BadInput("theory.opens_far", days=MAX_OPEN // 86400)
    return opens_at


def parse_closing(
    text: str | None, now: float, zone: dt.tzinfo = dt.UTC, *, opens_at: int | None = None
) -> int | None:
    """When voting ends, in Unix seconds; nothing typed → None (open until closed).

    A duration (``3d``, ``1d 6h``, ``90m``, ``3일``, ``1일 12시간``, ``이틀``), a day and
    time as English and Korean fans type them, with an optional zone (``2026-12-24 18:00``,
    ``내일 오후 5시``, ``금요일 오후 6시까지 서울``; ``zone`` when none is typed, UTC as
    the option's description says), or Discord's timestamp markup (``<t:1800000000:F>``).

    A scheduled poll (``opens_at``): a duration counts from its opening, and a time must
    come after it."""
    if text is None or not text.strip():
        return None
    raw = (check_length(text, CLOSES_MAX, "fields.closes") or "").strip()
    start = int(now) if opens_at is None else opens_at
    closes_at = _moment(raw, now, zone, "theory.closes_bad", start=start)
    if closes_at <= now:
        raise BadInput("theory.closes_past")
    if opens_at is not None and closes_at <= opens_at:
        raise BadInput("theory.opens_after_close")
    if closes_at - start < MIN_OPEN:
        raise BadInput("theory.closes_soon", minutes=MIN_OPEN // 60)
    if closes_at - start > MAX_OPEN:
        raise BadInput("theory.closes_far", days=MAX_OPEN // 86400)
    return closes_at


def _moment(raw: str, now: float, zone: dt.tzinfo, bad: str, *, start: int | None = None) -> int:
    """A duration (from ``start``, now if None) or a moment, in Unix seconds."""
    try:
        return (int(now) if start is None else start) + when.parse_duration(raw)
    except when.WhenError:
        pass
    try:
        return int(when.parse_moment(raw, now=now, zone=zone).at().timestamp())
    except (when.WhenError, OverflowError, ValueError):
        raise BadInput(bad, text=raw[:60]) from None


def theory_id_of(text: str) -> int | None:
    """``"12"``, ``"#12"`` or an autocomplete name ``"#12 Cheong-san…"`` → 12."""
    match = _THEORY_ID.match(text)
    return int(match.group(1)) if match else None


def find_theory(theories: Sequence[Theory], text: str) -> Theory:
    """The theory an option value names: its id (what autocomplete sends), or a title
    typed without picking (exactly, or as the only one containing it)."""
    wanted = theory_id_of(text)
    if wanted is not None:
        for theory in theories:
            if theory.id == wanted:
                return theory
    folded = " ".join(text.casefold().split())
    if folded:
        exact = [t for t in theories if " ".join(t.fields.title.casefold().split()) == folded]
        if len(exact) == 1:
            return exact[0]
        partial = [t for t in theories if folded in t.fields.title.casefold()]
        if len(partial) == 1:
            return partial[0]
        if len(partial) > 1:
            raise NotFound("theory.theory_ambiguous", text=text[:80])
    raise NotFound("theory.theory_unknown", text=text[:80])


def matching(
    theories: Sequence[Theory], current: str, title: Callable[[Theory], str], limit: int = 25
) -> list[Theory]:
    """Theories for an autocomplete: by id when a number is typed, else by ``title`` (the
    title as the list shows it: a spoiler is not searched where the server hides it)."""
    text = current.strip()
    wanted = theory_id_of(text)
    if wanted is not None:
        by_id = [t for t in theories if str(t.id).startswith(str(wanted))]
        if by_id:
            return by_id[:limit]
    folded = text.casefold()
    return [t for t in theories if folded in title(t).casefold()][:limit]


def is_default(theory: Theory) -> bool:
    return tuple(theory.fields.options) == DEFAULT_OPTIONS


def parse_outcome(theory: Theory, text: str) -> int:
    """The option that came true: its number (what autocomplete sends), its label, or
    for an Agree / Disagree poll "confirmed" (Agree) or "debunked" (Disagree)."""
    options = theory.fields.options
    raw = text.strip()
    folded = raw.casefold()
    if is_default(theory) and folded in (CONFIRMED, DEBUNKED):
        return 0 if folded == CONFIRMED else 1
    outcome: int | None = None
    if raw.isdigit() and 1 <= int(raw) <= len(options):
        outcome = int(raw) - 1
    labels = [" ".join(o.casefold().split()) for o in options]
    wanted = " ".join(folded.split())
    if outcome is None and wanted in labels:
        outcome = labels.index(wanted)
    if outcome is None:
        raise BadInput("admin_theory.outcome_unknown", text=raw[:80], count=len(options))
    if outcome not in outcomes(theory):
        raise BadInput("admin_theory.outcome_unsure", option=options[outcome][:80])
    return outcome


def outcomes(theory: Theory) -> range:
    """The options that can come true: an Agree / Disagree / Not sure poll's "Not sure"
    is an answer for voters, never an outcome."""
    return range(2) if is_default(theory) else range(len(theory.fields.options))
