"""The Season 2 release tracker end to end through the offline Discord.

/release, /timeline, /subscribe, /admin news and /admin release, the announcements and
the countdown reminders (the clock is moved, nothing sleeps; reminders are jobs of the
one scheduler, run by ``bot.scheduler.run_due()`` as its loop does when the clock says).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot.client import HalfbieBot
from bot.models import Certainty, ReminderKind, SourceRef, Stage
from bot.store import Store
from tests.clock import ManualClock
from tests.conftest import BotRunner
from tests.fakediscord import FakeChannel, FakeDiscord, FakeGuild, FakeMember, FakeRole, Perm
from tests.fakediscord.interactions import InteractionResult

DAY = 86400
SEOUL = ZoneInfo("Asia/Seoul")


# -- helpers ------------------------------------------------------------------------------


async def reminder_jobs(runner: BotRunner, guild_id: int) -> dict[ReminderKind, tuple[str, str | None]]:
    """The server's reminder jobs (SQL fixture): kind -> (state, note)."""
    sql = "SELECT key, state, note FROM jobs WHERE kind = 'remind' AND guild_id = ?"
    rows = await runner.read(sql, (guild_id,))
    return {ReminderKind(key.split(":")[1]): (state, note) for key, state, note in rows}


async def answer(result: InteractionResult) -> str:
    """The text of an admin command's answer (ephemeral; after a "thinking" defer)."""
    await result.response()
    if result.deferred:
        message = await result.wait_message()
        return message.content
    return result.content or ""


async def ask(fake: FakeDiscord, guild: FakeGuild, who: FakeMember, command: str, **options: Any) -> str:
    """The answer to a command; a date that asks to be confirmed (the first, one in the
    past or an earlier one) is confirmed, and the answer is the one after the click."""
    result = await fake.slash(guild, who, command, **options)
    text = await answer(result)
    confirm = [b for b in (result.message.buttons() if result.message else []) if b.get("label") == CONFIRM]
    if not confirm:
        return text
    click = await fake.click(guild, who, result, confirm[0]["custom_id"])
    await click.response()
    [final] = await click.wait_followups(1)
    return final.content


CONFIRM = "Set and announce"


async def set_date(fake: FakeDiscord, guild: FakeGuild, who: FakeMember, day: str) -> str:
    """``/admin release date`` at 17:00 in Seoul, from Netflix, confirmed if it asks."""
    return await ask(
        fake,
        guild,
        who,
        "admin release date",
        source="Netflix",
        date=day,
        time="17:00",
        timezone="Asia/Seoul",
    )


def card_text(result: InteractionResult) -> str:
    embed = result.embeds[0]
    parts = [embed.get("title", ""), embed.get("description", "")]
    parts += [f"{f['name']}: {f['value']}" for f in embed.get("fields", [])]
    parts.append(embed.get("footer", {}).get("text", ""))
    return "\n".join(parts)


async def release_card(fake: FakeDiscord, guild: FakeGuild, who: FakeMember) -> str:
    result = await fake.slash(guild, who, "release")
    await result.response()
    return card_text(result)


def modal_inputs(result: InteractionResult) -> dict[str, dict[str, Any]]:
    """The text inputs of the modal a command answered with, by custom_id."""
    assert result.modal is not None, result.type
    inputs: dict[str, dict[str, Any]] = {}
    for component in result.modal["components"]:
        inner = component.get("components") or [component.get("component")]
        for item in inner:
            inputs[item["custom_id"]] = item
    return inputs


def modal_values(result: InteractionResult, **by_label: str) -> dict[str, str]:
    """What a client submits: each input's prefilled value, with some replaced by label."""
    values = {}
    for custom_id, item in modal_inputs(result).items():
        label = item.get("label", "")
        values[custom_id] = next(
            (v for k, v in by_label.items() if label.lower().startswith(k)), item.get("value") or ""
        )
    return values


def premiere_in(runner: BotRunner, days: int, at: dt.time = dt.time(17, 0)) -> tuple[str, int]:
    """A premiere ``days`` from the runner's clock at 17:00 in Seoul: (typed date, Unix time)."""
    day = dt.datetime.fromtimestamp(runner.clock.now() + days * DAY, SEOUL).date()
    return day.isoformat(), int(dt.datetime.combine(day, at, SEOUL).timestamp())


async def counts(runner: BotRunner, guild_id: int) -> dict[str, object]:
    """Everything the release tracker keeps for a server, read straight from the database."""
    read = runner.read
    return {
        "news": await read(
            "SELECT id, headline, removed_at FROM news WHERE guild_id = ? ORDER BY id", (guild_id,)
        ),
        "release": await read("SELECT stage, premiere_at FROM release WHERE guild_id = ?", (guild_id,)),
        "audit": (await read("SELECT COUNT(*) FROM audit WHERE guild_id = ?", (guild_id,)))[0][0],
        "reminders": await read(
            "SELECT key, state FROM jobs WHERE kind = 'remind' AND guild_id = ? ORDER BY key", (guild_id,)
        ),
    }


async def announcements(fake: FakeDiscord, guild: FakeGuild) -> tuple[FakeChannel, FakeRole]:
    """An announcement channel and a news role below the bot's, set in the server's settings."""
    channel = guild.add_channel("season-2-news")
    role = guild.add_role("S2 news")
    await fake.barrier()
    return channel, role


async def configure(
    bot: HalfbieBot, guild: FakeGuild, channel: FakeChannel | None, role: FakeRole | None
) -> None:
    await bot.store.settings.update(
        guild.id,
        None,
        announce_channel_id=channel.id if channel else None,
        ping_role_id=role.id if role else None,
    )


# -- the card and the timeline -----------------------------------------------------------


