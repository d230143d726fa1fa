"""Each server its own way: settings, one permission model, audit, help, Korean."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from bot.client import HalfbieBot
from bot.i18n import LANGUAGES, Catalog, placeholders
from bot.models import SpoilerMode
from tests.conftest import BotRunner
from tests.fakediscord import FakeDiscord, FakeGuild, FakeMember, Perm
from tests.store_fixtures import guild_tables, read_outside

NAME_RULE = re.compile(r"^[-_\w]{1,32}$")


@pytest.fixture
def mod(guild: FakeGuild) -> FakeMember:
    return guild.add_member("mod", roles=[guild.add_role("Mods", Perm.MANAGE_GUILD)])


async def dump(db: str | Path, guild_id: int) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of the server, table by table (to prove nothing changed)."""
    return {
        table: sorted(
            await read_outside(db, f"SELECT * FROM {table} WHERE guild_id = ?", (guild_id,)), key=repr
        )
        for table in await guild_tables(db)
    }


def leaves(command: dict[str, Any], path: str = "") -> list[tuple[str, list[dict[str, Any]]]]:
    path = f"{path} {command['name']}".strip()
    children = [o for o in command.get("options", []) if o["type"] in (1, 2)]
    if not children:
        return [(path, command.get("options", []))]
    return [leaf for child in children for leaf in leaves(child, path)]


def dummy_options(options: list[dict[str, Any]], guild: FakeGuild, member: FakeMember) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for option in options:
        if not option.get("required"):
            continue
        kind = option["type"]
        if option.get("choices"):
            values[option["name"]] = option["choices"][0]["value"]
        elif kind == 3:
            values[option["name"]] = "x"
        elif kind in (4, 10):
            values[option["name"]] = 1
        elif kind == 5:
            values[option["name"]] = False
        elif kind == 6:
            values[option["name"]] = member
        elif kind == 7:
            values[option["name"]] = guild.general
        elif kind == 8:
            values[option["name"]] = guild.everyone
    return values


async def test_every_admin_command_refuses_members_and_nothing_changes_then_the_admin_role_may(
    runner: BotRunner, fake_discord: FakeDiscord, guild: FakeGuild, member: FakeMember
) -> None:
    bot = await runner.start()
    admin = next(c for c in fake_discord.synced_commands() if c["name"] == "admin")
    assert admin["default_member_permissions"] is not None  # hidden from members by default
    commands = leaves(admin)
    assert len(commands) >= 10
    before = await dump(runner.database, guild.id)
    for path, options in commands:
        # The fake sends the interaction whatever the client would hide: a crafted interaction.
        result = await fake_discord.slash(guild, member, path, options=dummy_options(options, guild, member))
        await result.response()
        assert result.ephemeral, path
        assert result.modal is None, path
        assert "Manage Server" in result.content, (path, result.content)
    assert await dump(runner.database, guild.id) == before

    role = guild.add_role("Halfbie admins")
    guild.set_member_roles(member, [role])
    await fake_discord.barrier()
    await bot.store.settings.update(guild.id, None, admin_role_id=role.id)
    # Last: "admin-role" with no role clears the admin role itself.
    commands.sort(key=lambda command: command[0] == "admin config admin-role")
    for path, options in commands:
        result = await fake_discord.slash(guild, member, path, options=dummy_options(options, guild, member))
        await result.response()
        refusal = result.content or ""
        assert "Manage Server permission" not in refusal, (path, refusal)


