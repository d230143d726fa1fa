"""The records Halfbie keeps, as small frozen dataclasses.

The store returns these and takes the ``*Fields`` classes as input; the canon in
``data/`` is loaded into the same ``*Fields`` classes.  The store never deals in
discord.py types: ids are ints and times are Unix seconds (ints).  Models hold data;
``bot.render`` turns them into what Discord shows (models never import it).
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Mapping
from dataclasses import dataclass


class Certainty(enum.StrEnum):
    """How sure a fact is; every fact the bot shows carries one."""

    OFFICIAL = "official"
    REPORTED = "reported"
    SPECULATION = "speculation"
    FAN_THEORY = "fan_theory"
    OUTSIDE = "outside"  # from outside the article (Netflix's cast credits, for example)


class Spoiler(enum.StrEnum):
    """How much of the story a statement gives away; the server's mode decides the rest."""

    NONE = "none"  # safe for anyone
    FINALE = "finale"  # tells what happens in Season 1, up to its finale
    LATER = "later"  # tells what happens after it (Season 2 news, leaks)


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
    quote: str | None = None  # the article's own words the statement rests on, when it has them
    name_ko: str | None = None  # the source's name as Korean readers know it (넷플릭스)


@dataclass(frozen=True, slots=True)
class Statement:
    """One thing the bot can say, with its own source, certainty and spoiler level."""

    text: str
    source: SourceRef
    spoiler: Spoiler = Spoiler.NONE
    ko: str | None = None  # the same statement in Korean, when written

    @property
    def certainty(self) -> Certainty:
        return self.source.certainty


# -- characters ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CharacterFields:
    """Everything about a character that an admin (or the canon) sets."""

    key: str  # stable slug, unique per server: "cheong-san"
    name: str  # "Lee Cheong-san"
    role: Statement  # who they are in the story: spoiler-free, so it reads well alone
    status: Status
    status_source: SourceRef  # where the status comes from
    hangul: str | None = None
    hangul_source: SourceRef | None = None  # where the Hangul name comes from
    actor: str | None = None
    actor_source: SourceRef | None = None  # where it says who plays them
    actor_ko: str | None = None  # the actor's name in Hangul (윤찬영): shown to Korean readers, searched
    fate_s1: tuple[Statement, ...] = ()  # what Season 1 did to them
    season2: tuple[Statement, ...] = ()  # what is known or said about Season 2
    aliases: tuple[str, ...] = ()  # other names people use ("Cheongsan")
    notes: str | None = None  # for the card's editors: shown to admins only

    @property
    def statements(self) -> tuple[Statement, ...]:
        """Every statement of the card with text of its own (the status is an enum)."""
        return (self.role, *self.fate_s1, *self.season2)

    @property
    def status_spoiler(self) -> Spoiler:
        """In a zombie series who is alive is the spoiler: every known status is one."""
        return Spoiler.NONE if self.status is Status.UNKNOWN else Spoiler.FINALE


@dataclass(frozen=True, slots=True)
class Character:
    guild_id: int
    fields: CharacterFields
    updated_at: int
    updated_by: int | None  # None: seeded from the canon
    removed_at: int | None = None  # set when an admin removed it (soft delete)

    @property
    def search_names(self) -> list[str]:
        f = self.fields
        return [f.name, f.key, *([f.hangul] if f.hangul else []), *f.aliases]

    @property
    def actor_names(self) -> list[str]:
        """Who plays them, as people type it (a lookup by actor ranks below one by name)."""
        f = self.fields
        return [n for n in (f.actor, f.actor_ko) if n]


# -- release news -------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class NewsFields:
    headline: str
    happened_on: str | None  # ISO date "2022-06-06", None when the source gives none
    reported_on: str  # ISO date of the report that says so
    source: SourceRef
    details: str | None = None
    key: str | None = None  # seed key for canon items, None for admins' items
    window_end: str | None = None  # a dated prediction's last possible day (ISO), else None
    spoiler: Spoiler = Spoiler.NONE
    headline_ko: str | None = None  # the same news in Korean, when written
    details_ko: str | None = None


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
    premiere_source: SourceRef | None = None  # who gives the date, and how sure it is


# -- theories and polls -------------------------------------------------------


