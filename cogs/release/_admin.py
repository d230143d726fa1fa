"""``/admin news add|edit|remove`` and ``/admin release stage|date``.

Every change is committed (and audited, by the store, in the same transaction) before
anything is announced: a failed announcement loses nothing, and the admin is told why
it did not go out.  Removing news and changing the date answer with an Undo button
that puts back the previous values recorded in the audit trail.
"""

from __future__ import annotations

import dataclasses
import enum
from typing import Any, TypeVar

import discord
from discord import app_commands

from bot import when
from bot.announce import Outcome
from bot.checks import AdminChecked, check_length, guild_id_of, require_admin
from bot.choices import offer, parse
from bot.client import HalfbieBot
from bot.errors import BadInput, Refused
from bot.i18n import Texts
from bot.models import Announcement, Certainty, NewsFields, NewsItem, Release, SourceRef, Spoiler, Stage
from bot.render.release import (
    STAGE_CHOICES,
    date_announcement,
    headline,
    news_announcement,
    news_choice,
    news_line,
    stage_announcement,
    stage_label,
    timestamp,
)
from bot.render.text import clip, safe
from bot.store import ChangedSince
from bot.ui.confirm import Confirm
from bot.ui.forms import Field, TextsForm

from ._dates import (
    Premiere,
    parse_link,
    parse_news_date,
    parse_premiere,
    today,
    zone_names,
)
from ._forms import (
    DETAILS_MAX,
    FORM_TIMEOUT,
    HEADLINE_MAX,
    SOURCE_MAX,
    DetailsModal,
    NewsForm,
    NewsModal,
    UndoView,
)

E = TypeVar("E", bound=enum.Enum)


ANSWER_MAX = 1900  # under the 2,000 characters of a message
PREMIERE_TOPIC = "premiere"
CORRECTION_WINDOW = 15 * 60  # a date corrected this soon after its announcement edits it


async def reply(interaction: discord.Interaction, text: str, *, view: UndoView | None = None) -> None:
    """Answer the admin ephemerally, whether or not the interaction was deferred."""
    text = clip(text, ANSWER_MAX)
    extra: dict[str, Any] = {} if view is None else {"view": view}
    if interaction.response.is_done():
        sent = await interaction.followup.send(text, ephemeral=True, wait=True, **extra)
        if view is not None:
            view.message = sent
        return
    await interaction.response.send_message(text, ephemeral=True, **extra)
    if view is not None:
        view.message = await interaction.original_response()


def announced(outcome: Outcome, t: Texts) -> str:
    """What became of the announcement, to follow the answer (after a space)."""
    if outcome.message_id is None:
        return t("admin_release.not_announced", problem=outcome.problem_text(t))
    channel = f"<#{outcome.channel_id}>"
    note = outcome.note_text(t)
    if note:
        return t("admin_release.announced_note", channel=channel, note=note)
    return t("admin_release.announced", channel=channel)


SPOILER_OFFER = offer(Spoiler, "spoiler.{}")


def _clean(text: str | None) -> str | None:
    return text.strip() or None if text else None


def _fields(
    headline: str,
    certainty: str,
    source: str,
    date: str | None,
    link: str | None,
    details: str | None,
    *,
    now: float,
    t: Texts,
    reported_on: str | None = None,
    key: str | None = None,
) -> NewsFields:
    """News fields from what an admin typed; BadInput with an example otherwise."""
    headline = " ".join(headline.split())
    if not headline:
        raise BadInput("admin_release.empty_headline")
    source = " ".join(source.split())
    if not source:
        raise BadInput("admin_release.empty_source")
    check_length(headline, HEADLINE_MAX, "fields.headline")
    check_length(source, SOURCE_MAX, "fields.source")
    check_length(details, DETAILS_MAX, "fields.details")
    happened_on = parse_news_date(date, now=now, t=t) if date and date.strip() else None
    url = parse_link(link) if link and link.strip() else None
    return NewsFields(
        headline=headline,
        happened_on=happened_on,
        reported_on=reported_on or today(now),
        source=SourceRef(
            name=source, certainty=parse(Certainty, certainty, t.catalog, "certainty.{}"), url=url
        ),
        details=_clean(details),
        key=key,
    )


