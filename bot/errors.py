"""Errors a member can be told about, and the one place that answers them.

Commands, components and modals raise :class:`UserError` subclasses carrying a
message key of the catalog (``bot/i18n/*.toml``) and its values; the command
tree's ``on_error`` and the components' ``on_error`` both end in
:func:`answer_error`, which answers the member ephemerally, in their language,
through the right channel (first response or follow-up), and logs anything
unexpected with its traceback.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands

from bot import store
from bot.render.text import safe

if TYPE_CHECKING:
    from bot.i18n import Texts

log = logging.getLogger(__name__)


class Term(str):
    """A value that is itself a catalog key (a field's name): the message shows it in the
    member's language."""


class UserError(app_commands.AppCommandError):
    """An error the member is told about: a catalog key and the values it needs."""

    def __init__(self, key: str, /, **values: Any) -> None:
        super().__init__(key)
        self.key = key
        self.values = values

    def render(self, t: Texts) -> str:
        if not t.catalog.has(self.key):  # a plain sentence rather than a catalog key
            log.warning("Message not in the catalog: %r", self.key)
            return self.key
        values = {name: t(v) if isinstance(v, Term) else v for name, v in self.values.items()}
        return t(self.key, **values)


class NotFound(UserError):
    pass


class Refused(UserError):
    """The member (or the bot) lacks a permission; the message says which."""


class BadInput(UserError):
    pass


class Closed(UserError):
    pass


def _permission_names(names: list[str]) -> str:
    return ", ".join(p.replace("_", " ").replace("guild", "server").title() for p in names)


def describe(error: BaseException, t: Texts) -> str | None:
    """The member-facing text for a known error, or None for a bug."""
    if isinstance(error, app_commands.CommandInvokeError):
        error = error.original
    if isinstance(error, UserError):
        return error.render(t)
    if isinstance(error, store.AlreadyExists):
        key = "errors.already_exists_removed" if error.removed else "errors.already_exists"
        return t(key, kind=error.kind, key=safe(str(error.key), 100))
    if isinstance(error, store.NoSuchRecord):
        return t("errors.not_found", kind=error.kind, key=safe(str(error.key), 100))
    if isinstance(error, app_commands.MissingPermissions):
        return t("errors.missing_permissions", permissions=_permission_names(error.missing_permissions))
    if isinstance(error, app_commands.BotMissingPermissions):
        return t("errors.bot_missing_permissions", permissions=_permission_names(error.missing_permissions))
    if isinstance(error, app_commands.NoPrivateMessage):
        return t("errors.guild_only")
    if isinstance(error, app_commands.TransformerError):
        return t("errors.bad_value", value=safe(str(error.value), 100))
    if isinstance(error, app_commands.CheckFailure):
        return t("errors.check_failed")
    if isinstance(error, discord.Forbidden):
        return t("errors.forbidden")
    return None


async def texts_for(interaction: discord.Interaction) -> Texts:
    """The member's language; English when even that cannot be read (the store is down)."""
    from bot.i18n import Catalog, Texts

    client: Any = interaction.client
    try:
        texts: Texts = await client.texts(interaction)
        return texts
    except Exception:
        catalog = getattr(client, "catalog", None) or Catalog.load()
        return Texts(catalog, "en")


async def answer_error(interaction: discord.Interaction, error: BaseException) -> None:
    """Tell the member what went wrong; log the traceback when it is our bug."""
    t = await texts_for(interaction)
    text = describe(error, t)
    if text is None:
        original = error.original if isinstance(error, app_commands.CommandInvokeError) else error
        where = interaction.command.qualified_name if interaction.command else interaction.data
        log.error("Unhandled error in interaction %s", where, exc_info=original)
        text = t("errors.generic")
    try:
        if interaction.response.is_done():
            await interaction.followup.send(text, ephemeral=True)
        else:
            await interaction.response.send_message(text, ephemeral=True)
    except discord.HTTPException as exc:  # the interaction expired or Discord is down
        log.warning("Could not tell the member about an error: %s", exc)
