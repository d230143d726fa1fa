"""The canon in ``data/``: loaded and checked once, then seeded into every server by the store."""

from __future__ import annotations

import dataclasses
import datetime as dt
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TypeVar

from bot.models import (
    DEFAULT_OPTIONS,
    DEFAULT_OPTIONS_KO,
    Canon,
    Certainty,
    CharacterFields,
    NewsFields,
    SourceRef,
    Spoiler,
    Stage,
    Statement,
    Status,
    TheoryFields,
)

DATA_DIR = Path(__file__).resolve().parent.parent / "data"


class CanonError(Exception):
    """The files in ``data/`` are wrong; the message names the file and the record."""


def _certainty(value: Any, where: str) -> Certainty:
    try:
        return Certainty(value)
    except ValueError:
        raise CanonError(f"{where}: unknown certainty {value!r}") from None


def _source(raw: Any, article: SourceRef, where: str) -> SourceRef:
    """A source: the article unless ``name`` says who else; a statement the article gives
    carries the article's words it rests on (``quote``), one from outside it does not."""
    if not isinstance(raw, Mapping) or "certainty" not in raw:
        raise CanonError(f"{where}: every record needs a source with a certainty")
    certainty = _certainty(raw["certainty"], where)
    name = raw.get("name") or raw.get("source") or article.name
    url = raw.get("url") or (article.url if name == article.name else None)
    quote = raw.get("quote") or None
    if certainty is Certainty.OUTSIDE:
        if name == article.name or quote:
            raise CanonError(f"{where}: a statement from outside the article names its source, not a quote")
    elif not quote:
        raise CanonError(f"{where}: say which words of the article this rests on (quote)")
    name_ko = raw.get("name_ko") or (article.name_ko if name == article.name else None)
    return SourceRef(name=name, certainty=certainty, url=url or None, quote=quote, name_ko=name_ko)


def _spoiler(raw: Mapping[str, Any], where: str) -> Spoiler:
    try:
        return Spoiler(raw.get("spoiler", Spoiler.NONE.value))
    except ValueError:
        raise CanonError(f"{where}: spoiler must be one of {[s.value for s in Spoiler]}") from None


def _statement(raw: Any, article: SourceRef, where: str) -> Statement:
    """A statement: its ``text`` (and ``ko``), its source and certainty, its spoiler level."""
    if not isinstance(raw, Mapping):
        raise CanonError(f"{where}: a statement is a table with text, certainty and source")
    return Statement(
        text=_text(raw, "text", where, required=True) or "",
        source=_source(raw, article, where),
        spoiler=_spoiler(raw, where),
        ko=_text(raw, "ko", where),
    )


T = TypeVar("T")


def _korean_names(value: T, names: Mapping[str, str]) -> T:
    """``value`` with every source the canon names in Korean (``[source_names_ko]``) given
    its Korean name, through records, statements and tuples of them."""
    if isinstance(value, SourceRef):
        if value.name_ko is None and value.name in names:
            return dataclasses.replace(value, name_ko=names[value.name])
        return value
    if isinstance(value, tuple):
        return tuple(_korean_names(item, names) for item in value)  # type: ignore[return-value]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        changes = {f.name: _korean_names(getattr(value, f.name), names) for f in dataclasses.fields(value)}
        return dataclasses.replace(value, **changes)
    return value


def _statements(raw: Any, article: SourceRef, where: str) -> tuple[Statement, ...]:
    if not isinstance(raw, list):
        raise CanonError(f"{where}: a list of statements is expected")
    return tuple(_statement(item, article, f"{where}[{i}]") for i, item in enumerate(raw))


def _text(raw: Mapping[str, Any], key: str, where: str, *, required: bool = False) -> str | None:
    value = raw.get(key)
    if value is None or value == "":
        if required:
            raise CanonError(f"{where}: {key!r} is required")
        return None
    if not isinstance(value, str):
        raise CanonError(f"{where}: {key!r} must be text")
    return value


def _day(raw: Mapping[str, Any], key: str, where: str) -> str | None:
    """An optional ISO day (``2024-06-30``)."""
    text = _text(raw, key, where)
    if text is None:
        return None
    try:
        return dt.date.fromisoformat(text).isoformat()
    except ValueError:
        raise CanonError(f"{where}: {key} must be a day like 2024-06-30, not {text!r}") from None


