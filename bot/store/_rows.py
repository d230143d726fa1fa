"""Between rows and the dataclasses of :mod:`bot.models`, in both directions."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from typing import Any

from bot.models import (
    Certainty,
    Character,
    CharacterFields,
    NewsFields,
    NewsItem,
    SourceRef,
    Spoiler,
    Statement,
    Status,
    Theory,
    TheoryFields,
    TheoryStatus,
)

from ._conn import Row
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
    "source_from_json",
    "source_from_row",
    "source_json",
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


def source_from_row(row: Row, prefix: str = "source") -> SourceRef:
    return SourceRef(
        name=row[f"{prefix}_name"],
        certainty=Certainty(row[f"{prefix}_certainty"]),
        url=row[f"{prefix}_url"],
        quote=row[f"{prefix}_quote"],
        name_ko=row[f"{prefix}_name_ko"],
    )


def source_params(source: SourceRef, prefix: str = "source") -> dict[str, Any]:
    return {
        f"{prefix}_name": source.name,
        f"{prefix}_url": source.url,
        f"{prefix}_certainty": Certainty(source.certainty).value,
        f"{prefix}_quote": source.quote,
        f"{prefix}_name_ko": source.name_ko,
    }


def source_from_json(value: Any) -> SourceRef | None:
    """A source as a JSON column (or the audit trail) keeps it; None for none."""
    if not value:
        return None
    data = json.loads(value) if isinstance(value, str) else value
    name, certainty = str(data["name"]), Certainty(data["certainty"])
    return SourceRef(name, certainty, data.get("url"), data.get("quote"), data.get("name_ko"))


def source_json(source: SourceRef | None) -> str | None:
    return None if source is None else as_json(plain(source))


def _statement(data: Mapping[str, Any]) -> Statement:
    source = source_from_json(data["source"])
    assert source is not None  # a statement always has a source (the CHECK in 0011 too)
    return Statement(str(data["text"]), source, Spoiler(data["spoiler"]), data.get("ko"))


# -- characters -----------------------------------------------------------------

# role, fate_s1 and season2 are JSON: a statement, and lists of statements.
CHARACTER_COLUMNS = (
    "guild_id, key, name, hangul, hangul_source, actor, actor_source, actor_ko, role, status, "
    "status_source, fate_s1, season2, aliases, notes, updated_at, updated_by, removed_at"
)


def character_from_row(row: Row) -> Character:
    fields = from_row(
        CharacterFields,
        row,
        role=_statement(json.loads(row["role"])),
        status=Status(row["status"]),
        status_source=source_from_json(row["status_source"]),
        hangul_source=source_from_json(row["hangul_source"]),
        actor_source=source_from_json(row["actor_source"]),
        fate_s1=tuple(_statement(item) for item in json.loads(row["fate_s1"])),
        season2=tuple(_statement(item) for item in json.loads(row["season2"])),
        aliases=tuple(json.loads(row["aliases"])),
    )
    return from_row(Character, row, fields=fields)


def character_params(fields: CharacterFields) -> dict[str, Any]:
    """Named parameters for every column that :class:`CharacterFields` sets."""

    def statements(items: tuple[Statement, ...]) -> str:
        return json.dumps(plain(items), ensure_ascii=False, sort_keys=True)

    return params_of(
        fields,
        role=as_json(plain(fields.role)),
        status=Status(fields.status).value,
        status_source=source_json(fields.status_source),
        hangul_source=source_json(fields.hangul_source),
        actor_source=source_json(fields.actor_source),
        fate_s1=statements(fields.fate_s1),
        season2=statements(fields.season2),
        aliases=json.dumps(list(fields.aliases), ensure_ascii=False),
    )


# -- news -----------------------------------------------------------------------

NEWS_COLUMNS = (
    "id, guild_id, seed_key, headline, happened_on, reported_on, details, "
    "source_name, source_url, source_certainty, source_quote, source_name_ko, window_end, spoiler, "
    "headline_ko, details_ko, created_at, created_by"
)


def news_from_row(row: Row) -> NewsItem:
    fields = from_row(
        NewsFields, row, source=source_from_row(row), key=row["seed_key"], spoiler=Spoiler(row["spoiler"])
    )
    return from_row(NewsItem, row, fields=fields)


def news_params(fields: NewsFields) -> dict[str, Any]:
    params = params_of(
        fields, key=OMIT, source=OMIT, seed_key=fields.key, spoiler=Spoiler(fields.spoiler).value
    )
    return {**params, **source_params(fields.source)}


# -- theories -------------------------------------------------------------------

THEORY_COLUMNS = (
    "t.id, t.guild_id, t.seed_key, t.title, t.details, t.source_name, t.source_url, "
    "t.source_certainty, t.source_quote, t.source_name_ko, t.spoiler, t.safe_title, t.title_ko, "
    "t.details_ko, t.safe_title_ko, t.sealed, t.closes_at, t.max_choices, t.voter_role_id, t.ping_role_id, "
    "t.opens_at, t.status, t.outcome, t.created_at, t.created_by, t.channel_id, t.message_id"
)

# A theory with its options in one statement (one consistent read): a row per option.
THEORY_SELECT = (
    f"SELECT {THEORY_COLUMNS}, o.position, o.label, o.label_ko "
    "FROM theories AS t JOIN theory_options AS o ON o.theory_id = t.id"
)


def theories_from_rows(rows: list[Row]) -> list[Theory]:
    """Fold rows of :data:`THEORY_SELECT` (ordered by theory, then position) into theories."""
    labels: dict[int, list[tuple[str, str | None]]] = {}
    firsts: dict[int, Row] = {}
    for row in rows:
        theory_id = row["id"]
        if theory_id not in firsts:
            firsts[theory_id] = row
            labels[theory_id] = []
        labels[theory_id].append((row["label"], row["label_ko"]))
    return [_theory(row, labels[theory_id]) for theory_id, row in firsts.items()]


def _theory(row: Row, options: list[tuple[str, str | None]]) -> Theory:
    korean = tuple(ko or "" for _, ko in options)
    fields = from_row(
        TheoryFields,
        row,
        options=tuple(label for label, _ in options),
        options_ko=korean if all(korean) else None,
        source=source_from_row(row),
        sealed=bool(row["sealed"]),
        key=row["seed_key"],
        spoiler=Spoiler(row["spoiler"]),
    )
    return from_row(Theory, row, fields=fields, status=TheoryStatus(row["status"]))


def theory_params(fields: TheoryFields) -> dict[str, Any]:
    """The theory's own columns (its options are rows of their own)."""
    sealed = int(fields.sealed)
    spoiler = Spoiler(fields.spoiler).value
    params = params_of(
        fields,
        key=OMIT,
        source=OMIT,
        options=OMIT,
        options_ko=OMIT,
        seed_key=fields.key,
        sealed=sealed,
        spoiler=spoiler,
    )
    return {**params, **source_params(fields.source)}


def check_options(fields: TheoryFields) -> None:
    """A poll has 2 to 10 options, none of them empty (the schema checks it too), and
    Korean labels for all of them or none."""
    if not 2 <= len(fields.options) <= MAX_OPTIONS or not all(fields.options):
        raise ValueError(f"a theory needs 2 to {MAX_OPTIONS} non-empty options")
    if fields.options_ko is not None and (
        len(fields.options_ko) != len(fields.options) or not all(fields.options_ko)
    ):
        raise ValueError("a theory's Korean options are one non-empty label per option")
    if not 1 <= fields.max_choices <= len(fields.options):
        raise ValueError("a theory's members choose 1 to as many options as it has")


MAX_OPTIONS = 10
