"""The read-only context every moderation phase sees.

Built once per comment by the caller (the comment service, or ``parley moderate``). Phases must not
mutate it; derived data that several phases need (the normalized text) is computed lazily, once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import TYPE_CHECKING, Any

from parley.moderation.normalize import NormalizedText, normalize
from parley.moderation.policy import ModerationPolicy

if TYPE_CHECKING:
    from parley.moderation.backends import ModerationBackends


@dataclass(frozen=True, slots=True)
class AuthorInfo:
    """Who wrote the comment, as moderation needs to know it."""

    account_id: int | None
    name: str
    is_guest: bool = False
    role: str = "commenter"
    verified: bool = False
    status: str = "active"
    created_at: datetime | None = None
    always_premoderate: bool = False
    ip_hash: str | None = None
    session_key: str | None = None


@dataclass(frozen=True, slots=True)
class ThreadInfo:
    """The thread (story) the comment belongs to."""

    id: int | None
    key: str
    site_id: int | None
    is_open: bool = True
    premoderate: bool | None = None  # story-level override of the site policy
    heat: bool = False  # "heat" mode: stricter thresholds for a hot story


@dataclass(frozen=True)
class ModerationContext:
    """Everything a phase may read. ``now`` is injected, never read from the clock by a phase."""

    text: str
    """Plain text as readers see it (Markdown rendered, tags stripped). Spans point into this."""
    source: str
    """The body as the author typed it (Markdown source)."""
    author: AuthorInfo
    thread: ThreadInfo
    policy: ModerationPolicy
    now: datetime
    site_slug: str = "default"
    site_name: str = ""
    html: str = ""
    links: tuple[str, ...] = ()
    is_edit: bool = False
    comment_id: int | None = None
    parent_id: int | None = None
    backends: ModerationBackends | None = None
    """The stores the phases consult; phases that need one skip when it is None."""
    extra: dict[str, Any] = field(default_factory=dict)
    timed: bool = True
    """False when the comment's time is unknown (``parley moderate`` input without ``ts``): the
    time-based phases (rate, flood) then do not apply."""
    report_count: int = 0
    """Distinct reader reports the comment already has (when an edit is moderated again)."""
    memo: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)
    """Derived data of :attr:`text` that phases computed (the normalized text, the copy
    fingerprint, the classifiers' n-grams and scores), for later phases,
    :func:`~parley.moderation.services.do_record_outcome`, or a context of the same text built
    later (:meth:`parley.moderation.pipeline.Pipeline.prepare`). Not input."""

    @cached_property
    def normalized(self) -> NormalizedText:
        """The folded reading of :attr:`text`, computed once for all phases (and kept in
        :attr:`memo`, so a context built later with the same memo reuses it)."""
        found = self.memo.get(NORMALIZED)
        if isinstance(found, NormalizedText) and found.original == self.text:
            return found
        result = self.memo[NORMALIZED] = normalize(self.text)
        return result


NORMALIZED = "normalized"
