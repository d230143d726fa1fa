"""The canon in Korean: every statement has its Korean text, written as a Korean fan site
writes it (../shared/KOREAN.md): Hangul names, no fallback particles, particles that fit
the name's last sound, the article's quotes kept in English with the Korean marked as a
translation, every source named in Korean, and no text longer than its English twin's
limit."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from bot.canon import load_canon
from bot.limits import BUTTON_LABEL, CHOICE_NAME
from bot.models import Canon, SourceRef
from cogs.characters._admin import TEXT_MAX
from cogs.release._forms import DETAILS_MAX as NEWS_DETAILS_MAX
from cogs.release._forms import HEADLINE_MAX, SOURCE_MAX
from cogs.theories._input import DETAILS_MAX as THEORY_DETAILS_MAX
from cogs.theories._input import TITLE_MAX
from tests.test_canon import ARTICLE, _plain

DATA = Path(__file__).resolve().parent.parent / "data"

HANGUL = re.compile(r"[가-힣]")
# Both forms of a particle with one in brackets: never written, always chosen.
FALLBACK = re.compile(r"\((?:이|가|을|를|은|는|와|과|으|로|으로)\)")
# An article's quote in a Korean text: its English words, then the Korean marked as a translation.
MARKED_QUOTE = re.compile(r'"(?P<english>[^"]+)"\(번역: "(?P<korean>[^"]+)"\)')
# What a Korean text never shows in Latin letters outside a marked quote.
ROMANISED = re.compile(
    r"All of Us Are Dead|Cheong-?san|Nam-?ra|Su-?hyeok|On-?jo|Mi-?jin|Dae-?su|Ha-?ri|Hyo-?ryung|"
    r"Byeong-?chan|Yoon Chan-young|Lomon|Cho Yi-hyun|Park Ji-hoo|Kim Byung-chul|Lee Eun-saem|"
    r"Lee Jae-kyoo|Netflix|Newsweek|Korea Herald",
    re.IGNORECASE,
)
# The bot's own name is the one Latin word a Korean text may show (as the catalog does).
LATIN_ALLOWED = re.compile(r"(?<![A-Za-z])Halfbie(?![A-Za-z])")

# Particles by the last sound: (after a final consonant, after none).  After ㄹ: 로.
PARTICLES = {"이": 0, "가": 1, "은": 0, "는": 1, "을": 0, "를": 1, "과": 0, "와": 1, "으로": 0, "로": 1}
DIGIT_FINAL = {
    "0": "ㅇ",
    "1": "ㄹ",
    "2": "",
    "3": "ㅁ",
    "4": "",
    "5": "",
    "6": "ㄱ",
    "7": "ㄹ",
    "8": "ㄹ",
    "9": "",
}
_FINALS = ["", *"ㄱㄲㄳㄴㄵㄶㄷㄹㄺㄻㄼㄽㄾㄿㅀㅁㅂㅄㅅㅆㅇㅈㅊㅋㅌㅍㅎ"]


def final_sound(word: str) -> str:
    """The 받침 of a word's last syllable ("" for none), digits as read in Korean."""
    last = word[-1]
    if last in DIGIT_FINAL:
        return DIGIT_FINAL[last]
    return _FINALS[(ord(last) - 0xAC00) % 28]


def particle_fits(word: str, particle: str) -> bool:
    final = final_sound(word)
    if particle in {"로", "으로"} and final == "ㄹ":
        return particle == "로"
    return PARTICLES[particle] == (0 if final else 1)


