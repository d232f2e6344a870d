"""What a comment card shows: the text with the evidence marked, the reasons in words, the copy it
repeats (with a word diff), name collisions, classifier scores, reports, thread and author.

Everything for a page of cards is loaded in a fixed number of queries, whatever the page size.
"""

from __future__ import annotations

import contextlib
import difflib
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from parley.accounts.models import Account
from parley.appeals.models import Appeal
from parley.comments.models import Comment, Report, Thread
from parley.moderation import messages
from parley.moderation.models import ModerationDecision
from parley.moderation.types import Reason
from parley.sites.models import Site

WAVE_TAG = re.compile(r"^copy_wave:(\d+)$")


@dataclass(frozen=True, slots=True)
class Segment:
    text: str
    mark: str | None = None  # the reason code that marked this part


@dataclass(frozen=True, slots=True)
class DiffPart:
    op: str  # equal | insert | delete
    text: str


@dataclass
class ShownReason:
    phase: str
    code: str
    text: str
    verdict: str
    evidence: dict[str, Any]


@dataclass
class Card:
    comment: Comment
    site: Site | None
    thread: Thread | None
    author: Account | None
    decision: ModerationDecision | None
    reasons: list[ShownReason] = field(default_factory=list)
    segments: list[Segment] = field(default_factory=list)
    scores: dict[str, float] = field(default_factory=dict)
    reports: dict[str, int] = field(default_factory=dict)
    copy_of: Comment | None = None
    copy_diff: list[DiffPart] = field(default_factory=list)
    collides_with: list[tuple[str, int | None]] = field(default_factory=list)
    wave_id: int | None = None
    appeal: Appeal | None = None
    parent: Comment | None = None

    @property
    def top_score(self) -> float:
        return max(self.scores.values(), default=0.0)


def wave_of(comment: Comment) -> int | None:
    for tag in (comment.flags or {}).get("tags", []) if isinstance(comment.flags, dict) else []:
        m = WAVE_TAG.match(str(tag))
        if m:
            return int(m.group(1))
    return None


def highlight(text: str, reasons: Sequence[Reason]) -> list[Segment]:
    """Split ``text`` into plain and marked parts by the reasons' spans (overlaps: first wins)."""
    spans = sorted(
        (r.span.start, r.span.end, r.code)
        for r in reasons
        if r.span is not None and 0 <= r.span.start < r.span.end <= len(text)
    )
    out: list[Segment] = []
    pos = 0
    for start, end, code in spans:
        if start < pos:
            continue
        if start > pos:
            out.append(Segment(text[pos:start]))
        out.append(Segment(text[start:end], code))
        pos = end
    if pos < len(text):
        out.append(Segment(text[pos:]))
    return out


def word_diff(original: str, copy: str, limit: int = 400) -> list[DiffPart]:
    """Words the copy kept, added and dropped, relative to the original."""
    a, b = original.split()[:limit], copy.split()[:limit]
    parts: list[DiffPart] = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(a=a, b=b, autojunk=False).get_opcodes():
        if op == "equal":
            parts.append(DiffPart("equal", " ".join(a[i1:i2])))
            continue
        if i2 > i1:
            parts.append(DiffPart("delete", " ".join(a[i1:i2])))
        if j2 > j1:
            parts.append(DiffPart("insert", " ".join(b[j1:j2])))
    return parts


def latest_decisions(session: Session, comment_ids: Sequence[int]) -> dict[int, ModerationDecision]:
    if not comment_ids:
        return {}
    newest = (
        select(func.max(ModerationDecision.id))
        .where(ModerationDecision.comment_id.in_(list(comment_ids)))
        .group_by(ModerationDecision.comment_id)
    )
    rows = session.scalars(select(ModerationDecision).where(ModerationDecision.id.in_(newest)))
    return {d.comment_id: d for d in rows}


