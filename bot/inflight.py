"""Interactions the bot has received and not yet acknowledged.

A stop waits for them (:meth:`InFlight.drain`): a member who clicked just before
``systemctl stop`` gets the answer, and what they were told is already committed.  While
the bot drains, new interactions are turned away with a short "restarting" answer
(:meth:`InFlight.admit`) rather than started and cut off halfway.

An interaction is acknowledged when Discord accepts the bot's callback: seen on the
HTTP client's trace (``aiohttp.TraceConfig``, passed to discord.py as ``http_trace``),
the only public hook discord.py gives on its requests.  The same moment gives the
metrics their acknowledgement latency, measured from when the interaction arrived here.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import types
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import aiohttp
import discord

from bot.logs import command_name

__all__ = ["ACK_DEADLINE", "Flight", "InFlight"]

log = logging.getLogger(__name__)

ACK_DEADLINE = 3.0  # seconds Discord gives an interaction's first answer
_CALLBACK = re.compile(r"/interactions/(\d+)/[^/]+/callback$")
_PRUNE_AT = 1000  # flights kept before the unanswered ones are dropped

_TYPES = {
    discord.InteractionType.application_command: "command",
    discord.InteractionType.autocomplete: "autocomplete",
    discord.InteractionType.component: "component",
    discord.InteractionType.modal_submit: "modal",
}


@dataclass(slots=True)
class Flight:
    """One interaction between its arrival and its acknowledgement."""

    id: int
    arrived: float  # the loop's clock
    type: str  # command, autocomplete, component, modal
    command: str  # bot.logs.command_name: no text a member typed
    outcome: str = "ok"  # "refused" or "error" once the error handler answered it


# Called at each acknowledgement: (flight, seconds since it arrived, outcome).
Observer = Callable[[Flight, float, str], None]


class InFlight:
    def __init__(self) -> None:
        self._flights: dict[int, Flight] = {}
        self._changed = asyncio.Event()
        self.draining = False
        self.observers: list[Observer] = []
        self.late_observers: list[Callable[[Flight, str], None]] = []
        self.trace = aiohttp.TraceConfig()
        self.trace.on_request_end.append(self._request_end)

    def __len__(self) -> int:
        return len(self._flights)

    # -- arrivals and answers ----------------------------------------------------------------

    def arrived(self, interaction: discord.Interaction[Any]) -> None:
        """An interaction came in (the bot's ``on_interaction``, which discord.py runs just
        after starting the interaction's own task: the error handler may have been first)."""
        if interaction.id not in self._flights:
            self._add(interaction)

    def _add(self, interaction: discord.Interaction[Any]) -> Flight:
        if len(self._flights) >= _PRUNE_AT:
            self._prune(asyncio.get_running_loop().time())
        flight = self._flights[interaction.id] = Flight(
            interaction.id,
            asyncio.get_running_loop().time(),
            _TYPES.get(interaction.type, "other"),
            command_name(interaction),
        )
        return flight

    def mark(self, interaction: discord.Interaction[Any], outcome: str) -> None:
        """The error handler is answering it: ``refused`` (a known error) or ``error``.
        After the first answer (a deferred command that failed), the late observers hear it."""
        if interaction.response.is_done():
            late = Flight(
                interaction.id, 0.0, _TYPES.get(interaction.type, "other"), command_name(interaction)
            )
            for observe in self.late_observers:
                observe(late, outcome)
            return
        flight = self._flights.get(interaction.id) or self._add(interaction)
        flight.outcome = outcome

    async def _request_end(
        self,
        session: aiohttp.ClientSession,
        context: types.SimpleNamespace,
        params: aiohttp.TraceRequestEndParams,
    ) -> None:
        match = _CALLBACK.search(params.url.path)
        if match is None:
            return
        status = params.response.status
        if status == 429 or status >= 500:
            return  # discord.py tries again
        flight = self._flights.pop(int(match[1]), None)
        if flight is None:
            return
        outcome = flight.outcome if status < 300 else "expired"
        elapsed = asyncio.get_running_loop().time() - flight.arrived
        for observe in self.observers:
            observe(flight, elapsed, outcome)
        self._changed.set()

    def _prune(self, now: float) -> list[Flight]:
        """Forget flights past Discord's deadline: nobody can answer them any more."""
        stale = [flight for flight in self._flights.values() if now - flight.arrived >= ACK_DEADLINE]
        for flight in stale:
            del self._flights[flight.id]
        return stale

    def unanswered(self) -> list[Flight]:
        """Flights past the deadline, forgotten now (the metrics count them)."""
        return self._prune(asyncio.get_running_loop().time())

    # -- a stop ------------------------------------------------------------------------------

    def admit(self) -> bool:
        """Whether to start on a new interaction (False while draining)."""
        return not self.draining

    async def drain(self) -> int:
        """Take no new interactions; wait until each one received is acknowledged or past
        Discord's deadline (at most :data:`ACK_DEADLINE` seconds).  Returns how many were
        waited for."""
        self.draining = True
        loop = asyncio.get_running_loop()
        waited = len(self._flights)
        if waited:
            log.info("Answering %d interaction(s) in flight before stopping", waited)
        while True:
            self._prune(loop.time())
            if not self._flights:
                return waited
            oldest = min(flight.arrived for flight in self._flights.values())
            self._changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), max(0.0, oldest + ACK_DEADLINE - loop.time()))
