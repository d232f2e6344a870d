"""Vote-based ranking: the Wilson score lower bound ("best") and the plain score ("top")."""

from __future__ import annotations

import math

Z = 1.959963984540054  # 95 % confidence


def wilson_lower_bound(up: int, down: int) -> float:
    """Lower bound of the Wilson interval for the share of up-votes; 0 without votes.

    Ranks a comment with 10 up / 1 down above one with 1 up / 0 down: the more votes, the more
    certain the share.
    """
    n = up + down
    if n <= 0:
        return 0.0
    p = up / n
    z2 = Z * Z
    centre = p + z2 / (2 * n)
    margin = Z * math.sqrt((p * (1 - p) + z2 / (4 * n)) / n)
    return round((centre - margin) / (1 + z2 / n), 12)
