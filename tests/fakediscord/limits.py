"""Discord's payload limits, checked on everything the bot sends.

Every ``validate_*`` function returns a list of :class:`Problem`; an empty list means Discord
would accept the payload.  :func:`discord_errors` turns problems into Discord's nested
``errors`` object of a 50035 "Invalid Form Body" reply.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

CONTENT_MAX = 2000
EMBEDS_MAX = 10
EMBED_TOTAL_MAX = 6000
EMBED_TITLE_MAX = 256
EMBED_DESCRIPTION_MAX = 4096
EMBED_FIELDS_MAX = 25
EMBED_FIELD_NAME_MAX = 256
EMBED_FIELD_VALUE_MAX = 1024
EMBED_FOOTER_MAX = 2048
EMBED_AUTHOR_MAX = 256
ACTION_ROWS_MAX = 5
ROW_BUTTONS_MAX = 5
CUSTOM_ID_MAX = 100
BUTTON_LABEL_MAX = 80
SELECT_OPTIONS_MAX = 25
SELECT_OPTION_TEXT_MAX = 100
SELECT_PLACEHOLDER_MAX = 150
V2_COMPONENTS_MAX = 40
TEXT_DISPLAY_TOTAL_MAX = 4000
MODAL_TITLE_MAX = 45
MODAL_COMPONENTS_MAX = 5
TEXT_INPUT_LABEL_MAX = 45
LABEL_DESCRIPTION_MAX = 100
TEXT_INPUT_VALUE_MAX = 4000
TEXT_INPUT_PLACEHOLDER_MAX = 100
AUTOCOMPLETE_CHOICES_MAX = 25
CHOICE_NAME_MAX = 100
CHOICE_STRING_VALUE_MAX = 100
COMMAND_NAME_MAX = 32
COMMAND_DESCRIPTION_MAX = 100
COMMAND_OPTIONS_MAX = 25
COMMAND_CHOICES_MAX = 25
COMMAND_TOTAL_CHARS_MAX = 4000
CHAT_INPUT_COMMANDS_MAX = 100
CONTEXT_MENU_COMMANDS_MAX = 15
NONCE_MAX = 25
POLL_QUESTION_MAX = 300
POLL_ANSWERS_MAX = 10
POLL_ANSWER_MAX = 55

COMMAND_NAME_RE = re.compile(r"^[-_\w]{1,32}$")

# Locales Discord accepts in name_localizations / description_localizations
# (AvailableLocalesEnum in discord-api-spec).
LOCALES: frozenset[str] = frozenset(
    {
        "ar", "bg", "cs", "da", "de", "el", "en-GB", "en-US", "es-419", "es-ES", "fi", "fr",
        "he", "hi", "hr", "hu", "id", "it", "ja", "ko", "lt", "nl", "no", "pl", "pt-BR", "ro",
        "ru", "sv-SE", "th", "tr", "uk", "vi", "zh-CN", "zh-TW",
    }
)  # fmt: skip

FLAG_SUPPRESS_EMBEDS = 1 << 2
FLAG_EPHEMERAL = 1 << 6
FLAG_LOADING = 1 << 7
FLAG_SUPPRESS_NOTIFICATIONS = 1 << 12
FLAG_COMPONENTS_V2 = 1 << 15

BUTTON = 2
STRING_SELECT = 3
TEXT_INPUT = 4
AUTO_SELECTS = (5, 6, 7, 8)
V2_TOP_LEVEL = (1, 9, 10, 12, 13, 14, 17)


@dataclass(frozen=True)
class Problem:
    """One thing Discord would reject: ``path`` like ``embeds.0.fields.3.value``."""

    path: str
    code: str
    message: str

    def __str__(self) -> str:
        return f"{self.path or '<body>'}: {self.message} ({self.code})"


def discord_errors(problems: Iterable[Problem]) -> dict[str, Any]:
    """Nest problems the way Discord's 50035 body does: ``{"content": {"_errors": [...]}}``."""
    root: dict[str, Any] = {}
    for p in problems:
        node = root
        for part in [x for x in p.path.split(".") if x]:
            node = node.setdefault(part, {})
        node.setdefault("_errors", []).append({"code": p.code, "message": p.message})
    return root


def _max_len(out: list[Problem], path: str, value: Any, limit: int) -> None:
    if isinstance(value, str) and len(value) > limit:
        out.append(Problem(path, "BASE_TYPE_MAX_LENGTH", f"Must be {limit} or fewer in length."))


def _bad_len(out: list[Problem], path: str, value: Any, lo: int, hi: int) -> None:
    if not isinstance(value, str):
        out.append(Problem(path, "BASE_TYPE_REQUIRED", "This field is required"))
    elif not lo <= len(value) <= hi:
        out.append(Problem(path, "BASE_TYPE_BAD_LENGTH", f"Must be between {lo} and {hi} in length."))


def _blank(value: Any) -> bool:
    return not isinstance(value, str) or not value.strip()


# --------------------------------------------------------------------------- embeds


def embed_chars(embed: Mapping[str, Any]) -> int:
    """Characters Discord counts toward the 6,000 limit."""
    n = len(embed.get("title") or "") + len(embed.get("description") or "")
    for f in embed.get("fields") or []:
        n += len(f.get("name") or "") + len(f.get("value") or "")
    n += len((embed.get("footer") or {}).get("text") or "")
    n += len((embed.get("author") or {}).get("name") or "")
    return n


