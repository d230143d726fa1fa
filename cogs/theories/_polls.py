"""What happens to polls, whoever asks: a vote, posting, closing (by an admin or the
clock), resolving, deleting, and the result cards in the announcement channel.

The cog's commands, the admin subgroup and the poll buttons all go through one
:class:`Polls` object, owned by the cog (``service(bot)`` finds it).  The answer to a
click is in the member's language; the poll message and the result cards, which
belong to the channel, are in the server's (see :func:`_tally.channel_texts`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import TYPE_CHECKING, cast

import discord
from discord import app_commands

from bot.errors import BadInput, Closed, NotFound, Refused
from bot.i18n import Texts, language_for
from bot.models import Theory, TheoryStatus
from bot.render.text import safe
from bot.render.theories import result_card, shown_key

from ._input import find_theory, matching
from ._tally import TallyRefresher, channel_texts
from ._views import poll_view

if TYPE_CHECKING:
    from bot.client import HalfbieBot
    from bot.models import Resolution

log = logging.getLogger(__name__)

COG_NAME = "Theories"
MAX_SLEEP = 60.0  # the closing loop looks again at least this often (seconds)


def voted_text(clicked: str | None, recorded: int, t: Texts) -> str:
    """The answer to a vote: the label of the button clicked (as the message showed it)."""
    return t("theory.voted", option=safe(clicked or f"{recorded + 1}.", 100))


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
        self._due = asyncio.Lock()
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._cards: set[asyncio.Task[None]] = set()  # result cards being posted

    # -- start and stop ---------------------------------------------------------------------

    def start(self) -> None:
        """Start the closing loop (it first closes what is overdue and fixes stale tallies)."""
        self._task = asyncio.create_task(self._schedule(), name="theory-closing")

    async def stop(self) -> None:
        for task in (self._task, *self._cards):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        await self.refresher.close()

    def wake(self) -> None:
        """A closing time was set: look again now instead of at the next tick."""
        self._wake.set()

    async def _schedule(self) -> None:
        try:
            await self.run_due()  # polls whose time passed while the bot was down
            await self.check_posted()  # messages a crash left behind
        except Exception:
            log.exception("The start-up check of theory polls failed")
        while True:
            try:
                delay = await self._delay()
                self._wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), delay)
                await self.run_due()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("Closing due theory polls failed; trying again in a minute")
                await asyncio.sleep(MAX_SLEEP)

    async def _delay(self) -> float:
        next_at = await self.bot.store.theories.next_closing()
        if next_at is None:
            return MAX_SLEEP
        return min(max(next_at - self.bot.clock.now(), 0.5), MAX_SLEEP)

    async def run_due(self) -> list[Theory]:
        """Close every poll whose closing time has come (by the bot's clock), refresh their
        messages and post their result cards; return the polls closed now."""
        async with self._due:
            closed = await self.bot.store.theories.close_due(int(self.bot.clock.now()))
        for theory in closed:
            log.info("Closed theory %d of server %d at its closing time", theory.id, theory.guild_id)
            self.refresher.mark(theory.guild_id, theory.id)
            await self.announce(theory)
        return closed

    async def check_posted(self) -> int:
        """Refresh every poll message that does not show its poll's state (a crash came
        between a vote's commit and the edit); return how many were stale."""
        stale = 0
        languages: dict[int, str] = {}
        for state in await self.bot.store.theories.posted_polls():
            guild_id = state.theory.guild_id
            if guild_id not in languages:
                languages[guild_id] = (await channel_texts(self.bot, guild_id)).language
            if shown_key(state.theory, state.tally, languages[guild_id]) != state.shown:
                self.refresher.mark(state.theory.guild_id, state.theory.id)
                stale += 1
        if stale:
            log.info("Refreshing %d poll message(s) left stale at the last stop", stale)
        return stale

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
        guild_id = interaction.guild_id
        if guild_id is None:
            raise Refused("theory.poll_guild_only")
        t = await self.bot.texts(interaction)
        key = (theory_id, interaction.user.id)
        lock = self._locks.setdefault(key, asyncio.Lock())
        self._lock_users[key] = self._lock_users.get(key, 0) + 1
        try:
            async with lock:
                text = await self._record(guild_id, theory_id, interaction.user.id, option, clicked, t)
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
    ) -> str:
        theories = self.bot.store.theories
        if option is None:
            if await theories.retract_vote(guild_id, theory_id, member_id):
                return t("theory.retracted")
            await self._why_refused(guild_id, theory_id)
            return t("theory.no_vote")
        recorded = await theories.cast_vote(guild_id, theory_id, member_id, option)
        if recorded is None:
            await self._why_refused(guild_id, theory_id)
            raise BadInput("theory.bad_option")
        return voted_text(clicked, recorded, t)

    async def _why_refused(self, guild_id: int, theory_id: int) -> None:
        """Raise the reason a vote changed nothing, if the poll does not take votes."""
        theories = self.bot.store.theories
        if await theories.is_open(guild_id, theory_id):
            return
        theory = await theories.get(guild_id, theory_id)
        if theory is None:
            raise Closed("theory.poll_deleted")
        if theory.status is TheoryStatus.OPEN:
            self.wake()  # its closing time has passed: the loop closes it now
        raise Closed("theory.poll_closed")

    # -- posting ----------------------------------------------------------------------------

    async def post(self, interaction: discord.Interaction[HalfbieBot], theory: Theory) -> None:
        """Answer with the poll, in the server's language (the message is the channel's,
        and the refresher keeps it in that language).  An open poll's new message becomes
        the one kept up to date (an earlier copy then points to it); a closed one is
        posted as it stands."""
        guild_id = interaction.guild_id
        assert guild_id is not None
        state = await self.bot.store.theories.poll_state(guild_id, theory.id)
        if state is None:
            raise NotFound("theory.poll_deleted")
        theory = state.theory
        t = await channel_texts(self.bot, guild_id)
        embed = theory.poll_embed(state.tally, t)
        view = poll_view(theory, t)
        if view is None:
            await interaction.response.send_message(embed=embed)
            return
        await interaction.response.send_message(embed=embed, view=view)
        message = await interaction.original_response()
        shown = shown_key(theory, state.tally, t.language)
        previous = await self.bot.store.theories.post_message(
            guild_id, theory.id, message.channel.id, message.id, shown
        )
        # Votes between the read above and now must reach the new message too.
        self.refresher.mark(guild_id, theory.id, retire=previous)

    # -- closing, resolving, deleting ---------------------------------------------------------

    async def close(self, guild_id: int, actor_id: int, theory_id: int) -> Theory:
        theory, changed = await self.bot.store.theories.close_poll(guild_id, actor_id, theory_id)
        if not changed:
            raise Closed("admin_theory.already_closed")
        self.refresher.mark(guild_id, theory_id)
        self._announce_soon(theory)
        return theory

    async def resolve(self, guild_id: int, actor_id: int, theory_id: int, outcome: int) -> Resolution:
        resolution = await self.bot.store.theories.resolve(guild_id, actor_id, theory_id, outcome)
        self.refresher.mark(guild_id, theory_id)
        self._announce_soon(resolution.theory, resolution=resolution)
        return resolution

    async def delete(self, guild_id: int, actor_id: int, theory_id: int) -> Theory:
        theory = await self.bot.store.theories.delete(guild_id, actor_id, theory_id)
        if theory.channel_id is not None and theory.message_id is not None:
            self.refresher.mark(guild_id, theory_id, gone=(theory.channel_id, theory.message_id))
        return theory

    def _announce_soon(self, theory: Theory, *, resolution: Resolution | None = None) -> None:
        """Post the card beside the admin's answer, which must not wait for it (3 s)."""

        async def card() -> None:
            try:
                await self.announce(theory, resolution=resolution)
            except Exception:
                log.exception("Could not post the result card of theory %d", theory.id)

        task = asyncio.create_task(card(), name="theory-card")
        self._cards.add(task)
        task.add_done_callback(self._cards.discard)

    async def cards_posted(self) -> None:
        """Wait for the result cards under way (tests; a clean shutdown)."""
        while self._cards:
            await asyncio.gather(*self._cards, return_exceptions=True)

    async def announce(self, theory: Theory, *, resolution: Resolution | None = None) -> None:
        """A short result card in the server's announcement channel, if it has one, in the
        server's language."""
        settings = await self.bot.store.settings.get(theory.guild_id)
        channel_id = settings.announce_channel_id
        if channel_id is None:
            return
        if theory.status is TheoryStatus.OPEN:
            return
        tally = await self.bot.store.theories.tally(theory.guild_id, theory.id)
        t = Texts(self.bot.catalog, language_for(settings.language, None))
        channel = self.bot.get_partial_messageable(channel_id, guild_id=theory.guild_id)
        try:
            await channel.send(
                embed=result_card(theory, tally, t, resolution=resolution),
                allowed_mentions=discord.AllowedMentions.none(),
            )
        except discord.Forbidden:
            log.warning(
                "Cannot post the result of theory %d in the announcement channel %d of server "
                "%d: the bot needs View Channel, Send Messages and Embed Links there",
                theory.id,
                channel_id,
                theory.guild_id,
            )
        except discord.NotFound:
            log.warning(
                "The announcement channel %d of server %d no longer exists; no result card for theory %d",
                channel_id,
                theory.guild_id,
                theory.id,
            )
        except discord.HTTPException as exc:
            log.warning(
                "Discord refused the result card of theory %d in channel %d: %s %s",
                theory.id,
                channel_id,
                exc.status,
                exc.text,
            )

    # -- finding theories -------------------------------------------------------------------

    async def find(self, guild_id: int, text: str, statuses: frozenset[TheoryStatus] | None = None) -> Theory:
        """The theory an option value names (see :func:`_input.find_theory`)."""
        await self.bot.ensure_seeded(guild_id)
        theories = await self.bot.store.theories.list(guild_id)
        if statuses is not None:
            theories = [t for t in theories if t.status in statuses]
        return find_theory(theories, text)

    async def choices(
        self, guild_id: int | None, current: str, statuses: frozenset[TheoryStatus] | None = None
    ) -> list[app_commands.Choice[str]]:
        """Autocomplete for a theory option: up to 25, newest first."""
        if guild_id is None:
            return []
        await self.bot.ensure_seeded(guild_id)
        theories = await self.bot.store.theories.list(guild_id)
        if statuses is not None:
            theories = [t for t in theories if t.status in statuses]
        return [theory.choice() for theory in matching(theories, current)]