async def test_config_show_and_each_setting_is_saved_and_audited(
    bot: HalfbieBot, fake_discord: FakeDiscord, guild: FakeGuild, mod: FakeMember
) -> None:
    shown = await fake_discord.slash(guild, mod, "admin config show")
    await shown.response()
    names = [f["name"] for f in shown.embeds[0]["fields"]]
    assert names == [
        "Admin role",
        "Announcement channel",
        "News ping role",
        "Spoilers",
        "Language",
        "Poll-creator role",
        "Checks",  # what halfbie doctor finds here (tests/test_doctor.py)
    ]

    news = guild.add_channel("news")
    role = guild.add_role("Season 2 news")
    creators = guild.add_role("Theorists")
    await fake_discord.barrier()
    for path, options in [
        ("admin config announce-channel", {"channel": news}),
        ("admin config ping-role", {"role": role}),
        ("admin config spoilers", {"mode": "shown"}),
        ("admin config poll-creators", {"role": creators}),
    ]:
        result = await fake_discord.slash(guild, mod, path, options=options)
        await result.response()
        assert result.content.startswith("Saved"), (path, result.content)
    settings = await bot.store.settings.get(guild.id)
    assert settings.announce_channel_id == news.id
    assert settings.ping_role_id == role.id
    assert settings.spoiler_mode is SpoilerMode.SHOWN
    assert settings.poll_creator_role_id == creators.id
    assert len(await bot.store.audit.list(guild.id, "settings.")) == 4

    cleared = await fake_discord.slash(guild, mod, "admin config ping-role")
    await cleared.response()
    assert cleared.content.startswith("Cleared")
    assert (await bot.store.settings.get(guild.id)).ping_role_id is None


async def test_config_refuses_a_channel_the_bot_cannot_post_in_and_a_role_above_it(
    bot: HalfbieBot, fake_discord: FakeDiscord, guild: FakeGuild, mod: FakeMember
) -> None:
    closed = guild.add_channel("closed", bot_can_send=False)
    no_embeds = guild.add_channel("no-embeds", bot_can_embed=False)
    high = guild.add_role("Moderators", above_bot=True)
    await fake_discord.barrier()
    result = await fake_discord.slash(
        guild, mod, "admin config announce-channel", options={"channel": closed}
    )
    await result.response()
    assert "Send Messages" in result.content
    result = await fake_discord.slash(
        guild, mod, "admin config announce-channel", options={"channel": no_embeds}
    )
    await result.response()
    assert "Embed Links" in result.content
    result = await fake_discord.slash(guild, mod, "admin config ping-role", role=high)
    await result.response()
    assert "not below my own highest role" in result.content
    result = await fake_discord.slash(guild, mod, "admin config ping-role", role=guild.everyone)
    await result.response()
    assert "@everyone cannot be" in result.content
    settings = await bot.store.settings.get(guild.id)
    assert settings.announce_channel_id is None
    assert settings.ping_role_id is None
    assert await bot.store.audit.list(guild.id, "settings.") == []


async def test_audit_pages_newest_first_and_filters(
    bot: HalfbieBot, fake_discord: FakeDiscord, guild: FakeGuild, mod: FakeMember
) -> None:
    for mode in ("shown", "omitted", "hidden") * 5:
        result = await fake_discord.slash(guild, mod, "admin config spoilers", mode=mode)
        await result.response()
    result = await fake_discord.slash(
        guild, mod, "admin character status", character="nam-ra", status="zombie", source="Episode 12"
    )
    await result.response()

    audit = await fake_discord.slash(guild, mod, "admin audit")
    await audit.response()
    message = await audit.wait_message()
    first = message.embeds[0]["description"].splitlines()[0]
    # newest first, as a sentence: names, no ids or JSON
    assert first.startswith(f"<@{mod.id}> changed the status of **Choi Nam-ra** from Halfbie to Zombie · <t:")
    assert "{" not in message.embeds[0]["description"]
    second = message.embeds[0]["description"].splitlines()[1]
    assert second.startswith(f"<@{mod.id}> changed Spoilers from left out to behind spoiler tags")
    assert "Page 1/" in message.embeds[0]["footer"]["text"]
    next_button = next(b for row in message.components for b in row["components"] if b.get("label") == "▶")
    turned = await fake_discord.click(guild, mod, message, next_button["custom_id"])
    await turned.response()
    assert "Page 2/" in message.embeds[0]["footer"]["text"]

    only = await fake_discord.slash(guild, mod, "admin audit", what="character")
    await only.response()
    description = only.embeds[0]["description"]
    assert "changed the status of **Choi Nam-ra**" in description
    assert "Spoilers" not in description