def validate_embeds(embeds: Any, path: str = "embeds") -> list[Problem]:
    out: list[Problem] = []
    if embeds is None:
        return out
    if not isinstance(embeds, list):
        return [Problem(path, "LIST_TYPE_CONVERT", "Must be an array.")]
    if len(embeds) > EMBEDS_MAX:
        out.append(Problem(path, "BASE_TYPE_MAX_LENGTH", f"Must be {EMBEDS_MAX} or fewer in length."))
    total = 0
    for i, e in enumerate(embeds):
        p = f"{path}.{i}"
        if not isinstance(e, dict):
            out.append(Problem(p, "DICT_TYPE_CONVERT", "Only dictionaries may be used."))
            continue
        _max_len(out, f"{p}.title", e.get("title"), EMBED_TITLE_MAX)
        _max_len(out, f"{p}.description", e.get("description"), EMBED_DESCRIPTION_MAX)
        fields = e.get("fields") or []
        if len(fields) > EMBED_FIELDS_MAX:
            out.append(
                Problem(
                    f"{p}.fields",
                    "BASE_TYPE_MAX_LENGTH",
                    f"Must be {EMBED_FIELDS_MAX} or fewer in length.",
                )
            )
        for j, f in enumerate(fields):
            fp = f"{p}.fields.{j}"
            if _blank(f.get("name")):
                out.append(Problem(f"{fp}.name", "BASE_TYPE_REQUIRED", "This field is required"))
            if _blank(f.get("value")):
                out.append(Problem(f"{fp}.value", "BASE_TYPE_REQUIRED", "This field is required"))
            _max_len(out, f"{fp}.name", f.get("name"), EMBED_FIELD_NAME_MAX)
            _max_len(out, f"{fp}.value", f.get("value"), EMBED_FIELD_VALUE_MAX)
        footer = e.get("footer")
        if footer is not None:
            if _blank(footer.get("text")):
                out.append(Problem(f"{p}.footer.text", "BASE_TYPE_REQUIRED", "This field is required"))
            _max_len(out, f"{p}.footer.text", footer.get("text"), EMBED_FOOTER_MAX)
        author = e.get("author")
        if author is not None:
            if _blank(author.get("name")):
                out.append(Problem(f"{p}.author.name", "BASE_TYPE_REQUIRED", "This field is required"))
            _max_len(out, f"{p}.author.name", author.get("name"), EMBED_AUTHOR_MAX)
        color = e.get("color")
        if color is not None and (not isinstance(color, int) or not 0 <= color <= 0xFFFFFF):
            out.append(Problem(f"{p}.color", "NUMBER_TYPE_MAX", "int value should be <= 16777215."))
        for key in ("url",):
            _check_url(out, f"{p}.{key}", e.get(key))
        for key in ("image", "thumbnail"):
            sub = e.get(key)
            if isinstance(sub, dict):
                _check_url(out, f"{p}.{key}.url", sub.get("url"), attachment_ok=True)
        total += embed_chars(e)
    if total > EMBED_TOTAL_MAX:
        out.append(
            Problem(
                path,
                "MAX_EMBED_SIZE_EXCEEDED",
                f"Embed size exceeds maximum size of {EMBED_TOTAL_MAX} ({total})",
            )
        )
    return out


def _check_url(out: list[Problem], path: str, url: Any, *, attachment_ok: bool = False) -> None:
    if url is None:
        return
    schemes = ("http://", "https://", "attachment://") if attachment_ok else ("http://", "https://")
    if not isinstance(url, str) or not url.startswith(schemes):
        out.append(Problem(path, "URL_TYPE_INVALID_URL", "Not a well formed URL."))


# ----------------------------------------------------------------------- components


def iter_components(components: Any) -> Iterator[dict[str, Any]]:
    """Every component dict, depth first (rows, sections, containers, labels)."""
    if not isinstance(components, list):
        return
    for c in components:
        if not isinstance(c, dict):
            continue
        yield c
        yield from iter_components(c.get("components"))
        inner = c.get("component")
        if isinstance(inner, dict):
            yield inner
            yield from iter_components(inner.get("components"))
        accessory = c.get("accessory")
        if isinstance(accessory, dict):
            yield accessory


def custom_ids(components: Any) -> list[str]:
    return [c["custom_id"] for c in iter_components(components) if "custom_id" in c]


def _check_custom_id(out: list[Problem], path: str, comp: Mapping[str, Any], seen: set[str]) -> None:
    cid = comp.get("custom_id")
    if cid is None:
        out.append(Problem(f"{path}.custom_id", "BASE_TYPE_REQUIRED", "This field is required"))
        return
    _bad_len(out, f"{path}.custom_id", cid, 1, CUSTOM_ID_MAX)
    if cid in seen:
        out.append(
            Problem(
                f"{path}.custom_id",
                "COMPONENT_CUSTOM_ID_DUPLICATED",
                "Component custom id cannot be duplicated",
            )
        )
    seen.add(cid)


