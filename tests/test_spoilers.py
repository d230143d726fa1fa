"""Spoiler safety as a property of every surface, not of any one string.

A member never reads spoiler-level text the server hides: in ``hidden`` only behind a
spoiler tag, in ``omitted`` nowhere at all (not even tagged), in ``shown`` as it is.
Two tests hold it: one end to end through the offline Discord, every command a member
can run over the seeded canon in every mode and language; one over the pure renderers,
with admin-written text marked as a spoiler on every kind of record.
"""

from __future__ import annotations

import json
import re
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import bot.render.characters as cards
import bot.render.release as releases
import bot.render.theories as polls
from bot.client import HalfbieBot
from bot.i18n import LANGUAGES, Catalog, Texts
from bot.models import (
    DEFAULT_OPTIONS,
    DEFAULT_OPTIONS_KO,
    Canon,
    Certainty,
    Character,
    CharacterFields,
    MemberVote,
    NewsFields,
    NewsItem,
    Release,
    SourceRef,
    Spoiler,
    SpoilerMode,
    Stage,
    Statement,
    Status,
    Tally,
    Theory,
    TheoryFields,
    TheoryStatus,
)
from bot.render.text import safe
from tests.fakediscord import FakeDiscord, FakeGuild, FakeMember
from tests.fakediscord.interactions import InteractionResult

CATALOG = Catalog.load()
_TAG = re.compile(r"\|\|.*?\|\|", re.DOTALL)


def _normal(text: str) -> str:
    """Text as a reader sees it: escapes and zero-width spaces gone, spaces folded."""
    return " ".join(text.replace("\\", "").replace("\u200b", "").split())


def untagged(text: str) -> str:
    """What a reader sees without clicking a spoiler tag."""
    return _normal(_TAG.sub(" ", text))


def probe(secret: str) -> str:
    """A piece of the secret that a clipped rendering still shows whole."""
    return _normal(safe(secret, 10_000))[:24]


def leaks(surface: str, secrets: list[str], mode: SpoilerMode) -> list[str]:
    """The secrets a reader of ``surface`` sees in this mode (none is the property)."""
    if mode is SpoilerMode.SHOWN:
        return []
    seen = untagged(surface)
    found = [s for s in secrets if probe(s) and probe(s) in seen]
    if mode is SpoilerMode.OMITTED and "||" in surface:
        found.append("a spoiler tag (omitted leaves spoilers out entirely)")
    return found


def secrets_of(canon: Canon, t: Texts) -> tuple[list[str], list[str]]:
    """Every spoiler-level text of the canon, in the language of ``t`` (where the canon
    has it in that language): (statements, character statuses as shown)."""
    korean = t.language == "ko"

    def said(english: str, ko: str | None) -> str:
        return ko if korean and ko else english

    texts = [
        said(s.text, s.ko)
        for c in canon.characters
        for s in (*c.fate_s1, *c.season2, c.role)
        if s.spoiler is not Spoiler.NONE
    ]
    for theory in canon.theories:
        if theory.spoiler is not Spoiler.NONE:
            texts.append(said(theory.title, theory.title_ko))
            if theory.details:
                texts.append(said(theory.details, theory.details_ko))
            options = theory.options_ko if korean and theory.options_ko else theory.options
            texts += [o for o in options if o not in (*DEFAULT_OPTIONS, *DEFAULT_OPTIONS_KO)]
    texts += [
        said(n.details, n.details_ko) for n in canon.news if n.spoiler is not Spoiler.NONE and n.details
    ]
    statuses = [
        f"{cards.STATUS_LOOK[c.status][0]} {cards.status_label(c.status, t)}"
        for c in canon.characters
        if c.status is not Status.UNKNOWN
    ]
    return texts, statuses


def payload(result: InteractionResult) -> str:
    message = result.message
    parts: list[Any] = [result.content, result.embeds, result.components]
    if message is not None:
        parts += [message.content, message.embeds, message.components]
    return json.dumps(parts, ensure_ascii=False)


async def test_no_member_command_shows_a_seeded_spoiler_the_server_hides(
    bot: HalfbieBot, fake_discord: FakeDiscord, guild: FakeGuild, member: FakeMember
) -> None:
    """Every command a member can run, in every mode and language, over every seeded
    statement: spoilers only behind tags (hidden), nowhere (omitted), all there (shown)."""
    canon = bot.canon
    theories = await bot.store.theories.list(guild.id)
    for mode in SpoilerMode:
        await bot.store.settings.update(guild.id, None, spoiler_mode=mode.value)
        for language in LANGUAGES:
            await bot.store.settings.update(guild.id, None, language=language)
            t = Texts(CATALOG, language, mode)
            texts, statuses = secrets_of(canon, t)
            surfaces: dict[str, str] = {}
            for command in ("characters", "timeline", "release", "theory list", "help", "about"):
                result = await fake_discord.slash(guild, member, command)
                await result.response()
                surfaces[command] = payload(result)
            for character in canon.characters:
                result = await fake_discord.slash(guild, member, "character", name=character.key)
                await result.response()
                surfaces[f"/character {character.key}"] = payload(result)
                choices = await fake_discord.autocomplete(
                    guild, member, "character", focused="name", name=character.name
                )
                surfaces[f"choices {character.key}"] = json.dumps(choices, ensure_ascii=False)
            for theory in theories:
                result = await fake_discord.slash(guild, member, "theory show", theory=str(theory.id))
                await result.response()
                surfaces[f"/theory show #{theory.id}"] = payload(result)
            for typed in ("", "Cheong-san", "immune", "Season 2"):
                choices = await fake_discord.autocomplete(
                    guild, member, "theory show", focused="theory", theory=typed
                )
                surfaces[f"theory choices {typed!r}"] = json.dumps(choices, ensure_ascii=False)
            for name, surface in surfaces.items():
                assert leaks(surface, texts + statuses, mode) == [], (mode, language, name)
            if mode is SpoilerMode.SHOWN:
                whole = _normal(" ".join(surfaces.values()))
                for secret in texts + statuses:  # shown means shown: every spoiler is there
                    assert probe(secret) in whole, (language, secret)


