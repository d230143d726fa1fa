"""What happens to polls, whoever asks: a vote, posting, closing (by an admin or the
clock), resolving, deleting, and the result cards in the announcement channel.

The cog's commands, the admin subgroup and the poll buttons all go through one
:class:`Polls` object, owned by the cog (``service(bot)`` finds it for the buttons).
The answer to a click is in the member's language; the poll message and the result
cards, which belong to the channel, are in the server's (the announcer's rule).

Timed work is the one scheduler's: a poll with a closing time has a ``close_poll`` job,
committed with the poll; closing it (by the job or an admin) and resolving it each
commit a ``poll_result`` job in the same transaction, which posts the result card once
(with the job's nonce, so a retry after a crash does not post twice).

A scheduled poll (``/theory new opens:``) has an ``open_poll`` job committed with it: at
its time the job posts the poll in the channel where it was created, with the job's
nonce (a retry after a crash gets the message already made, not a second one), then
commits the message and the opening together.  If that channel is gone, or the bot may
not post there (Discord refuses), the poll opens without a message: a warning names the
poll and the channel, its creator (or an admin) posts it with ``/theory show``, and a
ping role's opening card still goes to the announcement channel.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, cast

import aiohttp
import discord
from discord import app_commands

from bot.announce import CHANNEL_NEEDS
from bot.checks import guild_id_of, require_poll_creator
from bot.errors import BadInput, Closed, NotFound, Refused
from bot.i18n import Texts
from bot.models import Ballot, Job, Resolution, Theory, TheoryStatus
from bot.render.text import safe
from bot.render.theories import (
    choice,
    chosen_text,
    jump_url,
    opened_card,
    plain_title,
    poll_embed,
    result_card,
    role_text,
    shown_key,
)
from bot.scheduler import RetryLater
from bot.store import NoSuchRecord

from ._input import find_theory, matching
from ._tally import TallyRefresher
from ._views import poll_view

if TYPE_CHECKING:
    from bot.client import HalfbieBot

log = logging.getLogger(__name__)

COG_NAME = "TheoryPolls"
RESULT_RETRY_AFTER = 15 * 60  # a card Discord refused (no permission) is tried again then
RESULT_RETRY_SOON = 60  # a card that may have reached Discord: again soon, with its nonce


def voted_text(clicked: str | None, recorded: int, t: Texts) -> str:
    """The answer to a vote: the label of the button clicked (as the message showed it)."""
    return t("theory.voted", option=safe(clicked or f"{recorded + 1}.", 100))


def ballot_text(ballot: Ballot, clicked: str | None, t: Texts) -> str:
    """The answer to a click on a poll that takes several answers (or refused one)."""
    if ballot.need_role is not None:
        return t("theory.not_voter", role=role_text(ballot.need_role))
    option = safe(clicked or f"{ballot.option + 1}.", 100)
    chosen = chosen_text(ballot.chosen)
    counts = {"chosen": chosen, "count": len(ballot.chosen), "most": ballot.max_choices}
    if ballot.full:
        return t("theory.choices_full", most=ballot.max_choices, chosen=chosen)
    if ballot.added:
        return t("theory.chose", option=option, **counts)
    if not ballot.chosen:
        return t("theory.unchose_none", option=option)
    return t("theory.unchose", option=option, **counts)


def resolution_of(theory: Theory, payload: Mapping[str, object]) -> Resolution | None:
    """The scores a ``poll_result`` job carries for a resolved poll (None for a close)."""
    if "points" not in payload:
        return None
    previous = payload.get("previous_outcome")
    return Resolution(
        theory,
        voters=int(str(payload["voters"])),
        right=int(str(payload["right"])),
        points=float(str(payload["points"])),
        previous_outcome=None if previous is None else int(str(previous)),
    )


def check_role(
    interaction: discord.Interaction[HalfbieBot], role: discord.Role | None, *, ping: bool = False
) -> int | None:
    """A voter or ping role as chosen when a poll is created: a role of this server
    (not @everyone); one to ping must be one the bot can mention.  None: no role."""
    if role is None:
        return None
    guild = interaction.guild
    if role.is_default():
        raise BadInput("theory.role_everyone")
    if guild is not None and guild.get_role(role.id) is None:
        raise BadInput("theory.role_gone")
    if ping and not role.mentionable:
        me = guild.me if guild is not None else None
        if me is None or not me.guild_permissions.mention_everyone:
            raise BadInput("theory.ping_role_quiet", role=role_text(role.id))
    return role.id


def service(bot: HalfbieBot) -> Polls:
    """The bot's poll service (the theories cog must be loaded)."""
    # Not isinstance: after a reload of the extension the class is a new object.
    polls = getattr(bot.get_cog(COG_NAME), "polls", None)
    if polls is None:
        raise RuntimeError("the theories cog is not loaded")
    return cast(Polls, polls)