def _check_button(out: list[Problem], path: str, b: Mapping[str, Any], seen: set[str]) -> None:
    style = b.get("style")
    if style not in (1, 2, 3, 4, 5, 6):
        out.append(
            Problem(f"{path}.style", "BASE_TYPE_CHOICES", f"Value must be one of (1..6), got {style!r}.")
        )
        return
    _max_len(out, f"{path}.label", b.get("label"), BUTTON_LABEL_MAX)
    if style == 5:
        if not b.get("url"):
            out.append(Problem(f"{path}.url", "BASE_TYPE_REQUIRED", "This field is required"))
        else:
            _check_url(out, f"{path}.url", b.get("url"))
            if isinstance(b["url"], str) and len(b["url"]) > 512:
                _max_len(out, f"{path}.url", b["url"], 512)
        if "custom_id" in b:
            out.append(
                Problem(
                    f"{path}.custom_id",
                    "BUTTON_COMPONENT_CUSTOM_ID_NOT_ALLOWED",
                    "A link button cannot have a custom_id",
                )
            )
    elif style == 6:
        if not b.get("sku_id"):
            out.append(Problem(f"{path}.sku_id", "BASE_TYPE_REQUIRED", "This field is required"))
    else:
        _check_custom_id(out, path, b, seen)
        if "url" in b:
            out.append(
                Problem(
                    f"{path}.url",
                    "BUTTON_COMPONENT_URL_NOT_ALLOWED",
                    "Only link buttons have a url",
                )
            )
    if style != 6 and not b.get("label") and not b.get("emoji"):
        out.append(
            Problem(
                path,
                "BUTTON_COMPONENT_LABEL_OR_EMOJI_REQUIRED",
                "A button needs a label or an emoji",
            )
        )


def _check_select(
    out: list[Problem], path: str, s: Mapping[str, Any], seen: set[str], *, in_modal: bool = False
) -> None:
    _check_custom_id(out, path, s, seen)
    _max_len(out, f"{path}.placeholder", s.get("placeholder"), SELECT_PLACEHOLDER_MAX)
    lo = s.get("min_values", 1)
    hi = s.get("max_values", 1)
    if not isinstance(lo, int) or not 0 <= lo <= 25:
        out.append(Problem(f"{path}.min_values", "NUMBER_TYPE_MAX", "Must be between 0 and 25."))
    if not isinstance(hi, int) or not 1 <= hi <= 25:
        out.append(Problem(f"{path}.max_values", "NUMBER_TYPE_MAX", "Must be between 1 and 25."))
    if isinstance(lo, int) and isinstance(hi, int) and lo > hi:
        out.append(
            Problem(
                f"{path}.min_values",
                "SELECT_COMPONENT_MIN_VALUES_GREATER_THAN_MAX",
                "min_values is greater than max_values",
            )
        )
    if s.get("type") == STRING_SELECT:
        options = s.get("options")
        if not isinstance(options, list) or not 1 <= len(options) <= SELECT_OPTIONS_MAX:
            out.append(
                Problem(
                    f"{path}.options",
                    "BASE_TYPE_BAD_LENGTH",
                    f"Must be between 1 and {SELECT_OPTIONS_MAX} in length.",
                )
            )
            options = options if isinstance(options, list) else []
        values: set[str] = set()
        defaults = 0
        for i, o in enumerate(options):
            op = f"{path}.options.{i}"
            _bad_len(out, f"{op}.label", o.get("label"), 1, SELECT_OPTION_TEXT_MAX)
            _bad_len(out, f"{op}.value", o.get("value"), 1, SELECT_OPTION_TEXT_MAX)
            _max_len(out, f"{op}.description", o.get("description"), SELECT_OPTION_TEXT_MAX)
            v = o.get("value")
            if v in values:
                out.append(
                    Problem(
                        f"{op}.value",
                        "SELECT_COMPONENT_OPTION_VALUE_DUPLICATED",
                        "Select option values must be unique",
                    )
                )
            values.add(v)
            defaults += bool(o.get("default"))
        if isinstance(hi, int) and options and hi > len(options):
            out.append(
                Problem(
                    f"{path}.max_values",
                    "SELECT_COMPONENT_MAX_VALUES_TOO_HIGH",
                    "max_values exceeds the number of options",
                )
            )
        if isinstance(hi, int) and defaults > hi:
            out.append(
                Problem(
                    f"{path}.options",
                    "SELECT_COMPONENT_TOO_MANY_DEFAULTS",
                    "More default options than max_values",
                )
            )


def validate_components(components: Any, *, v2: bool = False, path: str = "components") -> list[Problem]:
    """Message components (not modals)."""
    out: list[Problem] = []
    if components is None:
        return out
    if not isinstance(components, list):
        return [Problem(path, "LIST_TYPE_CONVERT", "Must be an array.")]
    seen: set[str] = set()
    if not v2:
        if len(components) > ACTION_ROWS_MAX:
            out.append(
                Problem(path, "BASE_TYPE_MAX_LENGTH", f"Must be {ACTION_ROWS_MAX} or fewer in length.")
            )
        for i, row in enumerate(components):
            rp = f"{path}.{i}"
            if not isinstance(row, dict) or row.get("type") != 1:
                out.append(
                    Problem(
                        f"{rp}.type",
                        "COMPONENT_LAYOUT_REQUIRED",
                        "Top level components must be action rows (unless IS_COMPONENTS_V2)",
                    )
                )
                continue
            _check_row(out, rp, row, seen)
        return out
    count = 0
    text_total = 0
    for i, comp in enumerate(components):
        cp = f"{path}.{i}"
        if not isinstance(comp, dict) or comp.get("type") not in V2_TOP_LEVEL:
            out.append(
                Problem(
                    f"{cp}.type",
                    "COMPONENT_TYPE_INVALID",
                    "Component type not allowed at the top level",
                )
            )
            continue
    for c in iter_components(components):
        count += 1
        if c.get("type") == 10:
            text_total += len(c.get("content") or "")
        if c.get("type") == TEXT_INPUT:
            out.append(Problem(path, "COMPONENT_TYPE_INVALID", "Text inputs are only allowed in modals"))
    if count > V2_COMPONENTS_MAX:
        out.append(
            Problem(
                path,
                "COMPONENT_MAX_TOTAL_COMPONENTS_EXCEEDED",
                f"At most {V2_COMPONENTS_MAX} components",
            )
        )
    if text_total > TEXT_DISPLAY_TOTAL_MAX:
        out.append(
            Problem(
                path,
                "COMPONENT_MAX_TOTAL_TEXT_EXCEEDED",
                f"Text displays exceed {TEXT_DISPLAY_TOTAL_MAX} characters",
            )
        )
    # Rows, buttons and selects keep their rules inside containers and sections.
    for j, c in enumerate(iter_components(components)):
        t = c.get("type")
        if t == 1:
            _check_row(out, f"{path}.~{j}", c, seen)
        elif t == 9:
            acc = c.get("accessory")
            if isinstance(acc, dict) and acc.get("type") == BUTTON:
                _check_button(out, f"{path}.~{j}.accessory", acc, seen)
    return out


