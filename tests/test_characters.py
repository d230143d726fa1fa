"""Character cards end to end through the offline Discord."""

from __future__ import annotations

import asyncio
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import bot.render.characters as render
from bot.client import HalfbieBot
from bot.i18n import LANGUAGES, Catalog, Texts, english
from bot.models import (
    Certainty,
    Character,
    CharacterFields,
    SourceRef,
    Spoiler,
    SpoilerMode,
    Statement,
    Status,
)
from bot.render.facts import CERTAINTY_MARK
from tests.conftest import BotRunner
from tests.fakediscord import FakeDiscord, FakeGuild, FakeMember, Perm
from tests.fakediscord.limits import (
    compute_pings,
    message_texts,
    validate_autocomplete,
    validate_message,
)

CATALOG = Catalog.load()


def card_text(embed: dict) -> str:  # type: ignore[type-arg]
    parts = [
        embed.get("title", ""),
        embed.get("description", ""),
        embed.get("footer", {}).get("text", ""),
    ]
    for field in embed.get("fields", []):
        parts += [field["name"], field["value"]]
    return "\n".join(parts)


@pytest.fixture
def mod(guild: FakeGuild) -> FakeMember:
    return guild.add_member("mod", roles=[guild.add_role("Mods", Perm.MANAGE_GUILD)])


async def test_every_seeded_character_shows_the_article_facts_with_their_source(
    bot: HalfbieBot, fake_discord: FakeDiscord, guild: FakeGuild, member: FakeMember
) -> None:
    """Every statement of every card with its own certainty mark right after it (a
    spoiler's outside its tag), the legend naming each mark used, each source once."""
    for canon in bot.canon.characters:
        result = await fake_discord.slash(guild, member, "character", name=canon.key)
        await result.response()
        assert not result.ephemeral
        embed = result.embeds[0]
        text = card_text(embed)
        assert canon.name in embed["title"]
        if canon.actor and canon.actor_source:
            assert f"{canon.actor} {CERTAINTY_MARK[canon.actor_source.certainty]}" in text
        if canon.hangul and canon.hangul_source:
            assert f"{canon.hangul} {CERTAINTY_MARK[canon.hangul_source.certainty]}" in embed["title"]
        assert embed["description"] == f"{canon.role.text} {CERTAINTY_MARK[canon.role.certainty]}"
        for statement in (*canon.fate_s1, *canon.season2):
            # hidden behind spoiler tags by default, the mark outside the tag
            shown = f"||{statement.text}||" if statement.spoiler is not Spoiler.NONE else statement.text
            assert f"{shown} {CERTAINTY_MARK[statement.certainty]}" in text, statement.text
        footer = embed["footer"]["text"]
        used = {s.certainty for s in canon.statements} | {canon.status_source.certainty}
        for certainty in used:
            assert f"{CERTAINTY_MARK[certainty]} {english()(f'certainty.{certainty.value}')}" in footer
        for source in {s.source.name for s in canon.statements}:
            assert footer.count(source) == 1, source


FORMS = [
    ("namra", "nam-ra"),
    ("Nam ra", "nam-ra"),
    ("Choi Nam-ra", "nam-ra"),
    ("최남라", "nam-ra"),
    ("Cheongsan", "cheong-san"),
    ("Cheong-sna", "cheong-san"),
    ("Yoon Chan-young", "cheong-san"),
    ("Lomon", "su-hyeok"),
    ("Lee Eun-saem", "mi-jin"),
]


async def test_autocomplete_and_free_text_find_every_form(
    bot: HalfbieBot, fake_discord: FakeDiscord, guild: FakeGuild, member: FakeMember
) -> None:
    for typed, key in FORMS:
        choices = await fake_discord.autocomplete(guild, member, "character", focused="name", name=typed)
        assert choices, typed
        assert choices[0]["value"] == key, typed
        # Typed without picking a suggestion, the name still finds the card.
        result = await fake_discord.slash(guild, member, "character", name=typed)
        await result.response()
        expected = next(c for c in bot.canon.characters if c.key == key)
        assert expected.name in result.embeds[0]["title"], typed
    empty = await fake_discord.autocomplete(guild, member, "character", focused="name", name="")
    assert 0 < len(empty) <= 25


