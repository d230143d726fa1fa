"""Korean particles (조사) chosen by the sound of the word they follow.

A Korean particle has two forms: one after a final consonant (받침) and one after a
vowel (이/가, 을/를, 은/는, 과/와, 이에요/예요, ...); 으로/로 takes 로 after a vowel
*and* after ㄹ (서울로, 칠로). The catalog never writes both forms with one in
brackets: a Korean message writes ``{name:을}`` and :func:`particle` picks the form
from what is substituted (see ``bot.i18n.format_message``).

How the last sound is found, from the end of the text:

* Markdown, punctuation, quotes, emoji and closing brackets are skipped
  (``**남라**``, ```code```, ``“Lomon”``, ``'x'``). A parenthesis after a word is an
  aside and does not count (``이청산 (Lee Cheong-san)`` ends in 산, as Korean writing
  attaches the particle to the word before the aside); a text that is all parenthesis
  is read inside it. ``%`` is read 퍼센트.
* Hangul syllables: by their 받침. Hangul consonant letters by their names (ㄱ 기역, ...).
* Digits as read in Korean: 0 영, 1 일, 2 이, 3 삼, 4 사, 5 오, 6 육, 7 칠, 8 팔, 9 구.
  A number ending in zeros ends in its place name: 10 십, 100 백, 1000 천, 만, 억, 조
  (20 이십, 300 삼백, 2000 이천, 10000 만, 100000 십만); ``0`` alone is 영; ``1,000``
  is one number; ``1.5`` ends in 오.
* Latin letters as Koreans say them:

  - one letter, or an all-capital word of two to four letters (an acronym: KST, UTC,
    OST), by the Korean name of its last letter: A 에이, B 비, C 씨, D 디, E 이, F 에프,
    G 지, H 에이치, I 아이, J 제이, K 케이, L 엘, M 엠, N 엔, O 오, P 피, Q 큐, R 알,
    S 에스, T 티, U 유, V 브이, W 더블유, X 엑스, Y 와이, Z 지 — only L, M, N, R end in a
    consonant (L and R in ㄹ);
  - a romanised Korean name (hyphenated syllables, or with ``eo``/``eu``: Su-hyeok,
    Cheong-san, Seoul) by its final letters as the Hangul spells them: a vowel takes
    the plain form, n / m / ng / k / p / t take the 받침 form, l takes ㄹ
    (Su-hyeok 수혁이, Byung-chul 병철로);
  - an English word as Korean loanword spelling writes it (외래어 표기법): a final
    vowel sound (-a, -i, -o, -u, -y, -w, -h, a sounded -e as in Lee) and a final -r
    (Trailer 트레일러, Herald's -er: silent in Korean spelling) take the plain form;
    -n, -m, -ng, -me, -ne take the 받침 form (Lomon 로몬을, Tudum 투둠을); a final -l
    or -le takes ㄹ (Michael 마이클로, Google 구글로); -p, -t, -k, -c after a single
    short vowel become 받침 (chat 챗, top 톱, Titanic 타이태닉, -ck, -ook: 북),
    while after a long vowel or another consonant they gain a vowel (Newsweek 뉴스위크,
    part 파트); -s, -x, -z, -f, -v, -d, -b, -g, and a silent -e after other consonants
    end in a vowel (Netflix 넷플릭스를, Discord 디스코드를, site 사이트를).

  KOREAN.md suggests a final -r after a vowel be read as ㄹ; Korean spelling of
  loanwords drops it (포스터, 스타, 트레일러), so -r takes the plain form here.
* What cannot be heard is unknown: a Discord mention or timestamp (``<#1>``, ``<@&2>``,
  ``</cmd:3>``, ``<t:4:F>``), which each client shows in its own way, other scripts,
  and empty text. Unknown takes the 받침 form (을, 이, 은, 과, 으로); the catalog puts
  no particle after a mention (it writes ``{channel} 채널에``, ``{role} 역할을``).
"""

from __future__ import annotations

import enum
import re
import unicodedata

__all__ = ["PARTICLES", "Sound", "attach", "final_sound", "particle"]