def _check_row(out: list[Problem], rp: str, row: Mapping[str, Any], seen: set[str]) -> None:
    inner = row.get("components")
    if not isinstance(inner, list) or not inner:
        out.append(Problem(f"{rp}.components", "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 5 in length."))
        return
    types = [c.get("type") for c in inner if isinstance(c, dict)]
    selects = [t for t in types if t in (STRING_SELECT, *AUTO_SELECTS)]
    if selects and len(inner) != 1:
        out.append(
            Problem(
                f"{rp}.components",
                "COMPONENT_LAYOUT_WIDTH_EXCEEDED",
                "The specified component exceeds the maximum width",
            )
        )
    if len(inner) > ROW_BUTTONS_MAX:
        out.append(
            Problem(
                f"{rp}.components",
                "BASE_TYPE_BAD_LENGTH",
                f"Must be between 1 and {ROW_BUTTONS_MAX} in length.",
            )
        )
    for j, c in enumerate(inner):
        cp = f"{rp}.components.{j}"
        t = c.get("type")
        if t == BUTTON:
            _check_button(out, cp, c, seen)
        elif t in (STRING_SELECT, *AUTO_SELECTS):
            _check_select(out, cp, c, seen)
        else:
            out.append(
                Problem(
                    f"{cp}.type",
                    "COMPONENT_TYPE_INVALID",
                    f"Component type {t!r} not allowed in an action row",
                )
            )


# -------------------------------------------------------------------------- messages


ALLOWED_FLAGS = {
    "channel": FLAG_SUPPRESS_EMBEDS | FLAG_SUPPRESS_NOTIFICATIONS | FLAG_COMPONENTS_V2,
    "interaction": FLAG_SUPPRESS_EMBEDS | FLAG_EPHEMERAL | FLAG_SUPPRESS_NOTIFICATIONS | FLAG_COMPONENTS_V2,
    "edit": FLAG_SUPPRESS_EMBEDS | FLAG_COMPONENTS_V2 | FLAG_EPHEMERAL | FLAG_SUPPRESS_NOTIFICATIONS,
}


def validate_allowed_mentions(am: Any, path: str = "allowed_mentions") -> list[Problem]:
    out: list[Problem] = []
    if am is None:
        return out
    if not isinstance(am, dict):
        return [Problem(path, "DICT_TYPE_CONVERT", "Only dictionaries may be used.")]
    parse = am.get("parse") or []
    for i, p in enumerate(parse):
        if p not in ("users", "roles", "everyone"):
            out.append(
                Problem(
                    f"{path}.parse.{i}",
                    "BASE_TYPE_CHOICES",
                    f"Value must be one of ('users', 'roles', 'everyone'), got {p!r}.",
                )
            )
    for kind in ("users", "roles"):
        if kind in parse and am.get(kind):
            out.append(
                Problem(
                    f"{path}.parse",
                    "MESSAGE_ALLOWED_MENTIONS_PARSE_EXCLUSIVE",
                    f'parse:["{kind}"] and {kind}: [ids] are mutually exclusive.',
                )
            )
        if len(am.get(kind) or []) > 100:
            out.append(Problem(f"{path}.{kind}", "BASE_TYPE_MAX_LENGTH", "Must be 100 or fewer in length."))
    return out


def validate_nonce(payload: Mapping[str, Any]) -> list[Problem]:
    """``nonce`` is an integer or a string of at most 25 characters; ``enforce_nonce`` a bool.

    A JSON ``true`` is a Python ``bool`` (an ``int`` subclass) and a float is no integer:
    both are refused, as Discord refuses anything but an integer or a string."""
    out: list[Problem] = []
    nonce = payload.get("nonce")
    if nonce is not None and (isinstance(nonce, bool) or not isinstance(nonce, int | str)):
        out.append(Problem("nonce", "NONCE_TYPE_INVALID", "Must be an integer or a string."))
    _max_len(out, "nonce", nonce, NONCE_MAX)
    enforce = payload.get("enforce_nonce")
    if enforce is not None and not isinstance(enforce, bool):
        out.append(Problem("enforce_nonce", "BASE_TYPE_BOOLEAN", "Must be either true or false."))
    return out


