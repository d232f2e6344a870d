"""Copy-spam: a near-duplicate of another author's published comment holds (``copy_spam``), one of
the author's own holds as ``repeat_post``. Both name the earlier comment and its copy wave.

Compared are the word pairs of the normalized text (see :mod:`parley.moderation.copies`), within
the site's window, for comments of at least ``min_words`` words ("Danke!" is no copy). Fails open:
if the index is down, the comment is not held for that alone (the failure is recorded).
"""

from __future__ import annotations

from parley.moderation.backends import author_key
from parley.moderation.context import ModerationContext
from parley.moderation.copies import CopyEntry, Fingerprint, fingerprint, similarity
from parley.moderation.messages import make_reason
from parley.moderation.types import FailMode, PhaseResult, Reason, Verdict

FINGERPRINT = "copies.fingerprint"
WAVE = "copies.wave"
LOOK_UP = "copies.look_up"
"""Key in a moderation memo: ``(site slug, buckets, since)``, the look-up :meth:`CopiesPhase.run` will
make in the copy index, known once :meth:`CopiesPhase.prepare` has the fingerprint — so an index can
read it ahead, along the comment's first read (``parley.moderation.sql.SqlCopyIndex.read_along``)."""


def context_fingerprint(ctx: ModerationContext) -> Fingerprint | None:
    """The comment's fingerprint, computed once per context (the recorder reuses it)."""
    if FINGERPRINT not in ctx.memo:
        ctx.memo[FINGERPRINT] = fingerprint(ctx.normalized.words)
    fp: Fingerprint | None = ctx.memo[FINGERPRINT]
    return fp


def _since(ctx: ModerationContext) -> float:
    return ctx.now.timestamp() - ctx.policy.copies.window_seconds


class CopiesPhase:
    name = "copies"
    fail_mode = FailMode.OPEN

    def prepare(self, ctx: ModerationContext) -> None:
        """The fingerprint (text only) and the look-up it needs (:data:`LOOK_UP`), which waits for
        :meth:`run` — or goes out earlier, along another read."""
        policy = ctx.policy.copies
        if policy.enabled and len(ctx.normalized.words) >= policy.min_words:
            fp = context_fingerprint(ctx)
            if fp is not None:
                ctx.memo[LOOK_UP] = (ctx.site_slug, fp.bands, _since(ctx))

    def run(self, ctx: ModerationContext) -> PhaseResult:
        policy = ctx.policy.copies
        if not policy.enabled or ctx.backends is None:
            return PhaseResult.ok()
        if len(ctx.normalized.words) < policy.min_words:
            return PhaseResult.ok()
        fp = context_fingerprint(ctx)
        if fp is None:
            return PhaseResult.ok()
        since = _since(ctx)
        me = author_key(ctx.author)
        other: tuple[CopyEntry, float] | None = None
        own: tuple[CopyEntry, float] | None = None
        for entry in ctx.backends.copies.candidates(ctx.site_slug, fp.bands, since):
            if ctx.comment_id is not None and entry.comment_id == ctx.comment_id:
                continue  # an edit is no copy of itself
            sim = similarity(fp.signature, entry.signature)
            if sim < policy.threshold:
                continue
            if entry.author == me:
                if own is None or entry.ts < own[0].ts:
                    own = (entry, sim)
            elif other is None or entry.ts < other[0].ts:
                other = (entry, sim)  # the earliest is the original
        reasons: list[Reason] = []
        tags: set[str] = set()
        for code, found in (("copy_spam", other), ("repeat_post", own)):
            if found is None:
                continue
            entry, sim = found
            ctx.memo.setdefault(WAVE, entry.wave_id)
            tags.add(f"copy_wave:{entry.wave_id}")
            reasons.append(
                make_reason(
                    self.name,
                    code,
                    Verdict.HOLD,
                    {"original_id": entry.comment_id, "similarity": round(sim, 2)},
                    evidence={
                        "original_id": entry.comment_id,
                        "wave_id": entry.wave_id,
                        "similarity": round(sim, 3),
                    },
                )
            )
        if not reasons:
            return PhaseResult.ok()
        return PhaseResult(verdict=Verdict.HOLD, reasons=tuple(reasons), tags=frozenset(tags))