def _restricting_decisions(session: Session, comment_ids: Sequence[int]) -> dict[int, ModerationDecision]:
    """Each comment's latest *pipeline* decision: the findings a moderator needs to see."""
    if not comment_ids:
        return {}
    newest = (
        select(func.max(ModerationDecision.id))
        .where(
            ModerationDecision.comment_id.in_(list(comment_ids)), ModerationDecision.actor_kind == "system"
        )
        .group_by(ModerationDecision.comment_id)
    )
    rows = session.scalars(select(ModerationDecision).where(ModerationDecision.id.in_(newest)))
    return {d.comment_id: d for d in rows}


def build_cards(
    session: Session, comments: Sequence[Comment], locale: str, *, detail: bool = False
) -> list[Card]:
    ids = [c.id for c in comments]
    if not ids:
        return []
    sites = {s.id: s for s in session.scalars(select(Site).where(Site.id.in_({c.site_id for c in comments})))}
    threads = {
        t.id: t for t in session.scalars(select(Thread).where(Thread.id.in_({c.thread_id for c in comments})))
    }
    author_ids = {c.author_id for c in comments if c.author_id}
    authors = {a.id: a for a in session.scalars(select(Account).where(Account.id.in_(author_ids)))}
    latest = latest_decisions(session, ids)
    findings = _restricting_decisions(session, ids)
    report_rows = session.execute(
        select(Report.comment_id, Report.reason, func.count(Report.id))
        .where(Report.comment_id.in_(ids), Report.status == "open")
        .group_by(Report.comment_id, Report.reason)
    )
    reports: dict[int, dict[str, int]] = {}
    for cid, reason, n in report_rows:
        reports.setdefault(cid, {})[reason] = int(n)
    appeals = {
        a.comment_id: a
        for a in session.scalars(select(Appeal).where(Appeal.comment_id.in_(ids), Appeal.status == "open"))
    }
    cards: list[Card] = []
    originals: dict[int, int] = {}
    for c in comments:
        found = findings.get(c.id)
        records = [Reason.from_record(r) for r in (found.reasons if found else [])]
        shown = [
            ShownReason(r.phase, r.code, messages.render_reason(r, locale), r.verdict.value, dict(r.evidence))
            for r in records
        ]
        card = Card(
            comment=c,
            site=sites.get(c.site_id),
            thread=threads.get(c.thread_id),
            author=authors.get(c.author_id) if c.author_id else None,
            decision=latest.get(c.id),
            reasons=shown,
            segments=highlight(c.body_text, records),
            scores={k: float(v) for k, v in ((found.scores if found else {}) or {}).items()},
            reports=reports.get(c.id, {}),
            wave_id=wave_of(c),
            appeal=appeals.get(c.id),
        )
        for r in records:
            if r.code in ("copy_spam", "repeat_post") and "original_id" in r.evidence:
                with contextlib.suppress(TypeError, ValueError):
                    originals[c.id] = int(r.evidence["original_id"])
            if r.code == "name_impersonation":
                other = r.evidence.get("colliding_account")
                card.collides_with.append(
                    (
                        str(r.evidence.get("colliding_name", r.params.get("other", ""))),
                        int(other) if other else None,
                    )
                )
        cards.append(card)
    if originals:
        found_originals = {
            o.id: o for o in session.scalars(select(Comment).where(Comment.id.in_(set(originals.values()))))
        }
        for card in cards:
            oid = originals.get(card.comment.id)
            original = found_originals.get(oid) if oid else None
            if original is not None and original.site_id == card.comment.site_id:
                card.copy_of = original
                if detail or len(cards) <= 50:
                    card.copy_diff = word_diff(original.body_text, card.comment.body_text)
    if detail:
        parents = {c.parent_id for c in comments if c.parent_id}
        found_parents = {p.id: p for p in session.scalars(select(Comment).where(Comment.id.in_(parents)))}
        for card in cards:
            if card.comment.parent_id:
                card.parent = found_parents.get(card.comment.parent_id)
    return cards
