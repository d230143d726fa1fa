"""The records Halfbie keeps, as small frozen dataclasses.

The store returns these and takes the ``*Fields`` classes as input; the canon in
``data/`` is loaded into the same ``*Fields`` classes.  The store never deals in
discord.py types: ids are ints and times are Unix seconds (ints).  Rows render
themselves for the cogs through thin methods whose code lives in ``bot.render``.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Sequence

    import discord
    from discord import app_commands

    from bot.i18n import Texts


class Certainty(enum.StrEnum):
    """How sure a fact is; every fact the bot shows carries one."""

    OFFICIAL = "official"
    REPORTED = "reported"
    SPECULATION = "speculation"
    FAN_THEORY = "fan_theory"


class Status(enum.StrEnum):
    """A character's status in the story."""

    ALIVE = "alive"
    ZOMBIE = "zombie"
    HALFBIE = "halfbie"
    IMMUNE = "immune"
    PRESUMED_DEAD = "presumed_dead"
    UNKNOWN = "unknown"


class Stage(enum.StrEnum):
    """Where Season 2 stands."""

    RUMOURED = "rumoured"
    CONFIRMED = "confirmed"
    IN_PRODUCTION = "in_production"
    DATED = "dated"
    RELEASED = "released"


class SpoilerMode(enum.StrEnum):
    HIDDEN = "hidden"  # behind spoiler tags (the default)
    SHOWN = "shown"
    OMITTED = "omitted"


class TheoryStatus(enum.StrEnum):
    OPEN = "open"
    CLOSED = "closed"
    RESOLVED = "resolved"


@dataclass(frozen=True, slots=True)
class SourceRef:
    """Where a fact comes from and how sure it is."""

    name: str
    certainty: Certainty
    url: str | None = None


# -- characters ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CharacterFields:
    """Everything about a character that an admin (or the canon) sets."""

    key: str  # stable slug, unique per server: "cheong-san"
    name: str  # "Lee Cheong-san"
    hangul: str | None
    actor: str | None
    role: str  # role in the story
    status: Status
    fate_s1: str | None  # Season 1 fate: spoiler text
    season2: str | None  # what is known or said about Season 2
    source: SourceRef  # source of the card as a whole
    status_source: SourceRef  # source of the status
    aliases: tuple[str, ...] = ()  # other names people use ("Cheongsan")
    notes: str | None = None  # where a fact comes from outside the article


@dataclass(frozen=True, slots=True)
class Character:
    guild_id: int
    fields: CharacterFields
    updated_at: int
    updated_by: int | None  # None: seeded from the canon
    removed_at: int | None = None  # set when an admin removed it (soft delete)

    # The row renders itself; the rendering lives in bot.render.characters (discord.py types).
    def card(self, mode: SpoilerMode, t: Texts) -> discord.Embed:
        from bot.render.characters import card

        return card(self, mode, t)

    def list_line(self, mode: SpoilerMode, t: Texts) -> str:
        from bot.render.characters import list_line

        return list_line(self, mode, t)

    def choice(self) -> app_commands.Choice[str]:
        from bot.render.characters import choice

        return choice(self)

    @property
    def search_names(self) -> list[str]:
        f = self.fields
        return [f.name, f.key, *([f.hangul] if f.hangul else []), *f.aliases]


# -- release news -------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class NewsFields:
    headline: str
    happened_on: str | None  # ISO date "2022-06-06", None when the source gives none
    reported_on: str  # ISO date of the report that says so
    source: SourceRef
    details: str | None = None
    key: str | None = None  # seed key for canon items, None for admins' items


