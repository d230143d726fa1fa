"""Forgiving name search: case, hyphens, spaces, name order, Hangul, small typos, actors.

Pure and synchronous: an index is built once per list of names and then queried
for every keystroke of an autocomplete.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Generic, TypeVar

if TYPE_CHECKING:
    from bot.models import Character

T = TypeVar("T")

# Scores: higher is better.  Kinds of match, best first.
EXACT, PREFIX, CONTAINS, TYPO = 100, 80, 60, 40
ACTOR_PENALTY = 5  # a character found by its actor ranks just below one found by name
_INVISIBLE = {"Cf", "Cc", "Zs", "Zl", "Zp", "Pd", "Pc", "Po", "Ps", "Pe", "Pi", "Pf", "Sk", "Mn"}


def normalize(text: str) -> str:
    """Lower case, compatibility-folded, without spaces, punctuation or invisible characters."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    return "".join(ch for ch in folded if unicodedata.category(ch) not in _INVISIBLE)


def typo_distance(a: str, b: str, limit: int) -> int:
    """Edit distance with transpositions (optimal string alignment); ``limit + 1`` beyond it."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        current = [i] + [0] * len(b)
        best = current[0]
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            value = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                value = min(value, previous2[j - 2] + 1)
            current[j] = value
            best = min(best, value)
        if best > limit:
            return limit + 1
        previous2, previous = previous, current
    return previous[-1]


def allowed_typos(length: int) -> int:
    return 0 if length < 4 else 1 if length < 7 else 2


def name_forms(name: str) -> set[str]:
    """A name as people type it: whole, given name alone, and family name last."""
    parts = name.split()
    forms = {normalize(name)}
    if len(parts) > 1:
        forms.add(normalize(" ".join(parts[1:])))  # given name: "Nam-ra"
        forms.add(normalize(" ".join([*parts[1:], parts[0]])))  # "Nam-ra Choi"
    if parts and _is_hangul(parts[0]) and len(name) >= 3 and " " not in name:
        forms.add(normalize(name[1:]))  # 최남라 → 남라
    forms.discard("")
    return forms


def _is_hangul(text: str) -> bool:
    return any("\uac00" <= ch <= "\ud7a3" for ch in text)


@dataclass(frozen=True, slots=True)
class Entry(Generic[T]):
    item: T
    label: str  # what sorts ties
    names: frozenset[str]
    actors: frozenset[str] = field(default_factory=frozenset)


class NameIndex(Generic[T]):
    RESULTS_KEPT = 512  # autocomplete asks for the same few prefixes over and over

    def __init__(self, entries: Iterable[Entry[T]]) -> None:
        self._entries = list(entries)
        self._results: dict[tuple[str, int], tuple[T, ...]] = {}

    @classmethod
    def build(cls, items: Iterable[tuple[T, str, Sequence[str], Sequence[str]]]) -> NameIndex[T]:
        """``items``: (item, label, names, actor names)."""
        entries = []
        for item, label, names, actors in items:
            forms: set[str] = set()
            for name in names:
                forms |= name_forms(name)
            actor_forms: set[str] = set()
            for actor in actors:
                actor_forms |= name_forms(actor)
            entries.append(Entry(item, label, frozenset(forms), frozenset(actor_forms)))
        return cls(entries)

    def __len__(self) -> int:
        return len(self._entries)

    @staticmethod
    def _score(query: str, forms: frozenset[str]) -> int:
        best = 0
        typos = allowed_typos(len(query))
        for form in forms:
            if form == query:
                return EXACT
            if form.startswith(query):
                best = max(best, PREFIX + min(len(query), 10))
            elif query in form:
                best = max(best, CONTAINS + min(len(query), 10))
            elif typos and best < TYPO:
                distance = typo_distance(query, form, typos)
                if distance <= typos:
                    best = max(best, TYPO - distance)
                elif len(form) > len(query):  # a typo in what was typed so far
                    distance = typo_distance(query, form[: len(query)], typos)
                    if distance <= typos:
                        best = max(best, TYPO - 5 - distance)
        return best

    def search(self, text: str, limit: int = 25) -> list[T]:
        """Items matching ``text``, best first; every item (by label) when ``text`` is empty.

        The index is immutable, so answers are kept (the last few hundred queries).
        """
        query = normalize(text)[:100]
        kept = self._results.get((query, limit))
        if kept is None:
            kept = tuple(self._search(query, limit))
            if len(self._results) >= self.RESULTS_KEPT:
                del self._results[next(iter(self._results))]
            self._results[(query, limit)] = kept
        return list(kept)

    def _scored(self, query: str) -> list[tuple[int, str, T]]:
        scored = []
        for entry in self._entries:
            score = self._score(query, entry.names)
            if entry.actors:
                score = max(score, self._score(query, entry.actors) - ACTOR_PENALTY)
            if score > 0:
                scored.append((-score, entry.label.casefold(), entry.item))
        scored.sort(key=lambda row: (row[0], row[1]))
        return scored

    def _search(self, query: str, limit: int) -> list[T]:
        if not query:
            return [e.item for e in sorted(self._entries, key=lambda e: e.label.casefold())][:limit]
        return [item for _, _, item in self._scored(query)[:limit]]

    def resolve(self, text: str, limit: int = 5) -> tuple[T | None, list[T]]:
        """What an admin's typed name means: ``(item, [])`` when one item matches better
        than every other, else ``(None, candidates)`` (none, or several as good), so a
        change is never made to a guess."""
        scored = self._scored(normalize(text)[:100]) if text.strip() else []
        if not scored:
            return None, []
        best = scored[0][0]
        tied = [item for score, _, item in scored if score == best]
        if len(tied) == 1:
            return tied[0], []
        return None, tied[:limit]

    def closest(self, text: str, limit: int = 5) -> list[T]:
        """The nearest names when nothing matches well enough to search (for 'did you
        mean'): only names within a third of the typed length of edits (at least two),
        so a typo finds its name and gibberish finds nothing."""
        found = self.search(text, limit)
        if found:
            return found
        query = normalize(text)[:100]
        if not query:
            return []
        reach = max(2, len(query) // 3)
        ranked = sorted(
            (distance, e.label.casefold(), e.item)
            for e in self._entries
            if (distance := min((typo_distance(query, f, 50) for f in e.names), default=99)) <= reach
        )
        return [item for _, _, item in ranked[:limit]]


def character_index(characters: Iterable[Character]) -> NameIndex[Character]:
    """An index of characters by name, key, Hangul, aliases and (ranked just below) actor."""
    return NameIndex.build((c, c.fields.name, c.search_names, c.actor_names) for c in characters)


class CharacterIndexes:
    """The index of each server's characters, built once per version of the list.

    The store hands out the same tuple until a server's characters change, so a
    keystroke of autocomplete finds its index here instead of rebuilding it.
    """

    def __init__(self, size: int = 1024) -> None:
        self._size = size
        self._indexes: dict[int, tuple[Sequence[Character], NameIndex[Character]]] = {}

    def of(self, characters: Sequence[Character]) -> NameIndex[Character]:
        cached = self._indexes.get(id(characters))
        if cached is not None and cached[0] is characters:
            return cached[1]
        index = character_index(characters)
        if isinstance(characters, tuple):  # a list may change under us: only tuples are kept
            if len(self._indexes) >= self._size:
                del self._indexes[next(iter(self._indexes))]
            self._indexes[id(characters)] = (characters, index)
        return index
