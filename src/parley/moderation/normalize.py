"""Normalization: one folded, evasion-resistant reading of a comment, with a map back to the original.

Everything that matches words (term lists, the copy detector, the classifiers) reads a comment
through :func:`normalize`, and folds its own patterns through the same function, so a pattern and a
text meet whatever way either was written. The reading undoes, in this order:

1. **Invisible characters**: zero-width, bidi and other format characters inside words are dropped
   (``Tro\u200bttel``). Combining marks are dropped, except the diaeresis (see 4).
2. **Compatibility forms**: NFKC, so full-width ``ｔｒｏｔｔｅｌ``, mathematical ``𝐓``, circled ``ⓣ``,
   squared ``🅣`` and regional-indicator ``🇹`` letters become plain letters.
3. **Case and look-alikes**: case folding, then Unicode confusables (UTS #39 data compiled into
   ``disarm``) fold Cyrillic ``а``, Greek ``ο`` and the like onto the Latin letter they imitate.
   A capital ``I`` directly after a lower-case letter (``SektgIas``) is read both as ``i`` and as
   ``l`` (the *alternate* view below), because a sans-serif font draws ``I`` and ``l`` alike.
4. **German spellings**: ``ä``/``ae``, ``ö``/``oe``, ``ü``/``ue`` (also a Greek ``ϋ``), ``ß``/``ss``;
   other accents are dropped (``é`` is ``e``).
5. **Leetspeak** inside words with at least two letters: ``0 1 3 4 5 7 8 9 @ $ € !`` read as
   ``o i e a s t b g a s e i`` (``Tr0tt3l``, ``7r0773l``); ``1`` and ``|`` are read as ``i`` and, in
   the alternate view, ``l``. A leading ``@`` is a mention in the joined view and an ``a`` in the
   alternate one (``@rschloch``). Numbers stay numbers: a leading run of two digits or more
   (``30er``, ``2024``) and a run of three or more not between letters (``A380``) are left alone,
   and in a compound each part is read on its own (``G20-Gipfel``).
6. **Repeated letters** collapse to one (``Trooottel`` and ``Trottel`` both read ``trotel``). Patterns
   are folded the same way, so double letters still match; the price is that ``Staat`` and ``Stat``
   read alike.
7. **Spaced letters**: a run of three or more single letters separated by up to three spaces, dots,
   dashes, underscores or similar (``T r u m p``, ``W.a.f.f.e.n``, ``T-r-o-t-t-e-l``) is joined
   into one word. Where the gaps in a run differ, the wider gaps stay word breaks
   (``d u  b i s t`` is ``du bist``).
8. **Hyphenated compounds** (``Lügen-Presse``) are joined into one word; the *split* view keeps the
   parts as words of their own, so a pattern can match either.

The result is a sequence of :class:`Token` (the folded ``key`` plus the ``[start, end)`` span of the
original text it came from) and one or more :class:`KeyView` strings (``" w1 w2 … "``, every word
padded by single spaces) for linear-time matching. Spans are whole words of the original: the
evidence for a match is "these words, as written".

Folding is cached per character and per word, so a typical 300-character comment costs a few
dozen dictionary look-ups. Nothing here logs the text.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Callable
from enum import IntFlag
from itertools import pairwise
from typing import NamedTuple

from parley.moderation import folding as f
from parley.moderation.types import Span


class Evasion(IntFlag):
    """Which evasion techniques a text (or one word of it) showed."""

    NONE = 0
    INVISIBLE = 1
    """Zero-width or other format characters, or stacked combining marks, inside a word."""
    COMPATIBILITY = 2
    """Full-width, mathematical, circled or other compatibility forms of letters."""
    CONFUSABLE = 4
    """Letters of another script (or a capital I for an l) mixed into a Latin word."""
    LEET = 8
    """Digits or symbols standing for letters."""
    REPEATED = 16
    """A letter written three times or more in a row."""
    SPACED = 32
    """Single letters separated by spaces, dots, dashes or underscores."""


def evasion_names(flags: Evasion | int) -> tuple[str, ...]:
    """``Evasion.SPACED | Evasion.LEET`` → ``("leet", "spaced")`` (stable lower-case names)."""
    return tuple(f.name.lower() for f in Evasion if f and f & flags and f.name)


class Token(NamedTuple):
    """One word of the folded reading, and where it came from."""

    key: str
    """The folded form (lower case, ASCII for Latin-looking text)."""
    start: int
    """Start of the word as written (offset into the original text)."""
    end: int
    """End (exclusive) of the word as written."""
    flags: int = 0
    """:class:`Evasion` bits seen in this word (see :attr:`evasions`)."""
    alt_key: str | None = None
    """The reading with ambiguous ``1``/``|``/mid-word ``I`` as ``l`` (``None`` when there are none)."""
    parts: tuple[Token, ...] = ()
    """For a hyphenated compound: its parts, each a word of its own in the split view."""

    @property
    def evasions(self) -> Evasion:
        return Evasion(self.flags)

    @property
    def span(self) -> Span:
        return Span(self.start, self.end)

    @property
    def spaced(self) -> bool:
        return bool(self.flags & Evasion.SPACED)


class KeyView:
    """One reading of the text as ``" w1 w2 … "``: words separated (and surrounded) by one space.

    A match ``[k0, k1)`` in :attr:`key` maps back to the original text with :meth:`span`. Because
    every word is padded, "at a word boundary" means ``key[k0 - 1] == key[k1] == " "``.
    """

    __slots__ = ("_starts", "_tokens", "_tokens_fn", "key", "name")

    def __init__(self, name: str, keys: list[str], tokens: Callable[[], tuple[Token, ...]]) -> None:
        self.name = name
        """``joined`` (compounds as one word), ``split`` (compound parts as words) or ``alternate``."""
        self.key = " " + " ".join(keys) + " "
        self._starts: list[int] | None = None
        self._tokens: tuple[Token, ...] | None = None
        self._tokens_fn = tokens

    @property
    def tokens(self) -> tuple[Token, ...]:
        """The words of this view, in order (one per word of :attr:`key`)."""
        if self._tokens is None:
            self._tokens = self._tokens_fn()
        return self._tokens

    @property
    def starts(self) -> list[int]:
        """Offset in :attr:`key` where each token's key begins (ascending; computed on first use)."""
        if self._starts is None:
            self._starts = [m.start() for m in _KEY_WORD_RE.finditer(self.key)]
        return self._starts

    def token_at(self, offset: int) -> int:
        """Index of the token whose key covers ``offset`` (the one to its left on a space)."""
        return max(0, bisect_right(self.starts, offset) - 1)

    def tokens_between(self, k0: int, k1: int) -> tuple[Token, ...]:
        return self.tokens[self.token_at(k0) : self.token_at(max(k0, k1 - 1)) + 1]

    def span(self, k0: int, k1: int) -> Span:
        """The original-text span of the whole words that ``key[k0:k1]`` touches."""
        first = self.tokens[self.token_at(k0)]
        last = self.tokens[self.token_at(max(k0, k1 - 1))]
        return Span(first.start, last.end)


