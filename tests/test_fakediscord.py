"""Tests of the fake Discord itself, driven by a minimal discord.py bot defined here."""

from __future__ import annotations

import asyncio
import io
import logging
import os
import subprocess
import sys
import textwrap
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import discord
import pytest
import pytest_asyncio
from discord import app_commands
from discord.ext import commands
from discord.http import Route

from tests.fakediscord import (
    NONCE_WINDOW,
    FakeChannel,
    FakeDiscord,
    FakeDiscordError,
    FakeGuild,
    FakeMember,
    FakeMessage,
    Perm,
    limits,
)
from tests.fakediscord.plugin import fake_discord  # noqa: F401  (fixture, also via conftest)

ROOT = Path(__file__).resolve().parent.parent
NAMES = ["namra", "nam-on-jo", "cheong-san", "su-hyeok", "lee-cheong-san", "gwi-nam"]


# --------------------------------------------------------------------------- mini bot


class VoteButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=r"poll:vote:(?P<poll>\d+)"):
    """A persistent button: votes and edits the poll message in the channel."""

    def __init__(self, poll: int) -> None:
        super().__init__(
            discord.ui.Button(label="Vote", style=discord.ButtonStyle.primary, custom_id=f"poll:vote:{poll}")
        )
        self.poll = poll

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: Any
    ) -> VoteButton:
        return cls(int(match["poll"]))

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        bot: MiniBot = interaction.client
        bot.votes[self.poll] = bot.votes.get(self.poll, 0) + 1
        await interaction.response.send_message(f"vote {bot.votes[self.poll]} counted", ephemeral=True)
        if not bot.edit_on_vote:
            return
        # Coalesce the poll-message edit: one edit in flight, latest count wins.
        bot.dirty.add(self.poll)
        if interaction.message is not None and self.poll not in bot.editing:
            bot.editing.add(self.poll)
            try:
                while self.poll in bot.dirty:
                    bot.dirty.discard(self.poll)
                    await interaction.message.edit(content=f"Poll {self.poll}: {bot.votes[self.poll]} votes")
            finally:
                bot.editing.discard(self.poll)


class BumpButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=r"poll:bump:(?P<poll>\d+)"):
    """Updates the clicked message in place (callback type 7)."""

    def __init__(self, poll: int) -> None:
        super().__init__(discord.ui.Button(label="Bump", custom_id=f"poll:bump:{poll}"))
        self.poll = poll

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: Any
    ) -> BumpButton:
        return cls(int(match["poll"]))

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        await interaction.response.edit_message(content=f"Poll {self.poll} bumped by {interaction.user.name}")


class RenameModal(discord.ui.Modal, title="Rename poll"):
    title_input: discord.ui.TextInput[Any] = discord.ui.TextInput(label="New title", custom_id="new")

    def __init__(self) -> None:
        super().__init__(custom_id="rename-modal")

    async def on_submit(self, interaction: discord.Interaction[Any]) -> None:
        # A modal opened from a button may update the button's message (type 7).
        await interaction.response.edit_message(content=f"Poll: {self.title_input.value}")


class RenameButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=r"poll:rename:(?P<poll>\d+)"):
    def __init__(self, poll: int) -> None:
        super().__init__(discord.ui.Button(label="Rename", custom_id=f"poll:rename:{poll}"))

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: Any
    ) -> RenameButton:
        return cls(int(match["poll"]))

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        await interaction.response.send_modal(RenameModal())


class TheoryModal(discord.ui.Modal, title="Your theory"):
    theory: discord.ui.TextInput[Any] = discord.ui.TextInput(
        label="Theory", custom_id="theory", max_length=300
    )

    async def on_submit(self, interaction: discord.Interaction[Any]) -> None:
        await interaction.response.send_message(f"theory saved: {self.theory.value}", ephemeral=True)


class LabelModal(discord.ui.Modal, title="Rate"):
    def __init__(self) -> None:
        super().__init__(custom_id="rate-modal")
        self.score: discord.ui.TextInput[Any] = discord.ui.TextInput(custom_id="score", max_length=2)
        self.add_item(discord.ui.Label(text="Score 1-10", component=self.score))

    async def on_submit(self, interaction: discord.Interaction[Any]) -> None:
        await interaction.response.send_message(f"score {self.score.value}", ephemeral=True)


@dataclass
class Outcome:
    errors: list[int] = field(default_factory=list)


class MiniBot(commands.Bot):
    def __init__(self) -> None:
        intents = discord.Intents.default()
        intents.members = True
        super().__init__(command_prefix="!", intents=intents, guild_ready_timeout=0.2)
        self.votes: dict[int, int] = {}
        self.dirty: set[int] = set()
        self.editing: set[int] = set()
        self.edit_on_vote = True
        self.outcome = Outcome()
        self.last_sent: discord.Message | None = None

    async def setup_hook(self) -> None:
        self.add_dynamic_items(VoteButton, BumpButton, RenameButton)
        add_commands(self)
        await self.tree.sync()