def korean_texts(canon: Canon) -> list[tuple[str, str | None, str | None, int]]:
    """Every text the canon shows with its Korean twin: (where, English, Korean, limit)."""
    out: list[tuple[str, str | None, str | None, int]] = [("premise", canon.premise, canon.premise_ko, 1000)]
    for c in canon.characters:
        parts = [("role", [c.role]), ("fate_s1", list(c.fate_s1)), ("season2", list(c.season2))]
        for part, items in parts:
            out += [(f"{c.key} {part}[{i}]", s.text, s.ko, TEXT_MAX) for i, s in enumerate(items)]
        if c.actor:
            out.append((f"{c.key} actor", c.actor, c.actor_ko, 100))
    for n in canon.news:
        out.append((f"news {n.key} headline", n.headline, n.headline_ko, HEADLINE_MAX))
        if n.details:
            out.append((f"news {n.key} details", n.details, n.details_ko, NEWS_DETAILS_MAX))
    for t in canon.theories:
        out.append((f"theory {t.key} title", t.title, t.title_ko, TITLE_MAX))
        if t.details:
            out.append((f"theory {t.key} details", t.details, t.details_ko, THEORY_DETAILS_MAX))
        if t.safe_title:
            out.append((f"theory {t.key} safe_title", t.safe_title, t.safe_title_ko, CHOICE_NAME))
        korean = t.options_ko or ()
        for i, option in enumerate(t.options):
            out.append(
                (f"theory {t.key} option {i}", option, korean[i] if i < len(korean) else None, BUTTON_LABEL)
            )
    return out


def sources(canon: Canon) -> list[tuple[str, SourceRef]]:
    out: list[tuple[str, SourceRef]] = [("article", canon.article)]
    for c in canon.characters:
        refs = [c.status_source, c.hangul_source, c.actor_source, *(s.source for s in c.statements)]
        out += [(c.key, ref) for ref in refs if ref is not None]
    out += [(f"news {n.key}", n.source) for n in canon.news]
    out += [(f"theory {t.key}", t.source) for t in canon.theories]
    return out


def names(canon: Canon) -> set[str]:
    """The Hangul names the canon uses, whole and given (이청산, 청산), and the actors'."""
    out = {"이재규"}
    for c in canon.characters:
        if c.hangul:
            out |= {c.hangul, c.hangul[1:]}
        if c.actor_ko:
            out.add(c.actor_ko)
    return out


def problems(canon: Canon) -> list[str]:
    """What is wrong with the canon's Korean, one line each (empty: nothing)."""
    found: list[str] = []
    for where, english, korean, limit in korean_texts(canon):
        if not korean:
            found.append(f"{where}: no Korean text")
            continue
        if not HANGUL.search(korean):
            found.append(f"{where}: no Hangul in {korean!r}")
        if FALLBACK.search(korean):
            found.append(f"{where}: a fallback particle in {korean!r}")
        if len(korean) > limit:
            found.append(f"{where}: {len(korean)} characters, over {limit}")
        quotes = list(MARKED_QUOTE.finditer(korean))
        outside = MARKED_QUOTE.sub(" ", korean)
        if '"' in outside:
            found.append(f'{where}: a quote not given as "English"(번역: "한국어"): {korean!r}')
        if (hit := ROMANISED.search(outside)) or re.search(r"[A-Za-z]", LATIN_ALLOWED.sub(" ", outside)):
            found.append(f"{where}: Latin letters outside a marked quote ({hit and hit.group()}): {korean!r}")
        # The same quotes as the English, word for word, each with its Korean.
        said = re.findall(r'"([^"]+)"', english or "")
        if [q.group("english") for q in quotes] != said:
            found.append(f"{where}: the English quotes {said} are not all kept")
        for quote in quotes:
            if not HANGUL.search(quote.group("korean")):
                found.append(f"{where}: the translation of {quote.group('english')!r} is not Korean")
        for name in names(canon):
            for match in re.finditer(rf"{name}(으로|[이가은는을를과와로])(?![가-힣])", outside):
                if not particle_fits(name, match.group(1)):
                    found.append(f"{where}: {match.group()!r} takes the wrong particle")
        for match in re.finditer(r"시즌 (\d+)(으로|[이가은는을를과와로])(?![가-힣])", outside):
            if not particle_fits(match.group(1), match.group(2)):
                found.append(f"{where}: {match.group()!r} takes the wrong particle")
    for where, ref in sources(canon):
        if not ref.name_ko:
            found.append(f"{where}: the source {ref.name!r} has no Korean name ([source_names_ko])")
        elif not HANGUL.search(ref.name_ko) or len(ref.name_ko) > SOURCE_MAX or FALLBACK.search(ref.name_ko):
            found.append(f"{where}: the source's Korean name {ref.name_ko!r}")
    for c in canon.characters:
        hangul_aliases = [a for a in c.aliases if HANGUL.search(a)]
        if not hangul_aliases:
            found.append(f"{c.key}: no Hangul alias (aliases_ko)")
    return found


