"""Errors a member can be told about, and the one place that answers them.

Commands, components and modals raise :class:`UserError` subclasses; the command
tree's ``on_error`` and the components' ``on_error`` both end in
:func:`answer_error`, which answers the member ephemerally through the right
channel (first response or follow-up) and logs anything unexpected with its
traceback.
"""

from __future__ import annotations

import logging

import discord
from discord import app_commands

from bot import store
from bot.render.text import safe

log = logging.getLogger(__name__)

GENERIC_FAILURE = (
    "Something went wrong on our side; it has been logged. Please try again in a moment."
)


class UserError(app_commands.AppCommandError):
    """An error whose message is safe and useful to show the member."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFound(UserError):
    pass


class Refused(UserError):
    """The member (or the bot) lacks a permission; the message says which."""


class BadInput(UserError):
    pass


class Closed(UserError):
    pass


def describe(error: BaseException) -> str | None:
    """The member-facing text for a known error, or None for a bug."""
    if isinstance(error, app_commands.CommandInvokeError):
        error = error.original
    if isinstance(error, UserError):
        return error.message
    if isinstance(error, store.AlreadyExists):
        hint = " It was removed: restore it instead." if error.removed else ""
        return f"A {error.kind} called {safe(str(error.key), 100)} already exists.{hint}"
    if isinstance(error, store.NotFound):
        return f"There is no {error.kind} {safe(str(error.key), 100)} in this server."
    if isinstance(error, app_commands.MissingPermissions):
        needed = ", ".join(p.replace("_", " ").title() for p in error.missing_permissions)
        return f"You need the {needed} permission to use this."
    if isinstance(error, app_commands.BotMissingPermissions):
        needed = ", ".join(p.replace("_", " ").title() for p in error.missing_permissions)
        return f"I am missing the {needed} permission here; ask an admin to grant it."
    if isinstance(error, app_commands.NoPrivateMessage):
        return "This command works only inside a server."
    if isinstance(error, app_commands.CommandOnCooldown):
        return f"Slow down a little: try again in {error.retry_after:.0f} s."
    if isinstance(error, app_commands.TransformerError):
        return f"I could not understand {str(error.value)[:100]!r} for that option."
    if isinstance(error, app_commands.CheckFailure):
        return "You cannot use this command here."
    if isinstance(error, discord.Forbidden):
        return "Discord refused: I am missing a permission in this channel or server."
    return None


async def answer_error(interaction: discord.Interaction, error: BaseException) -> None:
    """Tell the member what went wrong; log the traceback when it is our bug."""
    text = describe(error)
    if text is None:
        original = error.original if isinstance(error, app_commands.CommandInvokeError) else error
        where = interaction.command.qualified_name if interaction.command else interaction.data
        log.error("Unhandled error in interaction %s", where, exc_info=original)
        text = GENERIC_FAILURE
    try:
        if interaction.response.is_done():
            await interaction.followup.send(text, ephemeral=True)
        else:
            await interaction.response.send_message(text, ephemeral=True)
    except discord.HTTPException as exc:  # the interaction expired or Discord is down
        log.warning("Could not tell the member about an error: %s", exc)