@dataclass(frozen=True, slots=True)
class NewsItem:
    guild_id: int
    id: int
    fields: NewsFields
    created_at: int
    created_by: int | None

    def line(self, t: Texts) -> str:
        from bot.render.release import news_line

        return news_line(self, t)

    def timeline_line(self, t: Texts) -> str:
        from bot.render.release import timeline_line

        return timeline_line(self, t)

    def choice(self, t: Texts) -> app_commands.Choice[str]:
        from bot.render.release import news_choice

        return news_choice(self, t)

    def announcement(self, t: Texts) -> discord.Embed:
        from bot.render.release import news_announcement

        return news_announcement(self, t)


@dataclass(frozen=True, slots=True)
class Release:
    guild_id: int
    stage: Stage
    premiere_at: int | None  # Unix seconds of the official premiere, None when there is none
    updated_at: int
    updated_by: int | None

    def card(
        self,
        t: Texts,
        *,
        latest: Sequence[NewsItem],
        speculation: NewsItem | None,
        official: NewsItem | None,
        last: LastChange | None,
        article_date: str,
        now: int,
    ) -> discord.Embed:
        from bot.render.release import release_card

        return release_card(
            self,
            t,
            latest=latest,
            speculation=speculation,
            official=official,
            last=last,
            article_date=article_date,
            now=now,
        )

    def stage_announcement(self, old: Stage, t: Texts) -> discord.Embed:
        from bot.render.release import stage_announcement

        return stage_announcement(self, old, t)

    def date_announcement(self, old_premiere: int | None, t: Texts) -> discord.Embed:
        from bot.render.release import date_announcement

        return date_announcement(self, old_premiere, t)


# -- theories and polls -------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TheoryFields:
    title: str
    options: tuple[str, ...]  # 2 to 10 labels
    source: SourceRef
    details: str | None = None
    sealed: bool = False
    closes_at: int | None = None
    key: str | None = None  # seed key for canon theories


@dataclass(frozen=True, slots=True)
class Theory:
    guild_id: int
    id: int
    fields: TheoryFields
    status: TheoryStatus
    created_at: int
    created_by: int | None
    channel_id: int | None  # where its poll message was last posted
    message_id: int | None
    outcome: int | None  # index of the option that came true, once resolved

    @property
    def hides_tally(self) -> bool:
        """A sealed poll shows only its number of voters until it closes."""
        return self.fields.sealed and self.status is TheoryStatus.OPEN

    # The row renders itself; the rendering lives in bot.render.theories (discord.py types).
    def poll_embed(self, tally: Tally, t: Texts) -> discord.Embed:
        from bot.render.theories import poll_embed

        return poll_embed(self, tally, t)

    def list_line(self, tally: Tally, t: Texts) -> str:
        from bot.render.theories import list_line

        return list_line(self, tally, t)

    def choice(self) -> app_commands.Choice[str]:
        from bot.render.theories import choice

        return choice(self)


@dataclass(frozen=True, slots=True)
class Vote:
    """One member's current vote in one poll."""

    guild_id: int
    theory_id: int
    member_id: int
    option: int  # index into the theory's options
    voted_at: int


@dataclass(frozen=True, slots=True)
class Tally:
    theory_id: int
    counts: tuple[int, ...]  # one per option

    @property
    def total(self) -> int:
        return sum(self.counts)

    @property
    def leading(self) -> int | None:
        """The option with the most votes; None without votes or on a tie for the lead."""
        if not self.total:
            return None
        top = max(self.counts)
        return self.counts.index(top) if self.counts.count(top) == 1 else None


@dataclass(frozen=True, slots=True)
class PollState:
    """A poll as its message should show it, and what the message showed last."""

    theory: Theory
    tally: Tally
    shown: str | None  # the key of the state last rendered onto the message


@dataclass(frozen=True, slots=True)
class Resolution:
    """What resolving a theory did: who scored, and how much each."""

    theory: Theory
    voters: int  # votes at closing
    right: int  # of them, for the option that came true
    points: float  # what each right voter scored (0 when nobody was right)
    previous_outcome: int | None  # the outcome before, when an admin corrected it


