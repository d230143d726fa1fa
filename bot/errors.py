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
from bot.logs import command_name
from bot.logs import extra as log_extra
from bot.render.text import safe

if TYPE_CHECKING:
    from bot.i18n import Texts

log = logging.getLogger(__name__)


class Term(str):
    """A value that is itself a catalog key (a field's name): the message shows it in the
    member's language."""


class Terms(tuple[str, ...]):
    """Values that are catalog keys (the choices of an option): the message lists them
    in the member's language."""


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
        values = {name: _term(v, t) for name, v in self.values.items()}
        return t(self.key, **values)


def _term(value: Any, t: Texts) -> Any:
    if isinstance(value, Term):
        return t(value)
    if isinstance(value, Terms):
        return ", ".join(t(key) for key in value)
    return value


class NotFound(UserError):
    pass


class Refused(UserError):
    """The member (or the bot) lacks a permission; the message says which."""


class BadInput(UserError):
    pass


class Closed(UserError):
    pass


def permission_names(names: list[str], t: Texts) -> str:
    """Discord permissions (``embed_links``) as Discord's settings name them, in the
    reader's language."""
    return ", ".join(
        t(f"permissions.{name}")
        if t.catalog.has(f"permissions.{name}")
        else name.replace("_", " ").replace("guild", "server").title()
        for name in names
    )


def _kind(kind: str, t: Texts) -> str:
    key = f"kinds.{kind.replace(' ', '_')}"
    return t(key) if t.catalog.has(key) else kind


def describe(error: BaseException, t: Texts) -> str | None:
    """The member-facing text for a known error, or None for a bug."""
    if isinstance(error, app_commands.CommandInvokeError):
        error = error.original
    if isinstance(error, UserError):
        return error.render(t)
    if isinstance(error, store.AlreadyExists):
        key = "errors.already_exists_removed" if error.removed else "errors.already_exists"
        return t(key, kind=_kind(error.kind, t), key=safe(str(error.key), 100))
    if isinstance(error, store.NoSuchRecord):
        return t("errors.not_found", kind=_kind(error.kind, t), key=safe(str(error.key), 100))
    if isinstance(error, store.StoreUnavailable):
        # PostgreSQL away (a restart, the network): nothing was committed, and the store
        # reconnects by itself (its loss and return are in the log already).
        return t("errors.unavailable")
    if isinstance(error, app_commands.MissingPermissions):
        return t("errors.missing_permissions", permissions=permission_names(error.missing_permissions, t))
    if isinstance(error, app_commands.BotMissingPermissions):
        return t("errors.bot_missing_permissions", permissions=permission_names(error.missing_permissions, t))
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


async def turned_away(interaction: discord.Interaction) -> bool:
    """While the bot stops, a new interaction is answered "restarting, try again" instead
    of being started and cut off halfway (nothing of it is stored)."""
    inflight = getattr(interaction.client, "inflight", None)
    if inflight is None or inflight.admit():
        return False
    try:
        if interaction.type is discord.InteractionType.autocomplete:
            await interaction.response.autocomplete([])
        else:
            t = await texts_for(interaction)
            await interaction.response.send_message(t("shutdown.restarting"), ephemeral=True)
    except Exception as exc:  # Discord refused, or the HTTP session is already closed
        log.info("Could not tell a member the bot is restarting: %s", exc)
    return True


async def answer_error(interaction: discord.Interaction, error: BaseException) -> None:
    """Tell the member what went wrong; log the traceback when it is our bug."""
    t = await texts_for(interaction)
    text = describe(error, t)
    inflight = getattr(interaction.client, "inflight", None)
    if inflight is not None:  # the metrics count the interaction as refused or failed
        inflight.mark(interaction, "error" if text is None else "refused")
    if text is None:
        original = error.original if isinstance(error, app_commands.CommandInvokeError) else error
        # Named, never quoted: a modal's data holds what the member typed.
        log.error(
            "Unhandled error in interaction %s",
            command_name(interaction),
            exc_info=original,
            extra=log_extra(interaction),
        )
        text = t("errors.generic")
    try:
        if interaction.response.is_done():
            await interaction.followup.send(text, ephemeral=True)
        else:
            await interaction.response.send_message(text, ephemeral=True)
    except discord.HTTPException as exc:  # the interaction expired or Discord is down
        log.warning("Could not tell the member about an error: %s", exc)
