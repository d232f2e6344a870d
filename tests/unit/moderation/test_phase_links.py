from __future__ import annotations

import pytest

from parley.moderation.links import DomainLists, DomainStatus, extract_links, normalize_domain
from parley.moderation.phases.links import LinksPhase
from parley.moderation.policy import ModerationPolicy
from parley.moderation.types import Verdict

from .helpers import make_ctx, policy, seed_comments


def codes(text: str, pol: ModerationPolicy, links: tuple[str, ...] = ()) -> tuple[Verdict, list[str]]:
    result = LinksPhase().run(make_ctx(text, pol=pol, links=links))
    return result.verdict, [r.code for r in result.reasons]


@pytest.mark.parametrize(
    ("value", "canonical"),
    [
        ("example.com", "example.com"),
        ("https://WWW.Example.COM:8443/path?q=1", "www.example.com"),
        ("bücher.de", "xn--bcher-kva.de"),
        ("xn--bcher-kva.de", "xn--bcher-kva.de"),
        ("ｅｖｉｌ.com", "evil.com"),
        ("example.com.", "example.com"),
        ("*.example.com", "example.com"),
        ("localhost", None),
        ("", None),
        ("exa mple.com", None),
    ],
)
def test_normalize_domain(value: str, canonical: str | None) -> None:
    assert normalize_domain(value) == canonical


def test_extract_links_finds_schemes_www_and_bare_domains_but_not_typos() -> None:
    text = (
        "Laut kyivpost.com von gestern, siehe https://www.example.org/a?b=1. Und www.test.de! "
        "Schreib an max@mail.de. Ende.Es geht weiter, z.B. so. Und bücher.de"
    )
    assert [link.host for link in extract_links(text)] == [
        "kyivpost.com",
        "www.example.org",
        "www.test.de",
        "xn--bcher-kva.de",
    ]
    first = extract_links(text)[1]
    assert first.span is not None
    assert text[first.span.start : first.span.end] == "https://www.example.org/a?b=1"


def test_domain_lists_subdomains_specificity_and_lookalikes() -> None:
    lists = DomainLists(("example.com", "ok.bad.org"), ("paypal.com", "evil.example.com", "bad.org"))
    assert lists.classify("www.example.com").status is DomainStatus.ALLOWED
    assert lists.classify("evil.example.com").status is DomainStatus.DENIED
    assert lists.classify("x.ok.bad.org").status is DomainStatus.ALLOWED
    assert lists.classify("bad.org").status is DomainStatus.DENIED
    assert lists.classify("paypa1.com").status is DomainStatus.LOOKALIKE
    cyrillic = normalize_domain("раураl.com")
    assert cyrillic is not None
    assert lists.classify(cyrillic).status is DomainStatus.LOOKALIKE
    assert lists.classify("other.org").status is DomainStatus.NEUTRAL


def test_lookalikes_never_borrow_an_allowed_domain() -> None:
    lists = DomainLists(("paypal.com",), ())
    assert lists.classify("paypa1.com").status is DomainStatus.NEUTRAL


def test_link_limit_holds_and_allowed_links_do_not_count() -> None:
    pol = policy(links={"max_links": 2, "allow": ["derstandard.at"]})
    three = "a.com b.com c.com"
    assert codes(three, pol) == (Verdict.HOLD, ["too_many_links"])
    assert codes("a.com b.com derstandard.at www.derstandard.at/x", pol) == (Verdict.PUBLISH, [])


def test_denied_domains_reject_also_when_spelled_out_or_look_alike() -> None:
    pol = policy(links={"deny": ["kyivpost.com"]})
    assert codes("Quelle: https://www.kyivpost.com/post/1", pol) == (Verdict.REJECT, ["denied_domain"])
    assert codes("Quelle: kyivp0st.com", pol) == (Verdict.REJECT, ["denied_domain"])
    assert codes("Quelle: kyivpost . com", pol) == (Verdict.REJECT, ["denied_domain"])
    assert codes("Quelle: k y i v p o s t . c o m", pol) == (Verdict.REJECT, ["denied_domain"])
    # the seed's spaced "k y i v p o s t" without a domain is just a word
    assert codes("Laut k y i v p o s t von gestern", pol) == (Verdict.PUBLISH, [])


def test_denied_reason_evidence() -> None:
    pol = policy(links={"deny": ["evil.com"], "deny_verdict": "hold"})
    result = LinksPhase().run(make_ctx("siehe https://EVIL.com/x und evil.com", pol=pol))
    (reason,) = result.reasons
    assert reason.verdict is Verdict.HOLD
    assert reason.params == {"domain": "evil.com", "written": "https://EVIL.com/x"}
    assert reason.detail == 'Links to the blocked site "evil.com" (written as "https://EVIL.com/x").'


def test_allowlist_only_holds_other_domains() -> None:
    pol = policy(links={"allow": ["example.com"], "allowlist_only": True})
    assert codes("see example.com/a", pol) == (Verdict.PUBLISH, [])
    assert codes("see other.com/a", pol) == (Verdict.HOLD, ["link_not_allowed"])


def test_links_from_the_rendered_html_count_once() -> None:
    pol = policy(links={"max_links": 1})
    hrefs = ("https://a.com/", "https://b.com/x")
    assert codes("[eins](https://a.com/) a.com", pol, hrefs) == (Verdict.HOLD, ["too_many_links"])
    assert codes("https://a.com/", pol, ("https://a.com/",)) == (Verdict.PUBLISH, [])


def test_seed_comments_have_no_link_findings() -> None:
    for comment in seed_comments():
        assert codes(comment["text"], ModerationPolicy()) == (Verdict.PUBLISH, [])
