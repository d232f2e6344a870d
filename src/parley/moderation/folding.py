"""Character and word folding behind :mod:`parley.moderation.normalize`.

Two cached steps, both pure functions of their input so the caches are safe to share:

- :func:`fold_letters` folds the characters of one word: invisible characters and combining marks
  out (except the diaeresis, which becomes ``e`` after ``a``/``o``/``u``), NFKC, case folding,
  confusables onto Latin look-alikes (``disarm``'s UTS #39 data), German ``ß`` → ``ss``.
- :func:`finish` turns those letters into the matching key: leetspeak, the i/l ambiguity and
  repeated letters.

The evasion bits they return are the values of :class:`parley.moderation.normalize.Evasion`
(plain ints here because enum arithmetic costs more than the folding itself).
"""

from __future__ import annotations

import re
import unicodedata

import disarm

# Evasion bits (mirrors normalize.Evasion).
INVISIBLE = 1
COMPATIBILITY = 2
CONFUSABLE = 4
LEET = 8
REPEATED = 16
SPACED = 32

LEET_SYMBOLS = "@$€!|"
AMBIGUOUS = "\x01"
"""Placeholder for a glyph read as ``i`` (joined view) and ``l`` (alternate view): 1, |, mid-word I."""
MENTION = "\x03"
"""Placeholder for a leading ``@``: a mention in the joined view, an ``a`` in the alternate view."""
DIAERESIS = "\u0308"

# Character kinds (bit set) recorded per character.
_K_LATIN = 1  # ASCII or Latin letter/digit
_K_CONFUSABLE = 2  # letter of another script folded onto a Latin look-alike
_K_INVISIBLE = 4
_K_MARK = 8
_K_COMPAT = 16
_K_OTHER = 32  # a letter of another script with no Latin look-alike

_CACHE_LIMIT = 200_000
_CHAR_CACHE_LIMIT = 50_000
_CHAR_CACHE: dict[str, tuple[str, int]] = {c: (c.lower(), _K_LATIN) for c in map(chr, range(128))}
_LETTERS_CACHE: dict[str, tuple[str, int, int]] = {}
_FINISH_CACHE: dict[str, tuple[str, str | None, int]] = {}

_UMLAUT_RE = re.compile(f"([aou]){DIAERESIS}")
_LEET = {"0": "o", "1": AMBIGUOUS, "3": "e", "4": "a", "5": "s", "7": "t", "8": "b", "9": "g"}
_LEET.update({"@": "a", "$": "s", "€": "e", "!": "i", "|": AMBIGUOUS})
_LEET_CHARS = frozenset(_LEET)
_PLACEHOLDERS = frozenset((AMBIGUOUS, MENTION))
_DIGIT_RUN_RE = re.compile(r"\d+")
_REPEAT_RE = re.compile(r"([^\W\d_])\1+")
_TRIPLE_RE = re.compile(r"([^\W\d_])\1\1")


def fold_letters(s: str) -> tuple[str, int, int]:
    """Fold one raw word → ``(letters, evasion bits, visible character count)``."""
    cached = _LETTERS_CACHE.get(s)
    if cached is not None:
        return cached
    plain = s.isascii() and s.isalpha() and "I" not in s[1:]  # the common case: no work at all
    result = (s.lower(), 0, len(s)) if plain else _fold_chars(s)
    if len(_LETTERS_CACHE) >= _CACHE_LIMIT:
        _LETTERS_CACHE.clear()
    _LETTERS_CACHE[s] = result
    return result


def _fold_chars(s: str) -> tuple[str, int, int]:
    parts: list[str] = []
    flags = 0
    visible = 0
    kinds = 0
    prev = ""
    marks = 0
    for ch in s:
        if ch == "I" and prev.islower():
            folded, kind = AMBIGUOUS, _K_LATIN  # SektgIas: a capital I drawn like an l
        else:
            cached = _CHAR_CACHE.get(ch)
            folded, kind = cached if cached is not None else _fold_char(ch)
        prev = ch
        kinds |= kind
        if kind & _K_INVISIBLE:
            flags |= INVISIBLE
        if kind & _K_MARK:
            marks += 1
            if marks > 2:  # stacked marks ("zalgo") hide a word as well as zero-width characters do
                flags |= INVISIBLE
        else:
            marks = 0
        if kind & _K_COMPAT:
            flags |= COMPATIBILITY
        if not kind & (_K_INVISIBLE | _K_MARK):
            visible += 1
        parts.append(folded)
    letters = "".join(parts)
    if DIAERESIS in letters:
        letters = _UMLAUT_RE.sub(r"\1e", letters).replace(DIAERESIS, "")
    # A look-alike counts as an evasion only inside a word that also has Latin letters; a whole
    # Cyrillic or Greek word is just a word in that language (it is still folded the same way).
    if kinds & _K_CONFUSABLE and kinds & _K_LATIN:
        flags |= CONFUSABLE
    return letters, flags, visible


