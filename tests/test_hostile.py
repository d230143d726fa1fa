"""Bad input through every command, as a member and as an admin, through crafted interactions.

Every string option gets empty, huge, control-character, mention, markdown and
SQL-looking text; every choice an unknown value; every number an absurd one. The
bot must answer each within Discord's 3 seconds, log no unhandled error, ping
nobody and break no limit (the fake Discord fails the test on either), and keep
its database intact.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.conftest import BotRunner
from tests.fakediscord import FakeDiscord, FakeGuild, FakeMember, Perm

HOSTILE = [
    "",
    " ",
    "x" * 10_000,
    "\x00\x01\x1b[31m\u202e\u200bnam\u0000ra",
    "@everyone @here <@&1> <@1> <#1>",
    "**bold** __under__ ~~strike~~ ||spoiler|| `code` ```block``` > quote [link](https://x.y)",
    "'; DROP TABLE characters; --",
    "Robert'); DELETE FROM votes WHERE ('1'='1",
    "%s %d {0} {name} \\N",
    "💀" * 3000,
]


def leaves(command: dict[str, Any], path: str = "") -> list[tuple[str, list[dict[str, Any]]]]:
    path = f"{path} {command['name']}".strip()
    children = [o for o in command.get("options", []) if o["type"] in (1, 2)]
    if not children:
        return [(path, command.get("options", []))]
    return [leaf for child in children for leaf in leaves(child, path)]


def hostile_values(options: list[dict[str, Any]], text: str) -> list[dict[str, Any]]:
    """Every string option (choices too: an unknown value) gets ``text``; numbers absurd values.
    Role, user and channel options are left out: they would need real ids."""
    values: list[dict[str, Any]] = []
    for option in options:
        kind = option["type"]
        value: Any = {3: text, 4: -(2**53), 10: 1e308, 5: True}.get(kind)
        if value is not None:
            values.append({"name": option["name"], "type": kind, "value": value})
    return values


def crafted(
    fake: FakeDiscord,
    guild: FakeGuild,
    member: FakeMember,
    path: str,
    options: list[dict[str, Any]],
    text: str,
) -> dict[str, Any]:
    """An application-command interaction as a hostile client could send it: not checked
    against the command's declared choices, lengths or ranges, as Discord's own client would."""
    names = path.split()
    top = next(c for c in fake.synced_commands() if c["name"] == names[0])
    leaf_options = hostile_values(options, text)
    nested: list[dict[str, Any]] = leaf_options
    declared = top.get("options", [])
    chain = []
    for name in names[1:]:
        sub = next(o for o in declared if o["name"] == name)
        chain.append(sub)
        declared = sub.get("options", [])
    for sub in reversed(chain):
        nested = [{"name": sub["name"], "type": sub["type"], "options": nested}]
    data = {"id": top["id"], "name": top["name"], "type": 1, "options": nested}
    return fake.interaction_payload(guild, member, data=data)


@pytest.mark.parametrize("as_admin", [False, True], ids=["member", "admin"])
async def test_every_command_survives_hostile_text(
    runner: BotRunner, fake_discord: FakeDiscord, guild: FakeGuild, as_admin: bool
) -> None:
    await runner.start()
    who: FakeMember = (
        guild.add_member("admin", roles=[guild.add_role("Mods", Perm.ADMINISTRATOR)])
        if as_admin
        else guild.add_member("member")
    )
    await fake_discord.barrier()
    commands = [leaf for command in fake_discord.synced_commands() for leaf in leaves(command)]
    assert len(commands) >= 15
    for path, options in commands:
        for text in HOSTILE:
            payload = crafted(fake_discord, guild, who, path, options, text)
            result = await fake_discord.send_raw_interaction(payload, guild=guild)
            await result.response()
            if result.modal is not None:
                continue  # a form opened: what is typed there is checked on submit
            if result.ephemeral:
                assert result.content or result.embeds, (path, text[:20])
    if isinstance(runner.database, Path):
        assert await runner.read("PRAGMA integrity_check") == [("ok",)]
    # Hostile text never became a character, a setting or a news item.
    assert await runner.read("SELECT COUNT(*) FROM characters WHERE name LIKE '%DROP TABLE%'") == [(0,)]


async def test_autocomplete_survives_hostile_text(
    runner: BotRunner, fake_discord: FakeDiscord, guild: FakeGuild, member: FakeMember
) -> None:
    await runner.start()
    found = 0
    for command in fake_discord.synced_commands():
        for path, options in leaves(command):
            for option in options:
                if not option.get("autocomplete"):
                    continue
                found += 1
                for text in HOSTILE:
                    payload = crafted(fake_discord, guild, member, path, [option], text)
                    payload["type"] = 4  # autocomplete
                    leaf = payload["data"]["options"]
                    while leaf and "options" in leaf[0] and leaf[0]["type"] in (1, 2):
                        leaf = leaf[0]["options"]
                    leaf[0]["focused"] = True
                    result = await fake_discord.send_raw_interaction(payload, guild=guild)
                    await result.response()
                    assert result.type == 8, (path, text[:20])
                    assert len(result.data["choices"]) <= 25
    assert found >= 1
