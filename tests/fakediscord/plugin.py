"""pytest plugin: the ``fake_discord`` fixture and the ``allow_errors``/``allow_violations``
markers.  Enable with ``pytest_plugins = ["tests.fakediscord.plugin"]`` in conftest.py.

The fixture starts a :class:`FakeDiscord`, points discord.py at it (``patched()``), yields it
and afterwards fails the test when the fake recorded violations or when a logging record
of level ERROR or above came from the ``discord``, ``bot`` or ``cogs`` loggers (unhandled
exceptions in commands, views and events end up there).  Expected ones are allowed with
``@pytest.mark.allow_errors("regex", ...)`` / ``@pytest.mark.allow_violations("regex", ...)``
(no argument: allow all); a test may also ``fake_discord.take_violations()`` itself.
"""

from __future__ import annotations

import logging
import re
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from .server import FakeDiscord

WATCHED_LOGGERS = ("discord", "bot", "cogs")


class ErrorCapture(logging.Handler):
    """Keeps ERROR+ records from the watched loggers."""

    def __init__(self) -> None:
        super().__init__(level=logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    @staticmethod
    def text(record: logging.LogRecord) -> str:
        out = f"{record.name}: {record.getMessage()}"
        if record.exc_info:
            out += "\n" + logging.Formatter().formatException(record.exc_info)
        return out


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "allow_errors(*patterns): ERROR log records (discord/bot/cogs) matching a regex do not "
        "fail a test using fake_discord; no pattern allows all",
    )
    config.addinivalue_line(
        "markers",
        "allow_violations(*patterns): fake Discord violations matching a regex do not fail the "
        "test; no pattern allows all",
    )


def _patterns(node: pytest.Item, name: str) -> list[re.Pattern[str]] | None:
    """None: marker absent; []: allow everything; else the compiled patterns."""
    marks = list(node.iter_markers(name))
    if not marks:
        return None
    pats: list[re.Pattern[str]] = []
    for mark in marks:
        if not mark.args:
            return []
        pats += [re.compile(a, re.S) for a in mark.args]
    return pats


def _unexpected(items: list[str], pats: list[re.Pattern[str]] | None) -> list[str]:
    if pats is None:
        return items
    if not pats:
        return []
    return [i for i in items if not any(p.search(i) for p in pats)]


@pytest_asyncio.fixture
async def fake_discord(request: pytest.FixtureRequest) -> AsyncIterator[FakeDiscord]:
    capture = ErrorCapture()
    loggers = [logging.getLogger(n) for n in WATCHED_LOGGERS]
    for lg in loggers:
        lg.addHandler(capture)
    fake = FakeDiscord()
    await fake.start()
    try:
        with fake.patched():
            yield fake
    finally:
        for lg in loggers:
            lg.removeHandler(capture)
        violations = list(fake.violations)
        await fake.close()
    errors = [ErrorCapture.text(r) for r in capture.records]
    bad_errors = _unexpected(errors, _patterns(request.node, "allow_errors"))
    bad_violations = _unexpected(violations, _patterns(request.node, "allow_violations"))
    problems = []
    if bad_violations:
        problems.append("fake Discord violations:\n  " + "\n  ".join(bad_violations))
    if bad_errors:
        problems.append("ERROR log records:\n  " + "\n  ".join(bad_errors))
    if problems:
        pytest.fail("\n".join(problems), pytrace=False)
