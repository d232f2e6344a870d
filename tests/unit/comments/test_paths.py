"""Materialized paths: string order is tree order, and a subtree is one range."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from parley.comments import paths


def test_segments_have_a_fixed_width() -> None:
    assert paths.segment(1) == "00000001"
    assert paths.segment(36) == "00000010"
    assert paths.segment(paths.MAX_ID) == "zzzzzzzz"


@pytest.mark.parametrize("bad", [0, -1, paths.MAX_ID + 1])
def test_ids_out_of_range(bad: int) -> None:
    with pytest.raises(ValueError, match="out of range"):
        paths.segment(bad)


@given(st.integers(1, paths.MAX_ID), st.integers(1, paths.MAX_ID))
def test_string_order_is_id_order(a: int, b: int) -> None:
    assert (paths.segment(a) < paths.segment(b)) == (a < b)


def test_tree_order_and_ancestors() -> None:
    root = paths.child_path("", 5)
    first = paths.child_path(root, 9)
    nested = paths.child_path(first, 100)
    second = paths.child_path(root, 10)
    assert sorted([second, nested, root, first]) == [root, first, nested, second]  # depth first
    assert paths.ancestor_ids(nested) == [5, 9]
    assert paths.ancestor_ids(root) == []
    upper = paths.subtree_upper_bound(first)
    assert first < nested < upper < second
