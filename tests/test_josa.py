"""Korean particles chosen by the word they follow, and the Korean catalog's words.

The expectations below are written by hand, from how a Korean reads each word aloud;
the particle function is never used to compute what it is checked against.
"""

from __future__ import annotations

import re
import string
import tomllib
from pathlib import Path
from typing import Any

import pytest

from bot.client import HalfbieBot
from bot.i18n import Catalog, format_message
from bot.i18n.josa import PARTICLES, attach, particle
from tests.fakediscord import FakeDiscord, FakeGuild

ROOT = Path(__file__).resolve().parent.parent
CATALOG = Catalog.load()
KOREAN = CATALOG.messages["ko"]

# How a word ends when read in Korean: C a 받침 other than ㄹ, L ㄹ, V none.
# Every form each ending takes, by the form the catalog writes.
FORMS = {
    "C": {
        "이": "이",
        "을": "을",
        "은": "은",
        "과": "과",
        "으로": "으로",
        "이에요": "이에요",
        "아": "아",
        "이나": "이나",
    },
    "L": {
        "이": "이",
        "을": "을",
        "은": "은",
        "과": "과",
        "으로": "로",
        "이에요": "이에요",
        "아": "아",
        "이나": "이나",
    },
    "V": {
        "이": "가",
        "을": "를",
        "은": "는",
        "과": "와",
        "으로": "로",
        "이에요": "예요",
        "아": "야",
        "이나": "나",
    },
}

# Every name the seed data gives (characters, actors, aliases, sources, outlets).
SEEDED = {
    "Lee Cheong-san": "C", "이청산": "C", "Yoon Chan-young": "C", "윤찬영": "C", "Cheongsan": "C",
    "Cheong san": "C", "Chungsan": "C", "Lee Cheongsan": "C", "청산": "C",
    "Choi Nam-ra": "V", "최남라": "V", "Cho Yi-hyun": "C", "조이현": "C", "Namra": "V", "Nam ra": "V",
    "Choi Namra": "V", "남라": "V",
    "Lee Su-hyeok": "C", "이수혁": "C", "Lomon": "C", "로몬": "C", "Suhyeok": "C", "Su hyeok": "C",
    "Suhyuk": "C", "Su-hyuk": "C", "수혁": "C",
    "Nam On-jo": "V", "남온조": "V", "Park Ji-hoo": "V", "박지후": "V", "Onjo": "V", "On jo": "V",
    "Nam Onjo": "V", "온조": "V",
    "Park Mi-jin": "C", "박미진": "C", "Lee Eun-saem": "C", "이은샘": "C", "Mijin": "C", "Mi jin": "C",
    "Park Mijin": "C", "미진": "C",
    "Yang Dae-su": "V", "양대수": "V", "Daesu": "V", "Dae su": "V", "Yang Daesu": "V", "대수": "V",
    "Jang Ha-ri": "V", "장하리": "V", "Hari": "V", "Ha ri": "V", "Jang Hari": "V", "하리": "V",
    "Seo Hyo-ryung": "C", "서효령": "C", "Hyoryung": "C", "Hyo ryung": "C", "Seo Hyoryung": "C", "효령": "C",
    "Lee Byeong-chan": "C", "이병찬": "C", "Kim Byung-chul": "L", "김병철": "L", "Byeongchan": "C",
    "Byeong chan": "C", "Byungchan": "C", "Lee Byung-chan": "C", "Science teacher": "V", "병찬": "C",
    "과학 선생님": "C", "과학 교사": "V",
    "Netflix's cast credits": "V", "넷플릭스 출연진 정보": "V",
    "Netflix (via the article)": "V", "넷플릭스(기사 재인용)": "V",
    "Director Lee Jae-kyoo (via the article)": "V", "이재규 감독(기사 재인용)": "C",
    "Director Lee Jae-kyoo to the Korea Herald (via the article)": "V",
    "코리아헤럴드에 밝힌 이재규 감독(기사 재인용)": "C",
    "The article": "L", "해당 기사": "V", "Newsweek (via the article)": "V", "뉴스위크(기사 재인용)": "V",
    "Fans, as reported in the article": "L", "기사가 전한 팬들의 생각": "C",
    "Halfbie's own question (the article leaves it open)": "C",
    "Halfbie의 자체 질문(기사에는 답이 없음)": "C",
    "Netflix": "V", "넷플릭스": "V", "Newsweek": "V", "뉴스위크": "V", "The Korea Herald": "V",
    "Korea Herald": "V", "코리아헤럴드": "V",
}  # fmt: skip

