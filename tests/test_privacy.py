"""/privacy end to end through the offline Discord: a member's own data, and deleting it."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import cast

import aiosqlite

from bot.client import HalfbieBot
from bot.models import Theory, TheoryFields
from bot.render.text import safe
from tests.clock import ManualClock
from tests.fakediscord import FakeDiscord, FakeGuild, FakeMember, FakeMessage
from tests.store_fixtures import ARTICLE, read_outside, vote_of

MY_VOTES = "SELECT * FROM votes WHERE guild_id = ? AND member_id = ?"
MY_SCORES = "SELECT * FROM scores WHERE guild_id = ? AND member_id = ?"
THEIR_VOTES = "SELECT * FROM votes WHERE member_id = ? ORDER BY theory_id"


async def rows(db: str | Path, sql: str, *params: object) -> list[tuple[object, ...]]:
    return await read_outside(db, sql, params)


def button(message: FakeMessage, label: str) -> str:
    found = [b["custom_id"] for b in message.buttons() if b.get("label") == label]
    assert found, (label, [b.get("label") for b in message.buttons()])
    return str(found[0])


async def until(check: Callable[[], bool], bot: HalfbieBot | None = None) -> None:
    """Poll a condition that another task makes true (the fake's state has no event),
    moving the bot's clock when given (the poll messages are refreshed on it)."""
    async with asyncio.timeout(5):
        while not check():
            if bot is not None:
                cast(ManualClock, bot.clock).advance(0.25)
            await asyncio.sleep(0.01)


async def score(bot: HalfbieBot, guild_id: int, points: list[tuple[int, int, float]]) -> None:
    """Scores as resolving a theory writes them (inserted directly: the theories' own tests
    cover resolving)."""

    async def job(conn: aiosqlite.Connection) -> None:
        await conn.executemany(
            "INSERT INTO scores (guild_id, theory_id, member_id, points) VALUES (?, ?, ?, ?)",
            [(guild_id, theory, member, value) for theory, member, value in points],
        )

    await bot.store.writer.submit(job)


async def voted_server(
    bot: HalfbieBot, fake: FakeDiscord, guild: FakeGuild, member: FakeMember, other: FakeMember
) -> tuple[list[Theory], int]:
    """The member votes on theories 0 and 1 and scored 2 points on 0; the other member
    votes on 0 and 2 and scored 1 point on 2.  The member holds the server's news role.  Returns the
    theories and the role's id."""
    theories = await bot.store.theories.list(guild.id)
    assert len(theories) >= 3
    t0, t1, t2 = theories[:3]
    store = bot.store.theories
    assert await store.cast_vote(guild.id, t0.id, member.id, 0) == 0
    assert await store.cast_vote(guild.id, t1.id, member.id, 1) == 1
    assert await store.cast_vote(guild.id, t0.id, other.id, 1) == 1
    assert await store.cast_vote(guild.id, t2.id, other.id, 0) == 0
    await score(bot, guild.id, [(t0.id, member.id, 2.0), (t2.id, other.id, 1.0)])
    role = guild.add_role("Season 2 news")
    guild.set_member_roles(member, [role])
    await fake.barrier()
    await bot.store.settings.update(guild.id, None, ping_role_id=role.id)
    return [t0, t1, t2], role.id


async def test_privacy_shows_the_members_own_data_only(
    bot: HalfbieBot, fake_discord: FakeDiscord, guild: FakeGuild, member: FakeMember
) -> None:
    other = guild.add_member("other fan")
    (t0, t1, t2), role_id = await voted_server(bot, fake_discord, guild, member, other)

    result = await fake_discord.slash(guild, member, "privacy")
    await result.response()
    assert result.ephemeral
    embed = result.embeds[0]
    text = embed["description"]
    assert "Your votes (2)" in text
    assert safe(t0.fields.title, 150) in text
    assert safe(t1.fields.title, 150) in text
    assert safe(t2.fields.title, 150) not in text  # only the other member voted there
    fields = {f["name"]: f["value"] for f in embed["fields"]}
    assert fields["Prediction points"] == "2 points from 1 right predictions"
    assert f"<@&{role_id}>" in fields["Release-news role"]
    assert fields["Release-news role"].startswith("You have")
    assert result.message is not None
    assert result.message.pinged == set()
    assert [b["label"] for b in result.message.buttons()] == ["Delete my data…"]

    # The other member's view of the same server: their votes, their point, no role.
    theirs = await fake_discord.slash(guild, other, "privacy")
    await theirs.response()
    their_text = theirs.embeds[0]["description"]
    assert "Your votes (2)" in their_text
    assert safe(t2.fields.title, 150) in their_text
    assert safe(t1.fields.title, 150) not in their_text
    their_fields = {f["name"]: f["value"] for f in theirs.embeds[0]["fields"]}
    assert their_fields["Prediction points"] == "1 points from 1 right predictions"
    assert their_fields["Release-news role"].startswith("You do not have")

    # A member with nothing stored gets the summary and no button.
    newcomer = guild.add_member("newcomer")
    empty = await fake_discord.slash(guild, newcomer, "privacy")
    await empty.response()
    assert "You have not voted" in empty.embeds[0]["description"]
    assert empty.components == []


async def test_delete_asks_first_and_deletes_only_that_members_data(
    bot: HalfbieBot, fake_discord: FakeDiscord, guild: FakeGuild, member: FakeMember
) -> None:
    other = guild.add_member("other fan")
    stranger = guild.add_member("stranger")
    (t0, t1, _t2), _ = await voted_server(bot, fake_discord, guild, member, other)
    elsewhere = fake_discord.add_guild("Another server")
    await fake_discord.barrier()
    await bot.seeder.idle()
    await bot.seeder.ensure(elsewhere.id)
    far = (await bot.store.theories.list(elsewhere.id))[0]
    assert await bot.store.theories.cast_vote(elsewhere.id, far.id, member.id, 0) == 0
    events: list[tuple[int, int, tuple[int, ...]]] = []

    async def on_member_data_deleted(guild_id: int, member_id: int, theory_ids: tuple[int, ...]) -> None:
        events.append((guild_id, member_id, theory_ids))

    bot.add_listener(on_member_data_deleted)
    db = bot.config.database
    before_other = await rows(db, THEIR_VOTES, other.id)
    before_other_scores = await rows(db, "SELECT * FROM scores WHERE member_id = ?", other.id)

    # Cancel keeps everything.
    first = await fake_discord.slash(guild, member, "privacy")
    await first.response()
    message = first.message
    assert message is not None
    denied = await fake_discord.click(guild, stranger, message, button(message, "Delete my data…"))
    await denied.response()
    assert denied.ephemeral
    assert "Only the member who asked" in (denied.content or "")
    assert [b["label"] for b in message.buttons()] == ["Delete my data…"]  # unchanged
    ask = await fake_discord.click(guild, member, message, button(message, "Delete my data…"))
    await ask.response()
    assert "Delete your 2 votes and 2 prediction points" in message.content
    assert sorted(b["label"] for b in message.buttons()) == ["Cancel", "Yes, delete"]
    cancel = await fake_discord.click(guild, member, message, button(message, "Cancel"))
    await cancel.response()
    assert message.content == "Nothing was deleted."
    assert message.buttons() == []
    assert (
        len(await rows(db, "SELECT 1 FROM votes WHERE guild_id = ? AND member_id = ?", guild.id, member.id))
        == 2
    )

    # Confirm: another member cannot press it either; the member can.
    second = await fake_discord.slash(guild, member, "privacy")
    await second.response()
    message = second.message
    assert message is not None
    ask = await fake_discord.click(guild, member, message, button(message, "Delete my data…"))
    await ask.response()
    denied = await fake_discord.click(guild, other, message, button(message, "Yes, delete"))
    await denied.response()
    assert denied.ephemeral
    assert (
        len(await rows(db, "SELECT 1 FROM votes WHERE guild_id = ? AND member_id = ?", guild.id, member.id))
        == 2
    )
    yes = await fake_discord.click(guild, member, message, button(message, "Yes, delete"))
    await yes.response()
    await until(lambda: message.content.startswith("Deleted"))
    assert (
        message.content == "Deleted 2 votes and 1 score (2 prediction points) from this server."
    )  # "1 score"
    assert "You have not voted" in message.embeds[0]["description"]
    fields = {f["name"]: f["value"] for f in message.embeds[0]["fields"]}
    assert fields["Prediction points"] == "None yet."
    assert message.buttons() == []

    # Gone for this member in this server; the other member, and the other server, untouched.
    assert (
        await rows(db, "SELECT * FROM votes WHERE guild_id = ? AND member_id = ?", guild.id, member.id) == []
    )
    assert (
        await rows(db, "SELECT * FROM scores WHERE guild_id = ? AND member_id = ?", guild.id, member.id) == []
    )
    assert (
        await rows(db, "SELECT * FROM votes WHERE member_id = ? ORDER BY theory_id", other.id) == before_other
    )
    assert await rows(db, "SELECT * FROM scores WHERE member_id = ?", other.id) == before_other_scores
    assert await vote_of(bot.store, elsewhere.id, far.id, member.id) == 0
    assert (await bot.store.theories.tally(guild.id, t0.id)).counts[:2] == (0, 1)
    await until(lambda: bool(events))
    assert events == [(guild.id, member.id, tuple(sorted((t0.id, t1.id))))]


async def test_many_long_hostile_titles_stay_within_discords_limits(
    bot: HalfbieBot, fake_discord: FakeDiscord, guild: FakeGuild, member: FakeMember
) -> None:
    title = ("@everyone **bold** <@&1> _x_ " * 20)[:300]
    made = await asyncio.gather(
        *(
            bot.store.theories.create(guild.id, None, TheoryFields(f"{i} {title}", ("A", "B"), ARTICLE))
            for i in range(80)
        )
    )
    await asyncio.gather(*(bot.store.theories.cast_vote(guild.id, t.id, member.id, 0) for t in made))
    result = await fake_discord.slash(guild, member, "privacy")
    await result.response()
    assert result.message is not None
    assert result.message.pinged == set()
    description = result.embeds[0]["description"]
    assert "Your votes (80)" in description
    assert description.splitlines()[-1].startswith("…and ")
    assert "@everyone" not in description.replace("@\u200beveryone", "")
    assert fake_discord.violations == []


async def test_a_korean_member_reads_privacy_in_korean(
    bot: HalfbieBot, fake_discord: FakeDiscord, guild: FakeGuild
) -> None:
    korean = guild.add_member("korean fan", locale="ko")
    result = await fake_discord.slash(guild, korean, "privacy")
    await result.response()
    assert result.ephemeral
    assert "보관하는 내 정보" in result.embeds[0]["title"]


async def test_deleting_votes_updates_the_poll_messages(
    bot: HalfbieBot, fake_discord: FakeDiscord, guild: FakeGuild, member: FakeMember
) -> None:
    admin = guild.add_member("admin", roles=[guild.admin_role])
    posted = await fake_discord.slash(guild, admin, "theory new", options={"title": "Gwi-nam returns"})
    await posted.response()
    poll = posted.message
    assert poll is not None
    vote = await fake_discord.click(guild, member, poll, poll.buttons()[0]["custom_id"])
    await vote.response()
    await until(
        lambda: "· 1 vote" in poll.embeds[0].get("footer", {}).get("text", "") or "1 vote" in poll.text, bot
    )
    shown_before = poll.text

    privacy = await fake_discord.slash(guild, member, "privacy")
    await privacy.response()
    message = privacy.message
    assert message is not None
    ask = await fake_discord.click(guild, member, message, button(message, "Delete my data…"))
    await ask.response()
    yes = await fake_discord.click(guild, member, message, button(message, "Yes, delete"))
    await yes.response()
    await until(lambda: poll.text != shown_before, bot)
    assert "0 votes" in poll.text