async def test_a_fresh_server_shows_the_canon_honestly(
    runner: BotRunner, bot: HalfbieBot, fake_discord: FakeDiscord, guild: FakeGuild, member: FakeMember
) -> None:
    # The bot's clock: 2026-09-21, four years after the article, two after Newsweek's window.
    assert dt.datetime.fromtimestamp(bot.clock.now(), dt.UTC).year == 2026
    result = await fake_discord.slash(guild, member, "release")
    await result.response()
    assert not result.ephemeral
    text = card_text(result)
    embed = result.embeds[0]
    stage = next(f["value"] for f in embed["fields"] if f["name"] == "Stage")
    # Confirmed on 2022-06-06, officially.
    assert "Confirmed" in stage
    assert "6 June 2022" in stage  # dates as readers write them, not ISO
    assert "official" in stage
    # No official date, said plainly; a prediction whose window has passed is no outlook.
    assert embed["description"] == "**No official premiere date yet.**"
    # The three latest items with date, headline, certainty and source; Newsweek's is marked.
    latest = next(f["value"] for f in embed["fields"] if f["name"] == "Latest news")
    lines = latest.split("\n")
    assert len(lines) == 3
    assert "Newsweek speculates" in lines[0]
    assert "passed without confirmation" in lines[0]
    assert all("19 July 2022" in line for line in lines)
    assert "📰 reported" in lines[1]
    assert "passed" not in lines[1]
    # Dated by its newest fact, never by when the server was seeded.
    newest = next(f["value"] for f in embed["fields"] if f["name"] == "Newest fact")
    assert newest == "19 July 2022 (4 years ago)"
    assert f"<t:{int(bot.clock.now())}" not in text
    assert "seconds ago" not in text


async def test_a_prediction_is_the_outlook_while_its_window_is_open_and_history_after(
    runner: BotRunner, fake_discord: FakeDiscord, guild: FakeGuild, member: FakeMember
) -> None:
    runner.clock = ManualClock(dt.datetime(2023, 3, 1, tzinfo=dt.UTC).timestamp())
    bot = await runner.start()
    card = await fake_discord.slash(guild, member, "release")
    await card.response()
    description = card.embeds[0]["description"]
    assert "Speculation, not a date" in description
    assert "2023 or early 2024" in description
    assert "🔮 speculation" in description
    assert "passed" not in description
    newest = next(f["value"] for f in card.embeds[0]["fields"] if f["name"] == "Newest fact")
    assert newest == "19 July 2022 (7 months ago)"
    # A poll about that window is still a question for a server seeded now.
    titles = [t.fields.title for t in await bot.store.theories.list(guild.id)]
    assert "When does Season 2 premiere?" in titles

    # Once an official date is set, the prediction is superseded, on the card and the timeline.
    day, _ = premiere_in(runner, 30)
    await set_date(fake_discord, guild, guild.owner, day)
    card = await fake_discord.slash(guild, member, "release")
    await card.response()
    assert "Speculation" not in card.embeds[0]["description"]
    timeline = await fake_discord.slash(guild, member, "timeline")
    await timeline.response()
    newsweek = next(line for line in timeline.embeds[0]["description"].splitlines() if "Newsweek" in line)
    assert "superseded by the official date" in newsweek


async def test_a_server_seeded_after_a_polls_window_does_not_get_the_poll(
    bot: HalfbieBot, guild: FakeGuild
) -> None:
    titles = [t.fields.title for t in await bot.store.theories.list(guild.id)]
    assert titles
    assert "When does Season 2 premiere?" not in titles  # 2026: its window closed in 2024


async def test_timeline_pages_newest_first_with_buttons_only_for_the_asker(
    bot: HalfbieBot, fake_discord: FakeDiscord, guild: FakeGuild, member: FakeMember
) -> None:
    owner = guild.owner
    for day in range(1, 21):
        await ask(
            fake_discord,
            guild,
            owner,
            "admin news add",
            headline=f"Item {day:02d}",
            certainty="reported",
            source="A paper",
            date=f"2024-01-{day:02d}",
        )
    result = await fake_discord.slash(guild, member, "timeline")
    await result.response()
    first = result.embeds[0]
    assert "Page 1/4" in first["footer"]["text"]
    assert first["description"].index("Item 20") < first["description"].index("Item 19")
    assert result.message is not None
    next_id = next(b["custom_id"] for b in result.message.buttons() if b.get("label") == "▶")

    other = guild.add_member("someone else")
    await fake_discord.barrier()
    refused = await fake_discord.click(guild, other, result.message, next_id)
    await refused.response()
    assert refused.ephemeral
    assert "Only the member who asked" in (refused.content or "")
    assert "Page 1/4" in result.message.embeds[0]["footer"]["text"]

    turned = await fake_discord.click(guild, member, result.message, next_id)
    await turned.response()
    assert "Page 2/4" in result.message.embeds[0]["footer"]["text"]
    # The canon's items come last, the oldest (2022-06-06) at the very end.
    for _ in range(2):
        turned = await fake_discord.click(guild, member, result.message, next_id)
        await turned.response()
    last = result.message.embeds[0]["description"]
    assert last.rstrip().splitlines()[-2].startswith("**6 June 2022** · Netflix confirms Season 2")
    assert "`#" not in last  # no raw ids for members


# -- admins: the date, announcements and reminders -----------------------------------------