async def test_a_spoiler_news_announcement_follows_the_server(
    bot: HalfbieBot, fake_discord: FakeDiscord, guild: FakeGuild
) -> None:
    """What the announcer posts goes through the same rule, in the server's mode."""
    channel = guild.add_channel("news")
    secret = "Nam-ra's friends from the outskirts arrive in episode one"
    for mode in SpoilerMode:
        await bot.store.settings.update(
            guild.id, None, spoiler_mode=mode.value, announce_channel_id=channel.id
        )
        opened = await fake_discord.slash(
            guild, guild.owner, "admin news add",
            headline=f"Season 2 plot details reported ({mode.value})", certainty="reported",
            source="A magazine", details=True, spoiler="later",
        )  # fmt: skip
        await opened.response()
        field = opened.modal["components"][0]["components"][0]["custom_id"]  # type: ignore[index]
        added = await fake_discord.submit_modal(guild, guild.owner, opened, {field: secret})
        await added.response()
        said = (await added.wait_message()).content if added.deferred else added.content
        assert "Announced" in (said or ""), said
        posted = [m for m in fake_discord.messages_in(channel) if mode.value in json.dumps(m.embeds)]
        assert len(posted) == 1
        surface = json.dumps([posted[0].content, posted[0].embeds], ensure_ascii=False)
        assert leaks(surface, [secret], mode) == [], mode
        if mode is SpoilerMode.SHOWN:
            assert probe(secret) in _normal(surface)


# -- admin-written text marked as a spoiler, on every renderer -------------------------------

words = st.text(alphabet="abcdefghijklmnopqrstuvwxyz", min_size=12, max_size=30)
hostile = st.text(alphabet="|*_~`>\\@ \n한💀", max_size=8)
secret_text = st.tuples(words, hostile, words).map("".join)
SOURCE = SourceRef("An admin", Certainty.FAN_THEORY)


def _surfaces(character: Character, theory: Theory, news: NewsItem, t: Texts) -> dict[str, str]:
    """Everything each renderer makes of the three records, as a reader would get it."""
    tally = Tally(theory.id, tuple(range(len(theory.fields.options))))
    release = Release(1, Stage.CONFIRMED, None, 0, None)
    vote = MemberVote(theory, 0, 0, None)
    dumped: dict[str, Any] = {
        "card": cards.card(character, t.spoilers, t).to_dict(),
        "list line": cards.list_line(character, t.spoilers, t),
        "character choice": cards.choice(character, t).name,
        "poll": polls.poll_embed(theory, tally, t).to_dict(),
        "buttons": [b.label for b in polls.poll_buttons(theory, t)],
        "theory line": polls.list_line(theory, tally, t),
        "theory choice": polls.choice(theory, t).name,
        "outcome choices": [polls.option_choice(theory, i, t).name for i in range(len(tally.counts))],
        "mine": polls.mine_line(vote, t),
        "result card": polls.result_card(theory, tally, t).to_dict(),
        "moved": polls.moved_embed(theory, "https://discord.com/channels/1/2/3", t).to_dict(),
        "timeline": releases.timeline_line(news, t, today="2026-12-03", premiere_at=None),
        "news line": releases.news_line(news, t),
        "announcement": releases.news_announcement(news, t).to_dict(),
        "release card": releases.release_card(
            release, t, latest=[news], speculation=None, official=None, last=None, now=0
        ).to_dict(),
    }
    return {name: json.dumps(value, ensure_ascii=False) for name, value in dumped.items()}


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    secret=secret_text,
    spoiler=st.sampled_from([Spoiler.FINALE, Spoiler.LATER]),
    mode=st.sampled_from(list(SpoilerMode)),
    language=st.sampled_from(LANGUAGES),
    status=st.sampled_from(list(TheoryStatus)),
)
def test_admin_text_marked_as_a_spoiler_never_shows_where_the_server_hides_it(
    secret: str, spoiler: Spoiler, mode: SpoilerMode, language: str, status: TheoryStatus
) -> None:
    t = Texts(CATALOG, language, mode)
    said = Statement(secret, SOURCE, spoiler)
    character = Character(
        1,
        CharacterFields(
            key="k", name="Someone", role=Statement("A student.", SOURCE), status=Status.ZOMBIE,
            status_source=SOURCE, fate_s1=(said, said), season2=(said,),
        ),
        updated_at=0,
        updated_by=None,
    )  # fmt: skip
    fields = TheoryFields(
        title=secret, options=(secret + "x", "Agree", secret + "y"), source=SOURCE, details=secret,
        spoiler=spoiler,
    )  # fmt: skip
    outcome = 0 if status is TheoryStatus.RESOLVED else None
    theory = Theory(1, 7, fields, status, 0, None, 5, 6, outcome)
    reported = NewsFields("Plot details", None, "2026-12-01", SOURCE, details=secret, spoiler=spoiler)
    news = NewsItem(1, 3, reported, 0, None)
    for name, surface in _surfaces(character, theory, news, t).items():
        assert leaks(surface, [secret], mode) == [], (name, mode)
    if mode is SpoilerMode.SHOWN:
        assert probe(secret) in _normal(" ".join(_surfaces(character, theory, news, t).values()))
