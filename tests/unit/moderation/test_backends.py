"""Contract tests for the moderation stores, run against every implementation.

A database, machine-file or Redis implementation joins by adding its factory to the lists below.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from parley.db.machine import MachineFile
from parley.moderation.backends import (
    AuthorHistory,
    AuthorStats,
    CopyIndex,
    ModerationBackends,
    NameRegistry,
    RateStore,
    author_key,
)
from parley.moderation.context import AuthorInfo
from parley.moderation.copies import CopyEntry, fingerprint
from parley.moderation.machine_rates import MachineRateStore
from parley.moderation.memory import (
    InMemoryAuthorHistory,
    InMemoryCopyIndex,
    InMemoryNameRegistry,
    InMemoryRateStore,
)
from parley.moderation.names import NameHolder
from parley.moderation.types import Verdict

COPY_INDEXES: list[Callable[[], CopyIndex]] = [InMemoryCopyIndex]


def machine_rate_store() -> RateStore:
    """A store on a fresh machine file (each process's connection of its own)."""
    return MachineRateStore(MachineFile(Path(tempfile.mkdtemp(prefix="parley-machine-")) / "p.db.shared"))


RATE_STORES: list[Callable[[], RateStore]] = [InMemoryRateStore, machine_rate_store]
HISTORIES: list[Callable[[], AuthorHistory]] = [InMemoryAuthorHistory]
NAME_REGISTRIES: list[Callable[[], NameRegistry]] = [InMemoryNameRegistry]


def _entry(
    words: list[str], comment_id: int, author: str = "acct:1", ts: float = 100.0
) -> tuple[CopyEntry, list[int]]:
    fp = fingerprint(words)
    assert fp is not None
    return CopyEntry(comment_id, author, ts, fp.signature, comment_id), list(fp.bands)


@pytest.mark.parametrize("factory", COPY_INDEXES)
def test_copy_index_contract(factory: Callable[[], CopyIndex]) -> None:
    index = factory()
    words = ["die", "waffen", "werden", "schon", "in", "wenigen", "wochen", "schweigen"]
    entry, bands = _entry(words, 1)
    assert index.candidates("s", bands, 0) == []
    index.add("s", entry, bands)
    (found,) = index.candidates("s", bands, 0)
    assert (found.comment_id, found.author, found.ts, found.wave_id) == (1, "acct:1", 100.0, 1)
    assert np.array_equal(found.signature, entry.signature)
    assert index.candidates("s", bands, 101) == []  # older than the window
    assert index.candidates("other-site", bands, 0) == []
    assert index.wave_of("s", 1) == 1
    assert index.wave_of("s", 2) is None
    other, other_bands = _entry(
        ["ganz", "etwas", "anderes", "steht", "hier", "und", "dort", "geschrieben"], 2
    )
    index.add("s", other, other_bands)
    assert [e.comment_id for e in index.candidates("s", bands, 0)] == [1]


def test_in_memory_copy_index_finds_one_among_many() -> None:
    index = InMemoryCopyIndex()
    rng = np.random.default_rng(1)
    for i in range(5000):  # many unrelated entries, one of them the one looked for
        sig = rng.integers(0, 2**32, size=128, dtype=np.uint32)
        index.add(
            "s", CopyEntry(i, "a", 1.0, sig, i), [int(x) for x in rng.integers(-(2**62), 2**62, size=16)]
        )
    entry, bands = _entry(["die", "waffen", "werden", "schon", "in", "wenigen", "wochen", "schweigen"], 99999)
    index.add("s", entry, bands)
    assert [e.comment_id for e in index.candidates("s", bands, 0)] == [99999]
    assert len(index) == 5001


@pytest.mark.parametrize("factory", RATE_STORES)
def test_rate_store_contract(factory: Callable[[], RateStore]) -> None:
    store = factory()
    assert store.recent("k", 0) == []
    for ts in (10.0, 20.0, 30.0):
        store.record_each(["k"], ts)
    store.record_each(["k"], 25.0)  # out of order
    assert store.recent("k", 20.0) == [20.0, 25.0, 30.0]
    assert store.recent("other", 0) == []
    store.record_each(["s:acct:1", "s:ip:ab", "s:thread:t"], 40.0)  # a comment's keys, together
    store.record_each(["s:acct:1", "s:thread:t"], 41.0)
    assert [store.recent(k, 0) for k in ("s:acct:1", "s:ip:ab", "s:thread:t")] == [
        [40.0, 41.0],
        [40.0],
        [40.0, 41.0],
    ]
    assert store.recent("k", 0) == [10.0, 20.0, 25.0, 30.0]
    # several windows counted at once, in order, a key twice over different windows; an unknown
    # key has none
    windows = [("k", 22.0), ("s:acct:1", 41.0), ("k", 0), ("s:ip:ab", 40.0), ("nobody", 0), ("k", 31.0)]
    assert store.count_each(windows) == [2, 1, 4, 1, 0, 0]
    assert store.count_each([]) == []


def test_the_machine_store_prunes_old_events_when_a_comment_crosses_the_count(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("parley.moderation.machine_rates.PRUNE_EVERY", 4)
    path = Path(tempfile.mkdtemp(prefix="parley-machine-")) / "p.db.shared"
    store = MachineRateStore(MachineFile(path), max_age=100.0)
    store.record_each(["a", "b", "c"], 1.0)  # 3 events: no prune yet
    store.record_each(["a", "b", "c"], 50.0)  # 6: crossed 4, but nothing is older than 100 s
    assert store.recent("a", 0) == [1.0, 50.0]
    store.record_each(["a", "b"], 500.0)  # 8: crossed 8, events before 400 go
    assert [store.recent(k, 0) for k in ("a", "b", "c")] == [[500.0], [500.0], []]
    store.close()


@pytest.mark.parametrize("factory", RATE_STORES)
def test_rate_store_forget_contract(factory: Callable[[], RateStore]) -> None:
    """Erasure drops the author's keys as the rate phase writes them (``<site>:<author>``), no other."""
    store = factory()
    keys = ["news:acct:1", "blog:acct:1", "acct:1", "acct:1:thread:x", "news:acct:10", "news:ip:ab"]
    for key in keys:
        store.record_each([key], 1.0)
    store.forget("acct:1")
    assert [k for k in keys if store.recent(k, 0)] == ["news:acct:10", "news:ip:ab"]


@pytest.mark.parametrize("factory", HISTORIES)
def test_author_history_contract(factory: Callable[[], AuthorHistory]) -> None:
    history = factory()
    assert history.stats("a") == AuthorStats()
    for verdict in (Verdict.PUBLISH, Verdict.REJECT, Verdict.HOLD, Verdict.PUBLISH):
        history.record("a", verdict)
    stats = history.stats("a")
    assert (stats.published, stats.held, stats.rejected) == (2, 1, 1)
    assert stats.recent == (Verdict.PUBLISH, Verdict.REJECT, Verdict.HOLD, Verdict.PUBLISH)


@pytest.mark.parametrize("factory", NAME_REGISTRIES)
def test_name_registry_contract(factory: Callable[[], NameRegistry]) -> None:
    names = factory()
    assert names.holder("x") is None
    assert names.claim("x", NameHolder("X", 1)) is None
    assert names.claim("x", NameHolder("X again", 1)) is None  # the holder may re-claim
    assert names.claim("x", NameHolder("Χ", 2)) == NameHolder("X again", 1)
    names.release("x", 2)  # not the holder: no effect
    assert names.holder("x") == NameHolder("X again", 1)
    names.release("x", 1)
    assert names.holder("x") is None


def test_in_memory_bundle_and_author_keys() -> None:
    bundle = ModerationBackends.in_memory()
    assert isinstance(bundle.copies, InMemoryCopyIndex)
    assert author_key(AuthorInfo(account_id=7, name="x")) == "acct:7"
    assert author_key(AuthorInfo(account_id=None, name="x", session_key="s")) == "sess:s"
    assert author_key(AuthorInfo(account_id=None, name="x", ip_hash="h")) == "ip:h"
    assert author_key(AuthorInfo(account_id=None, name="Gast")) == "guest:Gast"
