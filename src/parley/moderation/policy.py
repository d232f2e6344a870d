"""Per-site moderation policy: the typed knobs every phase reads.

A site stores its policy as JSON (``sites.settings["moderation"]``); ``parley moderate --config``
reads the same model from TOML (one table per phase: ``[terms]``, ``[links]``, ``[copies]``,
``[rate]``, ``[trust]``, ``[names]``, ``[reports]``, ``[classifier]``). Every field has a default that
is right for a new site: nothing is pre-moderated, the term lists are empty, copy and flood
detection are on.
"""

from __future__ import annotations

import hashlib
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, field_validator

# The classifier phases' settings are the classifier package's (per task: enabled, threshold, hold);
# re-exported here as the policy's ``classifier`` table. Decision and evidence: docs/decisions/0005.
from parley.classifiers.settings import ClassifierPolicy

HoldOrReject = Literal["hold", "reject"]

_MAX_TERMS = 50_000
_MAX_DOMAINS = 10_000


class TermsPolicy(BaseModel):
    """Banned terms reject a comment, suspect terms hold it for a moderator.

    A term is a word or a phrase, matched on the normalized text at word boundaries, so the way
    it is written (spaced, leet, look-alike letters, ``ae``/``ä``) does not matter and ``trottel``
    never matches ``Trottoir``. A ``*`` at either end widens it to part of a word:

    - ``trottel`` matches the word *Trottel* only (also ``T r o t t e l``, ``Tr0ttel`` …);
    - ``idiot*`` matches words that start with it: *Idioten*, *idiotisch*;
    - ``*trottel`` matches words that end with it, i.e. German compounds: *Volltrottel*;
    - ``*trottel*`` matches it anywhere inside a word (use sparingly: this is how Scunthorpe happens);
    - ``lügen presse`` (a phrase) matches those words in a row; ``lügenpresse`` matches the one word,
      also written ``Lügen-Presse``.

    ``*`` elsewhere in a term is an error; nothing else is special (no regular expressions).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    banned: tuple[str, ...] = Field((), description="Terms that reject a comment.")
    suspect: tuple[str, ...] = Field((), description="Terms that hold a comment for a moderator.")
    _version: str = PrivateAttr("")

    @field_validator("banned", "suspect")
    @classmethod
    def _check_terms(cls, terms: tuple[str, ...]) -> tuple[str, ...]:
        from parley.moderation.terms import parse_term

        if len(terms) > _MAX_TERMS:
            raise ValueError(f"at most {_MAX_TERMS} terms")
        for raw in terms:
            parse_term(raw, "banned")  # raises ValueError with the reason
        return terms

    def model_post_init(self, context: Any, /) -> None:
        digest = hashlib.sha256()
        for kind, terms in (("banned", self.banned), ("suspect", self.suspect)):
            digest.update(kind.encode())
            for t in terms:
                digest.update(b"\x00" + t.encode("utf-8", "surrogatepass"))
        self._version = digest.hexdigest()[:24]

    @property
    def version(self) -> str:
        """A digest of both lists: compiled matchers are cached by it."""
        return self._version


class LinksPolicy(BaseModel):
    """Links: a count limit and per-site allow and deny lists of domains (subdomains included)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    max_links: int | None = Field(
        3, ge=0, le=1000, description="Hold above this many links (None: no limit)."
    )
    allow: tuple[str, ...] = Field((), description="Domains always fine; they do not count toward the limit.")
    deny: tuple[str, ...] = Field((), description="Domains (and their look-alikes) that are refused.")
    allowlist_only: bool = Field(False, description="Hold any link to a domain that is not allowed.")
    deny_verdict: HoldOrReject = Field("reject", description="What a link to a denied domain does.")
    _version: str = PrivateAttr("")

    @field_validator("allow", "deny")
    @classmethod
    def _check_domains(cls, domains: tuple[str, ...]) -> tuple[str, ...]:
        from parley.moderation.links import normalize_domain

        if len(domains) > _MAX_DOMAINS:
            raise ValueError(f"at most {_MAX_DOMAINS} domains")
        for d in domains:
            if normalize_domain(d) is None:
                raise ValueError(f"not a domain name: {d!r}")
        return domains

    def model_post_init(self, context: Any, /) -> None:
        lists = "\x00".join(self.allow) + "\x01" + "\x00".join(self.deny)
        self._version = hashlib.sha256(lists.encode("utf-8", "surrogatepass")).hexdigest()[:24]

    @property
    def version(self) -> str:
        """A digest of both lists: compiled lists are cached by it."""
        return self._version


