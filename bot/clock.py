"""Time, injected wherever something is scheduled, so tests move it instead of sleeping.

Everything that waits for a moment (the scheduler above all) sleeps through
:meth:`Clock.sleep`, never ``asyncio.sleep`` directly: a test's manual clock then decides
when the sleep ends, and no test waits on real time.
"""

from __future__ import annotations

import asyncio
import time
from typing import Protocol


class Clock(Protocol):
    def now(self) -> float:
        """Unix time in seconds."""
        ...

    def monotonic(self) -> float:
        """Seconds on a clock that never goes back (for uptime and intervals)."""
        ...

    async def sleep(self, seconds: float) -> None:
        """Return once ``seconds`` have passed on this clock (at once if not positive)."""
        ...


class SystemClock:
    def now(self) -> float:
        return time.time()

    def monotonic(self) -> float:
        return time.monotonic()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(seconds, 0.0))
