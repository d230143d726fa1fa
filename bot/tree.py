"""The command tree: one error handler for every slash command, and the one ``/admin``
group every feature attaches its admin subgroup to."""

from __future__ import annotations

import hashlib
import json
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands

from bot.checks import AdminGroup
from bot.errors import answer_error, turned_away
from bot.logs import bind

if TYPE_CHECKING:
    from bot.client import HalfbieBot


class HalfbieTree(app_commands.CommandTree["HalfbieBot"]):
    def __init__(self, client: HalfbieBot, **options: Any) -> None:
        super().__init__(client, **options)
        self.admin = AdminGroup()
        self.add_command(self.admin)
        self.ids: dict[str, int] = {}  # a top-level command's name -> its id, once known
        self._paths: frozenset[str] | None = None

    @property
    def paths(self) -> frozenset[str]:
        """Every command's and group's full name (``admin character restore``)."""
        if self._paths is None:
            self._paths = frozenset(command.qualified_name for command in self.walk_commands())
        return self._paths

    def add_command(self, *args: Any, **kwargs: Any) -> None:
        self._paths = None
        super().add_command(*args, **kwargs)

    def remove_command(self, *args: Any, **kwargs: Any) -> Any:
        self._paths = None
        return super().remove_command(*args, **kwargs)

    def learn(self, ids: dict[str, int]) -> None:
        """The ids Discord gave the commands (at a sync, or kept from the last one)."""
        self.ids = dict(ids)
        self._paths = None

    def mention(self, path: str) -> str | None:
        """A clickable mention of a command (``admin character restore`` →
        ``</admin character restore:123>``), which Discord shows in the reader's language;
        None while its id is unknown."""
        command_id = self.ids.get(path.split(" ", 1)[0])
        return None if command_id is None else f"</{path}:{command_id}>"

    def attach(self, *commands: app_commands.Command[Any, ..., Any] | app_commands.Group) -> None:
        """Put a feature's admin subcommands under ``/admin`` (its ``cog_load``)."""
        for command in commands:
            self.admin.add_command(command)
        self._paths = None

    def detach(self, *commands: app_commands.Command[Any, ..., Any] | app_commands.Group) -> None:
        """Take them off again (its ``cog_unload``)."""
        for command in commands:
            self.admin.remove_command(command.name)
        self._paths = None

    async def interaction_check(self, interaction: discord.Interaction[HalfbieBot]) -> bool:
        # Runs first, in the interaction's own task: its log records name it; while the
        # bot stops, nothing new is started.
        bind(interaction)
        return not await turned_away(interaction)

    async def on_error(
        self, interaction: discord.Interaction[HalfbieBot], error: app_commands.AppCommandError
    ) -> None:
        await answer_error(interaction, error)

    async def payload(self, guild: discord.abc.Snowflake | None = None) -> list[dict[str, Any]]:
        """The exact command payload that :meth:`sync` would send."""
        commands = self.get_commands(guild=guild)
        translator = self.translator
        if translator:
            return [await cmd.get_translated_payload(self, translator) for cmd in commands]
        return [cmd.to_dict(self) for cmd in commands]

    async def payload_hash(self, guild: discord.abc.Snowflake | None = None) -> str:
        body = json.dumps(await self.payload(guild), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(body.encode()).hexdigest()
