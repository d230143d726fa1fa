"""The log as a machine reads it: ``HALFBIE_LOG_FORMAT=json`` writes one JSON object a line.

Each object has the same keys: ``time`` (UTC, ISO 8601 with milliseconds), ``level``,
``logger``, ``message``, ``shard``, ``server``, ``command`` and ``error`` (the traceback,
or null).  ``shard``, ``server`` and ``command`` come from the record's ``extra=`` when
a log call gives them, else from the interaction being handled: :func:`bind` sets them
for the rest of the task that handles it (discord.py runs every interaction in a task
of its own, so nothing leaks into the next one).

Nothing a member typed is logged above DEBUG: log calls name servers, commands and ids,
never an option's text.
"""

from __future__ import annotations

import contextvars
import datetime as dt
import json
import logging
import sys
from dataclasses import dataclass
from typing import Any, TextIO

import discord

__all__ = ["JsonFormatter", "LogContext", "bind", "command_name", "context_of", "extra", "setup_logging"]

FIELDS = ("time", "level", "logger", "message", "shard", "server", "command", "error")


@dataclass(frozen=True, slots=True)
class LogContext:
    shard: int | None = None
    server: int | None = None
    command: str | None = None


_CONTEXT: contextvars.ContextVar[LogContext | None] = contextvars.ContextVar("halfbie_log", default=None)


def command_name(interaction: discord.Interaction[Any]) -> str:
    """What the member used, without anything they typed: a command's full name
    (``admin config show``), or a component's custom id up to its first ``:``
    (``poll``; ``view`` for the ids discord.py makes up)."""
    data: Any = interaction.data or {}
    if interaction.type in (
        discord.InteractionType.application_command,
        discord.InteractionType.autocomplete,
    ):
        parts = [str(data.get("name", "?"))]
        options = data.get("options") or []
        while options and options[0].get("type") in (1, 2):  # subcommand, subcommand group
            parts.append(str(options[0].get("name", "?")))
            options = options[0].get("options") or []
        return " ".join(parts)
    custom_id = str(data.get("custom_id", ""))
    prefix, colon, _ = custom_id.partition(":")
    return prefix[:32] if colon and prefix.isidentifier() else "view"


def context_of(interaction: discord.Interaction[Any]) -> LogContext:
    client = interaction.client
    guild_id = interaction.guild_id
    shard: int | None = None
    if guild_id is not None:
        count = client.shard_count or 1
        shard = (guild_id >> 22) % count
    return LogContext(shard=shard, server=guild_id, command=command_name(interaction))


def extra(interaction: discord.Interaction[Any]) -> dict[str, Any]:
    """``extra=`` for a log call about ``interaction`` made outside its own task."""
    context = context_of(interaction)
    return {"shard": context.shard, "server": context.server, "command": context.command}


def bind(interaction: discord.Interaction[Any]) -> LogContext:
    """Name this interaction in every log record of the task handling it."""
    context = context_of(interaction)
    _CONTEXT.set(context)
    return context


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        context = _CONTEXT.get() or LogContext()
        error = None
        if record.exc_info:
            error = self.formatException(record.exc_info)
        elif record.exc_text:
            error = record.exc_text
        if record.stack_info:
            error = (error + "\n" if error else "") + self.formatStack(record.stack_info)
        at = dt.datetime.fromtimestamp(record.created, dt.UTC)
        entry = {
            "time": at.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "shard": getattr(record, "shard", context.shard),
            "server": getattr(record, "server", context.server),
            "command": getattr(record, "command", context.command),
            "error": error,
        }
        return json.dumps(entry, ensure_ascii=False, default=str)


def setup_logging(level: int, log_format: str, *, stream: TextIO | None = None) -> None:
    """The root logger as the host asked: discord.py's coloured text, or JSON lines."""
    if log_format != "json":
        discord.utils.setup_logging(level=level, root=True)
        return
    root = logging.getLogger()
    for old in [h for h in root.handlers if isinstance(h, _JsonHandler)]:
        root.removeHandler(old)
    handler = _JsonHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter())
    root.setLevel(level)
    root.addHandler(handler)


class _JsonHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """The handler :func:`setup_logging` installs (replaced, not doubled, when called again)."""
