"""The records Halfbie keeps, as small frozen dataclasses.

The store returns these and takes the ``*Fields`` classes as input; the canon in
``data/`` is loaded into the same ``*Fields`` classes.  Nothing here touches
discord.py: ids are ints and times are Unix seconds (ints).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


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


@dataclass(frozen=True, slots=True)
class Release:
    guild_id: int
    stage: Stage
    premiere_at: int | None  # Unix seconds of the official premiere, None when there is none
    updated_at: int
    updated_by: int | None


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