def validate_message(
    payload: Any,
    *,
    context: str,
    creating: bool,
    files: int = 0,
) -> list[Problem]:
    """A message body: ``context`` is ``channel``, ``interaction`` (callback 4/7, followups)
    or ``edit``; ``creating`` adds the "not empty" rule."""
    if not isinstance(payload, dict):
        return [Problem("", "DICT_TYPE_CONVERT", "Only dictionaries may be used.")]
    out: list[Problem] = []
    content = payload.get("content")
    if content is not None and not isinstance(content, str):
        out.append(Problem("content", "STRING_TYPE_CONVERT", "Must be a string."))
    _max_len(out, "content", content, CONTENT_MAX)
    flags = payload.get("flags") or 0
    if not isinstance(flags, int):
        out.append(Problem("flags", "NUMBER_TYPE_COERCE", "Value is not int."))
        flags = 0
    allowed = ALLOWED_FLAGS["edit" if context == "edit" else context]
    if flags & ~allowed:
        out.append(Problem("flags", "MESSAGE_FLAGS_INVALID", f"Flags {flags & ~allowed} may not be set here"))
    v2 = bool(flags & FLAG_COMPONENTS_V2)
    out += validate_embeds(payload.get("embeds"))
    out += validate_components(payload.get("components"), v2=v2)
    out += validate_allowed_mentions(payload.get("allowed_mentions"))
    if v2 and (payload.get("content") or payload.get("embeds")):
        out.append(
            Problem(
                "content",
                "MESSAGE_CANNOT_USE_LEGACY_FIELDS_WITH_COMPONENTS_V2",
                "content and embeds cannot be used with IS_COMPONENTS_V2",
            )
        )
    out += validate_nonce(payload)
    poll = payload.get("poll")
    if isinstance(poll, dict):
        _max_len(out, "poll.question.text", (poll.get("question") or {}).get("text"), POLL_QUESTION_MAX)
        answers = poll.get("answers") or []
        if len(answers) > POLL_ANSWERS_MAX:
            out.append(
                Problem(
                    "poll.answers",
                    "BASE_TYPE_MAX_LENGTH",
                    f"Must be {POLL_ANSWERS_MAX} or fewer in length.",
                )
            )
        for i, a in enumerate(answers):
            _max_len(
                out,
                f"poll.answers.{i}.poll_media.text",
                (a.get("poll_media") or {}).get("text"),
                POLL_ANSWER_MAX,
            )
    if creating:
        has_content = isinstance(content, str) and content.strip() != ""
        if not (
            has_content
            or payload.get("embeds")
            or payload.get("components")
            or payload.get("sticker_ids")
            or payload.get("poll")
            or payload.get("attachments")
            or files
        ):
            out.append(Problem("", "50006", "Cannot send an empty message"))
    return out


# ---------------------------------------------------------------------------- modals


def validate_modal(data: Any, path: str = "data") -> list[Problem]:
    if not isinstance(data, dict):
        return [Problem(path, "DICT_TYPE_CONVERT", "Only dictionaries may be used.")]
    out: list[Problem] = []
    _bad_len(out, f"{path}.custom_id", data.get("custom_id"), 1, CUSTOM_ID_MAX)
    _bad_len(out, f"{path}.title", data.get("title"), 1, MODAL_TITLE_MAX)
    comps = data.get("components")
    if not isinstance(comps, list) or not 1 <= len(comps) <= MODAL_COMPONENTS_MAX:
        out.append(
            Problem(
                f"{path}.components",
                "BASE_TYPE_BAD_LENGTH",
                f"Must be between 1 and {MODAL_COMPONENTS_MAX} in length.",
            )
        )
        comps = comps if isinstance(comps, list) else []
    seen: set[str] = set()
    for i, c in enumerate(comps):
        cp = f"{path}.components.{i}"
        t = c.get("type") if isinstance(c, dict) else None
        if t == 1:
            inner = c.get("components") or []
            if len(inner) != 1:
                out.append(
                    Problem(
                        f"{cp}.components",
                        "BASE_TYPE_BAD_LENGTH",
                        "A modal action row holds exactly one text input",
                    )
                )
            for j, ti in enumerate(inner):
                if ti.get("type") != TEXT_INPUT:
                    out.append(
                        Problem(
                            f"{cp}.components.{j}.type",
                            "COMPONENT_TYPE_INVALID",
                            "Only text inputs go in a modal action row",
                        )
                    )
                    continue
                _bad_len(out, f"{cp}.components.{j}.label", ti.get("label"), 1, TEXT_INPUT_LABEL_MAX)
                _check_text_input(out, f"{cp}.components.{j}", ti, seen)
        elif t == 18:
            _bad_len(out, f"{cp}.label", c.get("label"), 1, TEXT_INPUT_LABEL_MAX)
            _max_len(out, f"{cp}.description", c.get("description"), LABEL_DESCRIPTION_MAX)
            inner_c = c.get("component")
            ip = f"{cp}.component"
            if not isinstance(inner_c, dict):
                out.append(Problem(ip, "BASE_TYPE_REQUIRED", "This field is required"))
                continue
            it = inner_c.get("type")
            if it == TEXT_INPUT:
                _check_text_input(out, ip, inner_c, seen)
            elif it in (STRING_SELECT, *AUTO_SELECTS):
                _check_select(out, ip, inner_c, seen, in_modal=True)
            elif it in (19, 21, 22, 23):
                _check_custom_id(out, ip, inner_c, seen)
            else:
                out.append(
                    Problem(
                        f"{ip}.type",
                        "COMPONENT_TYPE_INVALID",
                        f"Component type {it!r} not allowed in a label",
                    )
                )
        elif t == 10:
            _max_len(out, f"{cp}.content", c.get("content"), TEXT_DISPLAY_TOTAL_MAX)
        else:
            out.append(
                Problem(
                    f"{cp}.type",
                    "COMPONENT_TYPE_INVALID",
                    f"Component type {t!r} not allowed in a modal",
                )
            )
    return out


