"""Reasons explained to people, in German and English.

Every reason code has an English template here; its ``{placeholders}`` are filled from the reason's
``params``. The English text is the reason's ``detail`` (what the API and ``parley moderate`` show)
and the gettext msgid; the German texts live in ``parley/locale/de/LC_MESSAGES/moderation.po``.
Phases build their reasons with :func:`make_reason`, so ``detail`` and the rendered text cannot
drift apart. The classifier phases' codes (``offensive``, ``toxic``, ``fact_claim``, ``engaging``)
have one template per verdict, with ``task``, ``score`` and ``threshold`` in their params. A code
without a template renders its ``detail`` as is.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from parley.i18n import gettext
from parley.moderation.types import Reason, Span, Verdict

# code → (template, template when the text was written differently from the term/domain)
_WRITTEN: dict[str, tuple[str, str]] = {
    "banned_term": (
        'Contains the banned term "{term}".',
        'Contains the banned term "{term}" (written as "{written}").',
    ),
    "suspect_term": (
        'Contains the term "{term}", which a moderator checks first.',
        'Contains the term "{term}", which a moderator checks first (written as "{written}").',
    ),
    "denied_domain": (
        'Links to the blocked site "{domain}".',
        'Links to the blocked site "{domain}" (written as "{written}").',
    ),
}

_PLAIN: dict[str, str] = {
    "too_many_links": "Contains {count} links; more than {limit} are checked by a moderator first.",
    "link_not_allowed": 'Links to "{domain}", which is not on this site\'s list of allowed sites.',
    "copy_spam": "Nearly the same as comment #{original_id} by another account.",
    "repeat_post": "Nearly the same as your earlier comment #{original_id}.",
    "flood": "Comments follow each other too quickly ({limit} in {seconds} seconds). "
    "Please try again in {retry_after} seconds.",
    "rate_limited": "Too many comments ({limit} in {seconds} seconds). "
    "Please try again in {retry_after} seconds.",
    "thread_flood": "Unusually many comments on this story right now ({count} in {seconds} seconds); "
    "held for a moderator.",
    "account_suspended": "This account is suspended.",
    "account_banned": "This account is banned.",
    "always_premoderate": "Comments by this account are always checked by a moderator first.",
    "new_author": "The first {limit} comments of a new account are checked by a moderator first.",
    "low_trust": "Many recent comments of this account were rejected ({rejected} of {total}); "
    "held for a moderator.",
    "reported": "Reported by {count} readers; back in the queue for a moderator.",
    "body_too_long": "The comment is {length} characters long; the limit is {limit}.",
    "body_too_short": "The comment has {length} visible characters; at least {limit} are needed.",
    "body_empty": "Nothing visible is left of the comment after formatting and sanitizing.",
    "thread_closed": "Comments on this story are closed.",
}

_NAME = {
    "account": 'The name "{name}" looks like the name of another account, "{other}".',
    "reserved": 'The name "{name}" looks like the reserved name "{other}".',
}
_PREMODERATION = {
    "story": "Comments on this story are checked by a moderator before they appear.",
    "site": "Comments on this site are checked by a moderator before they appear.",
}
_PHASE_FAILED = {
    True: "The {phase} check failed ({error}); held for a moderator.",
    False: "The {phase} check failed ({error}); not applied.",
}

# Classifier phases (parley.moderation.phases.classifier): code → verdict → template.
_CLASSIFIER: dict[str, dict[Verdict, str]] = {
    "offensive": {
        Verdict.HOLD: "The offensive-language model scored this comment {score:.2f} "
        "(threshold {threshold:.2f}); it may insult or abuse someone. Held for a moderator.",
        Verdict.REJECT: "The offensive-language model scored this comment {score:.2f} "
        "(rejection threshold {threshold:.2f}); it very likely insults or abuses someone.",
        Verdict.PUBLISH: "The offensive-language model scored this comment {score:.2f} "
        "(threshold {threshold:.2f}); flagged for a moderator.",
    },
    "toxic": {
        Verdict.HOLD: "The toxicity model scored this comment {score:.2f} (threshold {threshold:.2f}). "
        "Held for a moderator.",
        Verdict.REJECT: "The toxicity model scored this comment {score:.2f} "
        "(rejection threshold {threshold:.2f}).",
        Verdict.PUBLISH: "The toxicity model scored this comment {score:.2f} (threshold {threshold:.2f}); "
        "flagged for a moderator.",
    },
    "fact_claim": {
        Verdict.PUBLISH: "The fact-claim model scored this comment {score:.2f} (threshold {threshold:.2f}); "
        "it may state a checkable fact. Flagged for a moderator.",
        Verdict.HOLD: "The fact-claim model scored this comment {score:.2f} (threshold {threshold:.2f}); "
        "it may state a checkable fact. Held for a moderator.",
    },
    "engaging": {
        Verdict.PUBLISH: "The engagement model scored this comment {score:.2f} (threshold {threshold:.2f}): "
        "a constructive, engaging comment.",
    },
}

MAX_WRITTEN = 80


def msgid_for(code: str, params: Mapping[str, Any], verdict: Verdict = Verdict.PUBLISH) -> str | None:
    """The English template (= msgid) for a reason, or None for codes this module does not know."""
    if code in _WRITTEN:
        plain, written = _WRITTEN[code]
        shown = str(params.get("written", ""))
        subject = str(params.get("term", params.get("domain", "")))
        return written if shown and shown.casefold() != subject.casefold() else plain
    if code in _PLAIN:
        return _PLAIN[code]
    if code == "name_impersonation":
        return _NAME.get(str(params.get("kind")), _NAME["account"])
    if code == "premoderation":
        return _PREMODERATION.get(str(params.get("scope")), _PREMODERATION["site"])
    if code == "phase_failed":
        return _PHASE_FAILED[verdict is not Verdict.PUBLISH]
    if code in _CLASSIFIER and "score" in params and "threshold" in params:
        by_verdict = _CLASSIFIER[code]
        return by_verdict.get(verdict) or next(iter(by_verdict.values()))
    return None


def explain(
    code: str, params: Mapping[str, Any], verdict: Verdict = Verdict.PUBLISH, locale: str = "en"
) -> str:
    """The explanation of ``code`` with ``params`` in ``locale`` (English if unknown)."""
    msgid = msgid_for(code, params, verdict)
    if msgid is None:
        return code
    return gettext(locale, msgid, params)


def render_reason(reason: Reason, locale: str) -> str:
    """A reason as a sentence for moderators and authors (``de`` or ``en``)."""
    msgid = msgid_for(reason.code, reason.params, reason.verdict)
    if msgid is None:
        return reason.detail
    return gettext(locale, msgid, reason.params)


def make_reason(
    phase: str,
    code: str,
    verdict: Verdict,
    params: Mapping[str, Any] | None = None,
    *,
    span: Span | None = None,
    evidence: Mapping[str, Any] | None = None,
) -> Reason:
    """A reason whose English ``detail`` is rendered from the same template as every translation."""
    p = dict(params or {})
    if "written" in p:
        p["written"] = shorten(str(p["written"]))
    return Reason(
        phase=phase,
        code=code,
        detail=explain(code, p, verdict),
        params=p,
        span=span,
        evidence=dict(evidence or {}),
        verdict=verdict,
    )


def shorten(text: str, limit: int = MAX_WRITTEN) -> str:
    """One line, at most ``limit`` characters (an ellipsis marks the cut)."""
    one_line = " ".join(text.split())
    return one_line if len(one_line) <= limit else one_line[: limit - 1] + "…"


def all_msgids() -> set[str]:
    """Every template (for the catalogue completeness test)."""
    ids = (
        set(_PLAIN.values())
        | set(_NAME.values())
        | set(_PREMODERATION.values())
        | set(_PHASE_FAILED.values())
    )
    for pair in _WRITTEN.values():
        ids.update(pair)
    for by_verdict in _CLASSIFIER.values():
        ids.update(by_verdict.values())
    return ids
