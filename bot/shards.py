"""Which of the bot's shards a process runs: ``0-3`` of ``16``, written ``0-3/16``.

Discord puts a server on shard ``(guild_id >> 22) % shard_count``; its gateway events
and interactions reach only the process running that shard.  One process per shard range
(``halfbie run --shards 0-3 --shard-count 16``) shares one PostgreSQL database with the
others, and what is done per server (its timed jobs above all) is done by the process
that owns the server's shard.  Pure: no discord.py, no database.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["ShardSet", "parse_shard_ids", "shard_of"]

_ITEM = re.compile(r"^(\d+)(?:-(\d+))?$")


def shard_of(guild_id: int, shard_count: int) -> int:
    """The shard a server is on (Discord's rule)."""
    return (guild_id >> 22) % shard_count


def parse_shard_ids(text: str) -> tuple[int, ...]:
    """``0-3``, ``0,2,5`` or ``0-3,8`` as shard ids in ascending order (each once).

    Raises ValueError, whose message says what is wrong, for anything else.
    """
    ids: set[int] = set()
    parts = [part.strip() for part in text.split(",")]
    if not text.strip() or not all(parts):
        raise ValueError("must be shard ids such as 0-3 or 0,2,5")
    for part in parts:
        match = _ITEM.match(part)
        if match is None:
            raise ValueError(f"must be shard ids such as 0-3 or 0,2,5, not {part[:20]!r}")
        first = int(match.group(1))
        last = int(match.group(2)) if match.group(2) is not None else first
        if last < first:
            raise ValueError(f"has a range that runs backwards ({part})")
        if last - first >= 1 << 16:
            raise ValueError(f"has a range too long to be shards ({part})")
        ids.update(range(first, last + 1))
    return tuple(sorted(ids))


def _ranges(ids: tuple[int, ...]) -> str:
    """``(0, 1, 2, 3, 8)`` as ``0-3,8``."""
    out: list[str] = []
    start = previous = ids[0]
    for shard in (*ids[1:], None):
        if shard is not None and shard == previous + 1:
            previous = shard
            continue
        out.append(str(start) if start == previous else f"{start}-{previous}")
        if shard is not None:
            start = previous = shard
    return ",".join(out)


@dataclass(frozen=True, slots=True)
class ShardSet:
    """The shards one process runs, out of ``count``; ``ids`` ascending, each once."""

    ids: tuple[int, ...]
    count: int

    def __post_init__(self) -> None:
        if self.count < 1:
            raise ValueError("a bot has at least one shard")
        if not self.ids:
            raise ValueError("a process runs at least one shard")
        if list(self.ids) != sorted(set(self.ids)):
            raise ValueError("shard ids are given in ascending order, each once")
        if self.ids[0] < 0 or self.ids[-1] >= self.count:
            raise ValueError(f"shard ids run from 0 to {self.count - 1}")

    @classmethod
    def every(cls, count: int) -> ShardSet:
        """All of the bot's shards, in one process."""
        return cls(tuple(range(count)), count)

    @property
    def complete(self) -> bool:
        """Whether this process runs every shard (no other process is needed)."""
        return len(self.ids) == self.count

    def owns(self, guild_id: int) -> bool:
        """Whether the server's events and interactions come to this process."""
        return shard_of(guild_id, self.count) in self.ids

    @property
    def ranges(self) -> str:
        """The ids as written on the command line: ``0-3,8``."""
        return _ranges(self.ids)

    def __str__(self) -> str:
        return f"{self.ranges}/{self.count}"