def add_commands(bot: MiniBot) -> None:
    tree = bot.tree

    @tree.command(name="hello", description="Say hello")
    async def hello(interaction: discord.Interaction[Any], name: str) -> None:
        await interaction.response.send_message(f"hello {name}", ephemeral=True)

    @tree.command(name="character", description="Show a character card")
    @app_commands.describe(name="Who")
    async def character(interaction: discord.Interaction[Any], name: str) -> None:
        await interaction.response.send_message(
            embed=discord.Embed(title=name, description=f"card of {name}"), ephemeral=True
        )

    @character.autocomplete("name")
    async def character_ac(
        interaction: discord.Interaction[Any], current: str
    ) -> list[app_commands.Choice[str]]:
        return [app_commands.Choice(name=n, value=n) for n in NAMES if n.startswith(current)][:25]

    admin = app_commands.Group(name="admin", description="Admin tools")
    chars = app_commands.Group(name="character", description="Characters", parent=admin)

    @chars.command(name="status", description="Set a status")
    async def status(
        interaction: discord.Interaction[Any],
        key: str,
        status: str,
        count: int = 1,
        loud: bool = False,
        role: discord.Role | None = None,
    ) -> None:
        perms = interaction.permissions
        if not perms.manage_guild:
            await interaction.response.send_message("no", ephemeral=True)
            return
        await interaction.response.send_message(
            f"{key}={status} x{count} loud={loud} role={role.name if role else None}",
            ephemeral=True,
        )

    tree.add_command(admin)

    @tree.command(name="poll", description="Start a poll")
    async def poll(interaction: discord.Interaction[Any], poll_id: int) -> None:
        view = discord.ui.View(timeout=None)
        view.add_item(VoteButton(poll_id))
        view.add_item(BumpButton(poll_id))
        view.add_item(RenameButton(poll_id))
        await interaction.response.send_message(f"Poll {poll_id}", view=view)

    @tree.command(name="post", description="Post and edit a channel message")
    async def post(interaction: discord.Interaction[Any], text: str) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        assert isinstance(interaction.channel, discord.TextChannel)
        msg = await interaction.channel.send(text, allowed_mentions=discord.AllowedMentions.none())
        await msg.edit(content=text + " (edited)")
        bot.last_sent = msg
        await interaction.followup.send("posted", ephemeral=True)

    @tree.command(name="theory", description="Open the theory modal")
    async def theory(interaction: discord.Interaction[Any]) -> None:
        await interaction.response.send_modal(TheoryModal())

    @tree.command(name="rate", description="Open a modal built with a Label")
    async def rate(interaction: discord.Interaction[Any]) -> None:
        await interaction.response.send_modal(LabelModal())

    @tree.command(name="bad", description="Send something Discord rejects")
    async def bad(interaction: discord.Interaction[Any], kind: str) -> None:
        try:
            if kind == "long":
                await interaction.response.send_message("x" * 2001)
            elif kind == "fields":
                embed = discord.Embed(title="too many")
                for i in range(26):
                    embed.add_field(name=f"f{i}", value="v")
                await interaction.response.send_message(embed=embed)
            elif kind == "custom_id":
                view = discord.ui.View()
                view.add_item(discord.ui.Button(label="x", custom_id="c" * 101))
                await interaction.response.send_message("buttons", view=view)
            elif kind == "channel":
                assert isinstance(interaction.channel, discord.TextChannel)
                await interaction.channel.send("y" * 2001)
        except discord.HTTPException as exc:
            bot.outcome.errors.append(exc.code)
        if not interaction.response.is_done():
            await interaction.response.send_message("rejected", ephemeral=True)

    @tree.command(name="announce", description="Post a role mention")
    async def announce(interaction: discord.Interaction[Any], role: discord.Role, mode: str) -> None:
        assert isinstance(interaction.channel, discord.TextChannel)
        if mode == "none":
            am = discord.AllowedMentions.none()
        elif mode == "role":
            am = discord.AllowedMentions(everyone=False, users=False, roles=[role])
        else:
            am = discord.AllowedMentions(everyone=True, users=False, roles=False)
        await interaction.channel.send(f"{role.mention} @everyone news", allowed_mentions=am)
        await interaction.response.send_message("sent", ephemeral=True)

    @tree.command(name="slow", description="Answers too late")
    async def slow(interaction: discord.Interaction[Any], seconds: float) -> None:
        await asyncio.sleep(seconds)
        try:
            await interaction.response.send_message("late")
        except discord.NotFound as exc:
            bot.outcome.errors.append(exc.code)

    @tree.command(name="give", description="Give a role")
    async def give(interaction: discord.Interaction[Any], member: discord.Member, role: discord.Role) -> None:
        try:
            await member.add_roles(role)
        except discord.Forbidden as exc:
            await interaction.response.send_message(f"forbidden {exc.code}", ephemeral=True)
            return
        await interaction.response.send_message("given", ephemeral=True)


@dataclass
class Env:
    fake: FakeDiscord
    guild: FakeGuild
    fan: FakeMember
    bot: MiniBot


@pytest_asyncio.fixture
async def env(fake_discord: FakeDiscord) -> AsyncIterator[Env]:  # noqa: F811
    fake = fake_discord
    guild = fake.add_guild("AoUAD Fans")
    fan = guild.add_member("fan")
    bot = MiniBot()
    task = asyncio.create_task(bot.start(fake.token))
    await fake.wait_ready()
    yield Env(fake, guild, fan, bot)
    await bot.close()
    await task


# --------------------------------------------------------------------------- tests


async def test_login_ready_and_guild_seen(env: Env) -> None:
    fake, guild, bot = env.fake, env.guild, env.bot
    paths = [(m, p) for m, p, _ in fake.requests]
    assert ("GET", "/users/@me") in paths
    assert ("GET", "/oauth2/applications/@me") in paths
    assert len(fake.identify_times) == 1
    assert fake.intents == bot.intents.value
    assert fake.gateway_queries[0] == {"v": "10", "encoding": "json", "compress": "zlib-stream"}
    assert bot.user is not None
    assert bot.user.id == fake.bot_user_id
    assert bot.application_id == fake.application_id
    g = bot.get_guild(guild.id)
    assert g is not None
    assert g.name == "AoUAD Fans"
    assert g.me is not None
    assert g.me.top_role.name == "Halfbie"
    general = g.get_channel(guild.general.id)
    assert isinstance(general, discord.TextChannel)
    perms = general.permissions_for(g.me)
    assert perms.send_messages
    assert perms.embed_links
    assert perms.manage_roles
    assert not perms.administrator
    assert {m.name for m in g.members} >= {"owner", "fan", "Halfbie"}
    # a guild joined while running arrives live (after on_ready: before it, discord.py
    # reports joins as on_guild_available)
    await bot.wait_until_ready()
    joined = asyncio.ensure_future(bot.wait_for("guild_join", timeout=5))
    late = fake.add_guild("Late Fans")
    assert (await joined).id == late.id
    left = asyncio.ensure_future(bot.wait_for("guild_remove", timeout=5))
    fake.remove_guild(late)
    assert (await left).id == late.id


async def test_sync_recorded(env: Env) -> None:
    fake = env.fake
    assert fake.sync_count == 1
    names = {c["name"] for c in fake.synced_commands()}
    assert {"hello", "character", "admin", "poll", "theory"} <= names
    assert all(c["id"].isdigit() for c in fake.synced_commands())
    puts = [r for r in fake.requests if r.method == "PUT" and r.path.endswith("/commands")]
    assert len(puts) == 1
    assert puts[0].status == 200
    assert fake.synced_commands(env.guild) == []


