"""Near-duplicate detection: MinHash signatures over word pairs, found again through LSH bands.

A comment's *shingles* are the pairs of neighbouring words of its normalized reading, so copies
survive re-spacing, look-alike letters and leet. Its MinHash signature has :data:`NUM_PERM` values;
the share of equal values between two signatures estimates the Jaccard similarity of their shingle
sets (standard error ≈ 0.035 at 0.8).

To find candidates without comparing against every stored comment, the first ``BANDS × ROWS``
values are cut into :data:`BANDS` bands of :data:`ROWS` values and each band hashed to one 64-bit
*bucket*; two comments become candidates when they share a bucket in any band. With 16 bands of 6
rows a pair at similarity 0.8 shares a bucket with probability 0.992, a pair at 0.5 with 0.22, an
unrelated pair practically never. A lookup therefore costs 16 bucket reads plus a few verifications,
whatever the number of stored comments. Buckets are plain integers, so a database stores them in an
indexed table (see :mod:`parley.moderation.models`).

The hash family is fixed (seeded), and word hashes are CRC-32 of UTF-8, so signatures and buckets
are stable across processes and can be persisted.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

NUM_PERM = 128
BANDS = 16
ROWS = 6
SIGNATURE_BYTES = NUM_PERM * 4

Signature = npt.NDArray[np.uint32]
CommentKey = int | str

_rng = np.random.Generator(np.random.PCG64(20260315))
_A = _rng.integers(1, 2**63, size=NUM_PERM, dtype=np.uint64) * np.uint64(2) + np.uint64(1)  # odd
_B = _rng.integers(0, 2**63, size=NUM_PERM, dtype=np.uint64)
_BAND_MUL = _rng.integers(1, 2**63, size=(BANDS, ROWS), dtype=np.uint64) * np.uint64(2) + np.uint64(1)
_BAND_SALT = _rng.integers(0, 2**63, size=BANDS, dtype=np.uint64)
_PAIR_MUL = np.uint64(0x9E3779B97F4A7C15)
_SHIFT = np.uint64(32)

_WORD_HASHES: dict[str, int] = {}
_WORD_CACHE_LIMIT = 200_000


@dataclass(frozen=True, slots=True)
class CopyEntry:
    """One stored comment in the copy index."""

    comment_id: CommentKey
    author: str
    """Author key (see :func:`parley.moderation.backends.author_key`)."""
    ts: float
    """When it was published (epoch seconds)."""
    signature: Signature
    wave_id: CommentKey
    """The copy wave it belongs to: the id of the first comment of the wave (its own id if none)."""


@dataclass(frozen=True, slots=True)
class Fingerprint:
    """What the copy detector needs of one text: its signature and its LSH buckets."""

    signature: Signature
    bands: tuple[int, ...]
    words: int


def fingerprint(words: Sequence[str]) -> Fingerprint | None:
    """The fingerprint of a normalized word sequence, or ``None`` when it has no words."""
    if not words:
        return None
    sig = signature(words)
    return Fingerprint(sig, band_keys(sig), len(words))


def signature(words: Sequence[str]) -> Signature:
    """MinHash signature of the word-pair shingles (single words when there is only one)."""
    cache = _WORD_HASHES
    hashes = []
    for w in words:
        h = cache.get(w)
        if h is None:
            h = zlib.crc32(w.encode("utf-8", "surrogatepass"))
            if len(cache) >= _WORD_CACHE_LIMIT:
                cache.clear()
            cache[w] = h
        hashes.append(h)
    x = np.array(hashes, dtype=np.uint64)
    if len(x) > 1:
        x = x[:-1] * _PAIR_MUL + x[1:]  # wraps modulo 2**64: a hash of the ordered pair
    permuted = np.multiply.outer(x, _A)  # multiply-shift hash family, in place to spare temporaries
    permuted += _B
    permuted >>= _SHIFT
    sig: Signature = permuted.min(axis=0).astype(np.uint32)
    return sig


def band_keys(sig: Signature) -> tuple[int, ...]:
    """The :data:`BANDS` bucket keys of a signature (signed 64-bit, so a database can store them)."""
    rows = sig[: BANDS * ROWS].astype(np.uint64).reshape(BANDS, ROWS)
    mixed = (rows * _BAND_MUL).sum(axis=1, dtype=np.uint64) + _BAND_SALT
    return tuple(mixed.view(np.int64).tolist())


def similarity(a: Signature, b: Signature) -> float:
    """Estimated Jaccard similarity of the two shingle sets."""
    return float(np.count_nonzero(a == b)) / NUM_PERM


def signature_to_bytes(sig: Signature) -> bytes:
    return sig.astype("<u4").tobytes()


def signature_from_bytes(data: bytes) -> Signature:
    sig: Signature = np.frombuffer(data, dtype="<u4").astype(np.uint32)
    return sig
