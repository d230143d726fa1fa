"""What every surface does with a statement: the one spoiler rule and the certainty marks.

A statement (``bot.models.Statement``) is shown through :func:`shown`, which decides from
its spoiler level and the server's mode whether its text appears as it is, behind a
spoiler tag, or as a short note; nothing else in ``bot.render`` decides that.  Where
Discord cannot hide text (an embed's title, a button, a choice's name) a surface shows
the statement's spoiler-free form instead and never calls :func:`shown` on the rest.
"""

from __future__ import annotations

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


def text_of(statement: Statement, t: Texts) -> str:
    """The statement in the reader's language: its Korean text for a Korean reader when
    it has one; otherwise the English, which a Korean reader sees marked as such."""
    if t.language == "ko":
        return statement.ko or f"{statement.text} {t('card.english_only')}"
    return statement.text


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
        if ref.name not in names:
            names.append(ref.name)
    return t("card.sources", names="; ".join(names))