class Sound(enum.Enum):
    VOWEL = "vowel"  # no 받침: 가 / 를 / 는 / 와 / 로
    RIEUL = "rieul"  # ㄹ 받침: 이 / 을 / 은 / 과, but 로
    CONSONANT = "consonant"  # other 받침: 이 / 을 / 은 / 과 / 으로
    UNKNOWN = "unknown"  # cannot be heard (a mention): the 받침 forms


# (after a consonant, after a vowel); after ㄹ the consonant form, except 으로 → 로.
_PAIRS = (
    ("이", "가"),
    ("을", "를"),
    ("은", "는"),
    ("과", "와"),
    ("으로", "로"),
    ("이에요", "예요"),
    ("이었어요", "였어요"),
    ("아", "야"),
    ("이나", "나"),
    ("이라고", "라고"),
    ("이랑", "랑"),
)
PARTICLES: dict[str, tuple[str, str]] = {form: pair for pair in _PAIRS for form in pair}
"""Either form of a particle → its pair (consonant form, vowel form)."""

_DIGITS = {
    "0": Sound.CONSONANT,  # 영
    "1": Sound.RIEUL,  # 일
    "2": Sound.VOWEL,  # 이
    "3": Sound.CONSONANT,  # 삼
    "4": Sound.VOWEL,  # 사
    "5": Sound.VOWEL,  # 오
    "6": Sound.CONSONANT,  # 육
    "7": Sound.RIEUL,  # 칠
    "8": Sound.RIEUL,  # 팔
    "9": Sound.VOWEL,  # 구
}
# Trailing zeros → the place name a number then ends in: 십, 백, 천, 만 ×4, 억 ×4, 조 ×4, 경.
_PLACES = [Sound.CONSONANT] * 3 + [Sound.CONSONANT] * 4 + [Sound.CONSONANT] * 4 + [Sound.VOWEL] * 4
_LETTERS = {letter: Sound.VOWEL for letter in "abcdefghijkopqstuvwxyz"} | {
    "l": Sound.RIEUL,  # 엘
    "m": Sound.CONSONANT,  # 엠
    "n": Sound.CONSONANT,  # 엔
    "r": Sound.RIEUL,  # 알
}
# Words whose Korean spelling the rules below get wrong.
_WORDS = {"york": Sound.CONSONANT}  # 뉴욕

_VOWEL_LETTERS = frozenset("aeiou")
_MENTION = re.compile(r"<(?:[@#][!&]?\d+|/[^<>]+:\d+|t:-?\d+(?::[tTdDfFR])?)>$")
_CUSTOM_EMOJI = re.compile(r"<a?:\w+:\d+>$")
_NUMBER = re.compile(r"(?:\d{1,3}(?:,\d{3})+|\d+)$")
_LATIN = re.compile(r"[A-Za-z]+(?:-[A-Za-z]+)*$")
_OPENING = {")": "(", "]": "[", "）": "（", "}": "{"}


def particle(word: object, form: str) -> str:
    """The form of the particle ``form`` (either of its forms: ``"을"`` or ``"를"``)
    that follows ``word``: ``particle("Lomon", "를") == "을"``."""
    consonant, vowel = PARTICLES[form]
    sound = final_sound(str(word))
    if sound is Sound.VOWEL:
        return vowel
    if sound is Sound.RIEUL and consonant == "으로":
        return vowel
    return consonant


def attach(word: object, form: str) -> str:
    """``word`` with its particle: ``attach("서울", "으로") == "서울로"``."""
    return f"{word}{particle(word, form)}"