def _check_text_input(out: list[Problem], path: str, ti: Mapping[str, Any], seen: set[str]) -> None:
    _check_custom_id(out, path, ti, seen)
    if ti.get("style") not in (1, 2):
        out.append(Problem(f"{path}.style", "BASE_TYPE_CHOICES", "Value must be one of (1, 2)."))
    _max_len(out, f"{path}.placeholder", ti.get("placeholder"), TEXT_INPUT_PLACEHOLDER_MAX)
    _max_len(out, f"{path}.value", ti.get("value"), TEXT_INPUT_VALUE_MAX)
    lo = ti.get("min_length")
    hi = ti.get("max_length")
    if lo is not None and (not isinstance(lo, int) or not 0 <= lo <= TEXT_INPUT_VALUE_MAX):
        out.append(Problem(f"{path}.min_length", "NUMBER_TYPE_MAX", "Must be between 0 and 4000."))
    if hi is not None and (not isinstance(hi, int) or not 1 <= hi <= TEXT_INPUT_VALUE_MAX):
        out.append(Problem(f"{path}.max_length", "NUMBER_TYPE_MAX", "Must be between 1 and 4000."))
    if isinstance(lo, int) and isinstance(hi, int) and lo > hi:
        out.append(
            Problem(
                f"{path}.min_length",
                "TEXT_INPUT_MIN_GREATER_THAN_MAX",
                "min_length is greater than max_length",
            )
        )
    value = ti.get("value")
    if isinstance(value, str) and isinstance(hi, int) and len(value) > hi:
        out.append(Problem(f"{path}.value", "BASE_TYPE_MAX_LENGTH", f"Must be {hi} or fewer in length."))


# ---------------------------------------------------------------------- autocomplete


def validate_autocomplete(data: Any, path: str = "data") -> list[Problem]:
    if not isinstance(data, dict):
        return [Problem(path, "DICT_TYPE_CONVERT", "Only dictionaries may be used.")]
    out: list[Problem] = []
    choices = data.get("choices")
    if not isinstance(choices, list):
        return [Problem(f"{path}.choices", "BASE_TYPE_REQUIRED", "This field is required")]
    if len(choices) > AUTOCOMPLETE_CHOICES_MAX:
        out.append(
            Problem(
                f"{path}.choices",
                "BASE_TYPE_MAX_LENGTH",
                f"Must be {AUTOCOMPLETE_CHOICES_MAX} or fewer in length.",
            )
        )
    for i, c in enumerate(choices):
        _check_choice(out, f"{path}.choices.{i}", c)
    return out


def _check_choice(out: list[Problem], path: str, c: Any) -> None:
    if not isinstance(c, dict):
        out.append(Problem(path, "DICT_TYPE_CONVERT", "Only dictionaries may be used."))
        return
    _bad_len(out, f"{path}.name", c.get("name"), 1, CHOICE_NAME_MAX)
    value = c.get("value")
    if isinstance(value, str):
        _max_len(out, f"{path}.value", value, CHOICE_STRING_VALUE_MAX)
    elif isinstance(value, bool) or not isinstance(value, int | float):
        out.append(
            Problem(f"{path}.value", "BASE_TYPE_REQUIRED", "Choice value must be a string or a number")
        )
    for loc, name in (c.get("name_localizations") or {}).items():
        if loc not in LOCALES:
            out.append(
                Problem(f"{path}.name_localizations.{loc}", "LOCALE_INVALID", f"Unknown locale {loc!r}")
            )
        _bad_len(out, f"{path}.name_localizations.{loc}", name, 1, CHOICE_NAME_MAX)


# -------------------------------------------------------------------------- commands


def _check_name(out: list[Problem], path: str, name: Any, *, chat_input: bool) -> None:
    if not isinstance(name, str):
        out.append(Problem(path, "BASE_TYPE_REQUIRED", "This field is required"))
        return
    if chat_input:
        if not COMMAND_NAME_RE.match(name):
            out.append(
                Problem(path, "APPLICATION_COMMAND_INVALID_NAME", f"Command name is invalid: {name!r}")
            )
        elif name != name.lower():
            out.append(
                Problem(
                    path,
                    "APPLICATION_COMMAND_INVALID_NAME",
                    f"Command name must be lower case: {name!r}",
                )
            )
    else:
        _bad_len(out, path, name, 1, COMMAND_NAME_MAX)


def _check_localizations(
    out: list[Problem], path: str, locs: Any, *, names: bool, chat_input: bool = True
) -> None:
    if locs is None:
        return
    if not isinstance(locs, dict):
        out.append(Problem(path, "DICT_TYPE_CONVERT", "Only dictionaries may be used."))
        return
    for loc, text in locs.items():
        if loc not in LOCALES:
            out.append(Problem(f"{path}.{loc}", "LOCALE_INVALID", f"Unknown locale {loc!r}"))
        if names:
            _check_name(out, f"{path}.{loc}", text, chat_input=chat_input)
        else:
            _bad_len(out, f"{path}.{loc}", text, 1, COMMAND_DESCRIPTION_MAX)