async def test_unknown_name_offers_the_closest_to_pick(
    bot: HalfbieBot, fake_discord: FakeDiscord, guild: FakeGuild, member: FakeMember
) -> None:
    nonsense = await fake_discord.slash(guild, member, "character", name="@everyone Zzyzx")
    await nonsense.response()
    assert nonsense.ephemeral
    assert "No character matches" in (nonsense.content or "")
    assert not nonsense.components  # nothing unrelated is offered
    result = await fake_discord.slash(guild, member, "character", name="Hyoryungggg")
    await result.response()
    assert result.ephemeral
    assert "No character matches “Hyoryungggg”" in (result.content or "")
    assert not result.message.pinged
    select = result.components[0]["components"][0]
    assert [o["label"] for o in select["options"]] == ["Seo Hyo-ryung"]
    picked = select["options"][0]["value"]
    other = guild.add_member("someone else")
    stranger = await fake_discord.select(guild, other, result, select["custom_id"], [picked])
    await stranger.response()
    assert stranger.ephemeral  # only the asker may pick
    choice = await fake_discord.select(guild, member, result, select["custom_id"], [picked])
    await choice.response()
    message = await result.wait_message(predicate=lambda m: bool(m.embeds))
    assert message.embeds


async def test_admin_changes_status_in_one_server_only_and_it_is_audited(
    runner: BotRunner,
    fake_discord: FakeDiscord,
    guild: FakeGuild,
    member: FakeMember,
    mod: FakeMember,
) -> None:
    other = fake_discord.add_guild("Other server")
    bot = await runner.start()
    result = await fake_discord.slash(
        guild, mod, "admin character status",
        character="cheong-san", status="immune", source="Netflix Season 2 trailer",
        certainty="official",
    )  # fmt: skip
    await result.response()
    assert result.ephemeral
    assert "Saved" in result.content

    here = await fake_discord.slash(guild, member, "character", name="Cheong-san")
    await here.response()
    status_field = next(f for f in here.embeds[0]["fields"] if f["name"] == "Status")
    assert "Immune" in status_field["value"]
    assert status_field["value"].endswith(CERTAINTY_MARK[Certainty.OFFICIAL])
    assert "Netflix Season 2 trailer" in here.embeds[0]["footer"]["text"]

    there = await fake_discord.slash(other, other.add_member("fan2"), "character", name="Cheong-san")
    await there.response()
    status_there = next(f for f in there.embeds[0]["fields"] if f["name"] == "Status")
    assert "Presumed dead" in status_there["value"]

    entries = await bot.store.audit.list(guild.id, "character.")
    change = entries[0]
    assert change.action == "character.status"
    assert change.actor_id == mod.id
    assert json.loads(change.old or "{}")["status"] == "presumed_dead"
    assert json.loads(change.new or "{}")["status"] == "immune"
    assert await bot.store.audit.list(other.id, "character.") == []


async def test_member_without_permission_is_refused_and_nothing_changes(
    bot: HalfbieBot, fake_discord: FakeDiscord, guild: FakeGuild, member: FakeMember
) -> None:
    before = await bot.store.characters.list(guild.id)
    attempts = [
        ("admin character status", {"character": "nam-ra", "status": "zombie", "source": "x"}),
        ("admin character remove", {"character": "nam-ra"}),
        ("admin character restore", {"character": "nam-ra"}),
        ("admin character edit", {"character": "nam-ra"}),
        ("admin character add", {"source": "x"}),
    ]
    for path, options in attempts:
        result = await fake_discord.slash(guild, member, path, options=options)
        await result.response()
        assert result.ephemeral, path
        assert result.modal is None, path
        assert "Manage Server" in result.content, path
    assert await bot.store.characters.list(guild.id) == before
    assert await bot.store.audit.list(guild.id, "character.") == []


async def test_admin_role_from_settings_is_enough(
    bot: HalfbieBot, fake_discord: FakeDiscord, guild: FakeGuild
) -> None:
    role = guild.add_role("Halfbie admins")
    helper = guild.add_member("helper", roles=[role])
    await bot.store.settings.update(guild.id, None, admin_role_id=role.id)
    result = await fake_discord.slash(
        guild,
        helper,
        "admin character status",
        character="nam-ra",
        status="zombie",
        source="Episode 1",
    )
    await result.response()
    assert "Saved" in result.content