class NewsAdmin(AdminChecked):
    def __init__(self, bot: HalfbieBot) -> None:
        super().__init__(name="news", description="Season 2 release news")
        self.bot = bot

    async def _item(self, guild_id: int, value: str) -> NewsItem:
        text = value.strip().lstrip("#")
        if not text.isdecimal() or len(text) > 18:
            raise BadInput("admin_release.bad_item", value=value.replace("`", "'")[:80])
        item = await self.bot.store.news.get(guild_id, int(text))
        if item is None:
            raise BadInput("admin_release.gone_item", id=int(text))
        return item

    async def _choices(
        self, interaction: discord.Interaction[HalfbieBot], current: str
    ) -> list[app_commands.Choice[str]]:
        if interaction.guild_id is None:
            return []
        await self.bot.seeder.ensure(interaction.guild_id)
        items = await self.bot.store.news.find(interaction.guild_id, str(current or "")[:100])
        t = await self.bot.texts(interaction)
        return [news_choice(item, t) for item in items]

    @app_commands.command(name="add", description="Add release news and announce it")
    @app_commands.describe(
        headline="What happened",
        certainty="How sure it is",
        source="Who says so",
        date="Day it happened: 2024-05-01, May 1 2024",
        link="Link to the source",
        details="Write longer details in a form",
        spoiler="Spoiler level of the details (the headline is shown everywhere)",
    )
    @app_commands.autocomplete(certainty=offer(Certainty, "certainty.{}"), spoiler=SPOILER_OFFER)
    async def add(
        self,
        interaction: discord.Interaction[HalfbieBot],
        headline: app_commands.Range[str, 1, 200],
        certainty: str,
        source: app_commands.Range[str, 1, 100],
        date: app_commands.Range[str, 1, 20] | None = None,
        link: app_commands.Range[str, 1, 300] | None = None,
        details: bool = False,
        spoiler: str = Spoiler.NONE.value,
    ) -> None:
        now = self.bot.clock.now()
        t = await self.bot.texts(interaction)
        fields = _fields(headline, certainty, source, date, link, None, now=now, t=t)
        level = parse(Spoiler, spoiler, t.catalog, "spoiler.{}")

        async def save(modal_interaction: discord.Interaction, text: str | None) -> None:
            guild_id = guild_id_of(interaction)
            await self.bot.seeder.ensure(guild_id)
            full = NewsFields(
                headline=fields.headline,
                happened_on=fields.happened_on,
                reported_on=fields.reported_on,
                source=fields.source,
                details=_clean(text),
                spoiler=level,
            )
            item = await self.bot.store.news.add(guild_id, modal_interaction.user.id, full)
            # Posting may wait on Discord's rate limits: answer within 3 s by deferring first.
            await modal_interaction.response.defer(ephemeral=True, thinking=True)
            outcome = await self.bot.announcer.post(
                guild_id, lambda server: news_announcement(item, server), what="news"
            )
            answer = t("admin_release.added", id=item.id, line=news_line(item, t))
            await reply(modal_interaction, f"{answer} {announced(outcome, t)}")

        if details:
            await interaction.response.send_modal(DetailsModal(save, t))
        else:
            await save(interaction, None)

    @app_commands.command(name="edit", description="Correct release news in a form")
    @app_commands.describe(
        item="The news item",
        certainty="New certainty (else unchanged)",
        spoiler="Spoiler level of the details (else unchanged)",
        korean="Edit the Korean texts instead",
    )
    @app_commands.autocomplete(certainty=offer(Certainty, "certainty.{}"), spoiler=SPOILER_OFFER)
    async def edit(
        self,
        interaction: discord.Interaction[HalfbieBot],
        item: app_commands.Range[str, 1, 100],
        certainty: str | None = None,
        spoiler: str | None = None,
        korean: bool = False,
    ) -> None:
        guild_id = guild_id_of(interaction)
        t = await self.bot.texts(interaction)
        if korean:
            await self._edit_korean(interaction, item, t)
            return
        if certainty is not None:
            certainty = parse(Certainty, certainty, t.catalog, "certainty.{}").value
        level = None if spoiler is None else parse(Spoiler, spoiler, t.catalog, "spoiler.{}")
        await self.bot.seeder.ensure(guild_id)
        current = await self._item(guild_id, item)

        async def save(modal_interaction: discord.Interaction, form: NewsForm) -> None:
            fields = _fields(
                form.headline,
                certainty or current.fields.source.certainty.value,
                form.source,
                form.date,
                form.link,
                form.details,
                now=self.bot.clock.now(),
                t=t,
                reported_on=current.fields.reported_on,
                key=current.fields.key,
            )
            old = current.fields
            # What the form does not show stays: a prediction's window, the spoiler level
            # (unless given), and the article's words while the source is the same.
            quote = old.source.quote if fields.source.name == old.source.name else None
            fields = dataclasses.replace(
                fields,
                source=dataclasses.replace(fields.source, quote=quote),
                window_end=old.window_end,
                spoiler=level or old.spoiler,
            )
            saved = await self.bot.store.news.update(guild_id, modal_interaction.user.id, current.id, fields)
            if saved == current:
                answer = t("admin_release.unchanged", id=current.id)
            else:
                answer = t("admin_release.edited", id=saved.id, line=news_line(saved, t))
                answer += " " + t("admin_release.no_announcement")
            await reply(modal_interaction, answer)

        title = t("admin_release.edit_title", id=current.id)
        await interaction.response.send_modal(NewsModal(title, current.fields, save, t))

    async def _edit_korean(self, interaction: discord.Interaction[HalfbieBot], item: str, t: Texts) -> None:
        """The Korean headline and details of a news item, in a form of their own."""
        guild_id = guild_id_of(interaction)
        await self.bot.seeder.ensure(guild_id)
        current = await self._item(guild_id, item)
        fields = [
            Field(
                "headline_ko",
                t("admin_release.form_headline_ko"),
                current.fields.headline_ko,
                HEADLINE_MAX,
                long=False,
            ),
            Field("details_ko", t("admin_release.form_details_ko"), current.fields.details_ko, DETAILS_MAX),
        ]

        async def save(
            modal_interaction: discord.Interaction[HalfbieBot], values: dict[str, str | None]
        ) -> None:
            await require_admin(modal_interaction)  # permissions may have changed meanwhile
            check_length(values["headline_ko"], HEADLINE_MAX, "fields.headline")
            check_length(values["details_ko"], DETAILS_MAX, "fields.details")
            korean = dataclasses.replace(
                current.fields, headline_ko=values["headline_ko"], details_ko=values["details_ko"]
            )
            saved = await self.bot.store.news.update(guild_id, modal_interaction.user.id, current.id, korean)
            answer = t("admin_release.edited", id=saved.id, line=news_line(saved, t))
            await reply(modal_interaction, answer + " " + t("admin_release.no_announcement"))

        title = t("admin_release.form_korean_title", id=current.id)
        await interaction.response.send_modal(TextsForm(title, fields, save))

    @app_commands.command(name="remove", description="Remove release news")
    @app_commands.describe(item="The news item")
    async def remove(
        self, interaction: discord.Interaction[HalfbieBot], item: app_commands.Range[str, 1, 100]
    ) -> None:
        guild_id = guild_id_of(interaction)
        await self.bot.seeder.ensure(guild_id)
        target = await self._item(guild_id, item)
        removed = await self.bot.store.news.remove(guild_id, interaction.user.id, target.id)
        t = await self.bot.texts(interaction)
        answer = t("admin_release.removed", id=removed.id, headline=safe(headline(removed, t), 200))
        if await self.bot.store.news.count(guild_id) == 0:
            answer += " " + t("admin_release.removed_last")

        async def undo(click: discord.Interaction) -> str:
            restored = await self.bot.store.news.restore(guild_id, click.user.id, removed.id)
            return clip(t("admin_release.restored", id=restored.id, line=news_line(restored, t)), ANSWER_MAX)

        await reply(interaction, answer, view=UndoView(interaction.user.id, undo, t))

    edit.autocomplete("item")(_choices)
    remove.autocomplete("item")(_choices)