@dataclass(frozen=True, slots=True)
class LeaderboardEntry:
    member_id: int
    rank: int  # 1 = best; members with equal points share a rank
    points: float
    right: int  # resolved theories the member predicted right

    def line(self, t: Texts) -> str:
        from bot.render.theories import leaderboard_line

        return leaderboard_line(self, t)


@dataclass(frozen=True, slots=True)
class MemberVote:
    """One of a member's votes with its theory, for ``/theory mine``."""

    theory: Theory
    option: int
    voted_at: int
    points: float | None  # scored on this theory (resolved and right), else None

    def line(self, t: Texts) -> str:
        from bot.render.theories import mine_line

        return mine_line(self, t)


# -- server settings and audit ------------------------------------------------


@dataclass(frozen=True, slots=True)
class GuildSettings:
    guild_id: int
    admin_role_id: int | None = None
    announce_channel_id: int | None = None
    ping_role_id: int | None = None
    spoiler_mode: SpoilerMode = SpoilerMode.HIDDEN
    language: str = "auto"  # "auto", "en" or "ko"
    poll_creator_role_id: int | None = None


@dataclass(frozen=True, slots=True)
class AuditEntry:
    id: int
    guild_id: int
    at: int
    actor_id: int | None
    action: str  # "character.status", "news.add", ...
    target: str  # what was changed: a character key, a news id, ...
    old: str | None  # JSON of the previous values
    new: str | None  # JSON of the new values


# -- the canon ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Canon:
    """What every server starts from, loaded from ``data/``."""

    version: int
    article: SourceRef
    article_date: str
    stage: Stage
    characters: tuple[CharacterFields, ...]
    news: tuple[NewsFields, ...]
    theories: tuple[TheoryFields, ...]


# -- release reminders --------------------------------------------------------


class ReminderKind(enum.StrEnum):
    """The countdown reminders posted before a premiere."""

    WEEK = "week"  # 7 days before
    DAY = "day"  # 1 day before
    PREMIERE = "premiere"  # at the premiere

    @property
    def offset(self) -> int:
        """Seconds before the premiere that the reminder is due."""
        return _REMINDER_OFFSETS[self]


_REMINDER_OFFSETS = {
    ReminderKind.WEEK: 7 * 86400,
    ReminderKind.DAY: 86400,
    ReminderKind.PREMIERE: 0,
}


class ReminderState(enum.StrEnum):
    PENDING = "pending"  # waiting for its time (or for a retry after a refused post)
    CLAIMED = "claimed"  # taken by the poster; its post is in flight
    SENT = "sent"
    FAILED = "failed"  # Discord answered with an error of unknown outcome: not retried
    DROPPED = "dropped"  # more than a day late (the bot was down), or the retries ran out
    SKIPPED = "skipped"  # its moment had passed when the date was set
    ABANDONED = "abandoned"  # claimed by a bot that stopped before recording the outcome


@dataclass(frozen=True, slots=True)
class Reminder:
    """One countdown reminder for one server's premiere date."""

    guild_id: int
    kind: ReminderKind
    premiere_at: int  # the premiere it counts down to
    due_at: int
    state: ReminderState
    attempts: int = 0
    claimed_at: int | None = None
    done_at: int | None = None
    message_id: int | None = None
    note: str | None = None  # why it failed, was retried or was dropped

    def card(self, t: Texts) -> discord.Embed:
        from bot.render.release import reminder_card

        return reminder_card(self, t)


@dataclass(frozen=True, slots=True)
class LastChange:
    """Who last changed a server's release record, and when (from the audit trail)."""

    at: int
    actor_id: int | None  # None: the canon's seed
    action: str


@dataclass(frozen=True, slots=True)
class ReleaseChange:
    """A change of the release record and the audit entry that holds its previous values."""

    release: Release
    entry_id: int | None  # None: nothing changed, nothing audited
    old: dict[str, object]  # the previous values of what changed ({} when nothing did)