async def test_add_edit_remove_restore_through_modals(
    bot: HalfbieBot,
    fake_discord: FakeDiscord,
    guild: FakeGuild,
    member: FakeMember,
    mod: FakeMember,
) -> None:
    opened = await fake_discord.slash(guild, mod, "admin character add", source="Netflix", actor="Yoo In-soo")
    await opened.response()
    assert opened.modal is not None
    inputs = {c["custom_id"]: c for row in opened.modal["components"] for c in row.get("components", [row])}
    ids = list(inputs)
    values = dict(zip(ids, ["Yoon Gwi-nam", "The bully who hunts the others", "", "", ""], strict=True))
    added = await fake_discord.submit_modal(guild, mod, opened, values)
    await added.response()
    assert "Added" in added.content
    character = await bot.store.characters.get(guild.id, "yoon-gwi-nam")
    assert character is not None
    assert character.fields.actor == "Yoo In-soo"

    # Edit: the form comes prefilled with the current values.
    edit = await fake_discord.slash(guild, mod, "admin character edit", character="yoon-gwi-nam")
    await edit.response()
    prefilled = [c.get("value") for row in edit.modal["components"] for c in row.get("components", [row])]
    assert "Yoon Gwi-nam" in prefilled
    assert "The bully who hunts the others" in prefilled
    edit_ids = [c["custom_id"] for row in edit.modal["components"] for c in row.get("components", [row])]
    new_values = ["Yoon Gwi-nam", "The bully", "Turned into a halfbie-like zombie.", "", ""]
    saved = await fake_discord.submit_modal(guild, mod, edit, dict(zip(edit_ids, new_values, strict=True)))
    await saved.response()
    updated = await bot.store.characters.get(guild.id, "yoon-gwi-nam")
    assert updated is not None
    assert updated.fields.role.text == "The bully"
    assert updated.fields.role.spoiler is Spoiler.NONE
    # A new line of the Season 1 text is a statement of its own: a spoiler, from the card's source.
    (fate,) = updated.fields.fate_s1
    assert fate.text == "Turned into a halfbie-like zombie."
    assert fate.spoiler is Spoiler.FINALE
    assert fate.source == updated.fields.role.source

    # /admin character fact sets one line's source, certainty and spoiler level.
    fact = await fake_discord.slash(
        guild, mod, "admin character fact",
        character="Gwi-nam", part="fate_s1", line=1, source="Episode 12", certainty="official",
        spoiler="later",
    )  # fmt: skip
    await fact.response()
    assert "Saved" in fact.content
    assert "Episode 12" in fact.embeds[0]["footer"]["text"]
    facts = await bot.store.characters.get(guild.id, "yoon-gwi-nam")
    assert facts is not None
    assert facts.fields.fate_s1[0].source == SourceRef("Episode 12", Certainty.OFFICIAL)
    assert facts.fields.fate_s1[0].spoiler is Spoiler.LATER
    assert facts.fields.fate_s1[0].text == fate.text
    for bad in ({"part": "season2", "line": 1}, {"part": "role", "spoiler": "finale"}):
        refused = await fake_discord.slash(
            guild, mod, "admin character fact",
            character="yoon-gwi-nam", source="x", certainty="official", **bad,
        )  # fmt: skip
        await refused.response()
        assert refused.ephemeral
        assert "Nothing was changed" in refused.content or "cannot be spoilers" in refused.content
    assert await bot.store.characters.get(guild.id, "yoon-gwi-nam") == facts

    removed = await fake_discord.slash(guild, mod, "admin character remove", character="yoon-gwi-nam")
    await removed.response()
    assert "restore" in removed.content
    gone = await fake_discord.slash(guild, member, "character", name="Yoon Gwi-nam")
    await gone.response()
    assert gone.ephemeral  # not found any more: offered the closest instead
    back = await fake_discord.slash(guild, mod, "admin character restore", character="yoon-gwi-nam")
    await back.response()
    assert "Restored" in back.content
    actions = [e.action for e in await bot.store.audit.list(guild.id, "character.")]
    assert actions[:4] == [
        "character.restore",
        "character.remove",
        "character.update",
        "character.update",
    ]


async def test_spoiler_modes(
    bot: HalfbieBot, fake_discord: FakeDiscord, guild: FakeGuild, member: FakeMember
) -> None:
    async def nam_ra() -> dict:  # type: ignore[type-arg]
        result = await fake_discord.slash(guild, member, "character", name="nam-ra")
        await result.response()
        return result.embeds[0]

    hidden = await nam_ra()
    values = {f["name"]: f["value"] for f in hidden["fields"]}
    assert values["Status"].startswith("||")
    assert values["Season 1 fate"].startswith("||")

    await bot.store.settings.update(guild.id, None, spoiler_mode=SpoilerMode.SHOWN)
    shown = {f["name"]: f["value"] for f in (await nam_ra())["fields"]}
    assert shown["Status"].startswith("🌗 Halfbie")
    assert not shown["Season 1 fate"].startswith("||")

    await bot.store.settings.update(guild.id, None, spoiler_mode=SpoilerMode.OMITTED)
    omitted = await nam_ra()
    text = card_text(omitted)
    assert "Halfbie" not in text
    assert "blood-thirsty" not in text