@pytest.fixture(scope="module")
def canon() -> Canon:
    return load_canon()


def test_every_statement_has_its_korean_text(canon: Canon) -> None:
    assert problems(canon) == []
    assert len(korean_texts(canon)) > 60
    assert canon.article.name_ko
    assert "지금 우리 학교는" in canon.article.name_ko


def test_the_korean_names_the_show_and_people_in_hangul(canon: Canon) -> None:
    by_key = {c.key: c for c in canon.characters}
    assert by_key["cheong-san"].actor_ko == "윤찬영"
    assert by_key["su-hyeok"].actor_ko == "로몬"
    assert by_key["nam-ra"].actor_ko == "조이현"
    assert by_key["on-jo"].actor_ko == "박지후"
    assert by_key["byeong-chan"].actor_ko == "김병철"
    assert by_key["mi-jin"].actor_ko == "이은샘"
    news = {n.key: n for n in canon.news}
    assert "이재규 감독" in (news["director-virus-variations"].headline_ko or "")
    assert news["director-virus-variations"].source.name_ko
    assert "코리아헤럴드" in news["director-virus-variations"].source.name_ko
    assert "뉴스위크" in (news["newsweek-2023-early-2024"].headline_ko or "")
    assert "절비" in (news["director-virus-variations"].headline_ko or "")


def test_the_article_quotes_stay_the_articles_words(canon: Canon) -> None:
    """A quote the Korean keeps is the article's own English, word for word."""
    if not ARTICLE.exists():
        pytest.skip("the article is not beside the checkout")
    article = _plain(ARTICLE.read_text("utf-8"))
    quotes = [
        q.group("english")
        for _, _, korean, _ in korean_texts(canon)
        for q in MARKED_QUOTE.finditer(korean or "")
    ]
    assert len(quotes) >= 3  # the cast's three lines
    for quote in quotes:
        assert _plain(quote) in article, quote


def test_the_check_catches_a_missing_or_wrong_korean_text(tmp_path: Path) -> None:
    """Deleting one Korean text, or writing a fallback particle, a romanised name or a
    particle that does not fit, is caught."""
    for name in ("canon.toml", "characters.toml", "timeline.toml", "theories.toml"):
        shutil.copy(DATA / name, tmp_path / name)
    characters = tmp_path / "characters.toml"
    text = characters.read_text("utf-8")
    first = re.search(r', ko = "[^"]*"', text)
    assert first is not None
    characters.write_text(text[: first.start()] + text[first.end() :], "utf-8")
    assert any("no Korean text" in p for p in problems(load_canon(tmp_path)))

    theories = tmp_path / "theories.toml"
    theories.write_text(
        theories.read_text("utf-8").replace('title_ko = "청산 면역설"', 'title_ko = "Cheong-san 면역설"'),
        "utf-8",
    )
    timeline = tmp_path / "timeline.toml"
    timeline.write_text(timeline.read_text("utf-8").replace("윤찬영이 영상을", "윤찬영가 영상을"), "utf-8")
    shutil.copy(DATA / "characters.toml", characters)
    characters.write_text(characters.read_text("utf-8").replace("남라는", "남라(은)는", 1), "utf-8")
    found = problems(load_canon(tmp_path))
    assert any("Latin letters" in p and "Cheong-san" in p for p in found), found
    assert any("'윤찬영가'" in p for p in found), found
    assert any("fallback particle" in p for p in found), found


@pytest.mark.parametrize(
    ("word", "right", "wrong"),
    [
        ("청산", "이", "가"),
        ("남라", "는", "은"),
        ("수혁", "을", "를"),
        ("온조", "와", "과"),
        ("로몬", "은", "는"),
        ("윤찬영", "이", "가"),
        ("이은샘", "과", "와"),
        ("대수", "가", "이"),
        ("2", "가", "이"),
        ("1", "로", "으로"),
        ("3", "으로", "로"),
        ("서울", "로", "으로"),
    ],
)
def test_particles_follow_the_last_sound(word: str, right: str, wrong: str) -> None:
    assert particle_fits(word, right)
    assert not particle_fits(word, wrong)
