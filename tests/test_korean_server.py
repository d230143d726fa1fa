"""A Korean server reads Halfbie in Korean: content as well as menus, end to end."""

from __future__ import annotations

from typing import Any

from bot.client import HalfbieBot
from tests.fakediscord import FakeDiscord, FakeGuild, FakeMember
from tests.fakediscord.interactions import InteractionResult


def inputs(result: InteractionResult) -> list[str]:
    """The custom ids of a form's text inputs, in order."""
    assert result.modal is not None
    return [c["custom_id"] for row in result.modal["components"] for c in row.get("components", [row])]


async def text_of(result: InteractionResult) -> str:
    await result.response()
    if result.deferred:
        return (await result.wait_message()).content or ""
    return result.content or ""


async def test_admins_write_the_korean_text_beside_the_english(
    bot: HalfbieBot, fake_discord: FakeDiscord, guild: FakeGuild, member: FakeMember
) -> None:
    owner = guild.owner
    other = fake_discord.add_guild("English fans")
    await bot.store.settings.update(guild.id, None, language="ko")
    teaser = next(
        n for n in await bot.store.news.list(guild.id) if n.fields.key == "2022-06-06-netflix-teaser"
    )

    # A news item's Korean headline, in a form of its own.
    opened = await fake_discord.slash(guild, owner, "admin news edit", item=str(teaser.id), korean=True)
    await opened.response()
    headline, details = inputs(opened)
    said: dict[str, Any] = {headline: "넷플릭스, 인트로 티저로 시즌 2 확정", details: ""}
    saved = await fake_discord.submit_modal(guild, owner, opened, said)
    assert "#" in await text_of(saved)
    timeline = await fake_discord.slash(guild, member, "timeline")
    await timeline.response()
    assert "넷플릭스, 인트로 티저로 시즌 2 확정" in str((await timeline.wait_message()).embeds)
    english = await fake_discord.slash(other, other.add_member("fan"), "timeline")
    await english.response()
    shown = str((await english.wait_message()).embeds)
    assert "넷플릭스, 인트로 티저로" not in shown
    assert teaser.fields.headline in shown

    # A card's Korean lines: one per English line, in the same order.
    card = await bot.store.characters.get(guild.id, "su-hyeok")
    assert card is not None
    opened = await fake_discord.slash(guild, owner, "admin character edit", character="수혁", korean=True)
    await opened.response()
    role, fate, season2 = inputs(opened)
    wrong = {role: "이야기의 중심에 있는 십대 중 한 명이에요.", fate: "첫 줄\n둘째 줄", season2: ""}
    refused = await fake_discord.submit_modal(guild, owner, opened, wrong)
    assert "아무것도 바꾸지 않았어요" in await text_of(refused)
    assert await bot.store.characters.get(guild.id, "su-hyeok") == card

    opened = await fake_discord.slash(guild, owner, "admin character edit", character="수혁", korean=True)
    await opened.response()
    role, fate, season2 = inputs(opened)
    right = {
        role: "이야기의 중심에 있는 십대 중 한 명이에요.",
        fate: "시즌 1이 끝날 때 살아남은 생존자예요.",
        season2: "",
    }
    saved = await fake_discord.submit_modal(guild, owner, opened, right)
    await saved.response()
    korean = await bot.store.characters.get(guild.id, "su-hyeok")
    assert korean is not None
    assert korean.fields.role.ko == right[role]
    assert [s.ko for s in korean.fields.fate_s1] == [right[fate]]
    assert [s.ko for s in korean.fields.season2] == [None] * len(card.fields.season2)
    assert korean.fields.fate_s1[0].text == card.fields.fate_s1[0].text  # the English stays