OTHERS = {
    # people and words of the show the brief and the glossary name
    "이재규": "V", "Lee Jae-kyoo": "V", "절비": "V", "Halfbie": "V", "지금 우리 학교는": "C",
    "좀비": "V", "생존": "C", "사망 추정": "C", "면역": "C", "서울": "L", "Seoul": "L", "Asia/Seoul": "L",
    # numbers as read in Korean
    "0": "C", "1": "L", "2": "V", "3": "C", "4": "V", "5": "V", "6": "C", "7": "L", "8": "L", "9": "V",
    "10": "C", "11": "L", "12": "V", "20": "C", "100": "C", "1000": "C", "10000": "C", "2027": "L",
    "2022": "V", "1,000": "C", "1.5": "V", "50%": "V", "시즌 2": "V", "시즌 1": "L", "#12": "V", "#3": "C",
    # Latin words and letters as Koreans say them
    "Michael": "L", "Google": "L", "Trailer": "V", "Discord": "V", "YouTube": "V", "Tudum": "C",
    "Instagram": "C", "Facebook": "C", "chat": "C", "part": "V", "game": "C", "phone": "C", "site": "V",
    "Lee": "V", "Agree": "V", "Disagree": "V", "Not sure": "V", "Yes": "V", "No": "V", "UTC": "V",
    "KST": "V", "OST": "V", "A": "V", "L": "L", "M": "C", "N": "C", "R": "L", "X": "V",
    "America/New_York": "C", "next friday": "V", "2025-03-01 17:00 Asia/Seoul": "L",
    "2025-03-01 17:00 UTC": "V",
    # what surrounds a name in a message
    "**이청산**": "C", "**남라**": "V", "`Lomon`": "C", "“Netflix”": "V", "'서울'": "L", "(남라)": "V",
    "이청산 (Lee Cheong-san)": "C", "윤찬영 (Yoon Chan-young)": "C", "남라!": "V", "청산…": "C",
    "💀 좀비": "V", "🎬 제작 중": "C", "📣 확정": "C", "[여기](https://example.com)": "V",
    "Old (영어만)": "V", "수혁 <:zombie:123>": "C",
}  # fmt: skip

# Mentions and timestamps each client shows its own way: unknown, so the 받침 form;
# the catalog puts no particle after one.
UNKNOWN = ["<#123>", "<@456>", "<@&789>", "</admin character restore:42>", "<t:1790000000:F>", "", "学校"]


def seeded_names() -> set[str]:
    """Every name the seed data gives a character, an actor, a source or an outlet."""
    names: set[str] = set()
    characters = tomllib.loads((ROOT / "data" / "characters.toml").read_text("utf-8"))
    for character in characters["character"]:
        names.add(character["name"])
        for part in ("hangul", "actor"):
            if part in character:
                names.add(character[part]["text"])
                names.update([character[part]["ko"]] if "ko" in character[part] else [])
        names.update(character.get("aliases", []), character.get("aliases_ko", []))
    canon = tomllib.loads((ROOT / "data" / "canon.toml").read_text("utf-8"))
    names.update(*canon.get("source_names_ko", {}).items())
    for file, kind in (("theories", "theory"), ("timeline", "news")):
        for item in tomllib.loads((ROOT / "data" / f"{file}.toml").read_text("utf-8"))[kind]:
            names.add(item["source"]["name"])
    return names


def test_every_seeded_name_has_an_expectation() -> None:
    missing = sorted(seeded_names() - set(SEEDED))
    assert missing == [], "add how these are read to SEEDED: " + ", ".join(missing)


@pytest.mark.parametrize(("word", "ending"), [*SEEDED.items(), *OTHERS.items()])
def test_the_particle_agrees_with_how_the_word_is_read(word: str, ending: str) -> None:
    for form, expected in FORMS[ending].items():
        assert particle(word, form) == expected, (word, form)
        vowel = PARTICLES[form][1]
        assert particle(word, vowel) == expected, (word, vowel)  # either form may be written


@pytest.mark.parametrize("word", UNKNOWN)
def test_what_cannot_be_heard_takes_the_batchim_form(word: str) -> None:
    assert [particle(word, form) for form in ("가", "를", "는", "와", "로")] == [
        "이",
        "을",
        "은",
        "과",
        "으로",
    ]