class NormalizedText:
    """The folded reading of one text. Build it with :func:`normalize`.

    The key strings are built eagerly (matching needs them); the :class:`Token` objects with their
    spans only when something asks for them (evidence of a match), which keeps a clean comment cheap.
    """

    __slots__ = ("_tokens", "evasions", "original", "views")

    def __init__(self, original: str, views: tuple[KeyView, ...], evasions: Evasion) -> None:
        self.original = original
        self.views = views
        """``joined`` first; ``split`` when the text has hyphenated compounds; ``alternate`` when it
        has ambiguous i/l glyphs."""
        self.evasions = evasions
        self._tokens: tuple[Token, ...] | None = None

    @property
    def folded(self) -> str:
        """The joined view without its padding: ``"du bist ein trotel"``."""
        return self.views[0].key[1:-1]

    @property
    def words(self) -> list[str]:
        """The folded words of the joined view."""
        return self.views[0].key.split()

    @property
    def tokens(self) -> tuple[Token, ...]:
        """The words of the joined view with their original spans."""
        if self._tokens is None:
            self._tokens = _tokens(self.original)
        return self._tokens

    def written(self, span: Span) -> str:
        """The original text of ``span``, as the author wrote it."""
        return self.original[span.start : span.end]


def normalize(text: str) -> NormalizedText:
    """Fold ``text`` into its evasion-resistant reading (see the module docstring)."""
    get = _INFO_CACHE.get
    infos = [get(s) or _info(s) for s in _TOKEN_RE.findall(text)]
    special = [i for i in infos if i.special]
    nt = NormalizedText(text, (), Evasion.NONE)
    views = [KeyView("joined", [i.key for i in infos if i.key], lambda: nt.tokens)]
    if special:
        bits = 0
        for info in special:
            bits |= info.bits
        nt.evasions = Evasion(bits)
        if any(i.split is not None for i in special):
            split = [i.split or i.key for i in infos if i.key]
            views.append(
                KeyView("split", split, lambda: tuple(p for t in nt.tokens for p in (t.parts or (t,))))
            )
        if any(i.alt is not None for i in special):
            views.append(KeyView("alternate", [i.alt or i.key for i in infos if i.key], lambda: nt.tokens))
    nt.views = tuple(views)
    return nt


