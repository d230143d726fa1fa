"""What every surface does with a statement: the one spoiler rule and the certainty marks.

A statement (``bot.models.Statement``) is shown through :func:`shown`, which decides from
its spoiler level and the server's mode whether its text appears as it is, behind a
spoiler tag, or as a short note; nothing else in ``bot.render`` decides that.  Where
Discord cannot hide text (an embed's title, a button, a choice's name) a surface shows
the statement's spoiler-free form instead and never calls :func:`shown` on the rest.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import TYPE_CHECKING

from bot.models import Certainty, Spoiler, SpoilerMode, Statement
from bot.render.text import clip, safe

if TYPE_CHECKING:
    from bot.i18n import Texts
    from bot.models import SourceRef

# One mark per certainty, after each statement; the legend names those a message uses.
CERTAINTY_MARK: dict[Certainty, str] = {
    Certainty.OFFICIAL: "🎬",
    Certainty.REPORTED: "📰",
    Certainty.SPECULATION: "🔮",
    Certainty.FAN_THEORY: "💬",
    Certainty.OUTSIDE: "📎",
}


def hides(spoiler: Spoiler, mode: SpoilerMode) -> bool:
    """Whether text at this spoiler level must not be readable as it is in this mode."""
    return spoiler is not Spoiler.NONE and mode is not SpoilerMode.SHOWN


def tagged(text: str, limit: int) -> str:
    """Spoiler-tag text already made safe (escaped ``|`` cannot close the tag early)."""
    return "||" + safe(text, limit - 4) + "||"


def shown(text: str, spoiler: Spoiler, mode: SpoilerMode, t: Texts, limit: int) -> str:
    """The one rule: text as it is where it gives nothing away or the server shows
    spoilers, behind a spoiler tag where the server hides them, a short note where it
    leaves them out."""
    if spoiler is Spoiler.NONE or mode is SpoilerMode.SHOWN:
        return safe(text, limit)
    if mode is SpoilerMode.OMITTED:
        return clip(t("card.omitted"), limit)
    return tagged(text, limit)


_HANGUL = re.compile(r"[\uac00-\ud7a3\u1100-\u11ff\u3130-\u318f]")
_LATIN = re.compile(r"[A-Za-z]")


def localized(english: str, korean: str | None, t: Texts) -> str:
    """A text in the reader's language: the Korean one for a Korean reader when there is
    one.  Otherwise the one there is, marked when it is in the other language: English
    a Korean reads gets "(영어만)", Korean an English reader gets "(Korean only)".  (What
    members and admins type goes in the first field whatever its language, so the mark
    follows the letters, not the field.)"""
    if t.language == "ko":
        if korean:
            return korean
        if _LATIN.search(english) and not _HANGUL.search(english):
            return f"{english} {t('card.english_only')}"
        return english
    if _HANGUL.search(english) and not _LATIN.search(english):
        return f"{english} {t('card.korean_only')}"
    return english


def text_of(statement: Statement, t: Texts) -> str:
    """The statement in the reader's language (see :func:`localized`)."""
    return localized(statement.text, statement.ko, t)


def source_name(source: SourceRef, t: Texts) -> str:
    """A source's name as the reader knows it (넷플릭스 for a Korean reader)."""
    return (source.name_ko or source.name) if t.language == "ko" else source.name


def mark(certainty: Certainty) -> str:
    return CERTAINTY_MARK[Certainty(certainty)]


def line(statement: Statement, mode: SpoilerMode, t: Texts, limit: int) -> str:
    """One statement with its certainty mark (outside any spoiler tag: it tells how sure,
    not what)."""
    tail = " " + mark(statement.certainty)
    return shown(text_of(statement, t), statement.spoiler, mode, t, limit - len(tail)) + tail


def lines(statements: Iterable[Statement], mode: SpoilerMode, t: Texts, limit: int) -> str:
    """Statements one per line within ``limit`` in all; in ``omitted`` mode the notes
    for statements left out in a row are said once."""
    items = list(statements)
    if not items:
        return ""
    each = max(limit // len(items) - 1, 12)
    out: list[str] = []
    omitted = t("card.omitted")
    for statement in items:
        text = line(statement, mode, t, each)
        if hides(statement.spoiler, mode) and mode is SpoilerMode.OMITTED:
            text = omitted
            if out and out[-1] == omitted:
                continue
        out.append(text)
    return clip("\n".join(out), limit)


def legend(certainties: Iterable[Certainty], t: Texts) -> str:
    """The marks a message uses, each named once, in a fixed order."""
    used = set(certainties)
    return " · ".join(f"{CERTAINTY_MARK[c]} {t(f'certainty.{c.value}')}" for c in Certainty if c in used)


def sources(refs: Iterable[SourceRef], t: Texts) -> str:
    """Each source named once, in the order first used."""
    names: list[str] = []
    for ref in refs:
        if source_name(ref, t) not in names:
            names.append(source_name(ref, t))
    return t("card.sources", names="; ".join(names))
