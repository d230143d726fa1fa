"""The tally refresher: each poll message shows the exact tally within seconds of the
last vote, however many vote at once, without one edit per vote.

Per poll there is at most one task.  A vote (or a close, resolve, re-post, delete)
marks the poll dirty; the task waits a moment so a burst gathers, reads the poll and
its tally fresh, edits the message, then waits ``interval`` before looking at the
dirty flag again.  So at most one edit is in flight and one is pending per poll, a
burst of a thousand votes costs a handful of edits (never a queue behind Discord's
rate limits), and an older tally can never land after a newer one.  After each edit
the store records what the message shows; an edit that would change nothing is
skipped, and at start only messages left behind by a crash are edited.

A poll message belongs to the channel, not to the member who posted it: it is written
in the server's language (the announcer's rule).  The waits are on the bot's injected
clock, so a test moves the clock instead of waiting.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import discord

from bot.render.theories import deleted_embed, jump_url, moved_embed, poll_embed, shown_key
from bot.store import StoreUnavailable

from ._views import poll_view

if TYPE_CHECKING:
    from bot.client import HalfbieBot
    from bot.models import Theory

log = logging.getLogger(__name__)

Where = tuple[int, int]  # (channel id, message id)
MAX_RETRIES = 3


@dataclass
class _Poll:
    dirty: bool = True
    retire: list[Where] = field(default_factory=list)  # earlier copies: point to the new one
    gone: list[Where] = field(default_factory=list)  # the theory was deleted: say so
    failures: int = 0  # edits Discord refused in a row (a few are retried)
    task: asyncio.Task[None] | None = None


class TallyRefresher:
    """Coalesces edits of poll messages: see the module's docstring."""

    def __init__(self, bot: HalfbieBot, *, first_delay: float = 0.2, interval: float = 1.0) -> None:
        self.bot = bot
        self.first_delay = first_delay  # lets the start of a burst gather
        self.interval = interval  # between two edits of one message (Discord allows ~5 in 5 s)
        self.edits = 0  # successful edits, for tests and benchmarks
        self._polls: dict[tuple[int, int], _Poll] = {}
        self._closed = False

    def mark(
        self,
        guild_id: int,
        theory_id: int,
        *,
        retire: Where | None = None,
        gone: Where | None = None,
    ) -> None:
        """The poll changed: its message is refreshed soon (never more than once in flight)."""
        if self._closed:
            return
        key = (guild_id, theory_id)
        poll = self._polls.get(key)
        if poll is None:
            poll = self._polls[key] = _Poll()
            poll.task = asyncio.create_task(self._run(key, poll), name=f"tally-{theory_id}")
        poll.dirty = True
        if retire is not None:
            poll.retire.append(retire)
        if gone is not None:
            poll.gone.append(gone)

    async def idle(self) -> None:
        """Wait until every pending refresh is done (tests; a clean shutdown)."""
        while self._polls:
            tasks = [p.task for p in self._polls.values() if p.task is not None]
            await asyncio.gather(*tasks, return_exceptions=True)

    async def close(self) -> None:
        self._closed = True
        tasks = [p.task for p in self._polls.values() if p.task is not None]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    # -- the per-poll task --------------------------------------------------------------------

    async def _run(self, key: tuple[int, int], poll: _Poll) -> None:
        try:
            await self.bot.clock.sleep(self.first_delay)
            while poll.dirty and not self._closed:
                poll.dirty = False
                try:
                    await self._refresh(key, poll)
                except StoreUnavailable as exc:
                    # PostgreSQL away for a moment (a restart): the store reconnects by
                    # itself and says so; the message is looked at again after the interval.
                    log.warning("Could not refresh the message of theory %d now: %s", key[1], exc)
                    poll.dirty = True
                except Exception:
                    log.exception("Could not refresh the message of theory %d", key[1])
                await self.bot.clock.sleep(self.interval)
        finally:
            # No await between the last look at ``dirty`` and here: no mark is lost.
            if self._polls.get(key) is poll:
                del self._polls[key]

    async def _refresh(self, key: tuple[int, int], poll: _Poll) -> None:
        guild_id, theory_id = key
        store = self.bot.store
        t = await self.bot.announcer.texts(guild_id)
        while poll.gone:
            channel_id, message_id = poll.gone.pop(0)
            await self._edit(guild_id, channel_id, message_id, embed=deleted_embed(t), view=None)
        state = await store.theories.poll_state(guild_id, theory_id)
        if state is None:
            poll.retire.clear()
            return
        theory = state.theory
        while poll.retire:
            channel_id, message_id = poll.retire.pop(0)
            url = (
                jump_url(guild_id, theory.channel_id, theory.message_id)
                if theory.channel_id is not None and theory.message_id is not None
                else None
            )
            await self._edit(guild_id, channel_id, message_id, embed=moved_embed(theory, url, t), view=None)
        if theory.channel_id is None or theory.message_id is None:
            return
        shown = shown_key(theory, state.tally, t)
        if shown == state.shown:
            return  # the message already shows exactly this
        edited = await self._edit(
            guild_id,
            theory.channel_id,
            theory.message_id,
            embed=poll_embed(theory, state.tally, t),
            view=poll_view(theory, t),
            theory=theory,
        )
        if edited is True:
            poll.failures = 0
            await store.theories.set_shown(guild_id, theory_id, theory.message_id, shown)
        elif edited is None and poll.failures < MAX_RETRIES:
            poll.failures += 1
            poll.dirty = True  # a passing failure (5xx, timeout): try again after the interval

    async def _edit(
        self,
        guild_id: int,
        channel_id: int,
        message_id: int,
        *,
        embed: discord.Embed,
        view: discord.ui.View | None,
        theory: Theory | None = None,
    ) -> bool | None:
        """True: edited; False: it never will be (gone, forbidden); None: try again later."""
        channel = self.bot.get_partial_messageable(channel_id, guild_id=guild_id)
        message = channel.get_partial_message(message_id)
        try:
            await message.edit(embed=embed, view=view)
        except discord.NotFound:
            log.info("Poll message %d in channel %d is gone; not refreshing it", message_id, channel_id)
            if theory is not None:
                await self.bot.store.theories.forget_message(guild_id, theory.id, message_id)
            return False
        except discord.Forbidden as exc:
            log.warning(
                "Cannot edit poll message %d in channel %d of server %d: %s. "
                "The bot needs View Channel and Embed Links there.",
                message_id,
                channel_id,
                guild_id,
                exc.text or exc.status,
            )
            return False
        except discord.HTTPException as exc:
            log.warning(
                "Discord refused an edit of poll message %d in channel %d: %s %s",
                message_id,
                channel_id,
                exc.status,
                exc.text,
            )
            return None
        except (OSError, TimeoutError) as exc:  # no connection to Discord for now
            log.warning("Could not reach Discord to edit poll message %d: %s", message_id, exc)
            return None
        self.edits += 1
        return True