def _read(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise CanonError(f"{path.name}: {exc}") from None


def _characters(raw: list[dict[str, Any]], article: SourceRef) -> tuple[CharacterFields, ...]:
    out = []
    for i, item in enumerate(raw):
        where = f"characters.toml, character {item.get('key', i)!r}"
        try:
            status = Status(item["status"])
        except (KeyError, ValueError):
            raise CanonError(f"{where}: status must be one of {[s.value for s in Status]}") from None
        role = _statement(item.get("role"), article, f"{where}, role")
        if role.spoiler is not Spoiler.NONE:
            raise CanonError(f"{where}: the role line is shown everywhere, so it must be spoiler-free")
        names = {
            part: _statement(item[part], article, f"{where}, {part}") if part in item else None
            for part in ("hangul", "actor")
        }
        out.append(
            CharacterFields(
                key=_text(item, "key", where, required=True) or "",
                name=_text(item, "name", where, required=True) or "",
                role=role,
                status=status,
                status_source=_source(item.get("status_source"), article, f"{where}, status"),
                hangul=names["hangul"].text if names["hangul"] else None,
                hangul_source=names["hangul"].source if names["hangul"] else None,
                actor=names["actor"].text if names["actor"] else None,
                actor_source=names["actor"].source if names["actor"] else None,
                actor_ko=names["actor"].ko if names["actor"] else None,
                fate_s1=_statements(item.get("fate_s1", []), article, f"{where}, fate_s1"),
                season2=_statements(item.get("season2", []), article, f"{where}, season2"),
                aliases=(*item.get("aliases", ()), *item.get("aliases_ko", ())),
                notes=_text(item, "notes", where),
            )
        )
    return tuple(out)


def _news(raw: list[dict[str, Any]], article: SourceRef) -> tuple[NewsFields, ...]:
    return tuple(
        NewsFields(
            key=_text(item, "key", where, required=True),
            headline=_text(item, "headline", where, required=True) or "",
            happened_on=_text(item, "happened_on", where),
            reported_on=_text(item, "reported_on", where, required=True) or "",
            details=_text(item, "details", where),
            source=_source(item.get("source"), article, where),
            window_end=_day(item, "window_end", where),
            spoiler=_spoiler(item, where),
            headline_ko=_text(item, "headline_ko", where),
            details_ko=_text(item, "details_ko", where),
        )
        for i, item in enumerate(raw)
        for where in [f"timeline.toml, news {item.get('key', i)!r}"]
    )


def _theories(raw: list[dict[str, Any]], article: SourceRef) -> tuple[TheoryFields, ...]:
    out = []
    for i, item in enumerate(raw):
        where = f"theories.toml, theory {item.get('key', i)!r}"
        options = tuple(item.get("options", DEFAULT_OPTIONS))
        if not 2 <= len(options) <= 10:
            raise CanonError(f"{where}: a theory needs 2 to 10 options")
        options_ko = tuple(item.get("options_ko", DEFAULT_OPTIONS_KO if "options" not in item else ()))
        if options_ko and len(options_ko) != len(options):
            raise CanonError(f"{where}: options_ko needs one Korean label per option")
        spoiler = _spoiler(item, where)
        safe_title = _text(item, "safe_title", where)
        if spoiler is not Spoiler.NONE and safe_title is None:
            raise CanonError(f"{where}: a spoiler theory needs a spoiler-free safe_title")
        out.append(
            TheoryFields(
                key=_text(item, "key", where, required=True),
                title=_text(item, "title", where, required=True) or "",
                details=_text(item, "details", where),
                options=options,
                source=_source(item.get("source"), article, where),
                spoiler=spoiler,
                safe_title=safe_title,
                title_ko=_text(item, "title_ko", where),
                details_ko=_text(item, "details_ko", where),
                safe_title_ko=_text(item, "safe_title_ko", where),
                options_ko=options_ko or None,
            )
        )
    return tuple(out)


def _unique(keys: list[str | None], what: str) -> None:
    seen: set[str | None] = set()
    for key in keys:
        if key in seen:
            raise CanonError(f"{what}: the key {key!r} is used twice")
        seen.add(key)


def load_canon(data_dir: Path = DATA_DIR) -> Canon:
    meta = _read(data_dir / "canon.toml")
    art = meta.get("article", {})
    article = SourceRef(
        name=art.get("name", "the article"),
        certainty=Certainty(art.get("certainty", "reported")),
        url=art.get("url") or None,
        name_ko=art.get("name_ko") or None,
    )
    names_ko = {str(k): str(v) for k, v in meta.get("source_names_ko", {}).items()}
    characters = _characters(_read(data_dir / "characters.toml").get("character", []), article)
    news = _news(_read(data_dir / "timeline.toml").get("news", []), article)
    theories = _theories(_read(data_dir / "theories.toml").get("theory", []), article)
    characters, news, theories = _korean_names((characters, news, theories), names_ko)
    _unique([c.key for c in characters], "characters.toml")
    _unique([n.key for n in news], "timeline.toml")
    _unique([t.key for t in theories], "theories.toml")
    try:
        stage = Stage(meta.get("stage", "rumoured"))
    except ValueError:
        raise CanonError(f"canon.toml: unknown stage {meta.get('stage')!r}") from None
    windows = {
        str(item["key"]): day
        for item in _read(data_dir / "theories.toml").get("theory", [])
        if (day := _day(item, "window_end", f"theories.toml, theory {item.get('key')!r}"))
    }
    return Canon(
        version=int(meta["version"]),
        article=article,
        article_date=str(art.get("date", "")),
        stage=stage,
        characters=characters,
        news=news,
        theories=theories,
        windows=windows,
        premise=str(meta.get("premise", "")),
        premise_ko=str(meta.get("premise_ko", "")),
    )
