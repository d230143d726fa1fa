"""The tests' one clock: time stands still until the test moves it, and nothing sleeps.

It is a :class:`bot.clock.Clock` (for the bot and the scheduler) and a
``Callable[[], float]`` (for ``Store.open(clock=...)``).  A task that sleeps on it wakes
only when :meth:`ManualClock.advance` moves the time to its deadline or past it; a test
that needs to know the scheduler has gone to sleep (to move the time just short of a
job, say) awaits :meth:`ManualClock.sleeping`.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

__all__ = ["START", "Instant", "ManualClock"]

START = 1_790_000_000.0  # 2026-09-21, the bot's "now" in the end-to-end tests


@dataclass(eq=False)
class _Sleeper:
    deadline: float
    woken: asyncio.Future[None] = field(repr=False)


class ManualClock:
    """A clock the test moves; sleepers wake when it passes their deadline."""

    def __init__(self, start: float = START, *, monotonic: float = 1000.0) -> None:
        self._now = float(start)
        self._mono = float(monotonic)
        self._sleepers: list[_Sleeper] = []
        self._changed = asyncio.Event()  # set whenever a task starts to sleep

    def now(self) -> float:
        return self._now

    def monotonic(self) -> float:
        return self._mono

    def __call__(self) -> float:
        return self._now

    async def sleep(self, seconds: float) -> None:
        """Return once the test has moved the clock ``seconds`` on (at once if not positive)."""
        if seconds <= 0:
            await asyncio.sleep(0)
            return
        sleeper = _Sleeper(self._now + seconds, asyncio.get_running_loop().create_future())
        self._sleepers.append(sleeper)
        self._changed.set()
        try:
            await sleeper.woken
        finally:
            if sleeper in self._sleepers:  # cancelled before its time
                self._sleepers.remove(sleeper)

    def advance(self, seconds: float) -> None:
        """Move the time on by ``seconds`` and wake every sleeper whose deadline it reached."""
        if seconds < 0:
            raise ValueError("a manual clock only moves forward")
        self._now += seconds
        self._mono += seconds
        for sleeper in [s for s in self._sleepers if s.deadline <= self._now]:
            self._sleepers.remove(sleeper)
            if not sleeper.woken.done():
                sleeper.woken.set_result(None)

    def advance_to(self, when: float) -> None:
        """Move the time on to ``when`` (Unix seconds)."""
        self.advance(when - self._now)

    @property
    def deadlines(self) -> list[float]:
        """When the tasks sleeping on this clock wake, soonest first."""
        return sorted(s.deadline for s in self._sleepers)

    async def sleeping(self, until: float | None = None) -> float:
        """Wait (without the clock moving) until a task sleeps on this clock, until
        ``until`` if given; returns the soonest deadline.  Await it with a timeout."""
        while True:
            deadlines = self.deadlines
            if deadlines and (until is None or until in deadlines):
                return deadlines[0]
            self._changed.clear()
            await self._changed.wait()


class Instant(float):
    """A time that reads as a number and as a call: ``clock.now`` and ``clock.now()``.

    For the store tests written before the one clock, which read the time of their
    clock as ``clock.now``; new tests call ``clock.now()``.
    """

    def __call__(self) -> float:
        return float(self)