async def test_three_hundred_characters_page_within_limits_and_only_the_asker_turns_pages(
    bot: HalfbieBot, fake_discord: FakeDiscord, guild: FakeGuild, member: FakeMember
) -> None:
    source = SourceRef("test", Certainty.FAN_THEORY)
    await asyncio.gather(
        *(
            bot.store.characters.add(
                guild.id, None,
                CharacterFields(
                    key=f"extra-{i}", name=f"Extra {i} " + "@everyone **x** " * 20,
                    actor="A" * 300, actor_source=source, role=Statement("r", source),
                    status=Status.ZOMBIE, status_source=source,
                ),
            )
            for i in range(300)
        )
    )  # fmt: skip
    result = await fake_discord.slash(guild, member, "characters")
    await result.response()
    message = await result.wait_message()
    pages = message.embeds[0]["footer"]["text"]
    assert pages.endswith(f"Page 1/{pages.rsplit('/', 1)[1]}")
    total = int(pages.rsplit("/", 1)[1])
    assert total >= 300 // 15
    first = message.embeds[0]["description"]

    stranger = guild.add_member("stranger")
    next_id = next(cid for cid in message.custom_ids() if cid)
    buttons = [b for row in message.components for b in row["components"]]
    next_button = next(b for b in buttons if b.get("label") == "▶")
    denied = await fake_discord.click(guild, stranger, message, next_button["custom_id"])
    await denied.response()
    assert denied.ephemeral
    assert message.embeds[0]["description"] == first
    assert next_id

    turned = await fake_discord.click(guild, member, message, next_button["custom_id"])
    await turned.response()
    assert message.embeds[0]["description"] != first
    assert "Page 2/" in message.embeds[0]["footer"]["text"]

    # A list by status would tell who has it: only a server that shows spoilers gets one.
    zombies = await fake_discord.slash(guild, member, "characters", status="zombie")
    await zombies.response()
    assert zombies.ephemeral
    assert "would tell who has it" in (zombies.content or "")
    await bot.store.settings.update(guild.id, None, spoiler_mode="shown")
    zombies = await fake_discord.slash(guild, member, "characters", status="zombie")
    await zombies.response()
    assert "Zombie" in zombies.embeds[0]["title"]


TOKENS = [
    *"abc @#*_~`|>\n\\<&:",
    "@everyone",
    "@here",
    "<@&123>",
    "<@42>",
    "\u200b",
    "\u202e",
    "한",
    "💀",
]
hostile = st.one_of(
    st.lists(st.sampled_from(TOKENS), max_size=400).map("".join),
    st.lists(st.sampled_from(TOKENS), max_size=40).map(lambda parts: "".join(parts) * 300),
    st.text(max_size=6000),
)


def character_of(text: str, status: Status) -> Character:
    source = SourceRef(text or "s", Certainty.REPORTED, None)
    many = tuple(Statement(text, source, spoiler) for spoiler in Spoiler for _ in range(3))
    fields = CharacterFields(
        key=(text or "k")[:100], name=text or "n", hangul=text, hangul_source=source, actor=text,
        actor_source=source, role=Statement(text, source), status=status, status_source=source,
        fate_s1=many, season2=many, aliases=(text,), notes=text,
    )  # fmt: skip
    return Character(guild_id=1, fields=fields, updated_at=0, updated_by=None)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    text=hostile,
    status=st.sampled_from(list(Status)),
    mode=st.sampled_from(list(SpoilerMode)),
    language=st.sampled_from(LANGUAGES),
)
def test_any_text_renders_within_limits_and_pings_nobody(
    text: str, status: Status, mode: SpoilerMode, language: str
) -> None:
    t = Texts(CATALOG, language)
    character = character_of(text, status)
    embed = render.card(character, mode, t).to_dict()
    payload = {"content": render.list_line(character, mode, t), "embeds": [embed]}
    assert validate_message(payload, context="channel", creating=True) == []
    # Even parsed with Discord's most permissive defaults, the text pings nobody: it is escaped.
    pings = compute_pings(
        message_texts(payload),
        None,
        default_parse=["users", "roles", "everyone"],
        guild_id=1,
        role_ids={123},
    )
    assert pings == set()
    assert len(render.list_line(character, mode, t)) <= 200
    choice = render.choice(character, t)
    assert validate_autocomplete({"choices": [{"name": choice.name, "value": choice.value}]}) == []