def final_sound(text: str) -> Sound:
    """How ``text`` ends when read aloud in Korean (the rules are in the module's docstring)."""
    rest = text
    while True:
        rest = rest.rstrip()
        if not rest:
            return Sound.UNKNOWN
        if emoji := _CUSTOM_EMOJI.search(rest):
            rest = rest[: emoji.start()]
            continue
        if _MENTION.search(rest):
            return Sound.UNKNOWN
        last = rest[-1]
        if last in _OPENING:
            rest = _drop_aside(rest)
            continue
        if last == "%":
            return Sound.VOWEL  # 퍼센트
        if last.isascii() and last.isdigit():
            number = _NUMBER.search(rest)
            assert number is not None
            return _number(number.group().replace(",", ""))
        if last.isascii() and last.isalpha():
            latin = _LATIN.search(rest)
            assert latin is not None
            return _latin(latin.group())
        if "\uac00" <= last <= "\ud7a3":
            coda = (ord(last) - 0xAC00) % 28
            return Sound.VOWEL if coda == 0 else Sound.RIEUL if coda == 8 else Sound.CONSONANT
        if "\u3131" <= last <= "\u314e":  # a consonant letter, read by its name (리을 for ㄹ)
            return Sound.RIEUL if last == "ㄹ" else Sound.CONSONANT
        if "\u314f" <= last <= "\u3163":  # a vowel letter
            return Sound.VOWEL
        if unicodedata.category(last).startswith(("L", "N")):
            return Sound.UNKNOWN  # another script: Hanja, kana, ...
        rest = rest[:-1]  # punctuation, markdown, quotes, emoji


def _drop_aside(text: str) -> str:
    """``text`` without its closing bracketed aside, or the inside of a text that is
    nothing but the bracket."""
    close = text[-1]
    opening = _OPENING[close]
    depth = 0
    for index in range(len(text) - 1, -1, -1):
        if text[index] == close:
            depth += 1
        elif text[index] == opening:
            depth -= 1
            if depth == 0:
                before = text[:index]
                return before if before.strip() else text[index + 1 : -1]
    return text[:-1]  # unbalanced: skip the bracket alone


def _number(digits: str) -> Sound:
    stripped = digits.rstrip("0")
    if not stripped:
        return Sound.CONSONANT  # 영
    zeros = len(digits) - len(stripped)
    if zeros == 0:
        return _DIGITS[digits[-1]]
    return _PLACES[zeros - 1] if zeros <= len(_PLACES) else Sound.CONSONANT  # 경


def _latin(token: str) -> Sound:
    word = token.rsplit("-", 1)[-1]
    if len(word) == 1 or (word.isupper() and 2 <= len(word) <= 4 and "-" not in token):
        return _LETTERS[word[-1].lower()]
    lower = word.lower()
    if lower in _WORDS:
        return _WORDS[lower]
    if "-" in token or "eo" in lower or "eu" in lower:
        romanised = _romanised(lower)
        if romanised is not None:
            return romanised
    return _english(lower)


def _romanised(word: str) -> Sound | None:
    """A romanised Korean syllable's ending (Revised Romanisation and the usual name
    spellings), or None when it does not end like one."""
    last = word[-1]
    if last in "aeiouy":
        return Sound.VOWEL
    if last == "l":
        return Sound.RIEUL
    if last in "nmkpt" or word.endswith("ng"):
        return Sound.CONSONANT
    return None


def _english(word: str) -> Sound:
    last = word[-1]
    before = word[-2] if len(word) > 1 else ""
    if last in "aiouyw" or last == "h":
        return Sound.VOWEL
    if last == "e":
        if before in _VOWEL_LETTERS or before == "y" or not _VOWEL_LETTERS & set(word[:-1]):
            return Sound.VOWEL  # a sounded e: Lee, the, Halfbie
        if before == "l":
            return Sound.RIEUL  # -le: 구글, 애플
        if before in "mn":
            return Sound.CONSONANT  # -me, -ne: 게임, 폰
        return Sound.VOWEL  # a silent e after another consonant: 사이트, 케이크
    if last == "l":
        return Sound.RIEUL
    if last == "r":
        return Sound.VOWEL  # 외래어 표기법 drops a final r: 포스터, 트레일러
    if last in "mn" or word.endswith("ng"):
        return Sound.CONSONANT
    if last in "ptkc":
        if word.endswith(("ck", "ook")):
            return Sound.CONSONANT  # 블랙, 북
        if before not in _VOWEL_LETTERS:
            return Sound.VOWEL  # after a consonant: 파트, 데스크
        if len(word) > 2 and word[-3] in _VOWEL_LETTERS:
            return Sound.VOWEL  # after a long vowel: 위크, 보트
        return Sound.CONSONANT  # after a short vowel: 챗, 톱, 닉
    return Sound.VOWEL  # -s, -x, -z, -f, -v, -d, -b, -g, -j, -q: 스, 즈, 프, 브, 드, 그
