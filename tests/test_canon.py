"""The canon in data/: every record sourced, nothing invented, the article's mix-up handled."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.canon import CanonError, load_canon
from bot.models import Canon, Certainty, Stage, Status

ARTICLE = Path(__file__).resolve().parents[2] / "shared" / "seeds" / "000_9dc625220d20513f.txt"


@pytest.fixture(scope="module")
def canon() -> Canon:
    return load_canon()


def test_every_record_has_source_and_certainty(canon: Canon) -> None:
    records = [*canon.characters, *canon.news, *canon.theories]
    assert records
    for record in records:
        assert record.source.name
        assert isinstance(record.source.certainty, Certainty)
    for character in canon.characters:
        assert isinstance(character.status_source.certainty, Certainty)


def test_characters_from_the_article(canon: Canon) -> None:
    by_key = {c.key: c for c in canon.characters}
    assert by_key["cheong-san"].actor == "Yoon Chan-young"
    assert by_key["cheong-san"].status is Status.PRESUMED_DEAD
    assert by_key["nam-ra"].status is Status.HALFBIE
    assert by_key["byeong-chan"].actor == "Kim Byung-chul"
    assert by_key["byeong-chan"].status is Status.UNKNOWN
    survivors = {"on-jo", "mi-jin", "su-hyeok", "dae-su", "ha-ri", "hyo-ryung"}
    assert {k for k, c in by_key.items() if c.status is Status.ALIVE} == survivors


def test_article_mixup_modelled_correctly(canon: Canon) -> None:
    # "lead actors like Lee Eun-saem and Yang Dae-su": Yang Dae-su is a character, not an actor.
    actors = {c.actor for c in canon.characters}
    names = {c.name for c in canon.characters}
    assert "Yang Dae-su" in names
    assert "Yang Dae-su" not in actors
    assert "Lee Eun-saem" in actors
    assert "Lee Eun-saem" not in names


def test_outside_facts_are_marked(canon: Canon) -> None:
    # Hangul names are not in the article: every card that has one says where it comes from.
    for character in canon.characters:
        if character.hangul:
            assert character.notes is not None
            assert "cast credits" in character.notes, character.key


def test_names_and_actors_appear_in_the_article(canon: Canon) -> None:
    if not ARTICLE.exists():
        pytest.skip("the article is not beside the checkout")
    text = ARTICLE.read_text(encoding="utf-8")
    for character in canon.characters:
        given = character.name.split(" ", 1)[-1]
        assert given in text, character.name
        if character.actor:
            assert character.actor in text, character.actor


def test_timeline(canon: Canon) -> None:
    assert canon.stage is Stage.CONFIRMED
    dated = {(n.happened_on, n.source.certainty) for n in canon.news}
    assert ("2022-06-06", Certainty.OFFICIAL) in dated
    speculation = [n for n in canon.news if n.source.certainty is Certainty.SPECULATION]
    assert any("Newsweek" in n.headline and "2023" in n.headline for n in speculation)


def test_at_least_six_theories(canon: Canon) -> None:
    assert len(canon.theories) >= 6
    for theory in canon.theories:
        assert 2 <= len(theory.options) <= 10


def test_broken_canon_names_the_record(tmp_path: Path) -> None:
    data = Path(__file__).resolve().parent.parent / "data"
    for name in ("canon.toml", "timeline.toml", "theories.toml"):
        (tmp_path / name).write_text((data / name).read_text(encoding="utf-8"), encoding="utf-8")
    (tmp_path / "characters.toml").write_text(
        '[[character]]\nkey = "x"\nname = "X"\nrole = "r"\nstatus = "sleeping"\n'
        'source = { certainty = "official" }\nstatus_source = { certainty = "official" }\n',
        encoding="utf-8",
    )
    with pytest.raises(CanonError, match="character 'x'"):
        load_canon(tmp_path)


def _plain(text: str) -> str:
    """The article's typography folded: curly quotes and apostrophes as straight ones."""
    return " ".join(text.replace("’", "'").replace("‘", "'").replace("“", '"').replace("”", '"').split())


def test_every_quote_in_the_canon_is_the_articles_word_for_word(canon: Canon) -> None:
    import re

    article = _plain(ARTICLE.read_text("utf-8"))
    texts = [
        *(n.details or "" for n in canon.news),
        *(t.details or "" for t in canon.theories),
        *(c.fate_s1 or "" for c in canon.characters),
        *(c.season2 or "" for c in canon.characters),
    ]
    quotes = [q for text in texts for q in re.findall(r'"([^"]+)"', text)]
    assert len(quotes) >= 3  # the cast's three lines
    for quote in quotes:
        assert _plain(quote) in article, quote
    assert _plain(canon.premise) in article


def test_the_canon_says_what_the_article_says_and_no_more(canon: Canon) -> None:
    news = {n.key: n for n in canon.news}
    # Only the virus-variations statement was made to the Korea Herald.
    assert "Herald" not in news["director-survival-of-zombies"].source.name
    assert "Herald" in news["director-virus-variations"].source.name
    assert "infected, halfbies and the immune" in news["director-virus-variations"].headline
    theories = {t.key: t for t in canon.theories}
    # Who "has arrived" is the bot's own question, not a fan theory the article reports.
    arrived = theories["outskirts-halfbies"]
    assert arrived.source.certainty is not Certainty.FAN_THEORY
    assert "Halfbie's own question" in arrived.source.name
    # The article reports Byeong-chan's return as unclear: reported, not speculation.
    assert theories["byeong-chan-returns"].source.certainty is Certainty.REPORTED
    characters = {c.key: c for c in canon.characters}
    assert "confirms the return of Park Ji-hoo" in (characters["on-jo"].season2 or "")
    fate = characters["nam-ra"].fate_s1 or ""
    assert "more like her" not in fate  # the article says "others"
    assert '"' not in fate  # the article paraphrases the finale: no quotes