@pytest.mark.parametrize("typed", ["Cheong-san", "청산", "cheongsan", "Yoon Chan-young", "Cheong-sna"])
async def test_admin_commands_take_what_character_takes(
    bot: HalfbieBot, fake_discord: FakeDiscord, guild: FakeGuild, mod: FakeMember, typed: str
) -> None:
    result = await fake_discord.slash(
        guild, mod, "admin character status", character=typed, status="immune", source="A trailer"
    )
    await result.response()
    assert "Saved" in (result.content or ""), result.content
    changed = await bot.store.characters.get(guild.id, "cheong-san")
    assert changed is not None
    assert changed.fields.status is Status.IMMUNE


async def test_an_ambiguous_name_answers_with_the_candidates_and_changes_nothing(
    bot: HalfbieBot, fake_discord: FakeDiscord, guild: FakeGuild, mod: FakeMember
) -> None:
    before = [c.fields for c in await bot.store.characters.list(guild.id)]
    result = await fake_discord.slash(
        guild, mod, "admin character status", character="Lee", status="zombie", source="A rumour"
    )
    await result.response()
    assert result.ephemeral
    text = result.content or ""
    assert "could mean" in text
    for name in ("Lee Cheong-san", "Lee Su-hyeok", "Lee Byeong-chan"):
        assert name in text
    assert [c.fields for c in await bot.store.characters.list(guild.id)] == before
    removed = await fake_discord.slash(guild, mod, "admin character remove", character="Nobody-at-all")
    await removed.response()
    assert "no character" in (removed.content or "")
    assert [c.fields for c in await bot.store.characters.list(guild.id)] == before


async def test_editor_notes_are_for_admins_and_a_name_is_taken_once(
    bot: HalfbieBot, fake_discord: FakeDiscord, guild: FakeGuild, member: FakeMember, mod: FakeMember
) -> None:
    notes = next(c.notes for c in bot.canon.characters if c.key == "cheong-san")
    assert notes
    fan_card = await fake_discord.slash(guild, member, "character", name="Cheong-san")
    await fan_card.response()
    assert notes not in card_text(fan_card.embeds[0])  # the editors' note is not for fans
    preview = await fake_discord.slash(
        guild, mod, "admin character status", character="Cheong-san", status="immune", source="A trailer"
    )
    await preview.response()
    assert notes in card_text(preview.embeds[0])  # the admin who keeps the card sees it

    before = len(await bot.store.characters.list(guild.id))
    opened = await fake_discord.slash(guild, mod, "admin character add", source="Netflix")
    await opened.response()
    assert opened.modal is not None
    inputs = [c["custom_id"] for row in opened.modal["components"] for c in row.get("components", [row])]
    values = dict(zip(inputs, ["lee  CHEONG-san", "Another role", "", "", ""], strict=True))
    result = await fake_discord.submit_modal(guild, mod, opened, values)
    await result.response()
    assert result.ephemeral
    assert "already a character called" in (result.content or "")
    assert len(await bot.store.characters.list(guild.id)) == before


async def test_a_card_names_its_source_once_and_an_admin_preview_keeps_spoilers_tagged(
    bot: HalfbieBot, fake_discord: FakeDiscord, guild: FakeGuild, member: FakeMember, mod: FakeMember
) -> None:
    card = await fake_discord.slash(guild, member, "character", name="Nam-ra")
    await card.response()
    embed = card.embeds[0]
    footer = embed["footer"]["text"]
    article = bot.canon.article.name
    assert footer.count(article) == 1  # every line is from the article: it is named once
    assert all(article not in f["value"] for f in embed["fields"])  # in the footer only
    preview = await fake_discord.slash(
        guild, mod, "admin character status", character="Nam-ra", status="halfbie", source="Episode 12"
    )
    await preview.response()
    fields = {f["name"]: f["value"] for f in preview.embeds[0]["fields"]}
    assert fields["Season 1 fate"].startswith("||")  # the server hides spoilers: so does the preview
    assert fields["Status"].startswith("||")
    assert "Episode 12" in preview.embeds[0]["footer"]["text"]  # a status's own source is named
