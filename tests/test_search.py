"""The forgiving name search behind /character's autocomplete."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.canon import load_canon
from bot.search import NameIndex, normalize, typo_distance


@pytest.fixture(scope="module")
def index() -> NameIndex[str]:
    canon = load_canon()
    return NameIndex.build(
        (
            c.key,
            c.name,
            [c.name, c.key, *([c.hangul] if c.hangul else []), *c.aliases],
            [c.actor] if c.actor else [],
        )
        for c in canon.characters
    )


@pytest.mark.parametrize(
    ("typed", "key"),
    [
        ("namra", "nam-ra"),
        ("Nam ra", "nam-ra"),
        ("NAM-RA", "nam-ra"),
        ("Choi Nam-ra", "nam-ra"),
        ("Nam-ra Choi", "nam-ra"),
        ("최남라", "nam-ra"),
        ("남라", "nam-ra"),
        ("Cheongsan", "cheong-san"),
        ("Cheong-sna", "cheong-san"),
        ("cheong", "cheong-san"),
        ("Yoon Chan-young", "cheong-san"),
        ("Lomon", "su-hyeok"),
        ("Park Ji-hoo", "on-jo"),
        ("hyoryng", "hyo-ryung"),
        ("Kim Byung-chul", "byeong-chan"),
        ("Lee Eun-saem", "mi-jin"),
        ("Dae su", "dae-su"),
    ],
)
def test_forgiving_forms_find_the_character(index: NameIndex[str], typed: str, key: str) -> None:
    assert index.search(typed)[0] == key


def test_empty_lists_everyone_sorted(index: NameIndex[str]) -> None:
    assert len(index.search("")) == len(index)


def test_nonsense_finds_nothing_and_is_offered_nothing(index: NameIndex[str]) -> None:
    assert index.search("zzzzqqq") == []
    assert index.closest("zzzzqqq") == []  # "did you mean" never lists unrelated names


def test_typo_distance() -> None:
    assert typo_distance("cheongsna", "cheongsan", 2) == 1  # a transposition
    assert typo_distance("abc", "abd", 1) == 1
    assert typo_distance("abc", "xyz", 1) == 2  # beyond the limit: limit + 1


def test_normalize_drops_invisible_and_punctuation() -> None:
    assert normalize("Nam\u200b-ra\u202e") == "namra"
    assert normalize("  ＮＡＭ ＲＡ ") == "namra"


@given(st.text(max_size=5000))
def test_any_text_is_safe_and_bounded(text: str) -> None:
    index = NameIndex.build([("a", "A", ["Lee Cheong-san"], ["Yoon Chan-young"])])
    assert len(index.search(text)) <= 1
    assert len(index.closest(text)) <= 1