class ReleaseAdmin(AdminChecked):
    def __init__(self, bot: HalfbieBot) -> None:
        super().__init__(name="release", description="Season 2's stage and premiere date")
        self.bot = bot

    @app_commands.command(name="stage", description="Set and announce the stage")
    @app_commands.describe(stage="Where Season 2 stands")
    @app_commands.choices(stage=STAGE_CHOICES)
    async def stage(self, interaction: discord.Interaction[HalfbieBot], stage: str) -> None:
        guild_id = guild_id_of(interaction)
        wanted = parse(Stage, stage, self.bot.catalog, "release.stage_{}")
        await self.bot.seeder.ensure(guild_id)
        change = await self.bot.store.release.change_stage(guild_id, interaction.user.id, wanted)
        new = change.release.stage
        t = await self.bot.texts(interaction)
        if change.entry_id is None:
            answer = t("admin_release.stage_same", stage=stage_label(new, t))
        else:
            old = change.previous.stage
            release = change.release
            await interaction.response.defer(ephemeral=True, thinking=True)
            outcome = await self.bot.announcer.post(
                guild_id, lambda server: stage_announcement(release, old, server), what="stage change"
            )
            answer = t("admin_release.stage_set", stage=stage_label(new, t), old=stage_label(old, t))
            answer += " " + announced(outcome, t)
        await reply(interaction, answer)

    @app_commands.command(name="date", description="Set or clear the official premiere date")
    @app_commands.describe(
        date="Day: 2027-03-01, March 1 2027, next friday",
        time="Time: 17:00, 5pm (else 00:00)",
        timezone="Time zone: Asia/Seoul, KST (else UTC; Korea's in Korean)",
        source="Who gives the date (needed to set one)",
        certainty="How sure it is (else official)",
        link="Link to the source",
        clear="Remove the date",
    )
    @app_commands.autocomplete(certainty=offer(Certainty, "certainty.{}"))
    async def date(
        self,
        interaction: discord.Interaction[HalfbieBot],
        date: app_commands.Range[str, 1, 30] | None = None,
        time: app_commands.Range[str, 1, 20] | None = None,
        timezone: app_commands.Range[str, 1, 60] | None = None,
        source: app_commands.Range[str, 1, 100] | None = None,
        certainty: str = Certainty.OFFICIAL.value,
        link: app_commands.Range[str, 1, 300] | None = None,
        clear: bool = False,
    ) -> None:
        guild_id = guild_id_of(interaction)
        date = date.strip() if date and date.strip() else None
        if clear and date:
            raise BadInput("admin_release.date_both")
        if not clear and not date:
            raise BadInput("admin_release.date_need")
        t = await self.bot.texts(interaction)
        premiere = (
            None
            if clear or date is None
            else parse_premiere(
                date,
                time,
                timezone,
                now=self.bot.clock.now(),
                t=t,
                default_zone=when.default_zone(t.language),
            )
        )
        if premiere is not None:
            name = " ".join((check_length(source, SOURCE_MAX, "fields.source") or "").split())
            if not name:
                raise BadInput("admin_release.date_need_source")
            url = parse_link(link) if link and link.strip() else None
            premiere = dataclasses.replace(
                premiere, source=SourceRef(name, parse(Certainty, certainty, t.catalog, "certainty.{}"), url)
            )
        await self.bot.seeder.ensure(guild_id)
        if premiere is not None:
            warning = self._date_warning(await self.bot.store.release.get(guild_id), premiere.at, t)
            if warning is not None:
                await self._confirm_date(interaction, guild_id, premiere, warning, t)
                return
        await self._set_date(interaction, guild_id, premiere, t)

    def _date_warning(self, current: Release, at: int, t: Texts) -> str | None:
        """Why this date needs the admin's explicit yes before it is set and announced:
        the first date (its announcement pings the whole role), a date in the past, or one
        earlier than the date set.  None: set it at once (a correction edits the post)."""
        if at < self.bot.clock.now():
            return t("admin_release.confirm_past")
        if current.premiere_at is None:
            return t("admin_release.confirm_first")
        if at < current.premiere_at:
            return t("admin_release.confirm_earlier", old=timestamp(current.premiere_at, "F"))
        return None

    async def _confirm_date(
        self,
        interaction: discord.Interaction[HalfbieBot],
        guild_id: int,
        premiere: Premiere,
        warning: str,
        t: Texts,
    ) -> None:
        """Show the announcement as it will be posted; nothing changes without a click."""
        current = await self.bot.store.release.get(guild_id)
        future = dataclasses.replace(current, premiere_at=premiere.at)
        server = await self.bot.announcer.texts(guild_id)
        preview = date_announcement(future, current.premiere_at, server)

        async def confirmed(click: discord.Interaction[HalfbieBot]) -> None:
            await require_admin(click)  # permissions may have changed in the meantime
            await click.response.edit_message(content=t("admin_release.confirmed"), view=None)
            await self._set_date(click, guild_id, premiere, t)

        await Confirm.ask(
            interaction,
            clip(warning, ANSWER_MAX),
            embed=preview,
            confirm=t("admin_release.confirm_yes"),
            cancel=t("admin_release.confirm_no"),
            cancelled=t("admin_release.date_cancelled"),
            on_confirm=confirmed,
            expires=FORM_TIMEOUT,
        )

    async def _set_date(
        self, interaction: discord.Interaction[HalfbieBot], guild_id: int, premiere: Premiere | None, t: Texts
    ) -> None:
        """Set (or clear) the premiere, announce a new one, and answer with an Undo button."""
        at = None if premiere is None else premiere.at
        source = None if premiere is None else premiere.source
        change = await self.bot.store.release.change_premiere(guild_id, interaction.user.id, at, source)
        release = change.release
        old = change.previous.premiere_at
        if change.entry_id is None:
            if release.premiere_at is None:
                answer = t("admin_release.date_none")
            else:
                answer = t("admin_release.date_same", full=timestamp(release.premiere_at, "F"))
            await reply(interaction, answer)
            return
        if premiere is None or release.premiere_at is None:
            was = timestamp(old, "F") if old is not None else t("config.none")
            answer = t("admin_release.date_cleared", old=was)
        else:
            answer = t(
                "admin_release.date_set",
                full=timestamp(release.premiere_at, "F"),
                relative=timestamp(release.premiere_at, "R"),
                typed=premiere.typed,
            )
            if release.stage is not Stage.DATED and release.stage is not Stage.RELEASED:
                answer += " " + t("admin_release.stage_hint", stage=stage_label(release.stage, t))
            if not interaction.response.is_done():
                await interaction.response.defer(ephemeral=True, thinking=True)
            answer += " " + announced(await self._announce_date(guild_id, release, old), t)
        entry_id = change.entry_id

        async def undo(click: discord.Interaction) -> str:
            try:
                undone = await self.bot.store.release.undo(guild_id, click.user.id, entry_id)
            except ChangedSince:
                raise Refused("admin_release.undo_changed") from None
            at = undone.release.premiere_at
            what = t("admin_release.date_undone_none") if at is None else timestamp(at, "F")
            return t("admin_release.date_undone", what=what)

        await reply(interaction, answer, view=UndoView(interaction.user.id, undo, t))

    async def _announce_date(self, guild_id: int, release: Release, old: int | None) -> Outcome:
        """Announce the date; a correction within :data:`CORRECTION_WINDOW` of the first
        announcement edits it (one post, one ping), still saying what the date was before."""
        now = int(self.bot.clock.now())
        announcements = self.bot.store.announcements
        recent = await announcements.since(guild_id, PREMIERE_TOPIC, now - CORRECTION_WINDOW)
        before = old if recent is None else recent.before
        before_at = before if isinstance(before, int) else None

        def render(server: Texts) -> discord.Embed:
            return date_announcement(release, before_at, server)

        if recent is not None:
            corrected = await self.bot.announcer.correct(recent, render, what="premiere date")
            if corrected is not None:
                return corrected
        outcome = await self.bot.announcer.post(guild_id, render, what="premiere date")
        if outcome.message_id is not None and outcome.channel_id is not None:
            posted = Announcement(guild_id, PREMIERE_TOPIC, outcome.channel_id, outcome.message_id, now, old)
            await announcements.record(posted)
        return outcome

    @date.autocomplete("timezone")
    async def _zones(
        self, interaction: discord.Interaction[HalfbieBot], current: str
    ) -> list[app_commands.Choice[str]]:
        return [app_commands.Choice(name=label, value=zone) for label, zone in zone_names(str(current or ""))]
