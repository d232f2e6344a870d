"""Links: too many of them holds; a denied domain (or a look-alike or spelled-out form of it) rejects.

Links come from the plain text (``https://…``, ``www.…``, bare ``name.tld``) and from the rendered
HTML (``ctx.links``), counted once each. Links to allowed domains never count toward the limit.
Fails closed.
"""

from __future__ import annotations

from parley.moderation.context import ModerationContext
from parley.moderation.links import DomainStatus, Link, compile_domains, extract_links, normalize_domain
from parley.moderation.messages import make_reason
from parley.moderation.terms import TermMatch
from parley.moderation.types import FailMode, PhaseResult, Reason, Verdict


class LinksPhase:
    name = "links"
    fail_mode = FailMode.CLOSED

    def run(self, ctx: ModerationContext) -> PhaseResult:
        policy = ctx.policy.links
        links = _all_links(ctx)
        lists = compile_domains(policy) if policy.allow or policy.deny else None
        if not links and (lists is None or not lists.deny):
            return PhaseResult.ok()
        deny_verdict = Verdict(policy.deny_verdict)
        reasons: list[Reason] = []
        reported: set[str] = set()
        counted = 0
        for link in links:
            rule = lists.classify(link.host) if lists is not None else None
            if rule is not None and rule.status in (DomainStatus.DENIED, DomainStatus.LOOKALIKE):
                entry = rule.entry or link.host
                if entry not in reported:
                    reported.add(entry)
                    reasons.append(
                        make_reason(
                            self.name,
                            "denied_domain",
                            deny_verdict,
                            {"domain": entry, "written": link.url},
                            span=link.span,
                            evidence={"host": link.host, "lookalike": rule.status is DomainStatus.LOOKALIKE},
                        )
                    )
                continue
            if rule is not None and rule.status is DomainStatus.ALLOWED:
                continue
            counted += 1
            if policy.allowlist_only and link.host not in reported:
                reported.add(link.host)
                reasons.append(
                    make_reason(
                        self.name, "link_not_allowed", Verdict.HOLD, {"domain": link.host}, span=link.span
                    )
                )
        if lists is not None and lists.deny:
            reasons.extend(
                self._spelled_out(ctx, lists.obfuscated.find(ctx.normalized), links, reported, deny_verdict)
            )
        if policy.max_links is not None and counted > policy.max_links:
            reasons.append(
                make_reason(
                    self.name, "too_many_links", Verdict.HOLD, {"count": counted, "limit": policy.max_links}
                )
            )
        if not reasons:
            return PhaseResult.ok()
        return PhaseResult(verdict=Verdict.strongest(r.verdict for r in reasons), reasons=tuple(reasons))

    def _spelled_out(
        self,
        ctx: ModerationContext,
        matches: list[TermMatch],
        links: list[Link],
        reported: set[str],
        verdict: Verdict,
    ) -> list[Reason]:
        """A denied domain written so that it is not a link (``kyivpost . com``, ``k y i v p o s t com``)."""
        out = []
        for m in matches:
            entry = m.term.kind  # the deny-list entry this form came from
            overlaps = any(
                link.span is not None and link.span.start < m.span.end and m.span.start < link.span.end
                for link in links
            )
            if entry in reported or overlaps:
                continue
            reported.add(entry)
            out.append(
                make_reason(
                    self.name,
                    "denied_domain",
                    verdict,
                    {"domain": entry, "written": m.written},
                    span=m.span,
                    evidence={"spelled_out": True, "evasions": list(m.evasions)},
                )
            )
        return out


def _all_links(ctx: ModerationContext) -> list[Link]:
    links = extract_links(ctx.text)
    seen = {link.url.rstrip("/").lower() for link in links}
    for href in ctx.links:
        key = href.rstrip("/").lower()
        bare = key.split("://", 1)[-1]
        if key in seen or bare in seen or f"www.{bare}" in seen:
            continue
        host = normalize_domain(href)
        if host is not None:
            seen.add(key)
            links.append(Link(href, host, None))
    return links
