"""Materialized paths: fixed-width base-36 segments, one per ancestor, so string order is tree order."""

from __future__ import annotations

SEGMENT = 8  # 36**8 ≈ 2.8e12 ids per segment
_DIGITS = "0123456789abcdefghijklmnopqrstuvwxyz"
MAX_ID = 36**SEGMENT - 1


def segment(comment_id: int) -> str:
    if not 0 < comment_id <= MAX_ID:
        raise ValueError("comment id out of range for a path segment")
    out = []
    n = comment_id
    while n:
        n, r = divmod(n, 36)
        out.append(_DIGITS[r])
    return "".join(reversed(out)).rjust(SEGMENT, "0")


def child_path(parent_path: str, comment_id: int) -> str:
    return parent_path + segment(comment_id)


def ancestor_ids(path: str) -> list[int]:
    """Ids of every ancestor (not the comment itself), root first."""
    return [int(path[i : i + SEGMENT], 36) for i in range(0, len(path) - SEGMENT, SEGMENT)]


def subtree_upper_bound(path: str) -> str:
    """A string greater than every descendant's path and smaller than the next sibling's."""
    return path + "~"