def test_the_other_particles() -> None:
    assert attach("서울", "으로") == "서울로"
    assert attach("Lomon", "라고") == "Lomon이라고"
    assert attach("남라", "이랑") == "남라랑"
    assert attach("2027", "였어요") == "2027이었어요"
    assert attach("시즌 2", "이었어요") == "시즌 2였어요"


# -- the catalog's format -----------------------------------------------------------------


def test_a_particle_spec_writes_the_value_and_its_particle() -> None:
    assert format_message("{name:을} 삭제했어요.", {"name": "이청산"}) == "이청산을 삭제했어요."
    assert format_message("{name:를} 삭제했어요.", {"name": "이청산"}) == "이청산을 삭제했어요."
    assert format_message("{name:을} 삭제했어요.", {"name": "Netflix"}) == "Netflix를 삭제했어요."
    assert format_message("단계를 {stage:으로}", {"stage": "🎬 제작 중"}) == "단계를 🎬 제작 중으로"
    assert format_message("단계를 {stage:으로}", {"stage": "서울"}) == "단계를 서울로"
    assert format_message("#{id:이} 없어요", {"id": 2}) == "#2가 없어요"
    assert format_message("{text!r:은} 아니에요", {"text": "Lomon"}) == "'Lomon'은 아니에요"


def test_the_particle_follows_the_markup_that_closes_the_value() -> None:
    said = format_message("단계가 {old}에서 **{new:으로}** 바뀌었어요.", {"old": "소문", "new": "제작 중"})
    assert said == "단계가 소문에서 **제작 중**으로 바뀌었어요."
    assert format_message("`{value:은}` 아니에요", {"value": "next friday"}) == "`next friday`는 아니에요"
    assert format_message("“{option:은}” 안 돼요", {"option": "모르겠어요"}) == "“모르겠어요”는 안 돼요"
    assert format_message("**{title:을}**", {"title": "청산 면역설"}) == "**청산 면역설**을"


def test_other_specs_and_english_are_formatted_as_before() -> None:
    values = {"a": 3.14159, "b": "x", "c": 7}
    for template in ("{a:.2f} {b!r} {c:>3} {{literal}}", "Removed **{b}**. {c} votes"):
        assert format_message(template, values) == template.format(**values)
    with pytest.raises(KeyError):
        format_message("{missing:을}", {})


# -- every Korean message -------------------------------------------------------------

BRACKETED = re.compile(
    r"\((?:이|가|을|를|은|는|과|와|으|이에|예)\)|이\(가\)|을\(를\)|은\(는\)|과\(와\)|와\(과\)"
)
# Placeholders a mention, a timestamp or a link fills: no particle may follow them.
MENTIONS = {"channel", "role", "who", "full", "relative", "when", "actor", "member", "url"}
MENTIONS_IN = {
    "admin_release.date_undone": {"what"},
    "admin_release.date_cleared": {"old"},
    "admin_release.confirm_earlier": {"old"},
    "release.date_moved_body": {"old"},
}
NUMBERS = {"count", "n", "id", "number", "length", "limit", "minutes", "days", "rank", "right", "points",
           "percent", "version", "scored", "total", "line", "year", "day", "voters"}  # fmt: skip
TEXTS = [("이청산", "C"), ("남라", "V"), ("서울", "L"), ("Lomon", "C"), ("Netflix", "V"), ("Michael", "L"),
         ("🎬 제작 중", "C"), ("**하리**", "V"), ("Old (영어만)", "V")]  # fmt: skip
DIGITS = [("3", "C"), ("2", "V"), ("7", "L"), ("10", "C"), ("2027", "L"), ("1.5", "V")]
PARTICLE_AFTER = re.compile(r"(?:이|가|을|를|은|는|과|와|으로|로|이에요|예요)(?![\uac00-\ud7a3])")
_FIELDS = string.Formatter()


def fields(template: str) -> list[tuple[str, str]]:
    """(placeholder, spec) of a template, in order."""
    return [(field, spec or "") for _, field, spec, _ in _FIELDS.parse(template) if field]


def filler(key: str, field: str) -> str:
    if field in MENTIONS or field in MENTIONS_IN.get(key, ()):
        return "<#1234>" if field in {"channel", "who"} else "<t:1790000000:F>"
    return "5" if field in NUMBERS else "값"


KEYS_WITH_PARTICLES = sorted(
    k for k, text in KOREAN.items() if any(spec in PARTICLES for _, spec in fields(text))
)