class CopiesPolicy(BaseModel):
    """Near-duplicates of earlier published comments (MinHash over word pairs)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: bool = True
    threshold: float = Field(
        0.8, ge=0.5, le=1.0, description="Estimated Jaccard similarity that counts as a copy."
    )
    window_seconds: int = Field(7 * 86400, ge=60, description="How far back copies are looked for.")
    min_words: int = Field(8, ge=3, le=1000, description="Shorter comments are never copies ('Danke!').")


class RateRule(BaseModel):
    """At most ``max`` comments in any ``per_seconds`` window."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    max: int = Field(ge=1, le=100_000)
    per_seconds: int = Field(ge=1, le=30 * 86400)


class RatePolicy(BaseModel):
    """Flood and rate limits; they apply only when the comment's time is known.

    ``flood`` and ``rate`` count one author's comments (an account, else a guest session) and refuse
    the comment with a Retry-After; ``ip`` counts a hashed address (shared by households and offices,
    hence higher); ``thread`` counts everybody's comments on one story and holds instead of refusing,
    because a busy story is not one person's fault.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: bool = True
    flood: RateRule | None = RateRule(max=3, per_seconds=20)
    rate: tuple[RateRule, ...] = (RateRule(max=10, per_seconds=600), RateRule(max=60, per_seconds=86400))
    ip: tuple[RateRule, ...] = (RateRule(max=30, per_seconds=600),)
    thread: RateRule | None = RateRule(max=60, per_seconds=60)


class TrustPolicy(BaseModel):
    """How much an author's history counts. Both rules are off for a new site."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    premoderate_first: int = Field(0, ge=0, le=1000, description="Hold an author's first N comments.")
    rejection_rate: float | None = Field(
        None, gt=0, le=1, description="Hold when at least this share of recent comments was rejected."
    )
    rejection_min_comments: int = Field(5, ge=1, le=1000)
    rejection_window: int = Field(20, ge=1, le=1000, description="How many recent comments count.")


DEFAULT_RESERVED_NAMES: tuple[str, ...] = (
    "Redaktion",
    "Moderator",
    "Moderation",
    "Admin",
    "Administrator",
    "Parley",
    "System",
)


class NamesPolicy(BaseModel):
    """Display names that look like another account's name or a reserved name."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    reserved: tuple[str, ...] = Field(DEFAULT_RESERVED_NAMES, description="Names nobody but staff may use.")
    reserved_fragments: tuple[str, ...] = Field(
        ("Redaktion", "Moderator", "Moderation"), description="Parts of names nobody but staff may use."
    )
    collision_verdict: HoldOrReject = "hold"
    reserved_verdict: HoldOrReject = "reject"


class ReportsPolicy(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    requeue_after: int = Field(
        3, ge=0, le=10_000, description="Reader reports that re-queue a comment (0: never)."
    )


class ModerationPolicy(BaseModel):
    """Thresholds and switches of the moderation phases for one site."""

    model_config = ConfigDict(extra="forbid")

    min_length: int = Field(1, ge=0, le=100_000, description="Shortest body (characters of plain text).")
    max_length: int = Field(5000, ge=1, le=100_000, description="Longest body (characters of source).")
    premoderate_all: bool = Field(False, description="Hold every new comment for a moderator.")
    terms: TermsPolicy = TermsPolicy()
    links: LinksPolicy = LinksPolicy()
    copies: CopiesPolicy = CopiesPolicy()
    rate: RatePolicy = RatePolicy()
    trust: TrustPolicy = TrustPolicy()
    names: NamesPolicy = NamesPolicy()
    reports: ReportsPolicy = ReportsPolicy()
    classifier: ClassifierPolicy = ClassifierPolicy()
