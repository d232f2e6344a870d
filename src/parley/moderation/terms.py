"""Term lists compiled into one Aho–Corasick automaton and matched on normalized text.

Terms and comments go through the same :func:`~parley.moderation.normalize.normalize`, so both
meet in the folded alphabet whatever way either was written. The automaton holds the folded form
of every term and finds all of them in one pass over each key view, in time linear in the text
(plus the hits); moderator input never becomes a regular expression. The hits are then filtered by
the term's *mode* (see :class:`~parley.moderation.policy.TermsPolicy` for the syntax):

============ ==================================== ===========================================
mode         written                              hit accepted when
============ ==================================== ===========================================
``word``     ``trottel``, ``lügen presse``         it starts and ends at word boundaries
``prefix``   ``idiot*``                            it starts at a word boundary
``suffix``   ``*trottel``                          it ends at a word boundary
``infix``    ``*trottel*``                         always
============ ==================================== ===========================================

A spaced-letter run (``d u b i s t e i n t r o t t e l``) has lost its word boundaries, so inside
such a run every mode matches anywhere. Compiled matchers are cached by the term-list version.
"""

from __future__ import annotations

import functools
import threading
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

import ahocorasick

from parley.moderation.normalize import Evasion, KeyView, NormalizedText, evasion_names, normalize
from parley.moderation.policy import TermsPolicy
from parley.moderation.types import Span

MAX_TERM_CHARS = 200


class TermMode(StrEnum):
    WORD = "word"
    PREFIX = "prefix"
    SUFFIX = "suffix"
    INFIX = "infix"


@dataclass(frozen=True, slots=True)
class Term:
    """One parsed term: what the moderator wrote and the folded keys it is matched by."""

    raw: str
    """The term as written, without its ``*`` (shown in reasons)."""
    keys: tuple[str, ...]
    """Folded forms: the joined reading first, then split/alternate readings when they differ."""
    mode: TermMode
    kind: str
    """``banned`` or ``suspect`` (any label the caller uses)."""


@dataclass(frozen=True, slots=True)
class TermMatch:
    """Where a term was found: the whole words of the original text, and how they were written."""

    term: Term
    span: Span
    written: str
    evasions: tuple[str, ...]
    count: int = 1


@functools.lru_cache(maxsize=65_536)
def parse_term(raw: str, kind: str) -> Term:
    """Parse one moderator term. Raises :class:`ValueError` (with a message for people) if it is bad.

    Cached: a site's policy is validated whenever its settings are loaded, and a thousand terms
    must not be folded again each time.
    """
    text = raw.strip()
    lead = len(text) - len(text.lstrip("*"))
    trail = len(text) - len(text.rstrip("*"))
    core = text.strip("*").strip()
    if lead > 1 or trail > 1 or "*" in core:
        raise ValueError(f"{raw!r}: '*' may only stand once at the start or the end of a term")
    if len(core) > MAX_TERM_CHARS:
        raise ValueError(f"{raw[:40]!r}…: a term may have at most {MAX_TERM_CHARS} characters")
    nt = normalize(core)
    keys = tuple(dict.fromkeys(v.key[1:-1] for v in nt.views if v.key.strip()))
    if not keys:
        raise ValueError(f"{raw!r}: nothing to match is left after normalizing")
    mode = {(0, 0): TermMode.WORD, (0, 1): TermMode.PREFIX, (1, 0): TermMode.SUFFIX}.get(
        (lead, trail), TermMode.INFIX
    )
    return Term(raw=core, keys=keys, mode=mode, kind=kind)


class TermMatcher:
    """A compiled set of terms. Immutable after construction; safe to share between threads."""

    def __init__(self, terms: Iterable[Term]) -> None:
        self.terms: tuple[Term, ...] = tuple(terms)
        entries: dict[str, list[tuple[int, int]]] = {}
        for index, term in enumerate(self.terms):
            for key in term.keys:
                entries.setdefault(key, []).append((index, len(key)))
        self._automaton: ahocorasick.Automaton | None = None
        if entries:
            automaton = ahocorasick.Automaton()
            for key, refs in entries.items():
                automaton.add_word(key, tuple(refs))
            automaton.make_automaton()
            self._automaton = automaton

    def __len__(self) -> int:
        return len(self.terms)

    def find(self, nt: NormalizedText) -> list[TermMatch]:
        """Every term found in ``nt``, once per term (first occurrence, with the count), in order."""
        if self._automaton is None:
            return []
        found: dict[int, list[Span]] = {}
        alternate_only: set[int] = set()
        spaced = bool(nt.evasions & Evasion.SPACED)
        terms = self.terms
        for view in nt.views:
            key = view.key
            before = set(found) if view.name == "alternate" else None
            for end, refs in self._automaton.iter(key):
                for index, length in refs:
                    start = end - length + 1
                    mode = terms[index].mode
                    left = key[start - 1] == " "
                    right = key[end + 1] == " "
                    ok = (
                        (left and right)
                        or mode is TermMode.INFIX
                        or (left and mode is TermMode.PREFIX)
                        or (right and mode is TermMode.SUFFIX)
                    )
                    if not ok and spaced:
                        ok = _inside_spaced_word(view, start, end + 1)
                    if ok:
                        span = view.span(start, end + 1)
                        spans = found.setdefault(index, [])
                        if span not in spans:
                            spans.append(span)
                        if before is not None and index not in before:
                            alternate_only.add(index)
        matches = []
        for index, spans in found.items():
            spans.sort(key=lambda s: (s.start, s.end))
            first = spans[0]
            words = [t for t in nt.tokens if t.start < first.end and t.end > first.start]
            flags = Evasion.NONE
            for t in words:
                flags |= t.flags
            if index in alternate_only:  # only the l-reading of an I, 1 or | matched
                flags |= Evasion.CONFUSABLE
            matches.append(
                TermMatch(terms[index], first, nt.written(first), evasion_names(flags), len(spans))
            )
        matches.sort(key=lambda m: (m.span.start, m.term.raw))
        return matches


def _inside_spaced_word(view: KeyView, k0: int, k1: int) -> bool:
    i = view.token_at(k0)
    if i != view.token_at(k1 - 1):
        return False
    return view.tokens[i].spaced


_CACHE: OrderedDict[str, TermMatcher] = OrderedDict()
_CACHE_SIZE = 32
_LOCK = threading.Lock()


def compile_terms(policy: TermsPolicy) -> TermMatcher:
    """The matcher for ``policy``, compiled once per term-list version and cached."""
    version = policy.version
    with _LOCK:
        cached = _CACHE.get(version)
        if cached is not None:
            _CACHE.move_to_end(version)
            return cached
    terms = [parse_term(t, "banned") for t in policy.banned]
    terms += [parse_term(t, "suspect") for t in policy.suspect]
    matcher = TermMatcher(terms)
    with _LOCK:
        _CACHE[version] = matcher
        while len(_CACHE) > _CACHE_SIZE:
            _CACHE.popitem(last=False)
    return matcher