# A poll's answers when its creator gives none, in English and Korean; they tell nothing
# by themselves, so a spoiler theory's buttons may show them.
DEFAULT_OPTIONS = ("Agree", "Disagree", "Not sure")
DEFAULT_OPTIONS_KO = ("맞아요", "아니에요", "모르겠어요")


@dataclass(frozen=True, slots=True)
class TheoryFields:
    title: str
    options: tuple[str, ...]  # 2 to 10 labels
    source: SourceRef
    details: str | None = None
    sealed: bool = False
    closes_at: int | None = None
    key: str | None = None  # seed key for canon theories
    spoiler: Spoiler = Spoiler.NONE  # of the title, the details and the options
    # What is shown where Discord cannot hide text (an embed's title, a choice's name,
    # a button) when the theory is a spoiler; a neutral title from the catalog if None.
    safe_title: str | None = None
    # The same theory in Korean, when written (options_ko: one per option, or none).
    title_ko: str | None = None
    details_ko: str | None = None
    safe_title_ko: str | None = None
    options_ko: tuple[str, ...] | None = None
    max_choices: int = 1  # how many options a member may choose (1: one answer)
    voter_role_id: int | None = None  # only members with this role vote (None: everyone)
    ping_role_id: int | None = None  # pinged when the poll opens and when its result is posted
    # A scheduled poll: when its ``open_poll`` job posts it (None once it has opened, or for
    # a poll posted at once).  Until then it takes no votes.
    opens_at: int | None = None


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

    @property
    def scheduled(self) -> bool:
        """An open poll waiting for its opening time (its message is not posted yet)."""
        return self.fields.opens_at is not None and self.status is TheoryStatus.OPEN


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
    # Members who voted, when a member may choose several options (then the counts add
    # up to more); None: one answer each, so the counts add up to the voters.
    voters: int | None = None

    @property
    def total(self) -> int:
        """The number of members who voted (each option's share is of them)."""
        return sum(self.counts) if self.voters is None else self.voters

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


@dataclass(frozen=True, slots=True)
class MemberVote:
    """One of a member's votes with its theory, for ``/theory mine``."""

    theory: Theory
    option: int
    voted_at: int
    points: float | None  # scored on this theory (resolved and right), else None
    options: tuple[int, ...] = ()  # every option the member chose (several-answer polls)


@dataclass(frozen=True, slots=True)
class Ballot:
    """A member's answers in one poll after a click, as committed."""

    chosen: tuple[int, ...]  # the options the member has now, in order
    option: int  # the option clicked
    added: bool  # the click added it (False: took it away, or refused at the cap)
    full: bool  # refused: the member already has ``max_choices`` answers
    max_choices: int
    need_role: int | None = None  # refused: only members with this role vote here


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
class Announcement:
    """A server's last announcement of a topic ("premiere"): where it is and what it said
    the value was before (``before``, JSON-ready), for a correction that edits it."""

    guild_id: int
    topic: str
    channel_id: int
    message_id: int
    posted_at: int
    before: object = None


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
    # Theories about a dated window (seed key -> its last day, ISO): once it has passed,
    # a server seeded after that does not get the poll.
    windows: Mapping[str, str] = dataclasses.field(default_factory=dict)
    premise: str = ""  # what the show is, in the article's words
    premise_ko: str = ""  # the same, translated

    def current(self, today: str) -> Canon:
        """The canon as a server seeded ``today`` gets it: without polls whose window passed."""
        theories = tuple(t for t in self.theories if self.windows.get(t.key or "", today) >= today)
        return dataclasses.replace(self, theories=theories)


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


@dataclass(frozen=True, slots=True)
class Reminder:
    """One countdown reminder for one server's premiere date (a job of the scheduler)."""

    guild_id: int
    kind: ReminderKind
    premiere_at: int  # the premiere it counts down to

    @property
    def due_at(self) -> int:
        return self.premiere_at - self.kind.offset

    @property
    def job(self) -> NewJob:
        """Its job for the scheduler (the premiere it counts down to in the payload)."""
        payload = {"kind": self.kind.value, "premiere_at": self.premiere_at}
        return NewJob(
            JobKind.REMIND, f"{self.guild_id}:{self.kind.value}", self.due_at, self.guild_id, payload
        )

    @classmethod
    def from_payload(cls, guild_id: int | None, payload: Mapping[str, object]) -> Reminder:
        if guild_id is None:
            raise ValueError("a reminder job names its server")
        premiere_at = payload["premiere_at"]
        if not isinstance(premiere_at, int):
            raise ValueError(f"a reminder's premiere is a time, not {premiere_at!r}")
        return cls(guild_id, ReminderKind(str(payload["kind"])), premiere_at)


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
    previous: Release  # as it was before (equal to ``release`` when nothing changed)
    entry_id: int | None  # None: nothing changed, nothing audited


