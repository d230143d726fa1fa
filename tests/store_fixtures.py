"""Fixtures for the store: a fresh database per test, on a clock the test moves.

Import the fixture from ``tests/conftest.py``::

    from tests.store_fixtures import store  # noqa: F401

Its clock stands still at :data:`START` until the test moves it:
``clock_of(store).advance(60)``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest_asyncio

from bot.models import (
    Canon,
    Certainty,
    CharacterFields,
    NewsFields,
    SourceRef,
    Spoiler,
    Stage,
    Statement,
    Status,
    TheoryFields,
)
from bot.store import Store
from tests.clock import Instant, ManualClock

__all__ = ["FakeClock", "clock_of", "small_canon", "store", "vote_of"]

START = 1_700_000_000  # 2023-11-14, a fixed "now" for every test


class FakeClock(ManualClock):
    """The tests' one clock (:class:`tests.clock.ManualClock`), starting at :data:`START`.

    Its time also reads as a number, ``clock.now``, as the store tests written before the
    one clock read it; ``clock.now()`` works too, so it drives a scheduler as well.
    """

    def __init__(self, now: float = START) -> None:
        super().__init__(now)

    @property
    def now(self) -> Instant:
        return Instant(self())


def clock_of(store: Store) -> FakeClock:
    """The clock of a store made by the ``store`` fixture."""
    assert isinstance(store.clock, FakeClock)
    return store.clock


@pytest_asyncio.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    """A freshly created database in the test's temporary folder, closed afterwards."""
    opened = await Store.open(tmp_path / "halfbie.db", clock=FakeClock())
    try:
        yield opened
    finally:
        await opened.close()


# -- a small canon for seed tests (the real one is loaded from data/) -------------------

ARTICLE = SourceRef("Wikipedia: All of Us Are Dead", Certainty.REPORTED, "https://example.org/aouad")
NETFLIX = SourceRef("Netflix", Certainty.OFFICIAL, "https://example.org/netflix")


def character(key: str, name: str, status: Status = Status.ALIVE, **extra: object) -> CharacterFields:
    """A card whose texts are given as plain strings (each a statement from ARTICLE; the
    Season 1 and Season 2 texts spoilers) or as statements."""
    values: dict[str, object] = {
        "key": key,
        "name": name,
        "role": Statement("student", ARTICLE),
        "status": status,
        "status_source": ARTICLE,
    }
    for part, text in extra.items():
        if part == "role" and isinstance(text, str):
            text = Statement(text, ARTICLE)
        elif part in ("fate_s1", "season2") and isinstance(text, str):
            text = (Statement(text, ARTICLE, Spoiler.FINALE),)
        elif part in ("fate_s1", "season2") and text is None:
            text = ()
        elif part in ("hangul", "actor") and text is not None:
            values[f"{part}_source"] = ARTICLE
        values[part] = text
    return CharacterFields(**values)  # type: ignore[arg-type]


def small_canon(version: int = 1) -> Canon:
    """Three characters, two news items, two theories; version 2 adds one of each."""
    characters = [
        character("cheong-san", "Lee Cheong-san", Status.PRESUMED_DEAD, hangul="이청산"),
        character("on-jo", "Nam On-jo", aliases=("Onjo",)),
        character("nam-ra", "Choi Nam-ra", Status.HALFBIE),
    ]
    news = [
        NewsFields("Season 2 confirmed", "2022-06-06", "2022-06-06", NETFLIX, key="s2-confirmed"),
        NewsFields("Filming rumoured", None, "2023-01-10", ARTICLE, key="s2-filming"),
    ]
    theories = [
        TheoryFields("Is Cheong-san alive?", ("Yes", "No"), ARTICLE, key="cheong-san-alive"),
        TheoryFields("Who is the next halfbie?", ("On-jo", "Su-hyeok", "Nobody"), ARTICLE, key="next"),
    ]
    if version >= 2:
        characters.append(character("su-hyeok", "Lee Su-hyeok"))
        news.append(NewsFields("Script reading", "2024-03-01", "2024-03-02", ARTICLE, key="s2-read"))
        theories.append(TheoryFields("Does Gwi-nam return?", ("Yes", "No"), ARTICLE, key="gwi-nam"))
    return Canon(
        version=version,
        article=ARTICLE,
        article_date="2024-01-01",
        stage=Stage.CONFIRMED,
        characters=tuple(characters),
        news=tuple(news),
        theories=tuple(theories),
    )


async def vote_of(store: Store, guild_id: int, theory_id: int, member_id: int) -> int | None:
    """The option a member's vote on a theory is for, or None (through the member's votes,
    as /privacy and /theory mine read them)."""
    votes = await store.theories.votes_of_member(guild_id, member_id)
    return next((vote.option for vote in votes if vote.theory_id == theory_id), None)