def fold(text: str) -> str:
    """The folded form of a short text (a term, a phrase): words joined by single spaces."""
    return normalize(text).folded


def _tokens(text: str) -> tuple[Token, ...]:
    out: list[Token] = []
    for m in _TOKEN_RE.finditer(text):
        s = m.group()
        info = _INFO_CACHE.get(s) or _info(s)
        base = m.start()
        for a, b, key, alt, bits, parts in info.pieces:
            sub = tuple(Token(k, base + x, base + y, fl, al) for x, y, k, al, fl in parts)
            out.append(Token(key, base + a, base + b, bits, alt, sub))
    return tuple(out)


# --------------------------------------------------------------------------------------------------
# Tokenizing: one regex finds words (hyphenated compounds included) and runs of spaced letters.

_INVISIBLE = (
    "\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180f\u200b-\u200f\u202a-\u202e"
    "\u2060-\u206f\u3164\ufe00-\ufe0f\ufeff\uffa0\U0001d173-\U0001d17a\U000e0000-\U000e0fff"
)
_MARKS = "\u0300-\u036f\u0483-\u0489\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f"
_SYMBOLS = re.escape(f.LEET_SYMBOLS)
# Enclosed letters (ⓣ, 🄰, 🅣, 🇹) are symbols to Unicode but letters to a reader.
_ENCLOSED = "\u2460-\u24ff\U0001f100-\U0001f1ff"
_T = f"\\w{_INVISIBLE}{_MARKS}{_ENCLOSED}{_SYMBOLS}"  # characters a word is made of
_HYPHENS = "\\-\u2010\u2011"
# A single letter: one letter or digit, maybe with marks or invisibles, not followed by a letter.
_LETTER = f"(?:[^\\W_]|[{_ENCLOSED}])"
_SINGLE = f"{_LETTER}[{_INVISIBLE}{_MARKS}]*(?![^\\W_])(?![{_ENCLOSED}{_INVISIBLE}{_MARKS}@$€|])"
# Gaps allowed inside a run of spaced letters: up to three spaces, dots, dashes, underscores, …
_GAP_CHARS = " \\t\\r\\n\u00a0\u2009\u202f.\\-_·•*/+~–"
_RUN = f"(?<![{_T}]){_SINGLE}(?:[{_GAP_CHARS}]{{1,3}}{_SINGLE}){{2,}}"
_TOKEN_RE = re.compile(f"{_RUN}|[{_T}]+(?:[{_HYPHENS}][{_T}]+)*")  # no groups: findall gives strings
_RUN_RE = re.compile(_RUN)
_KEY_WORD_RE = re.compile(r"[^ ]+")
_SINGLE_RE = re.compile(f"{_LETTER}[{_INVISIBLE}{_MARKS}]*")
_PART_RE = re.compile(f"[^_{_HYPHENS}]+")
_LEAD_TRIM = "!€"
_TAIL_TRIM = "@!|$€"
_BLANKS = " \t\r\n\u00a0\u2009\u202f"