def _fold_char(ch: str) -> tuple[str, int]:
    result = _fold_char_uncached(ch)
    if len(_CHAR_CACHE) < _CHAR_CACHE_LIMIT:
        _CHAR_CACHE[ch] = result
    return result


def _fold_char_uncached(ch: str) -> tuple[str, int]:
    if ch in LEET_SYMBOLS:
        return ch, _K_LATIN
    category = unicodedata.category(ch)
    if category in ("Mn", "Me"):
        return (DIAERESIS if ch == DIAERESIS else ""), _K_MARK
    if category == "Cf" or not disarm.canonicalize(ch):
        return "", _K_INVISIBLE
    if 0x1F1E6 <= ord(ch) <= 0x1F1FF:  # regional indicator letters 🇦-🇿
        return chr(ord("a") + ord(ch) - 0x1F1E6), _K_COMPAT | _K_LATIN
    kind = 0
    nfkc = unicodedata.normalize("NFKC", ch)
    if nfkc != unicodedata.normalize("NFC", ch):
        kind |= _K_COMPAT
    out: list[str] = []
    for c in unicodedata.normalize("NFD", nfkc):
        if unicodedata.combining(c):
            if c == DIAERESIS:
                out.append(c)
            continue
        if c.isascii():
            out.append(c.lower())
            kind |= _K_LATIN
            continue
        latin = unicodedata.name(c, "").startswith("LATIN")
        if latin:
            kind |= _K_LATIN
        folded = disarm.canonicalize(c).casefold()
        if not folded.isascii():
            skeleton = disarm.skeleton_key(c)
            if skeleton.isascii():
                folded = skeleton
        folded = "".join(
            x for x in unicodedata.normalize("NFD", folded) if not unicodedata.combining(x) or x == DIAERESIS
        )
        if not folded.isascii():
            kind |= _K_OTHER
        elif not latin:
            kind |= _K_CONFUSABLE
        out.append(folded)
    # Keep letters and digits only: NFKC turns a parenthesized 🄣 into "(t)".
    folded = "".join(c for c in "".join(out) if c.isalnum() or c == DIAERESIS)
    return folded, kind or _K_OTHER


def read_leet(letters: str) -> tuple[str, int]:
    """Digits and symbols read as letters in a word of at least two letters → ``(letters, bits)``."""
    if _LEET_CHARS.isdisjoint(letters) or sum(1 for c in letters if c.isalpha()) < 2:
        return letters, 0
    converted = _leet(letters)
    # a leading @ is usually a mention, so it alone does not count as leet
    changed = converted[1:] != letters[1:] or (converted[:1] != letters[:1] and letters[0] != "@")
    return converted, (LEET if changed else 0)


def finish(letters: str, *, leet: bool = True) -> tuple[str, str | None, int]:
    """Leet (unless the caller read it per part), the i/l ambiguity and repeated letters.

    Returns ``(key, alternate key or None, bits)``.
    """
    cache_key = letters if leet else "\x02" + letters
    cached = _FINISH_CACHE.get(cache_key)
    if cached is not None:
        return cached
    flags = 0
    s = letters
    if leet:
        s, flags = read_leet(s)
    if not _LEET_CHARS.isdisjoint(s):
        s = "".join(c for c in s if c.isalnum() or c in _PLACEHOLDERS)  # symbols left are punctuation
    if _TRIPLE_RE.search(s):
        flags |= REPEATED
    s = _REPEAT_RE.sub(r"\1", s)
    alt: str | None = None
    if AMBIGUOUS in s or MENTION in s:
        alt = _REPEAT_RE.sub(r"\1", s.replace(AMBIGUOUS, "l").replace(MENTION, "a"))
        s = _REPEAT_RE.sub(r"\1", s.replace(AMBIGUOUS, "i").replace(MENTION, ""))
        if alt == s:
            alt = None
    result = (s, alt, flags)
    if len(_FINISH_CACHE) >= _CACHE_LIMIT:
        _FINISH_CACHE.clear()
    _FINISH_CACHE[cache_key] = result
    return result


def _leet(s: str) -> str:
    """Read digits and symbols as letters, but leave numbers alone.

    A run of digits is a number (kept) when it starts the word and has two digits or more
    (``30er``, ``2024``), or has three or more and does not sit between letters (``A380``); a run
    between letters is leet whatever its length (``7r0773l``).
    """
    protected: set[int] = set()
    for m in _DIGIT_RUN_RE.finditer(s):
        a, b = m.start(), m.end()
        inside = a > 0 and b < len(s) and s[a - 1].isalpha() and s[b].isalpha()
        if (b - a >= 2 and a == 0) or (b - a >= 3 and not inside):
            protected.update(range(a, b))
    out = "".join(c if i in protected else _LEET.get(c, c) for i, c in enumerate(s))
    return MENTION + out[1:] if s[0] == "@" else out