async def test_slash_response(env: Env) -> None:
    r = await env.fake.slash(env.guild, env.fan, "hello", name="Nam-ra")
    await r.response()
    assert r.type == 4
    assert r.ephemeral
    assert r.content == "hello Nam-ra"
    assert r.acked_after is not None
    assert r.message is not None
    assert r.message.ephemeral
    assert env.fake.messages_in(env.guild.general) == []  # ephemeral: not in the channel


async def test_subcommand_options_and_permissions(env: Env) -> None:
    fake, guild = env.fake, env.guild
    mods = guild.add_role("Mods", Perm.MANAGE_GUILD)
    mod = guild.add_member("mod", roles=[mods])
    r = await fake.slash(
        guild,
        mod,
        "admin character status",
        key="cheong-san",
        status="immune",
        count=3,
        loud=True,
        role=mods,
    )
    await r.response()
    assert r.content == "cheong-san=immune x3 loud=True role=Mods"
    r2 = await fake.slash(guild, env.fan, "admin character status", key="a", status="b")
    await r2.response()
    assert r2.content == "no"
    with pytest.raises(FakeDiscordError, match="unknown option"):
        await fake.slash(guild, mod, "admin character status", key="a", status="b", bogus=1)
    with pytest.raises(FakeDiscordError, match="no synced command"):
        await fake.slash(guild, mod, "nonexistent")
    with pytest.raises(FakeDiscordError, match="needs a sub-command"):
        await fake.slash(guild, mod, "admin")
    with pytest.raises(FakeDiscordError, match="required option"):
        await fake.slash(guild, mod, "admin character status", key="a")
    with pytest.raises(FakeDiscordError, match="INTEGER"):
        await fake.slash(guild, mod, "admin character status", key="a", status="b", count="many")


async def test_autocomplete_choices(env: Env) -> None:
    choices = await env.fake.autocomplete(env.guild, env.fan, "character", focused="name", name="nam")
    assert [c["value"] for c in choices] == ["namra", "nam-on-jo"]
    r = await env.fake.slash(env.guild, env.fan, "character", name="namra")
    await r.response()
    assert r.embeds[0]["title"] == "namra"


async def test_button_click_response_and_edit(env: Env) -> None:
    fake, guild = env.fake, env.guild
    r = await fake.slash(guild, env.fan, "poll", poll_id=7)
    await r.response()
    poll_msg = r.message
    assert poll_msg is not None
    assert not poll_msg.ephemeral
    assert poll_msg.custom_ids() == ["poll:vote:7", "poll:bump:7", "poll:rename:7"]
    assert fake.messages_in(guild.general) == [poll_msg]
    click = await fake.click(guild, env.fan, poll_msg, "poll:vote:7")
    await click.response()
    assert click.type == 4
    assert click.ephemeral
    assert click.content == "vote 1 counted"
    await fake.wait_for_edit(poll_msg, 1)
    assert poll_msg.content == "Poll 7: 1 votes"
    assert poll_msg.history[0]["content"] == "Poll 7"
    bump = await fake.click(guild, env.fan, poll_msg, "poll:bump:7")
    await bump.response()
    assert bump.type == 7
    assert bump.message is poll_msg
    assert poll_msg.content == "Poll 7 bumped by fan"
    assert poll_msg.edits == 2
    with pytest.raises(FakeDiscordError, match="no component"):
        await fake.click(guild, env.fan, poll_msg, "poll:nope")
    opened = await fake.click(guild, env.fan, poll_msg, "poll:rename:7")
    await opened.response()
    assert opened.modal_custom_id == "rename-modal"
    renamed = await fake.submit_modal(guild, env.fan, "rename-modal", {"new": "Who survives?"})
    await renamed.response()
    assert renamed.type == 7
    assert poll_msg.content == "Poll: Who survives?"


async def test_modal_submit(env: Env) -> None:
    fake, guild = env.fake, env.guild
    r = await fake.slash(guild, env.fan, "theory")
    await r.response()
    assert r.type == 9
    assert r.modal_custom_id
    assert r.modal is not None
    assert r.modal["title"] == "Your theory"
    sub = await fake.submit_modal(guild, env.fan, r, {"theory": "Gwi-nam survives"})
    await sub.response()
    assert sub.content == "theory saved: Gwi-nam survives"
    r2 = await fake.slash(guild, env.fan, "rate")
    await r2.response()
    assert r2.modal is not None
    assert r2.modal["components"][0]["type"] == 18
    sub2 = await fake.submit_modal(guild, env.fan, "rate-modal", {"score": "9"})
    await sub2.response()
    assert sub2.content == "score 9"


async def test_channel_post_and_edit(env: Env) -> None:
    fake, guild = env.fake, env.guild
    r = await fake.slash(guild, env.fan, "post", text="Season 2 news")
    await r.response()
    assert r.type == 5
    assert r.deferred
    msg = await fake.wait_for_message(guild.general)
    await fake.wait_for_edit(msg, 1)
    assert msg.content == "Season 2 news (edited)"
    assert msg.edits == 1
    assert msg.history[0]["content"] == "Season 2 news"
    assert msg.pinged == set()
    reply = await r.wait_message()
    assert reply.content == "posted"
    assert reply.ephemeral
    assert r.followups == [reply]
    methods = [(m, p.split("/")[1]) for m, p, _ in fake.requests if p.startswith("/channels/")]
    assert methods == [("POST", "channels"), ("PATCH", "channels")]
    assert env.bot.last_sent is not None
    assert env.bot.last_sent.id == msg.id


async def test_limit_violations_detected(env: Env) -> None:
    fake, guild = env.fake, env.guild
    for kind in ("long", "fields", "custom_id", "channel"):
        r = await fake.slash(guild, env.fan, "bad", kind=kind)
        await r.response()
        assert r.content == "rejected"
    found = fake.take_violations()
    joined = "\n".join(found)
    assert "callback: content: Must be 2000 or fewer in length." in joined
    assert "embeds.0.fields: Must be 25 or fewer in length." in joined
    assert "custom_id: Must be between 1 and 100 in length." in joined
    assert "POST /channels/" in joined
    assert "content: Must be 2000" in joined
    assert env.bot.outcome.errors == [50035, 50035, 50035, 50035]
    rejected = [r for r in fake.requests if r.status == 400]
    assert len(rejected) == 4