class Polls:
    def __init__(self, bot: HalfbieBot) -> None:
        self.bot = bot
        self.refresher = TallyRefresher(bot)
        self._locks: dict[tuple[int, int], asyncio.Lock] = {}
        self._lock_users: dict[tuple[int, int], int] = {}

    # -- start and stop ---------------------------------------------------------------------

    async def stop(self) -> None:
        await self.refresher.close()

    async def check_posted(self) -> int:
        """Refresh every poll message that does not show its poll's state (a crash came
        between a vote's commit and the edit); return how many were stale."""
        stale = 0
        texts: dict[int, Texts] = {}
        for state in await self.bot.store.theories.posted_polls():
            guild_id = state.theory.guild_id
            if not self.bot.owns_guild(guild_id):
                continue  # another shard's: its own process keeps that message (and its tally)
            if guild_id not in texts:
                texts[guild_id] = await self.bot.announcer.texts(guild_id)
            if shown_key(state.theory, state.tally, texts[guild_id]) != state.shown:
                self.refresher.mark(state.theory.guild_id, state.theory.id)
                stale += 1
        if stale:
            log.info("Refreshing %d poll message(s) left stale at the last stop", stale)
        return stale

    # -- the scheduler's jobs -----------------------------------------------------------------

    async def close_when_due(self, job: Job) -> None:
        """A ``close_poll`` job: close the poll (its result card is a job committed with
        the close) and refresh its message.  A poll already closed, resolved or deleted
        is left as it is."""
        theory_id = int(str(job.payload["theory_id"]))
        guild_id = job.guild_id
        if guild_id is None:
            raise ValueError(f"close_poll job {job.id} names no server")
        try:
            _, closed = await self.bot.store.theories.close_poll(guild_id, None, theory_id, job=job)
        except NoSuchRecord:
            return  # deleted since
        if closed:
            log.info("Closed theory %d of server %d at its closing time", theory_id, guild_id)
            self.refresher.mark(guild_id, theory_id)
            self.bot.scheduler.wake()

    async def post_result(self, job: Job) -> None:
        """A ``poll_result`` job: the result card in the announcement channel, once."""
        guild_id = job.guild_id
        if guild_id is None:
            raise ValueError(f"poll_result job {job.id} names no server")
        theory_id = int(str(job.payload["theory_id"]))
        state = await self.bot.store.theories.poll_state(guild_id, theory_id)
        if state is None or state.theory.status is TheoryStatus.OPEN:
            return  # deleted, or reopened: nothing to announce
        resolution = resolution_of(state.theory, job.payload)
        outcome = await self.bot.announcer.post(
            guild_id,
            lambda t: result_card(state.theory, state.tally, t, resolution=resolution),
            what=f"result of theory {theory_id}",
            ping=state.theory.fields.ping_role_id is not None,  # the poll's own role, or nobody
            role_id=state.theory.fields.ping_role_id,
            nonce=job.nonce,
            quiet=job.attempts > 1,
        )
        if outcome.posted or outcome.problem == "admin_release.no_channel":
            return  # no announcement channel: nothing to post, nothing to retry
        raise RetryLater(RESULT_RETRY_AFTER if outcome.definite else RESULT_RETRY_SOON, outcome.problem or "")

    async def open_when_due(self, job: Job) -> None:
        """An ``open_poll`` job: post the scheduled poll where it was created, once (the
        job's nonce), and open it in the same commit as the job's completion."""
        guild_id = job.guild_id
        if guild_id is None:
            raise ValueError(f"open_poll job {job.id} names no server")
        theory_id = int(str(job.payload["theory_id"]))
        store = self.bot.store.theories
        state = await store.poll_state(guild_id, theory_id)
        if state is None or not state.theory.scheduled:
            await store.open_scheduled(guild_id, theory_id, job, None)  # only completes the job
            return
        theory = state.theory
        guild = self.bot.get_guild(guild_id)
        if guild is None:
            raise RetryLater(RESULT_RETRY_SOON, "the server is not available")
        t = await self.bot.announcer.texts(guild_id)
        posted: tuple[int, int, str] | None = None
        problem = "no channel stored"
        channel = None if theory.channel_id is None else guild.get_channel_or_thread(theory.channel_id)
        if channel is None or not isinstance(channel, discord.TextChannel | discord.Thread):
            problem = f"channel {theory.channel_id} is gone"
        elif missing := [n for n in CHANNEL_NEEDS if not getattr(channel.permissions_for(guild.me), n)]:
            problem = f"missing {', '.join(missing)} in channel {channel.id}"
        else:
            view = poll_view(theory, t)
            extra: dict[str, Any] = {} if view is None else {"view": view}
            try:
                message = await channel.send(
                    embed=poll_embed(theory, state.tally, t), nonce=job.nonce, **extra
                )
            except discord.HTTPException as exc:
                if exc.status >= 500:
                    raise RetryLater(RESULT_RETRY_SOON, f"{exc.status} posting the poll") from None
                problem = f"{exc.status} {exc.text or type(exc).__name__}"[:200]
            except (TimeoutError, aiohttp.ClientError, OSError) as exc:
                raise RetryLater(RESULT_RETRY_SOON, type(exc).__name__) from None
            else:
                posted = (channel.id, message.id, shown_key(theory, state.tally, t))
        if posted is None:
            log.warning(
                "Could not post scheduled theory %d in server %d (%s): it is open without a message; "
                "/theory show posts it",
                theory_id,
                guild_id,
                problem,
            )
        if not await store.open_scheduled(guild_id, theory_id, job, posted):
            return
        log.info("Opened scheduled theory %d of server %d", theory_id, guild_id)
        if posted is not None:
            self.refresher.mark(guild_id, theory_id)  # in case anything changed since the read
        await self.announce_open(theory)

    # -- voting -----------------------------------------------------------------------------

    async def vote(
        self,
        interaction: discord.Interaction[HalfbieBot],
        theory_id: int,
        option: int | None,
        *,
        clicked: str | None,
    ) -> None:
        """A click on a poll button: write, then answer what is recorded, then refresh.

        Clicks of one member on one poll are handled one at a time, so the answer the
        member got last is always the vote the database holds.
        """
        guild_id = guild_id_of(interaction)
        t = await self.bot.texts(interaction)
        key = (theory_id, interaction.user.id)
        lock = self._locks.setdefault(key, asyncio.Lock())
        self._lock_users[key] = self._lock_users.get(key, 0) + 1
        try:
            async with lock:
                roles = [role.id for role in getattr(interaction.user, "roles", ())]
                text, changed = await self._record(
                    guild_id, theory_id, interaction.user.id, option, clicked, t, roles
                )
                if changed:
                    if self.bot.metrics is not None:
                        self.bot.metrics.vote_stored(retracted=option is None)
                    # Committed: the message follows soon, whatever happens to the answer.
                    self.refresher.mark(guild_id, theory_id)
                await interaction.response.send_message(text, ephemeral=True)
        finally:
            self._lock_users[key] -= 1
            if not self._lock_users[key]:
                del self._lock_users[key]
                del self._locks[key]

    async def _record(
        self,
        guild_id: int,
        theory_id: int,
        member_id: int,
        option: int | None,
        clicked: str | None,
        t: Texts,
        roles: list[int],
    ) -> tuple[str, bool]:
        """Write the click; the answer, and whether anything may have changed."""
        theories = self.bot.store.theories
        if option is None:
            if await theories.retract_vote(guild_id, theory_id, member_id):
                return t("theory.retracted"), True
            await self._why_refused(guild_id, theory_id)
            return t("theory.no_vote"), False
        ballot = await theories.choose(guild_id, theory_id, member_id, option, roles)
        if ballot is None:
            await self._why_refused(guild_id, theory_id)
            raise BadInput("theory.bad_option")
        if ballot.need_role is not None or ballot.full:
            return ballot_text(ballot, clicked, t), False
        if ballot.max_choices == 1:
            return voted_text(clicked, option, t), True
        return ballot_text(ballot, clicked, t), True

    async def _why_refused(self, guild_id: int, theory_id: int) -> None:
        """Raise the reason a vote changed nothing, if the poll does not take votes."""
        theories = self.bot.store.theories
        if await theories.is_open(guild_id, theory_id):
            return
        theory = await theories.get(guild_id, theory_id)
        if theory is None:
            raise Closed("theory.poll_deleted")
        if theory.scheduled and theory.fields.opens_at is not None:
            raise Closed("theory.poll_not_open", when=f"<t:{theory.fields.opens_at}:F>")
        raise Closed("theory.poll_closed")

    # -- posting ----------------------------------------------------------------------------

    async def may_repost(self, interaction: discord.Interaction[HalfbieBot], theory: Theory) -> bool:
        """Whether the member may (re)post the poll in a channel: its creator, a poll
        creator or an admin.  Anyone else sees it privately, where it stands."""
        if theory.created_by == interaction.user.id:
            return True
        try:
            await require_poll_creator(interaction)
        except Refused:
            return False
        return True

    async def post(
        self, interaction: discord.Interaction[HalfbieBot], theory: Theory, *, public: bool = True
    ) -> None:
        """Answer with the poll, in the server's language (the message is the channel's,
        and the refresher keeps it in that language).  An open poll's new public message
        becomes the one kept up to date (an earlier copy then points to it); a closed one
        is posted as it stands.  Not ``public``: the member alone sees it (its buttons
        work there too), with a link to where it is posted; nothing moves."""
        guild_id = guild_id_of(interaction)
        state = await self.bot.store.theories.poll_state(guild_id, theory.id)
        if state is None:
            raise NotFound("theory.poll_deleted")
        theory = state.theory
        public = public and not theory.scheduled  # its job posts it; until then, a private look
        # What is posted speaks the server's language; a private copy, the member's.
        t = await (self.bot.announcer.texts(guild_id) if public else self.bot.texts(interaction))
        embed = poll_embed(theory, state.tally, t)
        view = poll_view(theory, t)
        if not public:
            said = t
            where = (
                said("theory.show_where", url=jump_url(guild_id, theory.channel_id, theory.message_id))
                if theory.channel_id is not None and theory.message_id is not None
                else said("theory.show_nowhere")
            )
            extra: dict[str, Any] = {} if view is None else {"view": view}
            await interaction.response.send_message(where, embed=embed, ephemeral=True, **extra)
            return
        if view is None:
            await interaction.response.send_message(embed=embed)
            return
        await interaction.response.send_message(embed=embed, view=view)
        message = await interaction.original_response()
        shown = shown_key(theory, state.tally, t)
        previous = await self.bot.store.theories.post_message(
            guild_id, theory.id, message.channel.id, message.id, shown
        )
        # Votes between the read above and now must reach the new message too.
        self.refresher.mark(guild_id, theory.id, retire=previous)

    async def announce_open(self, theory: Theory) -> None:
        """A new poll with a ping role: the announcement channel says it is open, with a
        link, pinging that role (and nobody else).  Once: the nonce is the poll's."""
        role_id = theory.fields.ping_role_id
        if role_id is None:
            return
        fresh = await self.bot.store.theories.get(theory.guild_id, theory.id)
        if fresh is None:
            return
        await self.bot.announcer.post(
            theory.guild_id,
            lambda t: opened_card(fresh, t),
            what=f"opening of theory {theory.id}",
            ping=True,
            role_id=role_id,
            nonce=f"poll-open:{theory.id}",
        )

    # -- closing, resolving, deleting ---------------------------------------------------------

    async def close(self, guild_id: int, actor_id: int, theory_id: int) -> Theory:
        theory, changed = await self.bot.store.theories.close_poll(guild_id, actor_id, theory_id)
        if not changed:
            raise Closed("admin_theory.already_closed")
        self.refresher.mark(guild_id, theory_id)
        self.bot.scheduler.wake()  # its result card is due now
        return theory

    async def resolve(self, guild_id: int, actor_id: int, theory_id: int, outcome: int) -> Resolution:
        resolution = await self.bot.store.theories.resolve(guild_id, actor_id, theory_id, outcome)
        self.refresher.mark(guild_id, theory_id)
        self.bot.scheduler.wake()
        return resolution

    async def delete(self, guild_id: int, actor_id: int, theory_id: int) -> Theory:
        theory = await self.bot.store.theories.delete(guild_id, actor_id, theory_id)
        if theory.channel_id is not None and theory.message_id is not None:
            self.refresher.mark(guild_id, theory_id, gone=(theory.channel_id, theory.message_id))
        return theory

    # -- finding theories -------------------------------------------------------------------

    async def find(self, guild_id: int, text: str, statuses: frozenset[TheoryStatus] | None = None) -> Theory:
        """The theory an option value names (see :func:`_input.find_theory`)."""
        await self.bot.seeder.ensure(guild_id)
        theories = await self.bot.store.theories.list(guild_id)
        if statuses is not None:
            theories = [t for t in theories if t.status in statuses]
        return find_theory(theories, text)

    async def choices(
        self,
        interaction: discord.Interaction[HalfbieBot],
        current: str,
        statuses: frozenset[TheoryStatus] | None = None,
    ) -> list[app_commands.Choice[str]]:
        """Autocomplete for a theory option: up to 25, newest first, spoiler-free where
        the server hides spoilers (a choice's name cannot be hidden)."""
        guild_id = interaction.guild_id
        if guild_id is None:
            return []
        await self.bot.seeder.ensure(guild_id)
        theories = await self.bot.store.theories.list(guild_id)
        if statuses is not None:
            theories = [th for th in theories if th.status in statuses]
        t = await self.bot.texts(interaction)
        return [choice(theory, t) for theory in matching(theories, current, lambda th: plain_title(th, t))]