async def test_a_date_is_announced_once_and_reminders_fire_once_each_across_restarts(
    runner: BotRunner,
    fake_discord: FakeDiscord,
    guild: FakeGuild,
    member: FakeMember,
    caplog: pytest.LogCaptureFixture,
) -> None:
    bot = await runner.start()
    channel, role = await announcements(fake_discord, guild)
    await configure(bot, guild, channel, role)
    fake_discord.allowed_pings = {f"role:{role.id}"}
    day, premiere = premiere_in(runner, 30)

    text = await set_date(fake_discord, guild, guild.owner, day)
    assert f"<t:{premiere}:F>" in text
    assert f"Announced in <#{channel.id}>" in text

    card = await release_card(fake_discord, guild, member)
    assert f"<t:{premiere}:F>" in card
    assert f"<t:{premiere}:R>" in card
    assert "No official premiere date" not in card
    assert f"by <@{guild.owner.id}>" in card

    posted = fake_discord.messages_in(channel)
    assert len(posted) == 1
    assert posted[0].content == f"<@&{role.id}>"
    assert posted[0].pinged == {f"role:{role.id}"}
    assert f"<t:{premiere}:F>" in posted[0].text

    async def run_and_read() -> list[str]:
        await bot.scheduler.run_due()
        return [m.embeds[0]["title"] for m in fake_discord.messages_in(channel)[1:]]

    # 7 days before, then again (nothing new), then 1 day before after a restart.
    runner.clock.advance(premiere - 7 * DAY - int(runner.clock.now()))
    assert await run_and_read() == ["One week to go"]
    runner.clock.advance(3600)
    assert await run_and_read() == ["One week to go"]

    await runner.stop(bot)
    bot = await runner.start()
    runner.clock.advance(premiere - DAY + 30 - int(runner.clock.now()))
    assert await run_and_read() == ["One week to go", "One day to go"]
    assert await run_and_read() == ["One week to go", "One day to go"]

    # The premiere passes while the bot is down: it is posted late, once, after the restart.
    await runner.stop(bot)
    runner.clock.advance(premiere + 5 * 3600 - int(runner.clock.now()))
    bot = await runner.start()
    titles = await run_and_read()
    assert titles == ["One week to go", "One day to go", "Season 2 is out"]
    await runner.stop(bot)
    bot = await runner.start()
    assert await run_and_read() == titles

    reminders = fake_discord.messages_in(channel)[1:]
    assert all(m.pinged == {f"role:{role.id}"} for m in reminders)
    assert all(f"<t:{premiere}:R>" in m.text for m in reminders)
    assert {
        kind: state for kind, (state, _) in (await reminder_jobs(runner, guild.id)).items()
    } == dict.fromkeys(ReminderKind, "done")
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING and "reminder" in r.getMessage()]


async def test_a_reminder_more_than_a_day_late_is_dropped_with_a_log_line(
    runner: BotRunner,
    fake_discord: FakeDiscord,
    guild: FakeGuild,
    caplog: pytest.LogCaptureFixture,
) -> None:
    bot = await runner.start()
    channel, _ = await announcements(fake_discord, guild)
    await configure(bot, guild, channel, None)
    day, premiere = premiere_in(runner, 20)
    await set_date(fake_discord, guild, guild.owner, day)
    await runner.stop(bot)
    # Down from before the week reminder until two days after it.
    runner.clock.advance(premiere - 5 * DAY - int(runner.clock.now()))
    with caplog.at_level(logging.WARNING, logger="cogs"):
        bot = await runner.start()
        await bot.scheduler.run_due()
    assert len(fake_discord.messages_in(channel)) == 1  # only the date's announcement
    dropped = [r.getMessage() for r in caplog.records if "Dropped the week reminder" in r.getMessage()]
    assert len(dropped) == 1
    assert str(guild.id) in dropped[0]
    # The later reminders still come, on time.
    runner.clock.advance(premiere - DAY - int(runner.clock.now()))
    await bot.scheduler.run_due()
    assert [m.embeds[0]["title"] for m in fake_discord.messages_in(channel)[1:]] == ["One day to go"]


async def test_reminders_move_with_the_date_and_stop_when_it_is_cleared(
    runner: BotRunner, fake_discord: FakeDiscord, guild: FakeGuild
) -> None:
    bot = await runner.start()
    channel, _ = await announcements(fake_discord, guild)
    await configure(bot, guild, channel, None)
    first_day, first = premiere_in(runner, 20)
    later_day, later = premiere_in(runner, 40)
    owner = guild.owner
    await set_date(fake_discord, guild, owner, first_day)
    runner.clock.advance(16 * 60)  # past the window in which a change corrects the announcement
    moved = await ask(
        fake_discord,
        guild,
        owner,
        "admin release date",
        source="Netflix",
        date=later_day,
        time="17:00",
        timezone="KST",
    )
    assert f"<t:{later}:F>" in moved
    assert "moved" in fake_discord.messages_in(channel)[-1].embeds[0]["title"]

    runner.clock.advance(first - 7 * DAY + 60 - int(runner.clock.now()))
    await bot.scheduler.run_due()
    assert len(fake_discord.messages_in(channel)) == 2  # two announcements, no reminder
    runner.clock.advance(later - 7 * DAY + 60 - int(runner.clock.now()))
    await bot.scheduler.run_due()
    week = fake_discord.messages_in(channel)[-1]
    assert week.embeds[0]["title"] == "One week to go"
    assert f"<t:{later}:F>" in week.text

    cleared = await ask(fake_discord, guild, owner, "admin release date", clear=True)
    assert "cleared" in cleared
    runner.clock.advance(7 * DAY)
    await bot.scheduler.run_due()
    assert len(fake_discord.messages_in(channel)) == 3
    assert "No official premiere date yet" in await release_card(fake_discord, guild, owner)


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ({"date": "some friday"}, "could not read `some friday` as a date"),
        ({"date": "2027년 2월 30일"}, "not a day of the calendar"),
        ({"date": "2027년 3월 1일 (화)"}, "not a day of the calendar"),  # 1 March 2027 is a Monday
        ({"date": "2027-01-01", "time": "오후 13시"}, "as a time of day"),
        ({"date": "2025-02-30"}, "not a day of the calendar"),
        ({"date": "2027-01-01", "time": "25:00"}, "as a time of day"),
        ({"date": "2027-01-01", "timezone": "Mars/Olympus"}, "do not know the time zone"),
        ({"date": "2045-01-01"}, "more than ten years from now"),
        ({"date": "2016-01-01"}, "more than ten years from now"),
        ({}, "Give a `date`"),
        ({"date": "2027-01-01", "clear": True}, "not both"),
    ],
)
async def test_bad_dates_get_a_clear_answer_with_an_example_and_change_nothing(
    runner: BotRunner,
    fake_discord: FakeDiscord,
    guild: FakeGuild,
    options: dict[str, object],
    expected: str,
) -> None:
    bot = await runner.start()
    channel, _ = await announcements(fake_discord, guild)
    await configure(bot, guild, channel, None)
    before = await counts(runner, guild.id)
    text = await ask(fake_discord, guild, guild.owner, "admin release date", **options)
    assert expected in text
    assert "`2027-03-01`" in text
    assert await counts(runner, guild.id) == before
    assert fake_discord.messages_in(channel) == []


