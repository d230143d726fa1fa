"""The admins' forms for release news, and the undo button under a removal or a date change."""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import discord

from bot.checks import require_admin
from bot.errors import answer_error
from bot.i18n import Texts
from bot.limits import MODAL_TITLE, TEXT_INPUT_LABEL
from bot.models import NewsFields
from bot.ui.base import OwnedView

HEADLINE_MAX = 200
SOURCE_MAX = 100
LINK_MAX = 300
DETAILS_MAX = 1500
FORM_TIMEOUT = 15 * 60


@dataclass(frozen=True, slots=True)
class NewsForm:
    """What an admin typed into the news form (not yet checked)."""

    headline: str
    date: str
    source: str
    link: str
    details: str


def _label(t: Texts, key: str) -> str:
    return t(f"admin_release.{key}")[:TEXT_INPUT_LABEL]


class Modal(discord.ui.Modal):
    """A modal whose errors get the one polite answer (and a logged traceback)."""

    # discord.py's stubs give Modal.on_error the View signature (with an item); Modal's has none.
    async def on_error(self, interaction: discord.Interaction, error: Exception, /) -> None:  # type: ignore[override]
        await answer_error(interaction, error)


class NewsModal(Modal):
    """Every text of a news item, prefilled with its current values."""

    def __init__(
        self,
        title: str,
        current: NewsFields | None,
        on_submit: Callable[[discord.Interaction, NewsForm], Awaitable[None]],
        t: Texts,
    ) -> None:
        super().__init__(title=title[:MODAL_TITLE], timeout=FORM_TIMEOUT)
        self._done = on_submit
        self.headline: discord.ui.TextInput[NewsModal] = discord.ui.TextInput(
            label=_label(t, "form_headline"),
            max_length=HEADLINE_MAX,
            default=current.headline[:HEADLINE_MAX] if current else None,
        )
        self.date: discord.ui.TextInput[NewsModal] = discord.ui.TextInput(
            label=_label(t, "form_date"),
            required=False,
            max_length=10,
            placeholder=t("admin_release.form_date_placeholder"),
            default=current.happened_on if current else None,
        )
        self.source: discord.ui.TextInput[NewsModal] = discord.ui.TextInput(
            label=_label(t, "form_source"),
            max_length=SOURCE_MAX,
            default=current.source.name[:SOURCE_MAX] if current else None,
        )
        self.link: discord.ui.TextInput[NewsModal] = discord.ui.TextInput(
            label=_label(t, "form_link"),
            required=False,
            max_length=LINK_MAX,
            placeholder=t("admin_release.form_link_placeholder"),
            default=(current.source.url or "")[:LINK_MAX] or None if current else None,
        )
        self.details: discord.ui.TextInput[NewsModal] = discord.ui.TextInput(
            label=_label(t, "form_details"),
            style=discord.TextStyle.paragraph,
            required=False,
            max_length=DETAILS_MAX,
            placeholder=t("admin_release.form_details_placeholder"),
            default=(current.details or "")[:DETAILS_MAX] or None if current else None,
        )
        for item in (self.headline, self.date, self.source, self.link, self.details):
            self.add_item(item)

    async def on_submit(self, interaction: discord.Interaction) -> None:
        form = NewsForm(
            headline=self.headline.value,
            date=self.date.value,
            source=self.source.value,
            link=self.link.value,
            details=self.details.value,
        )
        await self._done(interaction, form)


class DetailsModal(Modal):
    """The longer details of a news item being added."""

    def __init__(self, on_submit: Callable[[discord.Interaction, str], Awaitable[None]], t: Texts) -> None:
        super().__init__(title=t("admin_release.details_title")[:MODAL_TITLE], timeout=FORM_TIMEOUT)
        self._done = on_submit
        self.details: discord.ui.TextInput[DetailsModal] = discord.ui.TextInput(
            label=_label(t, "form_details"),
            style=discord.TextStyle.paragraph,
            max_length=DETAILS_MAX,
            placeholder=t("admin_release.form_details_placeholder"),
        )
        self.add_item(self.details)

    async def on_submit(self, interaction: discord.Interaction) -> None:
        await self._done(interaction, self.details.value)


class UndoView(OwnedView):
    """One "Undo" button for the admin who made the change (still an admin when they click)."""

    def __init__(
        self,
        owner_id: int,
        undo: Callable[[discord.Interaction], Awaitable[str]],
        t: Texts,
        *,
        timeout: float = FORM_TIMEOUT,
    ) -> None:
        super().__init__(owner_id, timeout=timeout)
        self._undo = undo
        self.undo.label = t("admin_release.undo")

    async def interaction_check(self, interaction: discord.Interaction[Any]) -> bool:
        if not await super().interaction_check(interaction):
            return False
        await require_admin(interaction)
        return True

    @discord.ui.button(style=discord.ButtonStyle.secondary)
    async def undo(self, interaction: discord.Interaction, button: discord.ui.Button[UndoView]) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        answer = await self._undo(interaction)
        button.disabled = True
        self.stop()
        if self.message is not None:
            # The message may be gone or its token expired: the undo itself is done.
            with contextlib.suppress(discord.HTTPException):
                await self.message.edit(view=self)
        await interaction.followup.send(answer, ephemeral=True)
