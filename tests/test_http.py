"""Health and metrics over HTTP (HALFBIE_HTTP): /healthz, /readyz and /metrics answer as
the README says, through the real bot against the offline Discord."""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
import discord
import pytest
from discord import app_commands
from prometheus_client.parser import text_string_to_metric_families

import tests.fakediscord.gateway as fake_gateway
from bot.client import HalfbieBot
from bot.config import ConfigError, load_config
from bot.models import NewJob
from tests.conftest import BotRunner
from tests.fakediscord import FakeDiscord, FakeGuild, FakeMember, Perm
from tests.test_bot import until

LOCAL = ("127.0.0.1", 0)  # any free port


async def get(bot: HalfbieBot, path: str) -> tuple[int, str, str]:
    assert bot.health is not None
    assert bot.health.port
    async with (
        aiohttp.ClientSession() as session,
        session.get(f"http://127.0.0.1:{bot.health.port}{path}") as response,
    ):
        return response.status, response.headers.get("Content-Type", ""), await response.text()


async def metrics(bot: HalfbieBot) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    status, content_type, text = await get(bot, "/metrics")
    assert status == 200
    assert content_type.startswith("text/plain; version=0.0.4")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(samples: dict[tuple[str, tuple[tuple[str, str], ...]], float], name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


@pytest.fixture
async def served(runner: BotRunner, guild: FakeGuild) -> HalfbieBot:
    return await runner.start(http_address=LOCAL)


async def test_off_by_default_and_public_only_when_told() -> None:
    assert load_config({}, require_token=False).http_address is None
    assert load_config({"HALFBIE_HTTP": "127.0.0.1:8080"}, require_token=False).http_address == (
        "127.0.0.1",
        8080,
    )
    with pytest.raises(ConfigError, match=r"^HALFBIE_HTTP is not a loopback address .*HALFBIE_HTTP_PUBLIC=1"):
        load_config({"HALFBIE_HTTP": "0.0.0.0:8080"}, require_token=False)
    public = {"HALFBIE_HTTP": "0.0.0.0:8080", "HALFBIE_HTTP_PUBLIC": "1"}
    assert load_config(public, require_token=False).http_address == ("0.0.0.0", 8080)
    for wrong in ("8080", "localhost:http", "127.0.0.1:70000"):
        with pytest.raises(ConfigError, match="must be host:port"):
            load_config({"HALFBIE_HTTP": wrong}, require_token=False)


async def test_nothing_listens_without_the_setting(bot: HalfbieBot) -> None:
    assert bot.health is None
    assert bot.metrics is None


async def test_health_and_readiness_answer(served: HalfbieBot) -> None:
    assert await get(served, "/healthz") == (200, "text/plain; charset=utf-8", "ok\n")
    await until(lambda: served.health is not None and get(served, "/readyz"))
    status, _, text = await get(served, "/readyz")
    assert (status, text) == (200, "ready\n")


async def test_not_ready_while_the_gateway_is_down(
    served: HalfbieBot, fake_discord: FakeDiscord, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def ready() -> bool:
        return (await get(served, "/readyz"))[0] == 200

    await until(ready)
    held = asyncio.Event()
    resume = fake_gateway._resume

    async def held_resume(*args: Any) -> None:
        await held.wait()
        await resume(*args)

    monkeypatch.setattr(fake_gateway, "_resume", held_resume)  # the bot's RESUME waits
    await fake_discord.drop_gateway()

    async def down() -> bool:
        status, _, text = await get(served, "/readyz")
        return status == 503 and "shard 0 has no gateway session" in text

    await until(down)
    assert (await get(served, "/healthz"))[0] == 200  # alive all the same
    held.set()
    await fake_discord.wait_resumed()
    await until(ready)


async def test_not_ready_once_the_store_is_gone(served: HalfbieBot) -> None:
    await until(lambda: served.is_ready())
    await served.store.close()
    status, _, text = await get(served, "/readyz")
    assert status == 503
    assert "the store cannot commit writes" in text
    assert value(await metrics(served), "halfbie_store_available") == 0


@pytest.mark.allow_errors("Unhandled error in interaction boom")
async def test_metrics_count_interactions_votes_commits_posts_and_jobs(
    served: HalfbieBot, fake_discord: FakeDiscord, guild: FakeGuild, member: FakeMember
) -> None:
    bot = served
    mods = guild.add_role("Mods", Perm.MANAGE_MESSAGES)
    creator = guild.add_member("mod", [mods])
    # A command, a refused one, a bug.
    about = await fake_discord.slash(guild, member, "about")
    await about.response()
    refused = await fake_discord.slash(guild, member, "admin config show")
    await refused.response()

    @app_commands.command(name="boom", description="raises")
    async def boom(interaction: discord.Interaction) -> None:
        raise RuntimeError("kaboom")

    bot.tree.add_command(boom)
    fake_discord.set_commands([boom.to_dict(bot.tree)], guild=guild)
    failed = await fake_discord.slash(guild, member, "boom")
    await failed.response()
    # A poll and two votes.
    poll = await fake_discord.slash(guild, creator, "theory new", options={"title": "Nam-ra leads"})
    await poll.response()
    assert poll.message is not None
    theory_id = int(poll.custom_ids()[0].split(":")[1])
    for option in (0, 1):
        click = await fake_discord.click(guild, member, poll.message, f"poll:{theory_id}:{option}")
        await click.response()
    # A post refused (no announcement channel), then one sent.
    render = lambda t: discord.Embed(title="Test")  # noqa: E731
    assert not (await bot.announcer.post(guild.id, render, what="test")).posted
    await bot.store.settings.update(guild.id, None, announce_channel_id=guild.general.id)
    assert (await bot.announcer.post(guild.id, render, what="test")).posted
    # A job due 30 s ago that no process here runs.
    now = int(bot.clock.now())
    await bot.store.jobs.schedule(NewJob(kind="elsewhere", key="one", due_at=now - 30))

    def counted(samples: dict[Any, float]) -> bool:
        return (
            value(samples, "halfbie_interactions_total", type="component", command="poll", outcome="ok") == 2
        )

    samples = await metrics(bot)
    while not counted(samples):  # the last answer's acknowledgement comes back in its own task
        await asyncio.sleep(0.02)
        samples = await metrics(bot)
    assert value(samples, "halfbie_interactions_total", type="command", command="about", outcome="ok") == 1
    refusal = {"type": "command", "command": "admin config show", "outcome": "refused"}
    assert value(samples, "halfbie_interactions_total", **refusal) == 1
    assert value(samples, "halfbie_interactions_total", type="command", command="boom", outcome="error") == 1
    assert (
        value(samples, "halfbie_interactions_total", type="command", command="theory new", outcome="ok") == 1
    )
    assert value(samples, "halfbie_interaction_ack_seconds_count", type="component") == 2
    assert value(samples, "halfbie_interaction_ack_seconds_count", type="command") == 4
    assert value(samples, "halfbie_votes_stored_total", change="vote") == 2
    assert value(samples, "halfbie_store_batch_jobs_count") >= 1
    # Commits from the start on are observed (those before the hooks were wired are in the totals).
    observed = value(samples, "halfbie_store_commit_seconds_count")
    assert 1 <= observed <= value(samples, "halfbie_store_batches_total")
    assert value(samples, "halfbie_store_jobs_total") >= 2
    assert value(samples, "halfbie_channel_posts_total", outcome="refused") == 1
    assert value(samples, "halfbie_channel_posts_total", outcome="sent") == 1
    assert value(samples, "halfbie_jobs_due") == 1
    assert value(samples, "halfbie_jobs_lag_seconds") >= 30
    assert value(samples, "halfbie_servers") == 1
    assert value(samples, "halfbie_shard_connected", shard="0") == 1
    assert ("halfbie_gateway_latency_seconds", (("shard", "0"),)) in samples
    assert value(samples, "halfbie_store_available") == 1
    assert value(samples, "process_resident_memory_bytes") > 0
