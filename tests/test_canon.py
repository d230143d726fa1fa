"""The canon in data/: every record sourced, nothing invented, the article's mix-up handled."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.canon import CanonError, load_canon
from bot.models import Canon, Certainty, SourceRef, Spoiler, Stage, Status

ARTICLE = Path(__file__).resolve().parents[2] / "shared" / "seeds" / "000_9dc625220d20513f.txt"


@pytest.fixture(scope="module")
def canon() -> Canon:
    return load_canon()


def _statements(canon: Canon) -> list[tuple[str, str, SourceRef]]:
    """Every statement the canon can show: (where, its text, its source)."""
    out: list[tuple[str, str, SourceRef]] = []
    for c in canon.characters:
        out.append((f"{c.key} role", c.role.text, c.role.source))
        out.append((f"{c.key} status", c.status.value, c.status_source))
        if c.hangul and c.hangul_source:
            out.append((f"{c.key} hangul", c.hangul, c.hangul_source))
        if c.actor and c.actor_source:
            out.append((f"{c.key} actor", c.actor, c.actor_source))
        for part, items in (("fate_s1", c.fate_s1), ("season2", c.season2)):
            out += [(f"{c.key} {part}[{i}]", s.text, s.source) for i, s in enumerate(items)]
    out += [(f"news {n.key}", n.headline, n.source) for n in canon.news]
    out += [(f"theory {t.key}", t.title, t.source) for t in canon.theories]
    return out


def test_every_statement_has_its_own_source_and_certainty(canon: Canon) -> None:
    statements = _statements(canon)
    assert len(statements) > 50
    for where, _, source in statements:
        assert source.name, where
        assert isinstance(source.certainty, Certainty), where
    for character in canon.characters:
        # A card's names carry their own source: the Hangul name is from outside the article.
        assert character.hangul_source is not None
        assert character.hangul_source.certainty is Certainty.OUTSIDE
        assert character.actor is None or character.actor_source is not None
        assert character.role.spoiler is Spoiler.NONE  # shown everywhere: spoiler-free


def test_canon_trace_every_statement_to_the_article(canon: Canon) -> None:
    """Each official, reported, speculation or fan-theory statement rests on words of the
    article (its quote, found word for word); the others say they come from outside it.
    A future edit cannot add a statement the article does not make without saying so."""
    if not ARTICLE.exists():
        pytest.skip("the article is not beside the checkout")
    article = _plain(ARTICLE.read_text("utf-8"))
    traced = outside = 0
    for where, _, source in _statements(canon):
        if source.certainty is Certainty.OUTSIDE:
            assert source.quote is None, where
            assert source.name != canon.article.name, where
            outside += 1
        else:
            assert source.quote, f"{where}: no words of the article to rest on"
            assert _plain(source.quote) in article, f"{where}: {source.quote!r} is not in the article"
            traced += 1
    assert traced > 40
    assert outside >= 9  # every Hangul name at least


def test_the_trace_catches_an_invented_statement(tmp_path: Path) -> None:
    """A statement the article gives with no quote is refused when the canon loads."""
    data = Path(__file__).resolve().parent.parent / "data"
    for name in ("canon.toml", "timeline.toml", "theories.toml"):
        (tmp_path / name).write_text((data / name).read_text(encoding="utf-8"), encoding="utf-8")
    (tmp_path / "characters.toml").write_text(
        '[[character]]\nkey = "x"\nname = "X"\nstatus = "alive"\n'
        'role = { text = "r", certainty = "official" }\n'
        'status_source = { certainty = "official", quote = "q" }\n',
        encoding="utf-8",
    )
    with pytest.raises(CanonError, match="character 'x', role: say which words"):
        load_canon(tmp_path)


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
            assert character.hangul_source is not None
            assert "cast credits" in character.hangul_source.name, character.key
            assert character.notes is not None


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
        '[[character]]\nkey = "x"\nname = "X"\nstatus = "sleeping"\n'
        'role = { text = "r", certainty = "official", quote = "q" }\n',
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
        *(s.text for c in canon.characters for s in (*c.fate_s1, *c.season2)),
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
    assert "confirms the return of Park Ji-hoo" in characters["on-jo"].season2[0].text
    assert characters["on-jo"].season2[0].certainty is Certainty.OFFICIAL
    fate = " ".join(s.text for s in characters["nam-ra"].fate_s1)
    assert "more like her" not in fate  # the article says "others"
    assert '"' not in fate  # the article paraphrases the finale: no quotes
