"""The stores moderation phases consult, each behind a :class:`typing.Protocol`.

=================== ============================================ ======================================
store               what it answers                              implementations
=================== ============================================ ======================================
:class:`CopyIndex`  published comments sharing an LSH bucket     in memory; database (``models.py``)
:class:`RateStore`  timestamps of recent events under a key      in memory; Redis (scale-out issue)
:class:`AuthorHistory` how an author's recent comments fared     in memory; database (comments table)
:class:`NameRegistry` who holds a name skeleton                  in memory; accounts.name_skeleton
=================== ============================================ ======================================

Phases only *read* stores; :func:`parley.moderation.services.do_record_outcome` writes the outcome
of a decision back once the comment is stored. :class:`ModerationBackends` bundles one of each and
travels in :attr:`parley.moderation.context.ModerationContext.backends`. The in-memory
implementations live in :mod:`parley.moderation.memory`; one contract test runs against every
implementation.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from parley.moderation.context import AuthorInfo
from parley.moderation.copies import CommentKey, CopyEntry
from parley.moderation.names import NameHolder
from parley.moderation.types import Verdict


class CopyIndex(Protocol):
    """Published comments by LSH bucket, per site."""

    def candidates(self, site: str, bands: Sequence[int], since: float) -> list[CopyEntry]:
        """Entries of ``site`` sharing at least one of ``bands`` and published at or after ``since``."""
        ...

    def add(self, site: str, entry: CopyEntry, bands: Sequence[int], *, fresh: bool = False) -> None:
        """Store a published comment under its buckets, replacing what is stored for it. ``fresh``:
        the comment was stored in the caller's unit of work, so nothing of it is indexed yet (an
        index may skip looking for something to replace)."""
        ...

    def wave_of(self, site: str, comment_id: CommentKey) -> CommentKey | None:
        """The copy wave a stored comment belongs to (None if it is not stored)."""
        ...

    def forget(self, author: str) -> None:
        """Drop what is stored under an erased author's key (GDPR erasure)."""
        ...


class RateStore(Protocol):
    """Event timestamps under string keys (``acct:…``, ``ip:…``, ``thread:…``)."""

    def recent(self, key: str, since: float) -> list[float]:
        """Timestamps recorded under ``key`` at or after ``since``, ascending."""
        ...

    def count_each(self, windows: Sequence[tuple[str, float]]) -> list[int]:
        """How many events each ``(key, since)`` has at or after ``since``, in order, counted
        together by the store (one statement or round trip, inside the comment's write unit):
        a rule needs the events themselves only when it is exceeded."""
        ...

    def record_each(self, keys: Sequence[str], ts: float) -> None:
        """One event at ``ts`` under each of ``keys`` (a comment counts under several), stored
        together: one transaction or round trip, inside the comment's write unit."""
        ...

    def forget(self, author: str) -> None:
        """Drop the author's keys (GDPR erasure)."""
        ...


@dataclass(frozen=True, slots=True)
class AuthorStats:
    """An author's comments so far: totals and the most recent outcomes (oldest first)."""

    published: int = 0
    held: int = 0
    rejected: int = 0
    recent: tuple[Verdict, ...] = ()


class AuthorHistory(Protocol):
    def stats(self, author: str) -> AuthorStats: ...

    def record(self, author: str, verdict: Verdict) -> None: ...

    def forget(self, author: str) -> None: ...


class NameRegistry(Protocol):
    """Name skeleton → holder; the database version is the unique ``accounts.name_skeleton`` column."""

    def holder(self, skeleton: str) -> NameHolder | None: ...

    def claim(self, skeleton: str, holder: NameHolder) -> NameHolder | None:
        """Take ``skeleton`` for ``holder``; returns the *other* holder if it is taken, else None."""
        ...

    def release(self, skeleton: str, account_id: CommentKey | None) -> None: ...


@dataclass
class ModerationBackends:
    """One of each store. Build the production bundle in the app factory; tests use :meth:`in_memory`."""

    copies: CopyIndex
    rates: RateStore
    history: AuthorHistory
    names: NameRegistry

    @classmethod
    def in_memory(cls) -> ModerationBackends:
        from parley.moderation import memory

        return cls(
            copies=memory.InMemoryCopyIndex(),
            rates=memory.InMemoryRateStore(),
            history=memory.InMemoryAuthorHistory(),
            names=memory.InMemoryNameRegistry(),
        )


def author_key(author: AuthorInfo) -> str:
    """The identity stores count an author under: the account, else the guest session, else the name.

    A guest without a session falls back to the hashed IP, and then to the name (a weak identity,
    but the only one there is).
    """
    if author.account_id is not None:
        return f"acct:{author.account_id}"
    if author.session_key:
        return f"sess:{author.session_key}"
    if author.ip_hash:
        return f"ip:{author.ip_hash}"
    return f"guest:{author.name}"
