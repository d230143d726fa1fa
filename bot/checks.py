"""One permission model for every cog.

Discord's ``default_permissions`` only hides a command in the client, and a server
can show it to anyone; so every guarded command is also checked here, inside the
bot, against the permissions Discord resolved for the member in that channel and
the server's own roles from its settings.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import discord
from discord import app_commands

from bot.errors import BadInput, Refused, Term

if TYPE_CHECKING:
    from bot.client import HalfbieBot

T = TypeVar("T")

ADMIN_PERMISSIONS = discord.Permissions(manage_guild=True)
POLL_CREATOR_PERMISSIONS = discord.Permissions(manage_messages=True)


def check_length(text: str | None, limit: int, what: str) -> str | None:
    """Text as typed, or a clear refusal naming the field (``what``, a catalog key) when it
    is longer than ``limit`` (one of :mod:`bot.limits`, or a budget below it).

    Discord's client enforces an option's ``max_length``, but a crafted request does not;
    every command checks what it takes through here.
    """
    if text is not None and len(text) > limit:
        raise BadInput("errors.too_long", what=Term(what), length=len(text), limit=limit)
    return text


def guild_id_of(interaction: discord.Interaction[Any]) -> int:
    """The server the command runs in; a clear refusal in a DM (a crafted request can
    reach a guild-only command there)."""
    if interaction.guild_id is None:
        raise Refused("errors.guild_only")
    return interaction.guild_id


def assign_problem(role: discord.Role, me: discord.Member) -> str | None:
    """Why the bot cannot give ``role`` to members, or None: ``everyone``, ``managed``,
    ``no_manage`` or ``above`` (each feature words it in its own catalog section).

    Checked before asking Discord: a 403 counts toward Discord's limit of invalid requests.
    """
    if role.is_default():
        return "everyone"
    if role.managed:
        return "managed"
    if not me.guild_permissions.manage_roles:
        return "no_manage"
    if role >= me.top_role and role.guild.owner_id != me.id:
        return "above"
    return None


def _member_role_ids(interaction: discord.Interaction) -> set[int]:
    user = interaction.user
    return {role.id for role in user.roles} if isinstance(user, discord.Member) else set()


async def require_admin(interaction: discord.Interaction[HalfbieBot]) -> None:
    """Manage Server, or the server's admin role; raises :class:`Refused` otherwise."""
    guild_id = guild_id_of(interaction)
    if interaction.permissions.manage_guild:
        return
    settings = await interaction.client.store.settings.get(guild_id)
    if settings.admin_role_id is not None and settings.admin_role_id in _member_role_ids(interaction):
        return
    if settings.admin_role_id is not None:
        raise Refused("errors.need_admin_or_role")
    raise Refused("errors.need_admin")


async def require_poll_creator(interaction: discord.Interaction[HalfbieBot]) -> None:
    """Manage Messages, the server's poll-creator role, or being an admin."""
    guild_id = guild_id_of(interaction)
    if interaction.permissions.manage_messages or interaction.permissions.manage_guild:
        return
    settings = await interaction.client.store.settings.get(guild_id)
    roles = _member_role_ids(interaction)
    if {settings.poll_creator_role_id, settings.admin_role_id} & roles - {None}:
        return
    raise Refused("errors.need_poll_creator")


def poll_creator_only() -> Callable[[T], T]:
    """Hide a command from members without Manage Messages, and check inside the bot too."""

    def decorator(func: T) -> T:
        async def predicate(interaction: discord.Interaction[HalfbieBot]) -> bool:
            await require_poll_creator(interaction)
            return True

        guarded: Any = app_commands.check(predicate)(func)
        return app_commands.default_permissions(manage_messages=True)(guarded)  # type: ignore[no-any-return]

    return decorator


class AdminChecked(app_commands.Group):
    """A group whose every subcommand is checked inside the bot (Manage Server or admin role).

    discord.py runs only the *immediate* group's ``interaction_check``, so the root
    ``/admin`` group and each of its subgroups derive from this class.
    """

    async def interaction_check(self, interaction: discord.Interaction[HalfbieBot]) -> bool:  # type: ignore[override]
        await require_admin(interaction)
        return True


class AdminGroup(AdminChecked):
    """``/admin``: hidden from members by default, and checked again inside the bot.

    The command tree owns the one instance; each feature attaches its own subgroup to it
    when it loads (and takes it off when it unloads).
    """

    def __init__(self) -> None:
        super().__init__(
            name="admin",
            description="Server admins",
            guild_only=True,
            default_permissions=ADMIN_PERMISSIONS,
        )