async def test_a_missing_announcement_channel_is_explained_and_nothing_is_lost(
    bot: HalfbieBot, fake_discord: FakeDiscord, guild: FakeGuild, member: FakeMember
) -> None:
    text = await ask(
        fake_discord,
        guild,
        guild.owner,
        "admin news add",
        headline="Filming begins",
        certainty="reported",
        source="Sports Chosun",
        date="2024-06-01",
        link="https://example.org/filming",
    )
    assert "Added news" in text
    assert "Not announced: this server has no announcement channel yet" in text
    assert "Nothing was lost" in text
    timeline = await fake_discord.slash(guild, member, "timeline")
    await timeline.response()
    assert "Filming begins" in timeline.embeds[0]["description"]
    assert "[Sports Chosun](https://example.org/filming)" in timeline.embeds[0]["description"]

    # A channel that was deleted since it was picked.
    await configure(bot, guild, guild.add_channel("gone"), None)
    await bot.store.settings.update(guild.id, None, announce_channel_id=12345)
    text = await ask(fake_discord, guild, guild.owner, "admin release stage", stage="in_production")
    assert "Stage set to 🎬 In production" in text
    assert "announcement channel no longer exists" in text
    assert (await bot.store.release.get(guild.id)).stage is Stage.IN_PRODUCTION


async def test_a_channel_the_bot_cannot_post_in_is_explained_and_reminders_wait_for_it(
    runner: BotRunner, fake_discord: FakeDiscord, guild: FakeGuild
) -> None:
    bot = await runner.start()
    channel = guild.add_channel("locked", bot_can_send=False)
    await fake_discord.barrier()
    await configure(bot, guild, channel, None)
    day, premiere = premiere_in(runner, 10)
    text = await set_date(fake_discord, guild, guild.owner, day)
    assert f"I cannot post in <#{channel.id}>" in text
    assert "Send Messages" in text
    assert (await bot.store.release.get(guild.id)).premiere_at == premiere
    assert fake_discord.messages_in(channel) == []
    assert fake_discord.http_errors == []  # refused before asking Discord

    # The week reminder is refused too, and waits; once the channel is fixed it goes out.
    runner.clock.advance(premiere - 7 * DAY - int(runner.clock.now()))
    await bot.scheduler.run_due()
    state, note = (await reminder_jobs(runner, guild.id))[ReminderKind.WEEK]
    assert state == "pending"
    assert "I cannot post in" in (note or "")
    channel.set_overwrite(guild.bot_member, allow=int(Perm.SEND_MESSAGES), deny=0)
    guild.update_channel(channel)
    await fake_discord.barrier()
    await bot.scheduler.run_due()
    assert fake_discord.messages_in(channel) == []  # not before its retry time
    runner.clock.advance(15 * 60)
    await bot.scheduler.run_due()
    assert [m.embeds[0]["title"] for m in fake_discord.messages_in(channel)] == ["One week to go"]


# -- admins: news ----------------------------------------------------------------------------


async def test_news_add_edit_remove_and_undo_from_the_audit_trail(
    bot: HalfbieBot, fake_discord: FakeDiscord, guild: FakeGuild, member: FakeMember
) -> None:
    owner = guild.owner
    channel, role = await announcements(fake_discord, guild)
    await configure(bot, guild, channel, role)
    fake_discord.allowed_pings = {f"role:{role.id}"}

    # Add, with details through a modal; what the admin typed never pings anyone.
    opened = await fake_discord.slash(
        guild, owner, "admin news add", headline="@everyone Netflix dates Season 2 <@&1234>",
        certainty="official", source="Netflix", date="2026-10-01",
        link="https://about.netflix.com/s2", details=True,
    )  # fmt: skip
    await opened.response()
    [details_id] = modal_inputs(opened)
    submitted = await fake_discord.submit_modal(guild, owner, opened, {details_id: "Teaser at @here Tudum."})
    added = await answer(submitted)
    assert "Added news" in added
    assert f"Announced in <#{channel.id}>" in added
    [post] = fake_discord.messages_in(channel)
    assert post.content == f"<@&{role.id}>"
    assert post.pinged == {f"role:{role.id}"}
    assert "Netflix dates Season 2" in post.text
    item = (await bot.store.news.list(guild.id, limit=1))[0]
    assert item.fields.details == "Teaser at @here Tudum."
    assert item.fields.source.certainty is Certainty.OFFICIAL

    # Autocomplete finds it by part of its headline.
    choices = await fake_discord.autocomplete(
        guild, owner, "admin news edit", focused="item", item="dates season"
    )
    assert [c["value"] for c in choices] == [str(item.id)]

    # Edit: the form shows the current values; only what changed is saved and audited.
    opened = await fake_discord.slash(guild, owner, "admin news edit", item=str(item.id))
    await opened.response()
    inputs = modal_inputs(opened)
    prefilled = {i["label"]: i.get("value") for i in inputs.values()}
    assert prefilled["Source link"] == "https://about.netflix.com/s2"
    assert prefilled["Details"] == "Teaser at @here Tudum."
    values = modal_values(opened, headline="Netflix dates Season 2", date="2026-10-02")
    edited = await answer(await fake_discord.submit_modal(guild, owner, opened, values))
    assert f"Saved news #{item.id}" in edited
    saved = await bot.store.news.get(guild.id, item.id)
    assert saved is not None
    assert saved.fields.headline == "Netflix dates Season 2"
    assert saved.fields.happened_on == "2026-10-02"
    assert saved.fields.details == "Teaser at @here Tudum."
    [update] = await bot.store.audit.list(guild.id, "news.update")
    assert set(json.loads(update.new or "{}")) == {"headline", "happened_on"}
    assert len(fake_discord.messages_in(channel)) == 1  # edits are not announced

    # Remove every item; the last removal says so, and Undo restores it from the trail.
    result = None
    for news in await bot.store.news.list(guild.id):
        result = await fake_discord.slash(guild, owner, "admin news remove", item=f"#{news.id}")
        text = await answer(result)
        assert f"Removed news #{news.id}" in text
    assert result is not None
    assert "That was the last news item" in text
    card = await release_card(fake_discord, guild, member)
    assert "No news yet." in card
    last = (await bot.store.audit.list(guild.id, "news.remove", limit=1))[0]
    recorded = json.loads(last.old or "{}")
    assert recorded["headline"].startswith("Netflix confirms Season 2")
    assert recorded["source"]["certainty"] == "official"

    undo_id = result.message.custom_ids()[0] if result.message else ""
    stranger = guild.add_member("not an admin")
    await fake_discord.barrier()
    refused = await fake_discord.click(guild, stranger, result.message, undo_id)  # type: ignore[arg-type]
    await refused.response()
    assert "Only the member who asked" in (refused.content or "")
    undone = await fake_discord.click(guild, owner, result.message, undo_id)  # type: ignore[arg-type]
    assert "Restored news" in await answer(undone)
    restored = await bot.store.news.list(guild.id)
    assert [n.fields.headline for n in restored] == [recorded["headline"]]
    assert "Netflix confirms Season 2" in await release_card(fake_discord, guild, member)
    assert [e.action for e in await bot.store.audit.list(guild.id, "news.", limit=2)] == [
        "news.restore",
        "news.remove",
    ]