async def test_role_pings(env: Env) -> None:
    fake, guild = env.fake, env.guild
    fans = guild.add_role("Fans")
    for mode in ("none", "role", "everyone"):
        r = await fake.slash(guild, env.fan, "announce", role=fans, mode=mode)
        await r.response()
    msgs = fake.messages_in(guild.general)
    assert [m.pinged for m in msgs] == [set(), {f"role:{fans.id}"}, {"everyone"}]
    found = fake.take_violations()
    assert len(found) == 2
    assert "would ping role" in found[0]
    assert "would ping @everyone" in found[1]
    fake.allowed_pings = {f"role:{fans.id}"}
    r = await fake.slash(guild, env.fan, "announce", role=fans, mode="role")
    await r.response()
    assert fake.violations == []


async def test_rate_limit_429_is_retried(env: Env) -> None:
    fake, guild = env.fake, env.guild
    rule = fake.fail_requests(r"^POST /channels/\d+/messages$", 429, count=2, retry_after=0.05)
    r = await fake.slash(guild, env.fan, "post", text="retry me")
    await r.response()
    await r.wait_message()
    assert rule.hits == 2
    posts = [x.status for x in fake.requests if x.method == "POST" and x.path.startswith("/channels/")]
    assert posts == [429, 429, 200]
    assert [m.content for m in fake.messages_in(guild.general)] == ["retry me (edited)"]


async def test_drop_gateway_resumes(env: Env) -> None:
    fake, guild = env.fake, env.guild
    resumed = asyncio.ensure_future(env.bot.wait_for("resumed", timeout=5))
    await fake.drop_gateway()
    # dispatched while the bot is disconnected: must be replayed after RESUME
    r = await fake.slash(guild, env.fan, "hello", name="again")
    await fake.wait_resumed()
    await resumed
    await r.response()
    assert r.content == "hello again"
    assert fake.resume_count == 1
    assert len(fake.identify_times) == 1
    assert fake.replayed_events >= 1
    assert 6 in fake.gateway_ops_received


async def test_300_concurrent_clicks(env: Env) -> None:
    fake, guild = env.fake, env.guild
    r = await fake.slash(guild, env.fan, "poll", poll_id=1)
    await r.response()
    poll_msg = r.message
    assert poll_msg is not None
    members = [guild.add_member(f"voter{i}") for i in range(300)]
    results = await asyncio.gather(*(fake.click(guild, m, poll_msg, "poll:vote:1") for m in members))
    await asyncio.gather(*(x.response(timeout=10) for x in results))
    assert all(x.type == 4 for x in results)
    assert env.bot.votes[1] == 300
    await fake.wait_for_edit(poll_msg, 1)
    for _ in range(100):  # the coalesced edit loop finishes, its last request answered
        if poll_msg.content == "Poll 1: 300 votes" and not env.bot.editing:
            break
        await asyncio.sleep(0.05)
    assert poll_msg.content == "Poll 1: 300 votes"
    assert not env.bot.editing
    assert poll_msg.edits < 300  # edits were coalesced


async def test_role_assignment_and_hierarchy(env: Env) -> None:
    fake, guild = env.fake, env.guild
    low = guild.add_role("Survivor")
    high = guild.add_role("Council", above_bot=True)
    assert low.position < guild.bot_role.position < high.position
    updated = asyncio.ensure_future(env.bot.wait_for("member_update", timeout=5))
    r = await fake.slash(guild, guild.owner, "give", member=env.fan, role=low)
    await r.response()
    assert r.content == "given"
    assert low in env.fan.roles
    _, after = await updated
    assert any(role.id == low.id for role in after.roles)
    r2 = await fake.slash(guild, guild.owner, "give", member=env.fan, role=high)
    await r2.response()
    assert r2.content == "forbidden 50013"
    assert high not in env.fan.roles
    assert any("50013" in e for e in fake.http_errors)


async def test_deadline_and_double_callback(env: Env) -> None:
    fake, guild = env.fake, env.guild
    fake.interaction_deadline = 0.3
    r = await fake.slash(guild, env.fan, "slow", seconds=0.5)
    for _ in range(100):
        if env.bot.outcome.errors:
            break
        await asyncio.sleep(0.05)
    assert env.bot.outcome.errors == [10062]
    assert r.type is None
    assert r.rejected
    fake.interaction_deadline = 3.0
    ok = await fake.slash(guild, env.fan, "hello", name="x")
    await ok.response()
    async with aiohttp.ClientSession() as session:
        url = f"{fake.api_base}/interactions/{ok.id}/{ok.token}/callback"
        async with session.post(url, json={"type": 4, "data": {"content": "again"}}) as resp:
            assert resp.status == 400
            assert resp.headers["Content-Type"] == "application/json"
            assert (await resp.json())["code"] == 40060
    found = fake.take_violations()
    assert len(found) == 2
    assert "10062" in found[0]
    assert "40060" in found[1]


async def test_unknown_route_is_a_violation(env: Env) -> None:
    with pytest.raises(discord.NotFound):
        await env.bot.http.request(
            discord.http.Route("GET", "/guilds/{guild_id}/emojis", guild_id=env.guild.id)
        )
    found = env.fake.take_violations()
    assert len(found) == 1
    assert "unknown route" in found[0]


async def test_permission_denied_channel(env: Env) -> None:
    fake, guild = env.fake, env.guild
    muted = guild.add_channel("announcements", bot_can_send=False)
    no_embed = guild.add_channel("pics", bot_can_embed=False)
    await fake.barrier()
    channel = env.bot.get_channel(muted.id)
    assert isinstance(channel, discord.TextChannel)
    assert not channel.permissions_for(channel.guild.me).send_messages
    with pytest.raises(discord.Forbidden) as info:
        await channel.send("hi")
    assert info.value.code == 50013
    ch2 = env.bot.get_channel(no_embed.id)
    assert isinstance(ch2, discord.TextChannel)
    with pytest.raises(discord.Forbidden):
        await ch2.send(embed=discord.Embed(title="x"))
    await ch2.send("plain text is fine")
    assert [m.content for m in fake.messages_in(no_embed)] == ["plain text is fine"]