def test_the_catalog_has_no_bracketed_particle() -> None:
    texts = {**KOREAN, **{f"commands.text: {k}": v for k, v in CATALOG.commands["text"].items()}}
    bad = {key: text for key, text in texts.items() if BRACKETED.search(text)}
    assert bad == {}
    assert len(KEYS_WITH_PARTICLES) >= 30  # the particles after placeholders are chosen


@pytest.mark.parametrize("key", sorted(k for k, text in KOREAN.items() if fields(text)))
def test_every_korean_message_agrees_with_what_fills_it(key: str) -> None:
    template = KOREAN[key]
    base = {field: filler(key, field) for field, _ in fields(template)}
    assert not BRACKETED.search(format_message(template, base))
    for field, spec in fields(template):
        if spec not in PARTICLES:
            continue
        assert field not in MENTIONS, (key, field, "a particle after a mention")
        assert field not in MENTIONS_IN.get(key, ()), (key, field, "a particle after a mention")
        for value, ending in DIGITS if field in NUMBERS else TEXTS:
            said = format_message(template, {**base, field: value})
            assert not BRACKETED.search(said), said
            expected = FORMS[ending][PARTICLES[spec][0]]
            shown = repr(value) if f"{{{field}!r" in template else value
            pattern = (
                re.escape(shown) + r"(?:\*\*|\*|`|”|’|'|\")*" + re.escape(expected) + r"(?![\uac00-\ud7a3])"
            )
            assert re.search(pattern, said), (key, value, expected, said)


def test_no_particle_is_written_by_hand_after_a_placeholder_or_a_command() -> None:
    """A particle after a placeholder is the placeholder's spec; after a command path
    (which becomes a mention shown in the reader's language) or a mention, none."""
    by_hand = re.compile(r"\}(?:\*\*|`|”|')?" + PARTICLE_AFTER.pattern)
    command = re.compile(r"(?<![\w/:.<])`?/[a-z][a-z0-9_-]*(?: [a-z][a-z0-9_-]*){0,2}`?[\uac00-\ud7a3]")
    mention = re.compile(r"<[@#/t][^>]*>(?:\*\*|`)?[\uac00-\ud7a3]")
    bad = [
        (key, text)
        for key, text in KOREAN.items()
        if by_hand.search(text) or command.search(text) or mention.search(text)
    ]
    assert bad == []


# -- words and register (../shared/KOREAN.md) --------------------------------------------

AVOIDED = ["이론", "감사 기록", "감사기록", "비공개", "판정", "개봉", "새로", "구독"]


def korean_texts() -> dict[str, str]:
    texts = dict(KOREAN)
    texts.update({f"commands.text: {k}": v for k, v in CATALOG.commands["text"].items()})
    texts.update({f"commands.names: {k}": v for k, v in CATALOG.commands["names"].items()})
    return texts


def test_no_korean_text_uses_a_word_the_glossary_avoids() -> None:
    found = {key: word for key, text in korean_texts().items() for word in AVOIDED if word in text}
    assert found == {}


def test_the_glossary_names_the_commands() -> None:
    names = CATALOG.commands["names"]
    assert {
        english: names[english] for english in ("theory", "new", "release", "audit", "sealed", "resolve")
    } == {
        "theory": "예측",
        "new": "만들기",
        "release": "공개일정",
        "audit": "변경기록",
        "sealed": "결과숨김",
        "resolve": "정답발표",
    }
    assert [KOREAN[f"config.spoilers_{mode}"].split("(")[0] for mode in ("hidden", "shown", "omitted")] == [
        "가림",
        "보임",
        "생략",
    ]


def test_one_polite_register() -> None:
    """해요체 throughout: no 합니다체, no sentence ending in plain speech (다. / 해. / 야.)."""
    plain = re.compile(r"(?:다|어|아|해|야|지|네|군|니|나|래|자|라|까)[.!?](?=[\s)”\"'*]|$)")
    formal = {key: text for key, text in korean_texts().items() if "니다" in text or plain.search(text)}
    assert formal == {}


async def test_korean_command_names_are_unique_among_siblings(
    bot: HalfbieBot, fake_discord: FakeDiscord, guild: FakeGuild
) -> None:
    """Discord refuses a sync where two siblings share a localized name."""

    def check(items: list[dict[str, Any]], where: str) -> None:
        named = [(item.get("name_localizations") or {}).get("ko", item["name"]) for item in items]
        assert len(named) == len(set(named)), (where, sorted(named))
        for item in items:
            check(item.get("options", []), f"{where} {item['name']}")

    check(fake_discord.synced_commands(), "")