async def test_clearing_the_date_is_undone_from_the_audit_trail(
    runner: BotRunner, fake_discord: FakeDiscord, guild: FakeGuild
) -> None:
    bot = await runner.start()
    owner = guild.owner
    day, premiere = premiere_in(runner, 30)
    await set_date(fake_discord, guild, owner, day)
    cleared = await fake_discord.slash(guild, owner, "admin release date", clear=True)
    assert "Premiere date cleared" in await answer(cleared)
    assert (await bot.store.release.get(guild.id)).premiere_at is None
    assert await reminder_jobs(runner, guild.id) == {}  # cleared: nothing left to post
    entry = (await bot.store.audit.list(guild.id, "release.premiere", limit=1))[0]
    assert json.loads(entry.old or "{}") == {
        "premiere_at": premiere,
        "premiere_source": {
            "name": "Netflix",
            "certainty": "official",
            "url": None,
            "quote": None,
            "name_ko": None,
        },
    }

    assert cleared.message is not None
    undone = await fake_discord.click(guild, owner, cleared.message, cleared.message.custom_ids()[0])
    assert f"the premiere is <t:{premiere}:F> again" in await answer(undone)
    assert (await bot.store.release.get(guild.id)).premiere_at == premiere
    jobs = await reminder_jobs(runner, guild.id)
    assert {kind: state for kind, (state, _) in jobs.items()} == dict.fromkeys(ReminderKind, "pending")


async def test_stage_changes_are_announced_and_audited(
    bot: HalfbieBot, fake_discord: FakeDiscord, guild: FakeGuild, member: FakeMember
) -> None:
    channel, role = await announcements(fake_discord, guild)
    await configure(bot, guild, channel, role)
    fake_discord.allowed_pings = {f"role:{role.id}"}
    text = await ask(fake_discord, guild, guild.owner, "admin release stage", stage="in_production")
    assert "Stage set to 🎬 In production (it was 📣 Confirmed)" in text
    again = await ask(fake_discord, guild, guild.owner, "admin release stage", stage="in_production")
    assert "already" in again
    [post] = fake_discord.messages_in(channel)
    assert post.embeds[0]["title"] == "Season 2: 🎬 In production"
    assert post.pinged == {f"role:{role.id}"}
    assert "In production" in await release_card(fake_discord, guild, member)
    [entry] = await bot.store.audit.list(guild.id, "release.stage")
    assert entry.actor_id == guild.owner.id
    assert json.loads(entry.old or "{}") == {"stage": "confirmed"}


async def test_long_and_hostile_text_stays_within_discords_limits(
    bot: HalfbieBot, fake_discord: FakeDiscord, guild: FakeGuild, member: FakeMember
) -> None:
    channel, _ = await announcements(fake_discord, guild)
    await configure(bot, guild, channel, None)
    for _ in range(6):
        opened = await fake_discord.slash(
            guild, guild.owner, "admin news add", headline=("**@everyone** ~~x~~ " * 20)[:200],
            certainty="speculation", source="S" * 100, link="https://example.org/(" + "a" * 278,
            details=True,
        )  # fmt: skip
        await opened.response()
        [details_id] = modal_inputs(opened)
        await answer(await fake_discord.submit_modal(guild, guild.owner, opened, {details_id: "d" * 1500}))
    card = await fake_discord.slash(guild, member, "release")
    await card.response()
    embed = card.embeds[0]
    assert sum(len(f["value"]) for f in embed["fields"]) + len(embed["description"]) < 6000
    timeline = await fake_discord.slash(guild, member, "timeline")
    await timeline.response()
    assert len(fake_discord.messages_in(channel)) == 6
    # The fake checks every payload against Discord's limits; a breach fails the test.


# -- languages -----------------------------------------------------------------------------


