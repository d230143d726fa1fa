"""English and Korean: one message catalog per language, and the slash commands' Translator.

``en.toml`` and ``ko.toml`` hold every answer the bot writes, under the same keys
(``section.name``); ``ko.toml`` also holds the Korean names and descriptions of the
slash commands (``[commands.names]`` and ``[commands.text]``, keyed by the English).
The language of an answer is the server's setting, or the member's client locale
when the server says "auto".

A message is a ``str.format`` template. In Korean, a particle after a placeholder is
its format spec, written in either of its forms: ``{name:을}`` gives "이청산을" or
"남라를", ``{stage:으로}`` "제작 중으로" or "소문으로", ``{value:이에요}``; ``josa``
has the rules and the particles it knows. The particle goes after any closing markup
that directly follows the placeholder, so ``**{new:으로}**`` gives "**제작 중**으로"
and ``“{typed:은}”`` gives "“Lomon”은".
"""

from __future__ import annotations

import functools
import re
import string
import tomllib
from collections.abc import Mapping
from importlib import resources
from typing import Any

import discord
from discord import app_commands

from bot.i18n import josa
from bot.i18n.commands import Commands, link_commands
from bot.models import SpoilerMode

LANGUAGES = ("en", "ko")
DEFAULT = "en"
_NAME_LOCATIONS = {
    app_commands.TranslationContextLocation.command_name,
    app_commands.TranslationContextLocation.group_name,
    app_commands.TranslationContextLocation.parameter_name,
}


def _flatten(table: Mapping[str, Any], prefix: str = "") -> dict[str, str]:
    out: dict[str, str] = {}
    for key, value in table.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            out.update(_flatten(value, f"{name}."))
        else:
            out[name] = str(value)
    return out


def placeholders(text: str) -> set[str]:
    return {field for _, field, _, _ in string.Formatter().parse(text) if field}


_FORMATTER = string.Formatter()
# What may close a placeholder's markup: bold, italic, code, strike, spoiler, quotes.
_CLOSING = re.compile(r"(?:\*\*|\*|`|~~|\|\||[”’\"'」』])*")


def format_message(template: str, values: Mapping[str, object]) -> str:
    """``template.format_map(values)``, where a particle as a format spec (``{name:을}``)
    writes the value followed by the particle that agrees with it, after the closing
    markup the template puts right after the placeholder."""
    out: list[str] = []
    particle = ""
    for literal, field, spec, conversion in _FORMATTER.parse(template):
        if particle:
            closing = _CLOSING.match(literal)
            end = closing.end() if closing else 0
            out += [literal[:end], particle, literal[end:]]
            particle = ""
        else:
            out.append(literal)
        if field is None:
            continue
        value, _ = _FORMATTER.get_field(field, (), values)
        value = _FORMATTER.convert_field(value, conversion)
        if spec in josa.PARTICLES:
            text = format(value, "")
            out.append(text)
            particle = josa.particle(text, spec)
        else:
            out.append(_FORMATTER.format_field(value, spec or ""))
    out.append(particle)
    return "".join(out)


class Catalog:
    def __init__(
        self,
        messages: Mapping[str, Mapping[str, str]],
        commands: Mapping[str, Mapping[str, str]],
        tree: Commands | None = None,
    ):
        self.messages = messages  # language -> key -> text
        self.commands = commands  # "names" / "text" / "formerly" (old names) -> English -> Korean
        # The bot's command tree: a command a text names (/admin character restore)
        # becomes a mention of it.  None (texts fixed at import time): named as written.
        self.tree = tree

    @classmethod
    def load(cls, tree: Commands | None = None) -> Catalog:
        messages: dict[str, dict[str, str]] = {}
        commands: dict[str, dict[str, str]] = {"names": {}, "text": {}, "formerly": {}}
        for language in LANGUAGES:
            raw = tomllib.loads(resources.files(__name__).joinpath(f"{language}.toml").read_text("utf-8"))
            command_table = raw.pop("commands", {})
            for kind in commands:
                commands[kind].update(command_table.get(kind, {}))
            messages[language] = _flatten(raw)
        return cls(messages, commands, tree)

    def text(self, language: str, key: str, /, **values: object) -> str:
        return self.say(language, key, values)

    def say(self, language: str, key: str, values: Mapping[str, object], *, mentions: bool = True) -> str:
        """The message ``key`` in ``language`` with ``values``; each command it names is
        a mention (``mentions``) or its name in the language (:func:`link_commands`)."""
        template = self.messages.get(language, {}).get(key) or self.messages[DEFAULT].get(key)
        if template is None:
            raise KeyError(f"no message {key!r} in the catalog")
        if self.tree is not None:
            names = self.commands["names"] if language == "ko" else None
            template = link_commands(template, self.tree, names, mentions=mentions)
        return format_message(template, values) if values else template

    def has(self, key: str) -> bool:
        return key in self.messages[DEFAULT]


def language_for(setting: str, locale: discord.Locale | str | None) -> str:
    """The server's language, or the member's client language when the server says auto."""
    if setting in LANGUAGES:
        return setting
    value = locale.value if isinstance(locale, discord.Locale) else (locale or "")
    return "ko" if value.startswith("ko") else DEFAULT


class Texts:
    """How to speak to one reader: the catalog bound to one language
    (``t("character.none", name=...)``), and the spoiler mode of the server the text is
    for, which every rendering of a statement follows (``bot.render.facts``)."""

    __slots__ = ("catalog", "language", "spoilers")

    def __init__(self, catalog: Catalog, language: str, spoilers: SpoilerMode = SpoilerMode.HIDDEN) -> None:
        self.catalog = catalog
        self.language = language
        self.spoilers = spoilers

    def __call__(self, key: str, /, **values: object) -> str:
        return self.catalog.say(self.language, key, values)

    def plain(self, key: str, /, **values: object) -> str:
        """The message for where Discord shows text as typed, without markdown (an
        embed's title or footer, a button, a choice): a command it names is written
        as the reader's name for it (``/공개일정``), not as a mention."""
        return self.catalog.say(self.language, key, values, mentions=False)


class Translator(app_commands.Translator):
    """Korean names and descriptions for the slash commands, from ``ko.toml``."""

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog

    async def translate(
        self,
        string: app_commands.locale_str,
        locale: discord.Locale,
        context: app_commands.TranslationContextTypes,
    ) -> str | None:
        if locale is not discord.Locale.korean:
            return None
        kind = "names" if context.location in _NAME_LOCATIONS else "text"
        return self.catalog.commands[kind].get(string.message)


@functools.cache
def english() -> Texts:
    """English texts for what is fixed at import time (slash command choices; the Translator
    gives them their Korean names)."""
    return Texts(Catalog.load(), DEFAULT)