def _command_chars(cmd: Mapping[str, Any]) -> int:
    n = len(cmd.get("name") or "") + len(cmd.get("description") or "")
    for o in cmd.get("options") or []:
        n += _command_chars(o)
        for c in o.get("choices") or []:
            n += len(str(c.get("name") or "")) + len(str(c.get("value") or ""))
    return n


def _check_options(out: list[Problem], path: str, options: Any, *, depth: int) -> None:
    if options is None:
        return
    if not isinstance(options, list):
        out.append(Problem(path, "LIST_TYPE_CONVERT", "Must be an array."))
        return
    if len(options) > COMMAND_OPTIONS_MAX:
        out.append(
            Problem(path, "BASE_TYPE_MAX_LENGTH", f"Must be {COMMAND_OPTIONS_MAX} or fewer in length.")
        )
    names: set[str] = set()
    seen_optional = False
    kinds = {o.get("type") for o in options if isinstance(o, dict)}
    if kinds & {1, 2} and kinds - {1, 2}:
        out.append(
            Problem(
                path,
                "APPLICATION_COMMAND_OPTIONS_TYPE_INVALID",
                "Sub-commands cannot be mixed with other options",
            )
        )
    for i, o in enumerate(options):
        op = f"{path}.{i}"
        if not isinstance(o, dict):
            out.append(Problem(op, "DICT_TYPE_CONVERT", "Only dictionaries may be used."))
            continue
        t = o.get("type")
        if t not in range(1, 12):
            out.append(Problem(f"{op}.type", "BASE_TYPE_CHOICES", f"Invalid option type {t!r}"))
        _check_name(out, f"{op}.name", o.get("name"), chat_input=True)
        _bad_len(out, f"{op}.description", o.get("description"), 1, COMMAND_DESCRIPTION_MAX)
        _check_localizations(out, f"{op}.name_localizations", o.get("name_localizations"), names=True)
        _check_localizations(
            out, f"{op}.description_localizations", o.get("description_localizations"), names=False
        )
        if str(o.get("name")) in names:
            out.append(
                Problem(
                    f"{op}.name",
                    "APPLICATION_COMMAND_OPTIONS_NAME_ALREADY_EXISTS",
                    "Option names must be unique",
                )
            )
        names.add(str(o.get("name")))
        if t in (1, 2):
            if t == 2 and depth > 0:
                out.append(
                    Problem(
                        f"{op}.type",
                        "APPLICATION_COMMAND_OPTIONS_TYPE_INVALID",
                        "Sub-command groups cannot be nested",
                    )
                )
            if t == 1 and depth > 1:
                out.append(
                    Problem(
                        f"{op}.type",
                        "APPLICATION_COMMAND_OPTIONS_TYPE_INVALID",
                        "Too deeply nested",
                    )
                )
            sub = o.get("options") or []
            if t == 2 and any(isinstance(s, dict) and s.get("type") != 1 for s in sub):
                out.append(
                    Problem(
                        f"{op}.options",
                        "APPLICATION_COMMAND_OPTIONS_TYPE_INVALID",
                        "A group holds only sub-commands",
                    )
                )
            if t == 1 and any(isinstance(s, dict) and s.get("type") in (1, 2) for s in sub):
                out.append(
                    Problem(
                        f"{op}.options",
                        "APPLICATION_COMMAND_OPTIONS_TYPE_INVALID",
                        "A sub-command cannot hold sub-commands",
                    )
                )
            _check_options(out, f"{op}.options", sub, depth=depth + 1)
            continue
        if o.get("required"):
            if seen_optional:
                out.append(
                    Problem(
                        f"{op}.required",
                        "APPLICATION_COMMAND_OPTIONS_REQUIRED_INVALID",
                        "Required options must be placed before non-required options",
                    )
                )
        else:
            seen_optional = True
        choices = o.get("choices")
        if choices:
            if o.get("autocomplete"):
                out.append(
                    Problem(
                        f"{op}.autocomplete",
                        "AUTOCOMPLETE_AND_CHOICES",
                        "Autocomplete cannot be used with choices",
                    )
                )
            if len(choices) > COMMAND_CHOICES_MAX:
                out.append(
                    Problem(
                        f"{op}.choices",
                        "BASE_TYPE_MAX_LENGTH",
                        f"Must be {COMMAND_CHOICES_MAX} or fewer in length.",
                    )
                )
            for j, c in enumerate(choices):
                _check_choice(out, f"{op}.choices.{j}", c)
        for key in ("min_length", "max_length"):
            v = o.get(key)
            if v is not None and (not isinstance(v, int) or not 0 <= v <= 6000):
                out.append(Problem(f"{op}.{key}", "NUMBER_TYPE_MAX", "Must be between 0 and 6000."))