async def test_a_korean_server_gets_the_card_and_its_announcements_in_korean(
    bot: HalfbieBot, fake_discord: FakeDiscord, guild: FakeGuild, member: FakeMember
) -> None:
    channel, role = await announcements(fake_discord, guild)
    await configure(bot, guild, channel, role)
    fake_discord.allowed_pings = {f"role:{role.id}"}
    owner = guild.owner

    # "auto": the admin's answer follows their Discord language, the post (no member) is English.
    text = await ask(fake_discord, guild, owner, "admin release stage", stage="in_production", locale="ko")
    assert "단계를 🎬 제작 중으로 정했어요(이전: 📣 확정)" in text
    assert f"<#{channel.id}>에 공지했지만, 알림 역할이 멘션 불가로" in text
    assert fake_discord.messages_in(channel)[-1].embeds[0]["title"] == "Season 2: 🎬 In production"

    await bot.store.settings.update(guild.id, None, language="ko")
    # A member whose Discord is in English still reads the Korean server's card in Korean.
    result = await fake_discord.slash(guild, member, "release")
    await result.response()
    embed = result.embeds[0]
    assert embed["title"] == "지금 우리 학교는 · 시즌 2"
    assert "아직 공식 공개일이 없어요" in embed["description"]
    fields = {f["name"]: f["value"] for f in embed["fields"]}
    assert "🎬 제작 중" in fields["단계"]
    assert "📰 보도" in fields["최신 소식"]
    assert "확인 없이 지나간 예측" in fields["최신 소식"]  # Newsweek's window, passed
    assert fields["가장 최근 사실"].startswith("2022년 7월 19일 (화) · 4년 전")
    assert f"<@{owner.id}> 님이 마지막으로 바꿈" in fields["가장 최근 사실"]
    assert embed["footer"]["text"].startswith("시간은 내 시간대로")

    added = await ask(fake_discord, guild, owner, "admin news add", headline="Netflix dates Season 2",
                      certainty="official", source="Netflix", date="2026-10-01")  # fmt: skip
    assert "추가했어요" in added
    assert f"<#{channel.id}>에 공지했" in added
    [post] = fake_discord.messages_in(channel)[1:]
    assert post.pinged == {f"role:{role.id}"}
    card = post.embeds[0]
    assert card["title"] == "시즌 2 소식"
    assert {f["name"]: f["value"] for f in card["fields"]} == {
        "날짜": "2026년 10월 1일 (목)",
        "확실성": "🎬 공식",
        "출처": "Netflix",
    }
    # A footer shows no mentions: commands by their Korean names.
    assert card["footer"]["text"] == "전체 현황은 /공개일정 · 알림 받기/끄기는 /소식알림"
    # An admin's mistake is explained in Korean too.
    wrong = await ask(fake_discord, guild, owner, "admin release date", date="언젠가")
    assert (
        "`언젠가`를 날짜로 읽지 못했어요. `2027년 3월 1일`, `3월 1일`, `다음 주 금요일` 같은 날짜를" in wrong
    )


# -- /subscribe --------------------------------------------------------------------------


async def test_subscribe_toggles_the_news_role(
    bot: HalfbieBot, fake_discord: FakeDiscord, guild: FakeGuild, member: FakeMember
) -> None:
    none_yet = await ask(fake_discord, guild, member, "subscribe")
    assert "has not picked a news role" in none_yet
    _, role = await announcements(fake_discord, guild)
    await configure(bot, guild, None, role)

    on = await ask(fake_discord, guild, member, "subscribe")
    assert "Subscribed" in on
    assert role in member.roles
    await fake_discord.barrier()
    off = await ask(fake_discord, guild, member, "subscribe")
    assert "Unsubscribed" in off
    assert role not in member.roles


async def test_subscribe_explains_a_role_above_the_bot_and_a_missing_permission(
    bot: HalfbieBot,
    fake_discord: FakeDiscord,
    guild: FakeGuild,
    member: FakeMember,
    caplog: pytest.LogCaptureFixture,
) -> None:
    high = guild.add_role("S2 news (high)", above_bot=True)
    await fake_discord.barrier()
    await configure(bot, guild, None, high)
    with caplog.at_level(logging.WARNING, logger="cogs"):
        text = await ask(fake_discord, guild, member, "subscribe")
    assert "not below my highest role" in text
    assert "move my role above it" in text
    assert high not in member.roles
    assert any("Cannot manage the news role" in r.getMessage() for r in caplog.records)

    low = guild.add_role("S2 news")
    guild.update_role(guild.bot_role, permissions=int(Perm.SEND_MESSAGES | Perm.VIEW_CHANNEL))
    await fake_discord.barrier()
    await configure(bot, guild, None, low)
    text = await ask(fake_discord, guild, member, "subscribe")
    assert "I need the Manage Roles permission" in text
    assert low not in member.roles
    assert fake_discord.http_errors == []  # both refused before asking Discord


# -- permissions ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("command", "options"),
    [
        ("admin news add", {"headline": "Fake news", "certainty": "official", "source": "Me"}),
        ("admin news edit", {"item": "1"}),
        ("admin news remove", {"item": "1"}),
        ("admin release stage", {"stage": "released"}),
        ("admin release date", {"date": "2027-01-01"}),
        ("admin release date", {"clear": True}),
    ],
)
async def test_members_without_manage_server_are_refused_and_nothing_changes(
    runner: BotRunner,
    fake_discord: FakeDiscord,
    guild: FakeGuild,
    member: FakeMember,
    command: str,
    options: dict[str, object],
) -> None:
    bot = await runner.start()
    channel, _ = await announcements(fake_discord, guild)
    await configure(bot, guild, channel, None)
    await bot.store.release.change_premiere(guild.id, guild.owner.id, int(bot.clock.now()) + 9 * DAY)
    before = await counts(runner, guild.id)
    result = await fake_discord.slash(guild, member, command, **options)
    await result.response()
    assert result.ephemeral
    assert "Manage Server" in (result.content or "")
    assert result.modal is None
    assert await counts(runner, guild.id) == before
    assert fake_discord.messages_in(channel) == []