async def test_subprocess_env_points_discord_at_fake(fake_discord: FakeDiscord) -> None:  # noqa: F811
    code = (
        "import discord, sys; print(discord.http.Route.BASE); "
        "print(discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY)"
    )
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        code,
        env=fake_discord.env(),
        cwd="/",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await proc.communicate()
    assert proc.returncode == 0, err.decode()
    lines = out.decode().split()
    assert lines[0] == fake_discord.url + "/api/v10"
    assert lines[1] == fake_discord.gateway_url


async def test_standalone_process() -> None:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.fakediscord",
        "--port",
        "0",
        "--guilds",
        "3",
        "--print-url",
        cwd=str(ROOT),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        assert proc.stdout is not None
        line = (await asyncio.wait_for(proc.stdout.readline(), 20)).decode().strip()
        assert line.startswith("URL http://127.0.0.1:")
        url = line.split()[1]
        async with aiohttp.ClientSession() as session, session.get(url + "/_fake/info") as resp:
            info = await resp.json()
        assert info["guilds"] == 3
        assert info["violations"] == 0
    finally:
        proc.terminate()
        await proc.wait()
    assert proc.returncode == 0


def test_plugin_fails_on_violations_and_errors(tmp_path: Path) -> None:
    test_file = tmp_path / "test_plugin_probe.py"
    test_file.write_text(
        textwrap.dedent(
            """
            import logging
            import pytest

            async def test_violation(fake_discord):
                fake_discord._violation("synthetic violation")

            @pytest.mark.allow_violations("synthetic")
            async def test_violation_allowed(fake_discord):
                fake_discord._violation("synthetic violation")

            async def test_error_log(fake_discord):
                logging.getLogger("cogs.poll").error("boom")

            @pytest.mark.allow_errors("boom")
            async def test_error_log_allowed(fake_discord):
                logging.getLogger("bot.core").error("boom")

            async def test_clean(fake_discord):
                assert fake_discord.url.startswith("http://127.0.0.1:")
            """
        )
    )
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.run(
        [
            sys.executable, "-m", "pytest", "-p", "tests.fakediscord.plugin",
            "-o", "asyncio_mode=auto",
            "-p", "no:cacheprovider", "-q", "--strict-markers", str(test_file),
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )  # fmt: skip
    out = proc.stdout
    assert "5 passed" in out, out
    assert "2 errors" in out, out
    assert "synthetic violation" in out
    assert "boom" in out


# ------------------------------------------------------------------ unit tests of limits


def test_validate_message_limits() -> None:
    ok = {"content": "hi", "embeds": [{"title": "t", "fields": [{"name": "a", "value": "b"}]}]}
    assert limits.validate_message(ok, context="channel", creating=True) == []
    assert limits.validate_message({"content": ""}, context="channel", creating=True)[0].code == "50006"
    big = {"embeds": [{"description": "d" * 4096}, {"description": "d" * 2000}]}
    assert any(
        p.code == "MAX_EMBED_SIZE_EXCEEDED"
        for p in limits.validate_message(big, context="channel", creating=True)
    )
    empty_field = {"embeds": [{"fields": [{"name": "", "value": "v"}]}]}
    assert (
        limits.validate_message(empty_field, context="channel", creating=True)[0].path
        == "embeds.0.fields.0.name"
    )
    rows = {
        "components": [
            {"type": 1, "components": [{"type": 2, "style": 1, "label": "x", "custom_id": f"b{i}"}]}
            for i in range(6)
        ]
    }
    assert any(
        p.path == "components" for p in limits.validate_message(rows, context="channel", creating=True)
    )
    dup = {
        "components": [
            {
                "type": 1,
                "components": [{"type": 2, "style": 1, "label": "x", "custom_id": "same"}] * 2,
            }
        ]
    }
    assert any(
        p.code == "COMPONENT_CUSTOM_ID_DUPLICATED"
        for p in limits.validate_message(dup, context="channel", creating=True)
    )
    link = {
        "components": [
            {
                "type": 1,
                "components": [{"type": 2, "style": 5, "label": "x", "url": "https://x", "custom_id": "c"}],
            }
        ]
    }
    assert limits.validate_message(link, context="channel", creating=True)
    ephemeral_in_channel = {"content": "x", "flags": 64}
    assert limits.validate_message(ephemeral_in_channel, context="channel", creating=True)[0].path == "flags"
    am = {"content": "x", "allowed_mentions": {"parse": ["roles"], "roles": ["1"]}}
    assert limits.validate_message(am, context="channel", creating=True)
    errors = limits.discord_errors([limits.Problem("embeds.0.title", "C", "m")])
    assert errors == {"embeds": {"0": {"title": {"_errors": [{"code": "C", "message": "m"}]}}}}


def test_validate_modal_autocomplete_and_commands() -> None:
    modal = {"custom_id": "m", "title": "t" * 46, "components": []}
    paths = {p.path for p in limits.validate_modal(modal)}
    assert {"data.title", "data.components"} <= paths
    choices = {"choices": [{"name": str(i), "value": str(i)} for i in range(26)]}
    assert limits.validate_autocomplete(choices)
    assert limits.validate_autocomplete({"choices": [{"name": "", "value": "x" * 101}]})
    good = [
        {
            "name": "character",
            "description": "d",
            "options": [{"type": 3, "name": "name", "description": "n", "required": True}],
        }
    ]
    assert limits.validate_commands(good) == []
    bad = [
        {"name": "Character", "description": "d"},
        {"name": "x", "description": ""},
        {"name": "y", "description": "d", "name_localizations": {"kr": "y"}},
        {"name": "z", "description": "d", "options": [
            {"type": 3, "name": "a", "description": "a"},
            {"type": 3, "name": "b", "description": "b", "required": True},
        ]},
        {"name": "w", "description": "d", "options": [
            {"type": 3, "name": f"o{i}", "description": "o"} for i in range(26)
        ]},
    ]  # fmt: skip
    paths = {p.path for p in limits.validate_commands(bad)}
    assert {
        "0.name",
        "1.description",
        "2.name_localizations.kr",
        "3.options.1.required",
        "4.options",
    } <= paths


def test_compute_pings_rules() -> None:
    roles = {1, 5}
    text = ["<@&5> <@9> @here"]
    assert limits.compute_pings(
        text, None, default_parse=["users", "roles", "everyone"], guild_id=1, role_ids=roles
    ) == {
        "role:5",
        "user:9",
        "everyone",
    }
    assert limits.compute_pings(text, None, default_parse=["users"], guild_id=1, role_ids=roles) == {"user:9"}
    assert (
        limits.compute_pings(text, {"parse": []}, default_parse=["users"], guild_id=1, role_ids=roles)
        == set()
    )
    am = {"parse": [], "roles": ["5"]}
    assert limits.compute_pings(text, am, default_parse=[], guild_id=1, role_ids=roles) == {"role:5"}


async def test_fake_message_helpers(env: Env) -> None:
    r = await env.fake.slash(env.guild, env.fan, "poll", poll_id=3)
    await r.response()
    msg = r.message
    assert isinstance(msg, FakeMessage)
    assert [b["label"] for b in msg.buttons()] == ["Vote", "Bump", "Rename"]
    assert "Poll 3" in msg.text
    assert r.custom_ids() == msg.custom_ids()


class ExtrasBot(commands.Bot):
    """Files, selects, follow-ups, pins and member fetches."""

    def __init__(self) -> None:
        super().__init__(command_prefix="!", intents=discord.Intents.default(), guild_ready_timeout=0.2)

    async def setup_hook(self) -> None:
        tree = self.tree

        @tree.command(name="upload", description="Send files")
        async def upload(interaction: discord.Interaction[Any]) -> None:
            await interaction.response.send_message(
                "here", file=discord.File(io.BytesIO(b"abc"), filename="a.txt"), ephemeral=True
            )
            assert isinstance(interaction.channel, discord.TextChannel)
            msg = await interaction.channel.send(
                "card", file=discord.File(io.BytesIO(b"x" * 10), filename="card.png")
            )
            await msg.pin()

        @tree.command(name="pick", description="A select menu")
        async def pick(interaction: discord.Interaction[Any]) -> None:
            view = discord.ui.View(timeout=None)
            select: discord.ui.Select[Any] = discord.ui.Select(
                custom_id="pick:char",
                options=[discord.SelectOption(label=n, value=n) for n in NAMES],
                max_values=2,
            )

            async def chosen(inter: discord.Interaction[Any]) -> None:
                await inter.response.send_message(f"picked {','.join(select.values)}", ephemeral=True)

            select.callback = chosen  # type: ignore[method-assign,assignment]
            view.add_item(select)
            await interaction.response.send_message("pick", view=view)

        @tree.command(name="multi", description="Two follow-ups")
        async def multi(interaction: discord.Interaction[Any]) -> None:
            await interaction.response.send_message("first", ephemeral=True)
            await interaction.followup.send("second", ephemeral=True)
            await interaction.followup.send("third")
            await interaction.edit_original_response(content="first (edited)")

        @tree.context_menu(name="Fan card")
        async def fan_card(interaction: discord.Interaction[Any], member: discord.Member) -> None:
            await interaction.response.send_message(f"card of {member.name}", ephemeral=True)

        @tree.context_menu(name="Quote")
        async def quote(interaction: discord.Interaction[Any], message: discord.Message) -> None:
            await interaction.response.send_message(f"quoted {message.content}", ephemeral=True)

        @tree.command(name="whois", description="Fetch a member")
        async def whois(interaction: discord.Interaction[Any], member: discord.Member) -> None:
            assert interaction.guild is not None
            fetched = await interaction.guild.fetch_member(member.id)
            await interaction.response.send_message(f"{fetched.name} {len(fetched.roles)}", ephemeral=True)

        await tree.sync()


@pytest_asyncio.fixture
async def extras(fake_discord: FakeDiscord) -> AsyncIterator[Env]:  # noqa: F811
    fake = fake_discord
    guild = fake.add_guild("Extras")
    fan = guild.add_member("fan")
    bot = ExtrasBot()
    task = asyncio.create_task(bot.start(fake.token))
    await fake.wait_ready()
    yield Env(fake, guild, fan, bot)  # type: ignore[arg-type]
    await bot.close()
    await task


async def test_files_pins_selects_followups(extras: Env) -> None:
    fake, guild, fan = extras.fake, extras.guild, extras.fan
    guild.bot_role.permissions |= Perm.ATTACH_FILES | Perm.MANAGE_MESSAGES
    guild.update_role(guild.bot_role)
    await fake.barrier()
    r = await fake.slash(guild, fan, "upload")
    await r.response()
    assert r.message is not None
    assert [a["filename"] for a in r.message.attachments] == ["a.txt"]
    card = await fake.wait_for_message(guild.general, lambda m: m.pinned)
    assert card.attachments[0]["size"] == 10
    upload_req = [x for x in fake.requests if x.method == "POST" and x.path.startswith("/channels/")]
    assert upload_req[0].files == 1
    assert upload_req[0].json["content"] == "card"

    pick = await fake.slash(guild, fan, "pick")
    await pick.response()
    assert pick.message is not None
    chosen = await fake.select(guild, fan, pick.message, "pick:char", ["namra", "gwi-nam"])
    await chosen.response()
    assert chosen.content == "picked namra,gwi-nam"
    with pytest.raises(FakeDiscordError, match="no option"):
        await fake.select(guild, fan, pick.message, "pick:char", ["nobody"])

    multi = await fake.slash(guild, fan, "multi")
    followups = await multi.wait_followups(2)
    assert [m.content for m in followups] == ["second", "third"]
    assert [m.ephemeral for m in followups] == [True, False]
    msg = await multi.wait_message(predicate=lambda m: m.edits == 1)
    assert msg.content == "first (edited)"

    fan_card = await fake.context_menu(guild, fan, "Fan card", guild.owner)
    await fan_card.response()
    assert fan_card.content == "card of owner"
    quoted = await fake.context_menu(guild, fan, "Quote", pick.message)
    await quoted.response()
    assert quoted.content == "quoted pick"

    who = await fake.slash(guild, fan, "whois", member=guild.owner)
    await who.response()
    assert who.content == "owner 2"  # @everyone + Admin


async def test_server_error_is_retried(extras: Env) -> None:
    fake = extras.fake
    rule = fake.fail_requests(r"^GET /guilds/\d+/members/\d+$", 500, count=1)
    r = await fake.slash(extras.guild, extras.fan, "whois", member=extras.fan)
    await r.response(timeout=8)
    assert r.content == "fan 1"
    assert rule.hits == 1


class ShardedBot(commands.AutoShardedBot):
    def __init__(self) -> None:
        super().__init__(command_prefix="!", intents=discord.Intents.default(), guild_ready_timeout=0.2)

    async def before_identify_hook(self, shard_id: int | None, *, initial: bool = False) -> None:
        return None  # skip discord.py's 5 s pause between shard identifies

    async def setup_hook(self) -> None:
        @self.tree.command(name="shard", description="Which shard")
        async def shard(interaction: discord.Interaction[Any]) -> None:
            await interaction.response.send_message(f"shard {interaction.guild.shard_id}")  # type: ignore[union-attr]

        await self.tree.sync()


async def test_autosharded_bot(fake_discord: FakeDiscord) -> None:  # noqa: F811
    fake = fake_discord
    fake.recommended_shards = 2
    guilds = fake.add_guilds(6)
    assert {(g.id >> 22) % 2 for g in guilds} == {0, 1}
    bot = ShardedBot()
    task = asyncio.create_task(bot.start(fake.token))
    await fake.wait_ready()
    assert [p["shard"] for p in fake.identify_payloads] == [[0, 2], [1, 2]]
    for g in guilds:
        r = await fake.slash(g, g.owner, "shard")
        await r.response()
        assert r.content == f"shard {(g.id >> 22) % 2}"
    await fake.barrier()
    assert len(bot.guilds) == 6
    await bot.close()
    await task


async def test_raw_interaction(env: Env) -> None:
    fake, guild = env.fake, env.guild
    payload = fake.interaction_payload(
        guild, env.fan, kind=3, data={"custom_id": "nobody:listens", "component_type": 2}
    )
    r = await fake.send_raw_interaction(payload)
    ok = await fake.slash(guild, env.fan, "hello", name="still alive")
    await ok.response()
    assert ok.content == "hello still alive"
    assert r.type is None


async def test_direct_message(env: Env) -> None:
    user = await env.bot.fetch_user(env.fan.id)
    msg = await user.send("welcome to the fan server")
    dm = env.fake.dm_channels[env.fan.id]
    assert [m.content for m in env.fake.messages_in(dm)] == ["welcome to the fan server"]
    assert msg.channel.id == dm.id


# ------------------------------------------------------------------ message nonces


async def general_of(env: Env) -> discord.TextChannel:
    """The bot's own #general, once it has parsed everything sent so far."""
    await env.fake.barrier()
    ch = env.bot.get_channel(env.guild.general.id)
    assert isinstance(ch, discord.TextChannel)
    return ch


async def warmed_up(env: Env) -> discord.TextChannel:
    """#general after one post (deleted again).  discord.py sends one request at a time on
    a route whose rate limit it has not seen yet; once an answer told it the limit (10000)
    it sends concurrently, so a held request does not block the next one."""
    ch = await general_of(env)
    await (await ch.send("warm-up")).delete()
    return ch


def post_route(channel: FakeChannel) -> Route:
    return Route("POST", "/channels/{channel_id}/messages", channel_id=channel.id)


async def test_nonce_returns_the_message_already_created(env: Env) -> None:
    fake, guild, bot = env.fake, env.guild, env.bot
    ch = await general_of(env)
    created: list[discord.Message] = []

    async def on_message(message: discord.Message) -> None:
        created.append(message)

    bot.add_listener(on_message, "on_message")
    first = await ch.send("Nam-ra's scene", nonce="scene-1")
    again = await ch.send("Nam-ra's scene (retry)", nonce="scene-1")
    assert again.id == first.id
    assert again.content == "Nam-ra's scene"  # Discord's answer is the earlier message
    assert first.nonce == again.nonce == "scene-1"
    [stored] = fake.messages_in(guild.general)
    assert stored.id == first.id
    assert stored.nonce == "scene-1"
    posts = [r for r in fake.requests if r.method == "POST" and r.path == f"/channels/{ch.id}/messages"]
    assert [(r.status, r.json["nonce"], r.json["enforce_nonce"]) for r in posts] == [
        (200, "scene-1", True),
        (200, "scene-1", True),
    ]
    await fake.barrier()
    assert [(m.id, m.nonce) for m in created] == [(first.id, "scene-1")]  # one MESSAGE_CREATE
    # discord.py sends str(nonce): an int nonce and its text are one nonce
    number = await ch.send("by number", nonce=7)
    assert (await ch.send("by text", nonce="7")).id == number.id
    # another nonce, or the same one in another channel, is another message
    assert (await ch.send("other", nonce="scene-2")).id != first.id
    news = guild.add_channel("news")
    await fake.barrier()
    news_ch = bot.get_channel(news.id)
    assert isinstance(news_ch, discord.TextChannel)
    elsewhere = await news_ch.send("Nam-ra's scene", nonce="scene-1")
    assert elsewhere.id != first.id
    # a fetched message does not carry its nonce (as on Discord)
    assert (await ch.fetch_message(first.id)).nonce is None
    # a deleted message no longer answers for its nonce
    await first.delete()
    reposted = await ch.send("Nam-ra's scene", nonce="scene-1")
    assert reposted.id != first.id
    # past the window the nonce is forgotten
    assert fake.nonce_window == NONCE_WINDOW == 600
    fake.nonce_window = 0.0
    assert (await ch.send("later", nonce="scene-2")).nonce == "scene-2"
    assert [m.content for m in fake.messages_in(guild.general)] == [
        "by number",
        "other",
        "Nam-ra's scene",
        "later",
    ]


async def test_nonce_without_enforce_and_invalid_nonces(env: Env) -> None:
    fake, guild, bot = env.fake, env.guild, env.bot
    route = post_route(guild.general)
    # without enforce_nonce Discord only echoes the nonce; an int nonce stays an int
    a = await bot.http.request(route, json={"content": "a", "nonce": 42})
    b = await bot.http.request(route, json={"content": "b", "nonce": 42})
    assert a["id"] != b["id"]
    assert a["nonce"] == b["nonce"] == 42
    assert [m.nonce for m in fake.messages_in(guild.general)] == [42, 42]
    for bad in ("n" * 26, 1.5, True, ["x"]):
        with pytest.raises(discord.HTTPException) as err:
            await bot.http.request(route, json={"content": "c", "nonce": bad, "enforce_nonce": True})
        assert err.value.status == 400
    with pytest.raises(discord.HTTPException):
        await bot.http.request(route, json={"content": "c", "nonce": "n", "enforce_nonce": "yes"})
    found = fake.take_violations()
    assert len(found) == 5
    assert "nonce: Must be 25 or fewer in length." in found[0]
    assert all("nonce" in v for v in found)
    assert len(fake.messages_in(guild.general)) == 2
    ok = await bot.http.request(route, json={"content": "d", "nonce": "n" * 25, "enforce_nonce": True})
    assert ok["nonce"] == "n" * 25


# ------------------------------------------------------------------ holding requests

POST_MESSAGE = r"^POST /channels/\d+/messages$"


def errors_logged(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [f"{r.name}: {r.getMessage()}" for r in caplog.records if r.levelno >= logging.WARNING]


async def test_hold_before_applies_nothing_until_released(env: Env) -> None:
    fake, guild = env.fake, env.guild
    ch = await warmed_up(env)
    hold = fake.hold_requests(POST_MESSAGE, stage="before")
    send = asyncio.create_task(ch.send("held back"))
    [rec] = await hold.wait()
    assert hold.held == [rec]
    assert rec.json["content"] == "held back"
    await asyncio.sleep(0.1)
    assert not send.done()
    assert rec.status == 0
    assert fake.messages_in(guild.general) == []
    # one request only: the next one goes through while the first is still held
    passing = await ch.send("not held")
    assert [m.content for m in fake.messages_in(guild.general)] == ["not held"]
    hold.release()
    sent = await asyncio.wait_for(send, 5)
    assert rec.status == 200
    assert [m.id for m in fake.messages_in(guild.general)] == [passing.id, sent.id]
    assert fake.messages_in(guild.general)[1].content == "held back"
    # a released hold catches nothing more
    await ch.send("after release")
    assert len(hold.held) == 1


async def test_hold_after_applies_and_withholds_the_answer(env: Env) -> None:
    fake, guild = env.fake, env.guild
    ch = await warmed_up(env)
    hold = fake.hold_requests(POST_MESSAGE, stage="after", count=2)
    sends = [asyncio.create_task(ch.send(f"vote {i}")) for i in range(2)]
    held = await hold.wait()
    assert sorted(r.json["content"] for r in held) == ["vote 0", "vote 1"]
    assert {r.status for r in held} == {200}
    assert sorted(m.content for m in fake.messages_in(guild.general)) == ["vote 0", "vote 1"]
    await asyncio.sleep(0.1)
    assert not any(s.done() for s in sends)
    hold.release()
    sent = await asyncio.wait_for(asyncio.gather(*sends), 5)
    assert sorted(m.id for m in sent) == sorted(m.id for m in fake.messages_in(guild.general))


async def test_hold_wait_times_out_with_an_assertion(env: Env) -> None:
    hold = env.fake.hold_requests(POST_MESSAGE, stage="before", count=2)
    with pytest.raises(AssertionError, match="to be held"):
        await hold.wait(timeout=0.1)
    with pytest.raises(ValueError, match="stage"):
        env.fake.hold_requests(POST_MESSAGE, stage="during")  # type: ignore[arg-type]


async def test_held_request_of_a_client_that_went_away_ends_quietly(
    env: Env, caplog: pytest.LogCaptureFixture
) -> None:
    fake, guild = env.fake, env.guild
    ch = await warmed_up(env)
    caplog.set_level(logging.DEBUG, logger="aiohttp")
    # "before": the client gives up (as a killed bot does); releasing later applies nothing
    before = fake.hold_requests(POST_MESSAGE, stage="before")
    send = asyncio.create_task(ch.send("lost"))
    [lost] = await before.wait()
    send.cancel()
    with pytest.raises(asyncio.CancelledError):
        await send
    await asyncio.sleep(0.1)  # the fake notices the closed connection
    before.release()
    # "after": applied, the answer is lost with its client
    after = fake.hold_requests(POST_MESSAGE, stage="after")
    send = asyncio.create_task(ch.send("kept", nonce="kept-1"))
    [kept] = await after.wait()
    send.cancel()
    with pytest.raises(asyncio.CancelledError):
        await send
    await asyncio.sleep(0.1)
    after.release()
    assert [m.content for m in fake.messages_in(guild.general)] == ["kept"]
    assert (lost.status, kept.status) == (0, 200)
    # the client retries with the same nonce and gets the message that was created
    retry = await ch.send("kept (retry)", nonce="kept-1")
    assert retry.id == fake.messages_in(guild.general)[0].id
    assert len(fake.messages_in(guild.general)) == 1
    assert errors_logged(caplog) == []


async def test_close_drops_what_is_held(fake_discord: FakeDiscord) -> None:  # noqa: F811
    # A fake of its own, to close it while the client still waits; the fixture's fake is
    # only there for its watch on ERROR records.
    async with FakeDiscord() as fake:
        guild = fake.add_guild()
        with fake.patched():
            client = discord.Client(intents=discord.Intents.default())
            task = asyncio.create_task(client.start(fake.token))
            await fake.wait_ready()
            await fake.barrier()
            ch = client.get_channel(guild.general.id)
            assert isinstance(ch, discord.TextChannel)
            hold = fake.hold_requests(POST_MESSAGE, stage="before")
            send = asyncio.create_task(ch.send("never"))
            [rec] = await hold.wait()
            await fake.close()
            with pytest.raises(aiohttp.ClientError):
                await asyncio.wait_for(send, 5)
            await client.close()
            await task
    assert hold.dropped
    assert rec.status == 0
    assert fake.messages_in(guild.general) == []
