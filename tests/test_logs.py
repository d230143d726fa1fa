"""The log a machine reads (HALFBIE_LOG_FORMAT=json): one JSON object a line with the same
keys, the interaction's server and command on its records, and nothing a member typed
above DEBUG."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import signal
import sys
from collections.abc import Iterator
from pathlib import Path

import discord
import pytest
from discord import app_commands

from bot.client import HalfbieBot
from bot.config import ConfigError, load_config
from bot.logs import FIELDS, JsonFormatter, setup_logging
from tests.fakediscord import FakeDiscord, FakeGuild, FakeMember, Perm

ROOT = Path(__file__).resolve().parent.parent
TYPED = "Zq7typedbyamember"  # what a member types, to be found in no log record above DEBUG


class Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.records: list[logging.LogRecord] = []
        self.json = JsonFormatter()
        self.formatted: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        # Formatted as it is emitted, as a StreamHandler does: in the task that logs it.
        self.records.append(record)
        self.formatted.append(self.json.format(record))

    def lines(self) -> Iterator[dict[str, object]]:
        for line in self.formatted:
            yield json.loads(line)


@pytest.fixture
def records() -> Iterator[Records]:
    handler = Records()
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield handler
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


def test_the_setting_is_text_or_json() -> None:
    assert load_config({}, require_token=False).log_format == "text"
    assert load_config({"HALFBIE_LOG_FORMAT": "json"}, require_token=False).log_format == "json"
    with pytest.raises(ConfigError, match=r"^HALFBIE_LOG_FORMAT must be text or json"):
        load_config({"HALFBIE_LOG_FORMAT": "xml"}, require_token=False)


def test_one_object_a_line_with_every_field() -> None:
    stream = io.StringIO()
    logger = logging.getLogger("bot.test_logs")
    setup_logging(logging.INFO, "json", stream=stream)
    root = logging.getLogger()
    try:
        logger.info("plain %s", "line")
        logger.warning("with context", extra={"server": 123, "command": "theory new", "shard": 0})
        try:
            raise ValueError("multi\nline")
        except ValueError:
            logger.exception("failed")
    finally:
        for handler in [h for h in root.handlers if isinstance(h.formatter, JsonFormatter)]:
            root.removeHandler(handler)
    lines = stream.getvalue().splitlines()
    assert len(lines) == 3
    plain, context, failed = (json.loads(line) for line in lines)
    for entry in (plain, context, failed):
        assert tuple(entry) == FIELDS
    assert plain["message"] == "plain line"
    assert plain["level"] == "INFO"
    assert plain["logger"] == "bot.test_logs"
    assert str(plain["time"]).endswith("Z")
    assert (plain["shard"], plain["server"], plain["command"], plain["error"]) == (None, None, None, None)
    assert (context["shard"], context["server"], context["command"]) == (0, 123, "theory new")
    assert "ValueError: multi\nline" in str(failed["error"])


@pytest.mark.allow_errors("Unhandled error in interaction boom")
async def test_an_interactions_records_name_its_server_and_command(
    bot: HalfbieBot, fake_discord: FakeDiscord, guild: FakeGuild, member: FakeMember, records: Records
) -> None:
    @app_commands.command(name="boom", description="raises")
    @app_commands.describe(text="anything")
    async def boom(interaction: discord.Interaction, text: str) -> None:
        logging.getLogger("cogs.boom").info("working on it")
        raise RuntimeError("kaboom")

    bot.tree.add_command(boom)
    fake_discord.set_commands([boom.to_dict(bot.tree)], guild=guild)
    result = await fake_discord.slash(guild, member, "boom", text=TYPED)
    await result.response()
    lines = list(records.lines())
    (working,) = [line for line in lines if line["message"] == "working on it"]
    assert (working["server"], working["command"], working["shard"]) == (guild.id, "boom", 0)
    (failed,) = [line for line in lines if line["message"] == "Unhandled error in interaction boom"]
    assert (failed["server"], failed["command"], failed["level"]) == (guild.id, "boom", "ERROR")
    assert "RuntimeError: kaboom" in str(failed["error"])
    assert not [line for line in lines if TYPED in json.dumps(line) and line["level"] != "DEBUG"]


async def test_nothing_a_member_typed_is_logged_above_debug(
    bot: HalfbieBot, fake_discord: FakeDiscord, guild: FakeGuild, member: FakeMember, records: Records
) -> None:
    mods = guild.add_role("Mods", Perm.MANAGE_MESSAGES)
    creator = guild.add_member("mod", [mods, guild.admin_role])
    await fake_discord.barrier()
    typed = {"title": f"{TYPED} title", "details": f"{TYPED} details", "options": f"{TYPED} a | {TYPED} b"}
    poll = await fake_discord.slash(guild, creator, "theory new", options=typed)
    await poll.response()
    assert poll.message is not None
    await (await fake_discord.click(guild, member, poll.message, poll.custom_ids()[0])).response()
    for command, options in (
        ("theory new", {"title": TYPED, "closes": f"{TYPED} o'clock"}),  # refused: a bad time
        ("theory new", {"title": TYPED, "options": TYPED}),  # refused: one option
        ("character", {"name": TYPED}),
        ("theory show", {"theory": TYPED}),
        ("admin news add", {"headline": TYPED, "certainty": "reported", "source": TYPED, "date": TYPED}),
        ("admin news add", {"headline": TYPED, "certainty": TYPED, "source": TYPED, "link": TYPED}),
    ):
        answer = await fake_discord.slash(guild, creator, command, options=options)
        await answer.response()
    choices = await fake_discord.autocomplete(guild, member, "character", focused="name", name=TYPED)
    assert isinstance(choices, list)
    loud = [
        f"{record.levelname} {record.name}: {record.getMessage()}"
        for record in records.records
        if record.levelno > logging.DEBUG and TYPED in record.getMessage() + str(record.exc_info)
    ]
    assert loud == []


async def test_the_bot_writes_json_lines_from_start_to_stop(
    fake_discord: FakeDiscord, guild: FakeGuild, member: FakeMember, tmp_path: Path
) -> None:
    env = {
        **{k: v for k, v in fake_discord.env().items() if k not in ("HALFBIE_DATABASE_URL", "HALFBIE_HTTP")},
        "DISCORD_TOKEN": fake_discord.token,
        "HALFBIE_DB": str(tmp_path / "h.db"),
        "HALFBIE_LOG_FORMAT": "json",
        "HALFBIE_LOG_LEVEL": "INFO",
    }
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", cwd=ROOT, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        await fake_discord.wait_ready(timeout=30)
        about = await fake_discord.slash(guild, member, "about")
        await about.response(timeout=10)
    finally:
        proc.send_signal(signal.SIGTERM)
        _, err = await asyncio.wait_for(proc.communicate(), timeout=30)
    assert proc.returncode == 0, err.decode()
    lines = err.decode().splitlines()
    entries = [json.loads(line) for line in lines]  # every line parses
    assert all(tuple(entry) == FIELDS for entry in entries)
    messages = [str(entry["message"]) for entry in entries]
    assert any(message.startswith("opened the database at") for message in messages)
    assert "Received SIGTERM: closing the gateway and the database" in messages
    assert {entry["logger"] for entry in entries} >= {"bot", "bot.client", "bot.store", "discord.client"}
    assert fake_discord.token not in err.decode()
