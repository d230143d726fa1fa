"""Commands named in the bot's texts as the reader sees them.

A catalog text names a command like ``/admin character restore`` (in backticks or not).
When the text is rendered, each such name becomes a clickable command mention
(``</admin character restore:123>``), which Discord shows in the reader's own language;
before the command's id is known (the first start, before the sync), a Korean reader
gets the Korean name the Translator gives it (``/관리 캐릭터 복원``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Protocol

# "/word", "/word word", "/word word word", not inside a link or a path.
_NAMED = re.compile(r"(?<![\w/:.<])`?/([a-z][a-z0-9_-]*(?: [a-z][a-z0-9_-]*){0,2})`?")


class Commands(Protocol):
    """What the command tree knows: every command's path, and a mention once its id is known."""

    @property
    def paths(self) -> frozenset[str]: ...

    def mention(self, path: str) -> str | None: ...


def link_commands(
    text: str,
    commands: Commands | None,
    korean_names: Mapping[str, str] | None,
    *,
    mentions: bool = True,
) -> str:
    """``text`` with every command it names made a mention (or, for a Korean reader while
    the ids are unknown, given its Korean name); other slashes are left as they are.

    ``mentions=False`` is for where Discord shows text as typed (an embed's title or
    footer, a button, a choice): the command's name in the reader's language, plain."""
    if "/" not in text:
        return text

    def one(match: re.Match[str]) -> str:
        whole = match.group(0)
        ticked = whole.startswith("`") and whole.endswith("`")
        words = match.group(1).split(" ")
        for size in range(len(words), 0, -1):  # the longest run of words that is a command
            path = " ".join(words[:size])
            if commands is None or path not in commands.paths:
                continue
            if ticked and size < len(words):
                return whole  # `/character for a full card`: not a command's name alone
            mention = commands.mention(path) if mentions else None
            if mention is None:
                named = " ".join(korean_names.get(w, w) for w in words[:size]) if korean_names else path
                mention = f"`/{named}`" if mentions else f"/{named}"
            rest = " ".join(words[size:])
            tail = "`" if whole.endswith("`") and not ticked and mentions else ""
            return mention + (f" {rest}" if rest else "") + tail
        return whole

    return _NAMED.sub(one, text)