async def test_a_claim_left_by_a_stopped_bot_is_taken_back_at_start_and_posted_once(
    runner: BotRunner, fake_discord: FakeDiscord, guild: FakeGuild
) -> None:
    bot = await runner.start()
    channel, _ = await announcements(fake_discord, guild)
    await configure(bot, guild, channel, None)
    day, premiere = premiere_in(runner, 10)
    await set_date(fake_discord, guild, guild.owner, day)
    await runner.stop(bot)
    runner.clock.advance(premiere - 7 * DAY - int(runner.clock.now()))
    # The bot claimed the week reminder (committed), then stopped before posting it.
    store = await Store.open(runner.database, clock=runner.clock)
    now = int(runner.clock.now())
    claimed = await store.jobs.claim_due(now, "halfbie", kinds=["remind"], lease=300, limit=10)
    assert [job.kind for job in claimed] == ["remind"]
    await store.close()

    bot = await runner.start()  # takes its own claim back at once, not after the lease
    await bot.scheduler.run_due()
    assert [m.embeds[0]["title"] for m in fake_discord.messages_in(channel)[1:]] == ["One week to go"]
    assert (await reminder_jobs(runner, guild.id))[ReminderKind.WEEK][0] == "done"
    runner.clock.advance(premiere - DAY - int(runner.clock.now()))
    await bot.scheduler.run_due()
    titles = [m.embeds[0]["title"] for m in fake_discord.messages_in(channel)[1:]]
    assert titles == ["One week to go", "One day to go"]


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ({"date": "early June"}, "Write it like `2024-05-01` or `May 1 2024`"),
        ({"date": "6월 31일"}, "Write it like `2024-05-01` or `May 1 2024`"),
        ({"date": "1999-01-01"}, "too far from today"),
        ({"link": "ftp://example.org/x"}, "is not a web address"),
        ({"link": "netflix.com"}, "for example `https://www.netflix.com/tudum`"),
        ({"headline": "   "}, "The headline cannot be empty"),
        ({"certainty": "certain"}, "is not one of the choices: official, reported"),
    ],
)
async def test_bad_news_gets_a_clear_answer_and_changes_nothing(
    runner: BotRunner,
    fake_discord: FakeDiscord,
    guild: FakeGuild,
    options: dict[str, object],
    expected: str,
) -> None:
    bot = await runner.start()
    channel, _ = await announcements(fake_discord, guild)
    await configure(bot, guild, channel, None)
    before = await counts(runner, guild.id)
    values: dict[str, object] = {"headline": "Filming ends", "certainty": "reported", "source": "Paper"}
    values.update(options)
    if values["certainty"] not in {"official", "reported", "speculation", "fan_theory"}:
        # A value outside the choices, as only a crafted interaction can send.
        command = next(c for c in fake_discord.synced_commands() if c["name"] == "admin")
        news = next(o for o in command["options"] if o["name"] == "news")
        add = next(o for o in news["options"] if o["name"] == "add")
        data = {
            "id": command["id"],
            "name": "admin",
            "type": 1,
            "options": [
                {"name": "news", "type": 2, "options": [
                    {"name": "add", "type": 1, "options": [
                        {"name": k, "type": 3, "value": v} for k, v in values.items()
                    ]},
                ]},
            ],
        }  # fmt: skip
        assert {o["name"] for o in add["options"]} >= set(values)
        payload = fake_discord.interaction_payload(guild, guild.owner, data=data)
        text = await answer(await fake_discord.send_raw_interaction(payload, guild=guild))
    else:
        text = await ask(fake_discord, guild, guild.owner, "admin news add", **values)
    assert expected in text
    assert await counts(runner, guild.id) == before
    assert fake_discord.messages_in(channel) == []


async def test_the_stage_becomes_released_by_itself_once_the_premiere_has_passed(
    runner: BotRunner, fake_discord: FakeDiscord, guild: FakeGuild, member: FakeMember
) -> None:
    bot = await runner.start()
    day, premiere = premiere_in(runner, 10)
    await set_date(fake_discord, guild, guild.owner, day)
    runner.clock.advance(premiere - 60 - int(runner.clock.now()))
    await bot.scheduler.run_due()
    assert (await bot.store.release.get(guild.id)).stage is not Stage.RELEASED  # not before
    runner.clock.advance(120)
    await bot.scheduler.run_due()
    assert (await bot.store.release.get(guild.id)).stage is Stage.RELEASED
    card = await release_card(fake_discord, guild, member)
    assert "Released" in card
    assert "Last changed by the bot" in card
    [entry] = await bot.store.audit.list(guild.id, "release.stage", limit=1)
    assert entry.actor_id is None  # the bot's doing, in the audit trail like an admin's
    undone = await bot.store.release.undo(guild.id, guild.owner.id, entry.id)  # and undoable
    assert undone.release.stage is not Stage.RELEASED
    await bot.scheduler.run_due()
    assert (await bot.store.release.get(guild.id)).stage is not Stage.RELEASED  # done once


async def test_a_premiere_date_moved_or_cleared_moves_or_cancels_the_release(
    runner: BotRunner, fake_discord: FakeDiscord, guild: FakeGuild
) -> None:
    bot = await runner.start()
    first_day, first = premiere_in(runner, 10)
    later_day, _ = premiere_in(runner, 40)
    owner = guild.owner
    await set_date(fake_discord, guild, owner, first_day)
    await set_date(fake_discord, guild, owner, later_day)
    runner.clock.advance(first + 60 - int(runner.clock.now()))
    await bot.scheduler.run_due()
    assert (await bot.store.release.get(guild.id)).stage is not Stage.RELEASED  # moved on
    await ask(fake_discord, guild, owner, "admin release date", clear=True)
    runner.clock.advance(60 * DAY)
    await bot.scheduler.run_due()
    assert (await bot.store.release.get(guild.id)).stage is not Stage.RELEASED  # cleared


