"""The audit export never lets an address out, and CSV cells cannot become spreadsheet formulas."""

from __future__ import annotations

from parley.audit.export import MASK, _csv_safe, scrub


def test_scrub_drops_address_fields_and_masks_addresses_in_values() -> None:
    data = {
        "email": "a@example.org",
        "reporter_email": "b@example.org",
        "ip": "203.0.113.7",
        "note": "mail me at jo@example.org from 198.51.100.2 or 2001:db8::1:2:3",
        "changes": [{"comment_id": 5, "before": "held", "after": "rejected"}],
        "version": "1.2.3.4-not-an-ip? 999.1.1.1",
    }
    out = scrub(data)
    assert set(out) == {"note", "changes", "version"}
    assert out["note"] == f"mail me at {MASK} from {MASK} or {MASK}"
    assert out["changes"] == data["changes"]
    assert out["version"] == "1.2.3.4-not-an-ip? 999.1.1.1".replace("1.2.3.4", MASK)


def test_csv_cells_that_look_like_formulas_are_quoted() -> None:
    assert _csv_safe("=HYPERLINK(1)") == "'=HYPERLINK(1)"
    assert _csv_safe("@SUM") == "'@SUM"
    assert _csv_safe("-5") == "-5"
    assert _csv_safe("comment.reject") == "comment.reject"