def validate_commands(commands: Any) -> list[Problem]:
    """A bulk overwrite (PUT) of application commands."""
    if not isinstance(commands, list):
        return [Problem("", "LIST_TYPE_CONVERT", "Must be an array.")]
    out: list[Problem] = []
    seen: set[tuple[int, str]] = set()
    per_type: dict[int, int] = {}
    for i, cmd in enumerate(commands):
        p = str(i)
        if not isinstance(cmd, dict):
            out.append(Problem(p, "DICT_TYPE_CONVERT", "Only dictionaries may be used."))
            continue
        t = cmd.get("type", 1)
        per_type[t] = per_type.get(t, 0) + 1
        chat = t == 1
        _check_name(out, f"{p}.name", cmd.get("name"), chat_input=chat)
        _check_localizations(
            out,
            f"{p}.name_localizations",
            cmd.get("name_localizations"),
            names=True,
            chat_input=chat,
        )
        if chat:
            _bad_len(out, f"{p}.description", cmd.get("description"), 1, COMMAND_DESCRIPTION_MAX)
            _check_localizations(
                out,
                f"{p}.description_localizations",
                cmd.get("description_localizations"),
                names=False,
            )
        elif cmd.get("description"):
            out.append(
                Problem(
                    f"{p}.description",
                    "APPLICATION_COMMAND_DESCRIPTION_NOT_ALLOWED",
                    "Context menu commands have no description",
                )
            )
        key = (t, str(cmd.get("name")))
        if key in seen:
            out.append(
                Problem(
                    f"{p}.name",
                    "APPLICATION_COMMAND_ALREADY_EXISTS",
                    "Application command names must be unique",
                )
            )
        seen.add(key)
        if chat:
            _check_options(out, f"{p}.options", cmd.get("options"), depth=0)
            if _command_chars(cmd) > COMMAND_TOTAL_CHARS_MAX:
                out.append(
                    Problem(
                        p,
                        "APPLICATION_COMMAND_TOO_LARGE",
                        f"Command exceeds {COMMAND_TOTAL_CHARS_MAX} characters ({_command_chars(cmd)})",
                    )
                )
        elif cmd.get("options"):
            out.append(
                Problem(
                    f"{p}.options",
                    "APPLICATION_COMMAND_OPTIONS_NOT_ALLOWED",
                    "Context menu commands take no options",
                )
            )
        dmp = cmd.get("default_member_permissions")
        # Discord documents a string but accepts an integer too: discord.py 2.7 sends ints.
        digits = isinstance(dmp, str) and dmp.isdigit()
        number = isinstance(dmp, int) and not isinstance(dmp, bool) and dmp >= 0
        if dmp is not None and not (digits or number):
            out.append(
                Problem(
                    f"{p}.default_member_permissions",
                    "STRING_TYPE_CONVERT",
                    "Must be a string of digits",
                )
            )
    if per_type.get(1, 0) > CHAT_INPUT_COMMANDS_MAX:
        out.append(
            Problem(
                "",
                "APPLICATION_COMMANDS_MAX",
                f"At most {CHAT_INPUT_COMMANDS_MAX} chat input commands",
            )
        )
    for t in (2, 3):
        if per_type.get(t, 0) > CONTEXT_MENU_COMMANDS_MAX:
            out.append(
                Problem(
                    "",
                    "APPLICATION_COMMANDS_MAX",
                    f"At most {CONTEXT_MENU_COMMANDS_MAX} context menu commands of type {t}",
                )
            )
    return out


# --------------------------------------------------------------------------- mentions

_USER_RE = re.compile(r"<@!?(\d{1,20})>")
_ROLE_RE = re.compile(r"<@&(\d{1,20})>")
_EVERYONE_RE = re.compile(r"@(everyone|here)\b")


def message_texts(payload: Mapping[str, Any]) -> list[str]:
    """Texts whose mentions Discord parses: content and (components v2) text displays."""
    texts = []
    if isinstance(payload.get("content"), str):
        texts.append(payload["content"])
    for c in iter_components(payload.get("components")):
        if c.get("type") == 10 and isinstance(c.get("content"), str):
            texts.append(c["content"])
    return texts


def compute_pings(
    texts: Iterable[str],
    allowed_mentions: Mapping[str, Any] | None,
    *,
    default_parse: Iterable[str],
    guild_id: int | None,
    role_ids: Mapping[int, Any] | set[int],
    reply_user_id: int | None = None,
) -> set[str]:
    """Who a message pings: ``{"everyone", "role:ID", "user:ID"}``.

    Follows Discord's rules for ``allowed_mentions``: without it, ``default_parse`` applies;
    with it, only the listed kinds, plus the roles/users listed by id, ping.  Whether a role
    is "mentionable" is not considered (an admin can change that at any time).
    """
    if allowed_mentions is None:
        parse = set(default_parse)
        users_ok: set[int] = set()
        roles_ok: set[int] = set()
        replied_user = True
    else:
        parse = set(allowed_mentions.get("parse") or [])
        users_ok = {int(x) for x in allowed_mentions.get("users") or []}
        roles_ok = {int(x) for x in allowed_mentions.get("roles") or []}
        replied_user = bool(allowed_mentions.get("replied_user", False))
    pinged: set[str] = set()
    for text in texts:
        if "everyone" in parse and _EVERYONE_RE.search(text):
            pinged.add("everyone")
        for m in _ROLE_RE.finditer(text):
            rid = int(m.group(1))
            if rid not in role_ids:
                continue
            if rid == guild_id:
                if "everyone" in parse:
                    pinged.add("everyone")
                continue
            if "roles" in parse or rid in roles_ok:
                pinged.add(f"role:{rid}")
        for m in _USER_RE.finditer(text):
            uid = int(m.group(1))
            if "users" in parse or uid in users_ok:
                pinged.add(f"user:{uid}")
    if reply_user_id is not None and replied_user:
        pinged.add(f"user:{reply_user_id}")
    return pinged
