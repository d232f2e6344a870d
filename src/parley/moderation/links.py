"""Links in a comment: finding them, and comparing their domains with a site's allow and deny lists.

Domains are compared in their canonical ASCII form: lower case, no trailing dot, IDNA (so a
full-width ``ｅｖｉｌ.com`` is ``evil.com`` and ``bücher.de`` is ``xn--bcher-kva.de``). A list entry
covers its subdomains (``example.com`` covers ``www.example.com``); when an allowed and a denied
entry both cover a host, the longer (more specific) one wins.

A denied domain is also refused in look-alike spellings (``раураl.com`` with Cyrillic letters,
``paypa1.com``): labels are compared by their confusable skeleton. Allow entries never match by
skeleton, so a look-alike can never borrow an allowed domain's trust.
"""

from __future__ import annotations

import functools
import re
import threading
from collections import OrderedDict
from dataclasses import dataclass
from enum import StrEnum
from urllib.parse import urlsplit

import disarm

from parley.moderation.policy import LinksPolicy
from parley.moderation.terms import TermMatcher, parse_term
from parley.moderation.types import Span

# Scheme or www. links; bare domains only with a known top-level domain in lower case, so that
# "Ende.Es" (a missing space) is not a link.
_TLDS = (
    "com|net|org|info|biz|de|at|ch|li|lu|eu|uk|us|ru|ua|by|io|co|me|tv|cc|ly|gl|to|be|nl|fr|it|es|pl|cz|"
    "sk|hu|ro|bg|gr|se|no|dk|fi|pt|ie|online|site|news|xyz|top|club|live|app|dev|link|click|shop|blog|icu"
)
_URL_RE = re.compile(r"(?i)\b(?:https?://|www\.)[^\s<>\"'«»„“”()\[\]{}]+")
_BARE_RE = re.compile(
    rf"(?<![\w@./-])(?:[^\W_](?:[\w-]{{0,61}}[^\W_])?\.){{1,8}}(?:{_TLDS})(?![\w-])(?:/[^\s<>\"'«»„“”()]*)?"
)
_HINT_RE = re.compile(rf"(?i:www\.)|\.(?:{_TLDS})(?![\w-])")
_TRAILING = ".,;:!?…"
_LABEL_RE = re.compile(r"[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?")


@dataclass(frozen=True, slots=True)
class Link:
    url: str
    host: str
    """Canonical ASCII host (see :func:`normalize_domain`)."""
    span: Span | None = None


@functools.lru_cache(maxsize=65_536)
def normalize_domain(value: str) -> str | None:
    """``"https://WWW.Bücher.de:443/x"`` → ``"www.xn--bcher-kva.de"``; None if it is not a host name."""
    host = value.strip()
    if "://" in host:
        try:
            host = urlsplit(host).hostname or ""
        except ValueError:
            return None
    host = host.split("/", 1)[0].rsplit("@", 1)[-1].split(":", 1)[0].lower().rstrip(".")
    if host.startswith("*."):
        host = host[2:]
    if not host or len(host) > 253:
        return None
    labels = []
    for label in host.split("."):
        try:
            ascii_label = label.encode("idna").decode("ascii").lower()
        except UnicodeError:
            return None
        if not _LABEL_RE.fullmatch(ascii_label):
            return None
        labels.append(ascii_label)
    return ".".join(labels) if len(labels) >= 2 else None


def extract_links(text: str) -> list[Link]:
    """Links in plain text, in order: ``https://…``, ``www.…`` and bare ``name.tld`` forms."""
    if "://" not in text and not _HINT_RE.search(text):  # most comments: one cheap scan, no link
        return []
    found: list[Link] = []
    taken: list[tuple[int, int]] = []
    for rx in (_URL_RE, _BARE_RE):
        for m in rx.finditer(text):
            raw = m.group().rstrip(_TRAILING)
            start, end = m.start(), m.start() + len(raw)
            if any(a < end and start < b for a, b in taken):
                continue
            host = normalize_domain(raw if "://" in raw else "http://" + raw)
            if host is None:
                continue
            taken.append((start, end))
            found.append(Link(raw, host, Span(start, end)))
    found.sort(key=lambda link: link.span.start if link.span else 0)
    return found


class DomainStatus(StrEnum):
    ALLOWED = "allowed"
    DENIED = "denied"
    LOOKALIKE = "lookalike"
    NEUTRAL = "neutral"


@dataclass(frozen=True, slots=True)
class DomainRule:
    status: DomainStatus
    entry: str | None = None
    """The list entry that decided (as the site wrote it)."""


class DomainLists:
    """A site's allow and deny lists, compiled for suffix look-ups."""

    def __init__(self, allow: tuple[str, ...], deny: tuple[str, ...]) -> None:
        self.allow = {d: raw for raw in allow if (d := normalize_domain(raw))}
        self.deny = {d: raw for raw in deny if (d := normalize_domain(raw))}
        self.deny_skeletons = {_skeleton(d): raw for d, raw in self.deny.items()}
        self.obfuscated = TermMatcher(
            parse_term(form, raw)
            for d, raw in self.deny.items()
            for form in {" ".join(_labels_unicode(d)), "".join(_labels_unicode(d))}
        )

    def classify(self, host: str) -> DomainRule:
        labels = host.split(".")
        for i in range(len(labels) - 1):  # longest suffix first: the most specific entry wins
            suffix = ".".join(labels[i:])
            if suffix in self.deny:
                return DomainRule(DomainStatus.DENIED, self.deny[suffix])
            if suffix in self.allow:
                return DomainRule(DomainStatus.ALLOWED, self.allow[suffix])
        if self.deny_skeletons:
            skeleton = _skeleton(host).split(".")
            for i in range(len(skeleton) - 1):
                hit = self.deny_skeletons.get(".".join(skeleton[i:]))
                if hit is not None:
                    return DomainRule(DomainStatus.LOOKALIKE, hit)
        return DomainRule(DomainStatus.NEUTRAL)


def _labels_unicode(host: str) -> list[str]:
    out = []
    for label in host.split("."):
        try:
            out.append(label.encode("ascii").decode("idna"))
        except UnicodeError:
            out.append(label)
    return out


def _skeleton(host: str) -> str:
    return ".".join(disarm.skeleton_key(label, digit_policy="tr39") for label in _labels_unicode(host))


_CACHE: OrderedDict[str, DomainLists] = OrderedDict()
_LOCK = threading.Lock()


def compile_domains(policy: LinksPolicy) -> DomainLists:
    """The compiled lists of ``policy``, cached by the lists' content."""
    key = policy.version
    with _LOCK:
        hit = _CACHE.get(key)
        if hit is not None:
            _CACHE.move_to_end(key)
            return hit
    lists = DomainLists(policy.allow, policy.deny)
    with _LOCK:
        _CACHE[key] = lists
        while len(_CACHE) > 32:
            _CACHE.popitem(last=False)
    return lists