# -- members' data ------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class VotedTheory:
    """A theory the member has a vote on (the title only: never anyone else's vote)."""

    theory_id: int
    title: str
    voted_at: int
    removed: bool  # an admin removed the theory; the vote is still kept


@dataclass(frozen=True, slots=True)
class MemberData:
    guild_id: int
    member_id: int
    votes: tuple[VotedTheory, ...]  # latest first
    points: float  # prediction points, summed over every scored theory
    scored: int  # theories the member scored points on
    theories_started: int  # theories the member created (kept: they belong to the server)

    @property
    def deletable(self) -> bool:
        """Whether "delete my data" would delete anything."""
        return bool(self.votes) or self.scored > 0


@dataclass(frozen=True, slots=True)
class DeletedMemberData:
    guild_id: int
    member_id: int
    votes: int
    scores: int
    points: float
    theory_ids: tuple[int, ...]  # theories whose tally or scores changed, ascending


# -- scheduled jobs -----------------------------------------------------------


class JobKind(enum.StrEnum):
    """What the scheduler runs: each feature registers the handler of its own kinds.  The
    store schedules some of them in the same transaction as the change that needs them."""

    REMIND = "remind"  # a countdown reminder (release); key "<server>:<week|day|premiere>"
    CLOSE_POLL = "close_poll"  # a poll's closing time (theories); key "<theory>"
    OPEN_POLL = "open_poll"  # a scheduled poll's opening time (theories); key "<theory>"
    POLL_RESULT = "poll_result"  # a poll's result card (theories); key "<theory>:<audit entry>"
    PURGE = "purge"  # the daily purge of servers left long ago (settings); key "daily"
    RELEASED = "released"  # the stage moves to released once the premiere passed; key "<server>"


class JobState(enum.StrEnum):
    PENDING = "pending"  # waiting for its due time (or for a retry)
    CLAIMED = "claimed"  # a process runs it; another may take it once the lease ends
    DONE = "done"  # its effect is committed; kept until the purge forgets it
    FAILED = "failed"  # gave up after repeated errors; kept for the record


@dataclass(frozen=True, slots=True)
class NewJob:
    """A job to schedule: ``kind`` picks the handler, ``key`` the thing it acts on (one job
    per kind and key: scheduling it again re-arms it), due at ``due_at`` (Unix seconds)."""

    kind: str
    key: str
    due_at: int
    guild_id: int | None = None  # None: not a server's (the daily purge)
    payload: Mapping[str, object] | None = None  # the handler's input, stored as JSON


@dataclass(frozen=True, slots=True)
class Job:
    """One timed piece of work for the scheduler: ``kind`` picks the handler, ``key`` the
    thing it acts on (unique per kind, so scheduling it again re-arms it)."""

    id: int  # new each time the job is (re)scheduled, never reused
    kind: str
    key: str
    guild_id: int | None  # None: not a server's (the daily purge)
    due_at: int
    payload: Mapping[str, object]  # the handler's input, from JSON; read-only
    state: JobState
    attempts: int = 0  # times a handler was started on it (this one included, once claimed)
    failures: int = 0  # of those, the runs that raised: drives back-off and giving up
    claimed_by: str | None = None  # the process running it (or that ran it)
    lease_until: int | None = None  # while claimed: after this, another process may take it
    done_at: int | None = None
    note: str | None = None  # why it was retried or failed, or what its handler recorded

    @property
    def nonce(self) -> str:
        """The nonce of a channel post this job makes (``enforce_nonce``): the same on every
        retry and after a restart, so Discord hands back the first post instead of making a
        second.  At most 25 characters (Discord's limit): ids are below 2**63, 19 digits."""
        return f"job-{self.id}"