async def test_help_shows_what_the_member_can_use(
    bot: HalfbieBot, fake_discord: FakeDiscord, guild: FakeGuild, member: FakeMember, mod: FakeMember
) -> None:
    plain = await fake_discord.slash(guild, member, "help")
    await plain.response()
    fields = {f["name"]: f["value"] for f in plain.embeds[0]["fields"]}
    assert "Server admins" not in fields
    assert "/character" in fields["Characters"]
    assert "How prediction points work" in fields

    admin = await fake_discord.slash(guild, mod, "help")
    await admin.response()
    admin_text = "\n".join(f["value"] for f in admin.embeds[0]["fields"] if f["name"] == "Server admins")
    assert "/admin config spoilers" in admin_text


async def test_korean_server_answers_in_korean_and_english_stays_english(
    runner: BotRunner, fake_discord: FakeDiscord, guild: FakeGuild, member: FakeMember, mod: FakeMember
) -> None:
    english = fake_discord.add_guild("English server")
    fan = english.add_member("fan")
    bot = await runner.start()
    result = await fake_discord.slash(guild, mod, "admin config language", language="ko")
    await result.response()
    assert "한국어" in result.content  # answered in the new language at once

    korean = await fake_discord.slash(guild, member, "character", name="nam-ra")
    await korean.response()
    assert any(f["name"] == "배우" for f in korean.embeds[0]["fields"])
    about = await fake_discord.slash(guild, member, "about")
    await about.response()
    assert any(f["name"] == "가동 시간" for f in about.embeds[0]["fields"])

    plain = await fake_discord.slash(english, fan, "character", name="nam-ra")
    await plain.response()
    assert any(f["name"] == "Actor" for f in plain.embeds[0]["fields"])

    # "auto" follows each member's Discord language.
    other = english.add_member("korean fan", locale="ko")
    auto = await fake_discord.slash(english, other, "character", name="nam-ra")
    await auto.response()
    assert any(f["name"] == "배우" for f in auto.embeds[0]["fields"])
    assert (await bot.store.settings.get(english.id)).language == "auto"


async def test_synced_commands_carry_valid_korean_localizations(
    bot: HalfbieBot, fake_discord: FakeDiscord, guild: FakeGuild
) -> None:
    missing: list[str] = []

    def check(item: dict[str, Any], where: str) -> None:
        name_ko = (item.get("name_localizations") or {}).get("ko")
        if name_ko is None:
            missing.append(f"{where} name")
        else:
            assert NAME_RULE.match(name_ko), (where, name_ko)
            assert name_ko == name_ko.lower(), (where, name_ko)
        if "description" in item:
            description_ko = (item.get("description_localizations") or {}).get("ko")
            if description_ko is None:
                missing.append(f"{where} description")
            else:
                assert 1 <= len(description_ko) <= 100, where
        for choice in item.get("choices", []):
            if (choice.get("name_localizations") or {}).get("ko") is None:
                missing.append(f"{where} choice {choice['name']}")
        for option in item.get("options", []):
            check(option, f"{where} {option['name']}")

    for command in fake_discord.synced_commands():
        check(command, "/" + command["name"])
    assert missing == [], "\n".join(missing)


def test_catalog_has_every_key_in_both_languages_with_the_same_placeholders() -> None:
    catalog = Catalog.load()
    english = catalog.messages["en"]
    for language in LANGUAGES:
        messages = catalog.messages[language]
        assert set(messages) == set(english), language
        for key, text in messages.items():
            assert placeholders(text) == placeholders(english[key]), (language, key)
            assert text.strip(), (language, key)