async def test_four_quick_date_corrections_make_one_announcement_and_one_ping(
    runner: BotRunner, fake_discord: FakeDiscord, guild: FakeGuild, member: FakeMember
) -> None:
    bot = await runner.start()
    channel, role = await announcements(fake_discord, guild)
    await configure(bot, guild, channel, role)
    fake_discord.allowed_pings = {f"role:{role.id}"}
    days = [premiere_in(runner, n) for n in (30, 31, 32, 33)]
    for number, (day, _) in enumerate(days):
        answer = await set_date(fake_discord, guild, guild.owner, day)
        if number:
            assert "corrected in place" in answer
        runner.clock.advance(60)  # a minute between corrections
    [post] = fake_discord.messages_in(channel)
    assert post.content == f"<@&{role.id}>"  # the one ping, from the first post
    assert post.pinged == {f"role:{role.id}"}
    last = days[-1][1]
    assert f"<t:{last}:F>" in post.text  # the correction shows the final date
    assert post.embeds[0]["title"] == "Season 2 has an official premiere date"  # not "moved"

    # Later than 15 minutes after the first post, a change is news again: a new post.
    runner.clock.advance(15 * 60)
    day, _ = premiere_in(runner, 40)
    answer = await set_date(fake_discord, guild, guild.owner, day)
    assert "corrected" not in answer
    posts = fake_discord.messages_in(channel)
    assert len(posts) == 2
    assert posts[1].embeds[0]["title"] == "Season 2's premiere date moved"
    assert f"it was <t:{last}:F>" in posts[1].text


async def test_an_admin_is_nudged_privately_when_the_newest_news_is_old(
    bot: HalfbieBot, fake_discord: FakeDiscord, guild: FakeGuild, member: FakeMember
) -> None:
    plain = await fake_discord.slash(guild, member, "release")
    await plain.response()
    admin = await fake_discord.slash(guild, guild.owner, "release")
    await admin.response()
    assert not admin.ephemeral  # the card itself is for everyone
    [nudge] = await admin.wait_followups(1)
    assert nudge.ephemeral
    assert "newest news here is from 19 July 2022 (4 years ago)" in nudge.content
    assert plain.followups == []  # asked first, answered first: members read the card, no more

    await ask(fake_discord, guild, guild.owner, "admin news add", headline="Filming starts",
              certainty="reported", source="A paper")  # fmt: skip
    fresh = await fake_discord.slash(guild, guild.owner, "release")
    await fresh.response()
    other = fake_discord.add_guild("Quiet server")  # its news is old: its owner is nudged
    await fake_discord.barrier()
    await bot.seeder.ensure(other.id)
    stale = await fake_discord.slash(other, other.owner, "release")
    await stale.response()
    await stale.wait_followups(1)
    assert fresh.followups == []  # up to date: no nudge


async def test_a_first_past_or_earlier_date_is_previewed_and_set_only_on_a_click(
    runner: BotRunner, fake_discord: FakeDiscord, guild: FakeGuild, member: FakeMember
) -> None:
    bot = await runner.start()
    channel, role = await announcements(fake_discord, guild)
    await configure(bot, guild, channel, role)
    fake_discord.allowed_pings = {f"role:{role.id}"}
    owner = guild.owner
    day, premiere = premiere_in(runner, 30)
    first = await fake_discord.slash(
        guild, owner, "admin release date", source="Netflix", date=day, time="17:00", timezone="Asia/Seoul"
    )
    await first.response()
    assert first.ephemeral
    assert "first premiere date here" in (first.content or "")
    assert f"<t:{premiere}:F>" in first.embeds[0]["description"]  # the post, as it will look
    assert (await bot.store.release.get(guild.id)).premiere_at is None  # nothing yet
    assert fake_discord.messages_in(channel) == []
    [yes, no] = [b["custom_id"] for b in first.message.buttons()]  # type: ignore[union-attr]
    stranger = await fake_discord.click(guild, guild.add_member("other admin?"), first, yes)
    await stranger.response()
    assert stranger.ephemeral  # only the admin who asked
    cancel = await fake_discord.click(guild, owner, first, no)
    await cancel.response()
    assert (await bot.store.release.get(guild.id)).premiere_at is None
    assert fake_discord.messages_in(channel) == []

    assert "Announced" in await set_date(fake_discord, guild, owner, day)
    assert (await bot.store.release.get(guild.id)).premiere_at == premiere
    runner.clock.advance(16 * 60)
    # A later date is set at once; an earlier one, or one in the past, asks first.
    later_day, later = premiere_in(runner, 40)
    moved = await fake_discord.slash(
        guild,
        owner,
        "admin release date",
        source="Netflix",
        date=later_day,
        time="17:00",
        timezone="Asia/Seoul",
    )
    await moved.response()
    assert (await bot.store.release.get(guild.id)).premiere_at == later
    earlier = await fake_discord.slash(
        guild, owner, "admin release date", source="Netflix", date=day, time="17:00", timezone="Asia/Seoul"
    )
    await earlier.response()
    assert "earlier than the one set" in (earlier.content or "")
    past = await fake_discord.slash(guild, owner, "admin release date", date="2026-01-01", source="Netflix")
    await past.response()
    assert "in the past" in (past.content or "")
    assert (await bot.store.release.get(guild.id)).premiere_at == later  # neither was set


async def test_a_premiere_date_says_who_gives_it(
    runner: BotRunner, fake_discord: FakeDiscord, guild: FakeGuild, member: FakeMember
) -> None:
    bot = await runner.start()
    channel, _ = await announcements(fake_discord, guild)
    await configure(bot, guild, channel, None)
    day, premiere = premiere_in(runner, 30)
    refused = await ask(fake_discord, guild, guild.owner, "admin release date", date=day)
    assert "Say who gives the date" in refused
    assert (await bot.store.release.get(guild.id)).premiere_at is None
    await ask(
        fake_discord,
        guild,
        guild.owner,
        "admin release date",
        date=day,
        time="17:00",
        timezone="KST",
        source="Netflix Korea",
        certainty="reported",
        link="https://example.org/s2",
    )
    release = await bot.store.release.get(guild.id)
    assert release.premiere_source == SourceRef("Netflix Korea", Certainty.REPORTED, "https://example.org/s2")
    card = await fake_discord.slash(guild, member, "release")
    await card.response()
    description = card.embeds[0]["description"]
    assert f"<t:{premiere}:F>" in description
    assert "📰 reported · [Netflix Korea](https://example.org/s2)" in description
    [post] = fake_discord.messages_in(channel)
    assert "📰 reported · [Netflix Korea](https://example.org/s2)" in post.text
