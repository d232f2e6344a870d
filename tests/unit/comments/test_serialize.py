"""How a comment row becomes the API's comment object, for each kind of viewer."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from parley.comments import queries
from parley.comments.cursors import InvalidCursor
from parley.comments.queries import Sort, _parse_key, iso, serialize

T = datetime(2026, 3, 1, 12, 0, 0, 123456, tzinfo=UTC)


def row(**over: Any) -> tuple[Any, ...]:
    values: dict[str, Any] = {
        "id": 7,
        "parent_id": 3,
        "root_id": 3,
        "depth": 1,
        "path": "0000000300000007",
        "status": "published",
        "body_html": "<p>Hallo</p>",
        "created_at": "2026-03-01T12:00:00.123456Z",  # queries select timestamps as API text
        "edited_at": None,
        "up": 2,
        "down": 1,
        "reply_count": 0,
        "descendant_count": 0,
        "featured": 0,
        "author_id": 11,
        "author_name": "Alt Name",
        "display_name": "Erika",
        "verified": 1,
        "role": "moderator",
        "kind": "local",
    }
    values.update(over)
    return tuple(values[c.key if c.key != "display_name" else "display_name"] for c in queries._COLUMNS)


def test_a_published_comment() -> None:
    out = serialize(row())  # type: ignore[arg-type]
    assert out == {
        "id": 7,
        "parent_id": 3,
        "depth": 1,
        "author": {"name": "Erika", "verified": True, "role": "moderator", "guest": False},
        "html": "<p>Hallo</p>",
        "status": "published",
        "deleted": False,
        "featured": False,
        "mine": False,
        "created_at": "2026-03-01T12:00:00.123456Z",
        "edited_at": None,
        "up": 2,
        "down": 1,
        "my_vote": 0,
        "reply_count": 0,
        "descendant_count": 0,
        "replies": [],
    }


def test_a_guest_without_account_row_and_the_viewers_vote() -> None:
    out = serialize(row(author_id=None, display_name=None, verified=None, role=None, kind=None), {7: -1})  # type: ignore[arg-type]
    assert out["author"] == {"name": "Alt Name", "verified": False, "role": "commenter", "guest": True}
    assert out["my_vote"] == -1


@pytest.mark.parametrize("status", ["held", "rejected", "deleted"])
def test_hidden_comments_are_tombstones_for_others(status: str) -> None:
    out = serialize(row(status=status), viewer=99)  # type: ignore[arg-type]
    assert (out["author"], out["html"], out["deleted"], out["mine"]) == (None, "", True, False)


@pytest.mark.parametrize(("status", "shown"), [("held", True), ("rejected", True), ("deleted", False)])
def test_authors_see_their_own_pending_comments(status: str, shown: bool) -> None:
    out = serialize(row(status=status), viewer=11)  # type: ignore[arg-type]
    assert out["mine"] is True
    assert (out["html"] == "<p>Hallo</p>") is shown
    assert out["deleted"] is not shown


def test_iso() -> None:
    assert iso(T) == "2026-03-01T12:00:00.123456Z"
    assert iso(T.replace(microsecond=0)) == "2026-03-01T12:00:00Z"
    assert iso(None) is None


@pytest.mark.parametrize(
    ("sort", "key", "ok"),
    [
        (Sort.BEST, [0.5, 3], True),
        (Sort.BEST, [1, 3], True),
        (Sort.BEST, [True, 3], False),
        (Sort.BEST, ["0.5", 3], False),
        (Sort.TOP, [5, 3], True),
        (Sort.TOP, [5.5, 3], False),
        (Sort.NEWEST, ["2026-03-01T12:00:00Z", 3], True),
        (Sort.OLDEST, ["yesterday", 3], False),
        (Sort.OLDEST, [12, 3], False),
        (Sort.BEST, [0.5, "3"], False),
        (Sort.BEST, [0.5, False], False),
        (Sort.BEST, [0.5], False),
        (Sort.BEST, [0.5, 3, 4], False),
    ],
)
def test_cursor_keys_are_checked_per_sort(sort: Sort, key: list[Any], ok: bool) -> None:
    if ok:
        _parse_key(sort, key)
    else:
        with pytest.raises(InvalidCursor):
            _parse_key(sort, key)