def test_every_catalog_key_the_code_names_is_in_the_catalog() -> None:
    """A key written out in the code (``t("release.newest")``, ``BadInput("theory.bad")``)
    that the catalog lacks would be found only when a member meets it."""
    import ast
    import re
    from pathlib import Path

    catalog = Catalog.load()
    sections = {key.split(".")[0] for key in catalog.messages["en"]}
    root = Path(__file__).resolve().parent.parent
    named = set()
    store = root / "bot" / "store"  # its dotted names are audit actions, not messages
    actions = {
        node.value
        for path in store.rglob("*.py")
        for node in ast.walk(ast.parse(path.read_text("utf-8")))
        if isinstance(node, ast.Constant) and isinstance(node.value, str)
    }
    for path in [*(root / "bot").rglob("*.py"), *(root / "cogs").rglob("*.py")]:
        if store in path.parents:
            continue
        tree = ast.parse(path.read_text("utf-8"))
        in_fstrings = {
            id(part) for node in ast.walk(tree) if isinstance(node, ast.JoinedStr) for part in node.values
        }
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in in_fstrings:
                text = node.value
                keyish = re.fullmatch(r"[a-z0-9_]+(\.[a-z0-9_]+)+", text)
                if keyish and text.split(".")[0] in sections and text not in actions:
                    named.add((text, path.name))
    assert len(named) > 100  # the scan finds the keys the code uses
    missing = sorted(f"{key} ({where})" for key, where in named if not catalog.has(key))
    assert missing == []


async def test_a_ping_role_nobody_can_mention_is_saved_with_how_to_fix_it(
    bot: HalfbieBot, fake_discord: FakeDiscord, guild: FakeGuild
) -> None:
    quiet = guild.add_role("Season 2 news")  # Discord's default for a new role: not mentionable
    loud = guild.add_role("Loud news", mentionable=True)
    await fake_discord.barrier()
    result = await fake_discord.slash(guild, guild.owner, "admin config ping-role", role=quiet)
    await result.response()
    text = result.content or ""
    assert text.startswith("Saved")
    assert "cannot be mentioned" in text
    assert "Allow anyone to @mention this role" in text
    assert (await bot.store.settings.get(guild.id)).ping_role_id == quiet.id
    result = await fake_discord.slash(guild, guild.owner, "admin config ping-role", role=loud)
    await result.response()
    assert "cannot be mentioned" not in (result.content or "")


def test_audit_sentences_of_hostile_text_stay_short_and_ping_nobody() -> None:
    import json as json_
    import re

    from hypothesis import given, settings
    from hypothesis import strategies as st

    from bot.i18n import Texts
    from bot.models import AuditEntry
    from bot.render.settings import LINE_MAX, audit_line

    catalog = Catalog.load()
    hostile = st.text(alphabet=st.sampled_from(list("@everyone<&#>*_~`|\\: 청산\n0123456789!")), max_size=400)
    actions = st.sampled_from(
        ["character.add", "character.status", "news.add", "news.remove", "theory.create", "theory.resolve",
         "settings.update", "release.stage", "release.premiere", "unknown.thing"]
    )  # fmt: skip

    @settings(max_examples=150, deadline=None)
    @given(action=actions, text=hostile, language=st.sampled_from(["en", "ko"]))
    def check(action: str, text: str, language: str) -> None:
        values = {
            "name": text,
            "headline": text,
            "title": text,
            "option": text,
            "stage": text,
            "status": text,
        }
        entry = AuditEntry(1, 2, 1_790_000_000, 3, action, text, json_.dumps(values), json_.dumps(values))
        line = audit_line(entry, Texts(catalog, language))
        assert len(line) <= LINE_MAX
        assert "@everyone" not in line.replace("@\u200beveryone", "")
        assert not re.search(r"<@&\d+>", line)  # no role mention
        assert re.findall(r"<@!?(\d+)>", line) == ["3"]  # the actor, and no one else

    check()
