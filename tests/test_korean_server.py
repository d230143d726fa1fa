"""A Korean server reads Halfbie in Korean: content as well as menus, end to end."""

from __future__ import annotations

import re
from typing import Any

from bot.client import HalfbieBot
from bot.models import Certainty, SourceRef
from tests.conftest import BotRunner
from tests.fakediscord import FakeDiscord, FakeGuild, FakeMember
from tests.fakediscord.interactions import InteractionResult
from tests.test_theories import until


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


# -- what a Korean fan reads, end to end -------------------------------------------------------

BRACKETED = re.compile(r"이\(가\)|\(이\)|을\(를\)|를\(을\)|은\(는\)|는\(은\)|와\(과\)|과\(와\)|\(으\)로")
# Not counted: command mentions, Discord markup, links, outlets and romanised names.
_NOT_COUNTED = re.compile(
    r"</[^>]+>|<[@#&t:][^>]*>|https?://\S+|Netflix|Newsweek|Korea Herald|Halfbie|"
    r"\([A-Za-z][A-Za-z .'-]*\)|\b(?:Lee|Choi|Nam|Park|Yang|Jang|Seo|Yoon|Cho|Kim)\s[A-Z][a-z]+-[a-z]+\b"
)


def hangul_share(text: str) -> float:
    """Of the letters a reader reads, the share that is Hangul."""
    text = _NOT_COUNTED.sub(" ", text)
    hangul = len(re.findall(r"[\uac00-\ud7a3]", text))
    latin = len(re.findall(r"[A-Za-z]", text))
    return hangul / max(hangul + latin, 1)


def readable(*parts: Any) -> str:
    """Every text of messages and answers as one string (JSON would escape the Hangul)."""
    out: list[str] = []

    def walk(value: Any) -> None:
        if isinstance(value, str):
            out.append(value)
        elif isinstance(value, dict):
            for key, item in value.items():
                if key not in {"custom_id", "url", "type", "style", "color", "id"}:
                    walk(item)
        elif isinstance(value, list | tuple):
            for item in value:
                walk(item)

    walk(list(parts))
    return "\n".join(out)


async def read_everything(
    bot: HalfbieBot, runner: BotRunner, fake: FakeDiscord, guild: FakeGuild, reader: FakeMember, locale: str
) -> tuple[dict[str, str], dict[str, str]]:
    """What a member reads in this server: answers to the member commands, and what the
    bot posts (a poll, its tally and results, an announcement, a reminder); and the
    title of each command's first embed."""
    channel = guild.add_channel("시즌2-소식")
    await fake.barrier()
    await bot.store.settings.update(guild.id, None, announce_channel_id=channel.id)
    seen: dict[str, str] = {}
    titles: dict[str, str] = {}
    for command, options in (
        ("character", {"name": "남라"}),
        ("character", {"name": "윤찬영"}),
        ("characters", {}),
        ("release", {}),
        ("timeline", {}),
        ("help", {}),
    ):
        result = await fake.slash(guild, reader, command, locale=locale, **options)
        await result.response()
        message = await result.wait_message() if result.deferred else result.message
        embeds = result.embeds or (message.embeds if message else [])
        seen[f"/{command} {options}"] = readable(result.content, embeds)
        titles[f"/{command} {options}"] = embeds[0].get("title", "") if embeds else ""
    # Posted by a member whose own client is English: the poll follows the server.
    owner = guild.owner
    new = await fake.slash(guild, owner, "theory new", locale="en-US", title="병찬이 시즌 2에 돌아온다")
    await new.response()
    poll = new.message
    assert poll is not None
    seen["poll"] = readable(poll.content, poll.embeds, poll.components)
    before = readable(poll.embeds)
    voted = await fake.click(guild, reader, poll, poll.custom_ids()[0])
    await voted.response()
    seen["vote answer"] = readable(voted.content)
    await until(lambda: readable(poll.embeds) != before, runner.clock)
    seen["tally"] = readable(poll.embeds)
    theory_id = poll.custom_ids()[0].split(":")[1]
    closed = await fake.slash(guild, owner, "admin theory close", locale="en-US", theory=theory_id)
    await closed.response()
    seen["result card"] = readable((await fake.wait_for_message(channel)).embeds)
    added = await fake.slash(
        guild, owner, "admin news add", locale="en-US",
        headline="넷플릭스, 시즌 2 촬영 시작", certainty="reported", source="넷플릭스 코리아",
    )  # fmt: skip
    await added.response()
    seen["announcement"] = readable(fake.messages_in(channel)[-1].embeds)
    await bot.store.release.change_premiere(
        guild.id, owner.id, int(runner.clock.now()) + 3 * 86400, SourceRef("넷플릭스", Certainty.OFFICIAL)
    )
    runner.clock.advance(2 * 86400 + 60)
    await bot.scheduler.run_due()
    seen["reminder"] = readable(fake.messages_in(channel)[-1].embeds)
    return seen, titles


