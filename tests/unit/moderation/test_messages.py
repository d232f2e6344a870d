from __future__ import annotations

import pytest

from parley.i18n import all_msgids
from parley.moderation import messages
from parley.moderation.messages import explain, make_reason, render_reason
from parley.moderation.types import Reason, Verdict


def test_every_template_has_a_german_translation() -> None:
    assert messages.all_msgids() <= all_msgids("de")


def test_the_issue_examples_in_german() -> None:
    banned = make_reason(
        "terms", "banned_term", Verdict.REJECT, {"term": "Trottel", "written": "T r o t t e l"}
    )
    assert (
        render_reason(banned, "de")
        == "Enthält den gesperrten Begriff „Trottel“ (geschrieben als „T r o t t e l“)."
    )
    copy = make_reason("copies", "copy_spam", Verdict.HOLD, {"original_id": 123})
    assert render_reason(copy, "de") == "Fast gleich wie Kommentar #123 von einem anderen Konto."


def test_detail_is_the_english_rendering() -> None:
    reason = make_reason(
        "names", "name_impersonation", Verdict.HOLD, {"name": "a", "other": "b", "kind": "account"}
    )
    assert reason.detail == render_reason(reason, "en")
    assert render_reason(reason, "de") == "Der Name „a“ sieht aus wie der Name eines anderen Kontos, „b“."


def test_written_is_omitted_when_it_adds_nothing_and_shortened_when_long() -> None:
    assert (
        explain("banned_term", {"term": "Trottel", "written": "trottel"})
        == 'Contains the banned term "Trottel".'
    )
    reason = make_reason("terms", "banned_term", Verdict.REJECT, {"term": "x", "written": "a b " * 100})
    assert len(reason.params["written"]) == messages.MAX_WRITTEN
    assert reason.params["written"].endswith("…")


@pytest.mark.parametrize(
    ("code", "params", "verdict"),
    [
        ("premoderation", {"scope": "story"}, Verdict.HOLD),
        ("premoderation", {"scope": "site"}, Verdict.HOLD),
        ("phase_failed", {"phase": "terms", "error": "ValueError"}, Verdict.HOLD),
        ("phase_failed", {"phase": "copies", "error": "OSError"}, Verdict.PUBLISH),
        ("body_too_long", {"length": 6000, "limit": 5000}, Verdict.REJECT),
        ("thread_closed", {}, Verdict.REJECT),
    ],
)
def test_reasons_of_the_structural_phases_render_too(
    code: str, params: dict[str, object], verdict: Verdict
) -> None:
    reason = Reason(phase="x", code=code, detail="", params=params, verdict=verdict)
    german = render_reason(reason, "de")
    assert german != render_reason(reason, "en")
    assert "{" not in german


def test_unknown_codes_render_their_detail() -> None:
    reason = Reason(phase="classifier", code="toxicity", detail="Scored 0.97 for toxicity.")
    assert render_reason(reason, "de") == "Scored 0.97 for toxicity."
