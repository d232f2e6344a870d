"""The MinHash/LSH building blocks of copy detection (the phase is in test_phase_copies.py)."""

from __future__ import annotations

import itertools
import random

import numpy as np

from parley.moderation.copies import (
    BANDS,
    NUM_PERM,
    band_keys,
    fingerprint,
    signature,
    signature_from_bytes,
    signature_to_bytes,
    similarity,
)
from parley.moderation.normalize import normalize

TEXT = (
    "Richtig so, nicht von den Amis einlullen lassen, nur weil dort jetzt Trump statt Biden das Sagen hat. "
    "Man muss sich nur anschauen, welche Berater Trump hat."
)


def pairs(words: list[str]) -> set[tuple[str, str]]:
    return set(itertools.pairwise(words))


def test_identical_texts_have_identical_signatures_and_buckets() -> None:
    a, b = fingerprint(normalize(TEXT).words), fingerprint(normalize(TEXT).words)
    assert a is not None
    assert b is not None
    assert similarity(a.signature, b.signature) == 1.0
    assert a.bands == b.bands
    assert len(a.bands) == BANDS
    assert a.signature.shape == (NUM_PERM,)
    assert a.signature.dtype == np.uint32


def test_evasions_do_not_hide_a_copy() -> None:
    disguised = TEXT.replace("Trump", "T r u m p").replace("Berater", "Вerater").replace("dort", "d0rt")
    a = signature(normalize(TEXT).words)
    b = signature(normalize(disguised).words)
    assert similarity(a, b) == 1.0


def test_similarity_estimates_jaccard_of_word_pairs() -> None:
    rng = random.Random(5)
    vocab = [f"wort{i}" for i in range(400)]
    for _ in range(20):
        base = rng.choices(vocab, k=60)
        edited = list(base)
        for _ in range(rng.randint(0, 12)):
            edited[rng.randrange(len(edited))] = rng.choice(vocab)
        pa, pb = pairs(base), pairs(edited)
        exact = len(pa & pb) / len(pa | pb)
        estimate = similarity(signature(base), signature(edited))
        assert abs(estimate - exact) < 0.15, (exact, estimate)


def test_unrelated_texts_share_no_bucket() -> None:
    a = fingerprint(normalize(TEXT).words)
    b = fingerprint(normalize("Ihr Kommentar macht mich traurig. Warum uebersiedeln sie nicht?").words)
    assert a is not None
    assert b is not None
    assert not set(a.bands) & set(b.bands)


def test_signatures_are_stable_across_processes() -> None:
    # pinned: the hash family is seeded and word hashes are CRC-32, so stored buckets stay valid
    sig = signature(["die", "waffen", "werden", "schweigen"])
    assert band_keys(sig)[0] == band_keys(signature(["die", "waffen", "werden", "schweigen"]))[0]
    assert signature_from_bytes(signature_to_bytes(sig)).tolist() == sig.tolist()
    assert len(signature_to_bytes(sig)) == NUM_PERM * 4
    assert int(sig[0]) == PINNED_FIRST_VALUE


PINNED_FIRST_VALUE = 39186091


def test_no_words_no_fingerprint() -> None:
    assert fingerprint([]) is None
    one = fingerprint(["hallo"])
    assert one is not None
    assert one.words == 1
