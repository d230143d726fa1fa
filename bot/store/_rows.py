"""Between rows and the dataclasses of :mod:`bot.models`, in both directions."""

from __future__ import annotations

import dataclasses
import json
import sqlite3
from collections.abc import Mapping
from typing import Any

from bot.models import (
    Certainty,
    Character,
    CharacterFields,
    NewsFields,
    NewsItem,
    SourceRef,
    Status,
    Theory,
    TheoryFields,
    TheoryStatus,
)

from ._db import from_row

__all__ = [
    "CHARACTER_COLUMNS",
    "MAX_OPTIONS",
    "NEWS_COLUMNS",
    "THEORY_COLUMNS",
    "THEORY_SELECT",
    "as_json",
    "changes",
    "character_from_row",
    "character_params",
    "check_options",
    "news_from_row",
    "news_params",
    "plain",
    "source_from_row",
    "source_params",
    "theories_from_rows",
    "theory_params",
]


# -- JSON for the audit log ---------------------------------------------------


def plain(value: Any) -> Any:
    """A dataclass (or anything inside one) as JSON-ready values: enums to str, tuples to lists."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, tuple | list):
        return [plain(item) for item in value]
    if isinstance(value, str):
        return str(value)  # a StrEnum member becomes its value
    return value


def as_json(value: Mapping[str, Any] | None) -> str | None:
    if value is None:
        return None
    return json.dumps(plain(dict(value)), ensure_ascii=False, sort_keys=True)


def changes(old: Mapping[str, Any], new: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The keys whose values differ, as (old values, new values)."""
    keys = [key for key in new if old.get(key) != new[key]]
    return {key: old.get(key) for key in keys}, {key: new[key] for key in keys}


# -- sources --------------------------------------------------------------------


OMIT: Any = object()  # in params_of: a field stored elsewhere, or under other columns


def params_of(record: Any, **computed: Any) -> dict[str, Any]:
    """Named parameters from a record's fields (``*Fields``): each field as the column of
    its name, unless given in ``computed`` (:data:`OMIT` leaves it out)."""
    values = {
        field.name: getattr(record, field.name)
        for field in dataclasses.fields(record)
        if field.name not in computed
    }
    values.update((name, value) for name, value in computed.items() if value is not OMIT)
    return values


def source_from_row(row: sqlite3.Row, prefix: str = "source") -> SourceRef:
    return SourceRef(
        name=row[f"{prefix}_name"],
        certainty=Certainty(row[f"{prefix}_certainty"]),
        url=row[f"{prefix}_url"],
    )


def source_params(source: SourceRef, prefix: str = "source") -> dict[str, Any]:
    return {
        f"{prefix}_name": source.name,
        f"{prefix}_url": source.url,
        f"{prefix}_certainty": Certainty(source.certainty).value,
    }


# -- characters -----------------------------------------------------------------

CHARACTER_COLUMNS = (
    "guild_id, key, name, hangul, actor, role, status, fate_s1, season2, "
    "source_name, source_url, source_certainty, "
    "status_source_name, status_source_url, status_source_certainty, "
    "aliases, notes, updated_at, updated_by, removed_at"
)


def character_from_row(row: sqlite3.Row) -> Character:
    fields = from_row(
        CharacterFields,
        row,
        status=Status(row["status"]),
        source=source_from_row(row, "source"),
        status_source=source_from_row(row, "status_source"),
        aliases=tuple(json.loads(row["aliases"])),
    )
    return from_row(Character, row, fields=fields)


def character_params(fields: CharacterFields) -> dict[str, Any]:
    """Named parameters for every column that :class:`CharacterFields` sets."""
    aliases = json.dumps(list(fields.aliases), ensure_ascii=False)
    sources = {**source_params(fields.source), **source_params(fields.status_source, "status_source")}
    params = params_of(
        fields, status=Status(fields.status).value, aliases=aliases, source=OMIT, status_source=OMIT
    )
    return {**params, **sources}


# -- news -----------------------------------------------------------------------

NEWS_COLUMNS = (
    "id, guild_id, seed_key, headline, happened_on, reported_on, details, "
    "source_name, source_url, source_certainty, window_end, created_at, created_by"
)


def news_from_row(row: sqlite3.Row) -> NewsItem:
    fields = from_row(NewsFields, row, source=source_from_row(row), key=row["seed_key"])
    return from_row(NewsItem, row, fields=fields)


def news_params(fields: NewsFields) -> dict[str, Any]:
    return {**params_of(fields, key=OMIT, source=OMIT, seed_key=fields.key), **source_params(fields.source)}


# -- theories -------------------------------------------------------------------

THEORY_COLUMNS = (
    "t.id, t.guild_id, t.seed_key, t.title, t.details, t.source_name, t.source_url, "
    "t.source_certainty, t.sealed, t.closes_at, t.status, t.outcome, t.created_at, "
    "t.created_by, t.channel_id, t.message_id"
)

# A theory with its options in one statement (one consistent read): a row per option.
THEORY_SELECT = (
    f"SELECT {THEORY_COLUMNS}, o.position, o.label "
    "FROM theories AS t JOIN theory_options AS o ON o.theory_id = t.id"
)


def theories_from_rows(rows: list[sqlite3.Row]) -> list[Theory]:
    """Fold rows of :data:`THEORY_SELECT` (ordered by theory, then position) into theories."""
    labels: dict[int, list[str]] = {}
    firsts: dict[int, sqlite3.Row] = {}
    for row in rows:
        theory_id = row["id"]
        if theory_id not in firsts:
            firsts[theory_id] = row
            labels[theory_id] = []
        labels[theory_id].append(row["label"])
    return [_theory(row, tuple(labels[theory_id])) for theory_id, row in firsts.items()]


def _theory(row: sqlite3.Row, options: tuple[str, ...]) -> Theory:
    fields = from_row(
        TheoryFields,
        row,
        options=options,
        source=source_from_row(row),
        sealed=bool(row["sealed"]),
        key=row["seed_key"],
    )
    return from_row(Theory, row, fields=fields, status=TheoryStatus(row["status"]))


def theory_params(fields: TheoryFields) -> dict[str, Any]:
    """The theory's own columns (its options are rows of their own)."""
    sealed = int(fields.sealed)
    params = params_of(fields, key=OMIT, source=OMIT, options=OMIT, seed_key=fields.key, sealed=sealed)
    return {**params, **source_params(fields.source)}


def check_options(fields: TheoryFields) -> None:
    """A poll has 2 to 10 options, none of them empty (the schema checks it too)."""
    if not 2 <= len(fields.options) <= MAX_OPTIONS or not all(fields.options):
        raise ValueError(f"a theory needs 2 to {MAX_OPTIONS} non-empty options")


MAX_OPTIONS = 10