async def test_a_korean_server_reads_korean_and_an_english_one_english(
    runner: BotRunner, fake_discord: FakeDiscord
) -> None:
    korean = fake_discord.add_guild("지우학 팬 서버", locale="ko")
    auto = fake_discord.add_guild("Auto fans", locale="ko")  # a Community server's preferred locale
    english = fake_discord.add_guild("English fans", locale="en-US")
    bot = await runner.start()
    await bot.store.settings.update(korean.id, None, language="ko")
    await bot.store.settings.update(english.id, None, language="en")
    for guild, locale in ((korean, "en-US"), (auto, "ko")):
        reader = guild.add_member("팬", locale=locale)
        seen, titles = await read_everything(bot, runner, fake_discord, guild, reader, locale)
        for what, text in seen.items():
            assert not BRACKETED.search(text), (guild.name, what, BRACKETED.search(text))
            assert hangul_share(text) >= 0.7, (guild.name, what, round(hangul_share(text), 2), text[:500])
        assert titles["/character {'name': '남라'}"].startswith("최남라"), titles  # Hangul first
        # found by the actor's Hangul name
        assert titles["/character {'name': '윤찬영'}"].startswith("이청산"), titles
    reader = english.add_member("fan", locale="ko")
    seen, titles = await read_everything(bot, runner, fake_discord, english, reader, "ko")
    for what, text in seen.items():
        assert hangul_share(text) < 0.2, (what, round(hangul_share(text), 2), text[:500])
    assert titles["/character {'name': '남라'}"].startswith("Choi Nam-ra"), titles
    assert titles["/character {'name': '윤찬영'}"].startswith("Lee Cheong-san"), titles


async def test_a_command_named_in_an_answer_is_a_mention_and_plain_where_discord_shows_no_markdown(
    runner: BotRunner, fake_discord: FakeDiscord
) -> None:
    korean = fake_discord.add_guild("지우학 팬 서버", locale="ko")
    english = fake_discord.add_guild("English fans", locale="en-US")
    bot = await runner.start()
    await bot.store.settings.update(korean.id, None, language="ko")
    ids = {c["name"]: int(c["id"]) for c in fake_discord.synced_commands()}
    for guild in (korean, english):
        removed = await fake_discord.slash(guild, guild.owner, "admin character remove", character="nam-ra")
        answer = await text_of(removed)
        # A mention, which each member's Discord shows in their own language.
        assert f"</admin character restore:{ids['admin']}>" in answer, answer
        assert "`/admin character restore`" not in answer
    # Before the ids are known (a first start, before the sync), a Korean reader gets the
    # Korean names; an embed footer never shows a mention.
    bot.tree.learn({})
    removed = await fake_discord.slash(korean, korean.owner, "admin character remove", character="su-hyeok")
    assert "`/관리 캐릭터 복원`" in await text_of(removed)
    listed = await fake_discord.slash(korean, korean.owner, "characters")
    await listed.response()
    message = await listed.wait_message() if listed.deferred else listed.message
    embeds = listed.embeds or (message.embeds if message else [])
    footer = embeds[0]["footer"]["text"]
    assert "/캐릭터 " in footer or footer.startswith("/캐릭터"), footer
    assert "</" not in footer


async def test_refusals_name_choices_permissions_and_records_in_korean(
    bot: HalfbieBot, fake_discord: FakeDiscord, guild: FakeGuild
) -> None:
    await bot.store.settings.update(guild.id, None, language="ko")
    owner = guild.owner
    wrong = await fake_discord.slash(
        guild, owner, "admin news add", headline="넷플릭스 발표", certainty="모름", source="넷플릭스"
    )
    answer = await text_of(wrong)
    assert "공식" in answer, answer  # the choices, in Korean
    assert "팬 추측" in answer, answer
    assert "official" not in answer
    no_embeds = guild.add_channel("소식", bot_can_embed=False)
    await fake_discord.barrier()
    refused = await fake_discord.slash(
        guild, owner, "admin config announce-channel", options={"channel": no_embeds}
    )
    answer = await text_of(refused)
    assert "링크 첨부" in answer, answer  # the permission, as Discord's Korean settings name it
    assert "Embed" not in answer
    missing = await fake_discord.slash(guild, owner, "admin theory close", theory="987654")
    answer = await text_of(missing)
    assert "예측" in answer, answer  # what was not found, in Korean
    assert "theory" not in answer


async def test_korean_help_lists_mentions_and_the_old_names_of_renamed_commands(
    bot: HalfbieBot, fake_discord: FakeDiscord, guild: FakeGuild
) -> None:
    await bot.store.settings.update(guild.id, None, language="ko")
    ids = {c["name"]: int(c["id"]) for c in fake_discord.synced_commands()}
    shown = await fake_discord.slash(guild, guild.owner, "help")
    await shown.response()
    text = "\n".join(f["value"] for f in shown.embeds[0]["fields"])
    assert f"</theory new:{ids['theory']}> " in text  # Discord shows it as /예측 만들기
    assert "(예전 이름: /이론 새로)" in text  # found by a member who learned the old name
    [card] = [line for line in text.split("\n") if line.startswith(f"</character:{ids['character']}>")]
    assert "예전 이름" not in card  # a command that kept its name has none