_Part = tuple[int, int, str, "str | None", int]
_Piece = tuple[int, int, str, "str | None", int, tuple[_Part, ...]]
_CACHE_LIMIT = 200_000


class _Info:
    """The folding of one regex match, independent of where it occurs (so it is cached by string)."""

    __slots__ = ("alt", "bits", "key", "pieces", "special", "split")

    def __init__(self, pieces: list[_Piece]) -> None:
        self.pieces = tuple(pieces)
        self.key = " ".join(p[2] for p in pieces)
        self.bits = 0
        for p in pieces:
            self.bits |= p[4]
        self.split = (
            " ".join(" ".join(x[2] for x in p[5]) if p[5] else p[2] for p in pieces)
            if any(p[5] for p in pieces)
            else None
        )
        self.alt = " ".join(p[3] or p[2] for p in pieces) if any(p[3] for p in pieces) else None
        self.special = bool(self.bits or self.split is not None or self.alt is not None)


_INFO_CACHE: dict[str, _Info] = {}


def _info(s: str) -> _Info:
    info = _Info(_spaced_run(s) if _RUN_RE.fullmatch(s) else _word(s))
    if len(_INFO_CACHE) >= _CACHE_LIMIT:
        _INFO_CACHE.clear()
    _INFO_CACHE[s] = info
    return info


def _word(s: str) -> list[_Piece]:
    """Fold one word: split at underscores, join hyphenated compounds, trim edge symbols."""
    pieces: list[_Piece] = []
    words: list[list[tuple[int, int, str, int]]] = [[]]
    for m in _PART_RE.finditer(s):
        a, b = m.start(), m.end()
        if a > 0 and s[a - 1] == "_":
            words.append([])
        part = s[a:b]
        lead = len(part) - len(part.lstrip(_LEAD_TRIM))
        part = part[lead:].rstrip(_TAIL_TRIM)
        if not part:
            continue
        letters, bits, _ = f.fold_letters(part)
        if letters:
            words[-1].append((a + lead, a + lead + len(part), letters, bits))
    for parts in words:
        if not parts:
            continue
        if len(parts) == 1:
            a, b, letters, bits = parts[0]
            key, alt, more = f.finish(letters)
            if key:
                pieces.append((a, b, key, alt, bits | more, ()))
            continue
        sub: list[_Part] = []
        bits = 0
        joined = []
        for a, b, letters, pbits in parts:
            key, alt, more = f.finish(letters)
            if key:
                sub.append((a, b, key, alt, pbits | more))
            bits |= pbits | more
            joined.append(f.read_leet(letters)[0])  # leet is read per part: "G20-Gipfel" keeps its 20
        key, alt, more = f.finish("".join(joined), leet=False)
        if key:
            pieces.append((parts[0][0], parts[-1][1], key, alt, bits | more, tuple(sub)))
    return pieces


def _spaced_run(s: str) -> list[_Piece]:
    """Join a run of single letters; where its gaps differ, the wider gaps stay word breaks."""
    singles = [(m.start(), m.end(), *f.fold_letters(m.group())[:2]) for m in _SINGLE_RE.finditer(s)]
    if sum(1 for x in singles if x[2].isalpha()) < 2:  # "1 2 3" is a list of numbers, not a word
        return [p for x in singles if (p := _piece([x]))[2]]
    # Weigh a gap by what is in it: any dot or dash outweighs any number of spaces.
    gaps = [len(s[a[1] : b[0]].strip(_BLANKS)) * 10 + (b[0] - a[1]) for a, b in pairwise(singles)]
    narrow = min(gaps)
    groups = [[singles[0]]]
    for gap, x in zip(gaps, singles[1:], strict=True):
        if gap > narrow:
            groups.append([x])
        else:
            groups[-1].append(x)
    return [p for g in groups if (p := _piece(g))[2]]


def _piece(group: list[tuple[int, int, str, int]]) -> _Piece:
    key, alt, bits = f.finish("".join(x[2] for x in group))
    for x in group:
        bits |= x[3]
    if len(group) > 1:
        bits |= f.SPACED
    return (group[0][0], group[-1][1], key, alt, bits, ())
