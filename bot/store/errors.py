"""What the store raises.

Domain errors (:class:`AlreadyExists`, :class:`NoSuchRecord`) are for cogs to turn into a
short answer to the member; :class:`StoreOpenError` is for the host, as one plain
sentence, so ``str(error)`` can be printed as it is.
"""

from __future__ import annotations


class StoreError(Exception):
    """Base class of everything the store raises on purpose."""


class StoreOpenError(StoreError):
    """The database cannot be opened; the message says why and what to do."""


class StoreClosed(StoreError):
    """The store (or its writer) was closed before the call."""

    def __init__(self, message: str = "the store is closed") -> None:
        super().__init__(message)


class AlreadyExists(StoreError):
    """An insert met a row with the same key (a character key, a seed key)."""

    def __init__(self, kind: str, key: str, *, removed: bool = False) -> None:
        self.kind = kind
        self.key = key
        self.removed = removed  # the existing row is soft-removed: restore it instead
        state = " (removed; restore it instead)" if removed else ""
        super().__init__(f"{kind} {key!r} already exists{state}")


class NoSuchRecord(StoreError):
    """An update or removal targeted a row that does not exist (or is removed)."""

    def __init__(self, kind: str, key: str | int) -> None:
        self.kind = kind
        self.key = key
        super().__init__(f"{kind} {key!r} not found")


class StoreUnavailable(StoreError):
    """The database cannot be reached now (PostgreSQL restarting, the network): the write
    was not committed, so the member is told to try again; the store reconnects by itself."""
