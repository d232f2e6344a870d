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
HITS_PER_CHAR = 2
"""Automaton hits a text may produce per character of its folded readings (at least
:data:`MIN_HIT_BUDGET`). Matching is linear in the text *plus the hits*, and a term list of
overlapping phrases (``*a de*``, ``*a de a de*`` …) against ``a de a de …`` has dozens of hits at
every word; past the budget the matcher gives up (:class:`MatchBudgetExceeded`) and the phase,
failing closed, holds the comment with ``phase_failed``. So the cost stays linear in the text
whatever the list. Real comments have well under one hit per character."""
MIN_HIT_BUDGET = 1_000
MAX_COUNTED = 20
"""Accepted hits per group of equal terms whose places are computed (the evidence's ``count``
saturates near here); further hits cost a dictionary look-up, not a span."""


class MatchBudgetExceeded(RuntimeError):
    """The text produced more hits than its budget (:data:`HITS_PER_CHAR`): hold it for a person."""


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
    """A compiled set of terms. Immutable after construction; safe to share between threads.

    Terms that share a folded key and a mode match at exactly the same places, so the automaton
    reports them as one *group* (a list of 59 spellings that all fold to ``a`` costs one hit, not
    59); each group's places are found once and handed to all its terms at the end.
    """

    def __init__(self, terms: Iterable[Term]) -> None:
        self.terms: tuple[Term, ...] = tuple(terms)
        groups: dict[tuple[str, TermMode], list[int]] = {}
        for index, term in enumerate(self.terms):
            for key in term.keys:
                groups.setdefault((key, term.mode), []).append(index)
        self._groups: tuple[tuple[int, ...], ...] = tuple(tuple(members) for members in groups.values())
        entries: dict[str, list[tuple[int, int, TermMode]]] = {}
        for group, (key, mode) in enumerate(groups):
            entries.setdefault(key, []).append((group, len(key), mode))
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
        """Every term found in ``nt``, once per term (first occurrence, with the count), in order.

        Raises :class:`MatchBudgetExceeded` past the hit budget (:data:`HITS_PER_CHAR`), so the cost
        is linear in the text; a group stops computing places after :data:`MAX_COUNTED` hits.
        """
        if self._automaton is None:
            return []
        # places per group as an ordered set: a hostile text has a hit at almost every position, and
        # a list's `in` made that quadratic (100 KB of "aaa…a." took over a minute)
        found: dict[int, dict[Span, None]] = {}
        accepted: dict[int, int] = {}
        in_alternate: set[int] = set()
        elsewhere: set[int] = set()
        spaced = bool(nt.evasions & Evasion.SPACED)
        hits = 0
        budget = max(MIN_HIT_BUDGET, HITS_PER_CHAR * sum(len(v.key) for v in nt.views))
        for view in nt.views:
            key = view.key
            seen = in_alternate if view.name == "alternate" else elsewhere
            for end, refs in self._automaton.iter(key):
                hits += len(refs)
                if hits > budget:
                    raise MatchBudgetExceeded(f"more than {budget} term hits")
                for group, length, mode in refs:
                    if accepted.get(group, 0) >= MAX_COUNTED:
                        seen.add(group)
                        continue
                    start = end - length + 1
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
                        accepted[group] = accepted.get(group, 0) + 1
                        found.setdefault(group, {})[view.span(start, end + 1)] = None
                        seen.add(group)
        per_term: dict[int, dict[Span, None]] = {}
        alternate_hit: set[int] = set()
        other_hit: set[int] = set()
        for group, places in found.items():
            for index in self._groups[group]:
                per_term.setdefault(index, {}).update(places)
                if group in in_alternate:
                    alternate_hit.add(index)
                if group in elsewhere:
                    other_hit.add(index)
        matches = []
        terms = self.terms
        for index, unique in per_term.items():
            spans = sorted(unique, key=lambda s: (s.start, s.end))
            first = spans[0]
            words = [t for t in nt.tokens if t.start < first.end and t.end > first.start]
            flags = Evasion.NONE
            for t in words:
                flags |= t.flags
            if (
                index in alternate_hit and index not in other_hit
            ):  # only the l-reading of an I, 1 or | matched
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
