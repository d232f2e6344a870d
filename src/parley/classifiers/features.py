"""Feature extraction without scikit-learn: n-gram vocabularies, tf-idf and style features.

The extraction is our own code (not ``TfidfVectorizer``) so an artifact stores only data — the
n-gram vocabulary, idf weights, style-feature scaling — and a fresh install scores exactly as the
training machine did, whatever scikit-learn version it has. Two n-gram blocks are read from the
folded text (:func:`parley.classifiers.text.prepare`):

- **char**: character n-grams inside word boundaries (``char_wb``: each word padded with one space),
  robust to inflection, compounds and the misspellings evasion leaves behind;
- **word**: word unigrams and bigrams.

Each block is weighted ``(1 + log tf) · idf`` and L2-normalized on its own; the blocks and the
scaled style features are placed side by side in one sparse row. A second view, ``presence``, is the
binary bag of the same n-grams that NB-SVM members reweight with their log-count ratios.
"""

from __future__ import annotations

import hashlib
import json
import math
from array import array
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from parley.classifiers.text import STYLE_FEATURES, style_features

if TYPE_CHECKING:  # scipy is for training only: scoring must not pay for its import
    import scipy.sparse as sp

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
_WORD_CACHE_LIMIT = 100_000


@dataclass(frozen=True)
class FeatureSpec:
    """Hyper-parameters of the features; stored in the artifact header."""

    char_min: int = 2
    char_max: int = 5
    word_min: int = 1
    word_max: int = 2
    min_df: int = 2
    max_char_features: int = 300_000
    max_word_features: int = 100_000
    style: bool = True
    style_scale: float = 0.3

    def to_json(self) -> dict[str, object]:
        return {
            "char_ngrams": [self.char_min, self.char_max],
            "word_ngrams": [self.word_min, self.word_max],
            "min_df": self.min_df,
            "max_char_features": self.max_char_features,
            "max_word_features": self.max_word_features,
            "style": self.style,
            "style_scale": self.style_scale,
        }

    @classmethod
    def from_json(cls, data: dict[str, object]) -> FeatureSpec:
        cn = _pair(data["char_ngrams"])
        wn = _pair(data["word_ngrams"])
        return cls(
            char_min=cn[0],
            char_max=cn[1],
            word_min=wn[0],
            word_max=wn[1],
            min_df=_int(data["min_df"]),
            max_char_features=_int(data["max_char_features"]),
            max_word_features=_int(data["max_word_features"]),
            style=bool(data["style"]),
            style_scale=float(str(data["style_scale"])),
        )


def _int(v: object) -> int:
    return int(str(v))


def _pair(v: object) -> tuple[int, int]:
    if not isinstance(v, list) or len(v) != 2:
        raise ValueError("expected a pair of integers")
    return _int(v[0]), _int(v[1])


def char_ngrams(word: str, lo: int, hi: int) -> list[str]:
    padded = f" {word} "
    n_max = len(padded)
    return [padded[i : i + n] for n in range(lo, min(hi, n_max) + 1) for i in range(n_max - n + 1)]


def word_ngrams(words: Sequence[str], lo: int, hi: int) -> list[str]:
    out: list[str] = []
    for n in range(lo, hi + 1):
        out.extend(" ".join(words[i : i + n]) for i in range(len(words) - n + 1))
    return out


@dataclass(frozen=True)
class Batch:
    """Features of a batch of texts: the tf-idf view and the binary presence view."""

    tfidf: sp.csr_matrix
    presence: sp.csr_matrix


@dataclass
class Featurizer:
    """Turns folded texts (+ the raw texts, for style) into feature rows. Fit once, then frozen."""

    spec: FeatureSpec
    char_vocab: dict[str, int] = field(default_factory=dict)
    word_vocab: dict[str, int] = field(default_factory=dict)
    idf: FloatArray = field(default_factory=lambda: np.zeros(0))
    style_mean: FloatArray = field(default_factory=lambda: np.zeros(0))
    style_std: FloatArray = field(default_factory=lambda: np.zeros(0))
    _word_cache: dict[str, tuple[bytes, int | None]] = field(default_factory=dict, repr=False)
    _tuples: dict[tuple[int, ...], int] | None = field(default=None, repr=False)
    _fingerprint: str = field(default="", repr=False)

    @property
    def fingerprint(self) -> str:
        """A digest of everything that decides the features: two featurizers with the same one
        encode every text identically, so the classifier phases share one encoding between them."""
        if not self._fingerprint:
            h = hashlib.sha256(json.dumps(self.spec.to_json(), sort_keys=True).encode())
            for vocab in (self.char_vocab, self.word_vocab):
                h.update("\n".join(vocab_list(vocab)).encode("utf-8") + b"\x00")
            for arr in (self.idf, self.style_mean, self.style_std):
                h.update(np.ascontiguousarray(arr, dtype=np.float64).tobytes())
            self._fingerprint = h.hexdigest()[:20]
        return self._fingerprint

    @property
    def n_char(self) -> int:
        return len(self.char_vocab)

    @property
    def n_word(self) -> int:
        return len(self.word_vocab)

    @property
    def n_style(self) -> int:
        return len(STYLE_FEATURES) if self.spec.style else 0

    @property
    def n_ngrams(self) -> int:
        return self.n_char + self.n_word

    @property
    def n_features(self) -> int:
        return self.n_ngrams + self.n_style

    # -- fitting -------------------------------------------------------------------------------

    @classmethod
    def fit(cls, spec: FeatureSpec, folded: Sequence[str], raw: Sequence[str]) -> Featurizer:
        """Build the vocabularies (document frequency ≥ ``min_df``, most frequent first) and idf."""
        char_df: Counter[str] = Counter()
        word_df: Counter[str] = Counter()
        for text in folded:
            words = text.split()
            char_df.update({g for w in words for g in char_ngrams(w, spec.char_min, spec.char_max)})
            word_df.update(set(word_ngrams(words, spec.word_min, spec.word_max)))
        char_vocab = _vocab(char_df, spec.min_df, spec.max_char_features)
        word_vocab = _vocab(word_df, spec.min_df, spec.max_word_features)
        n_docs = len(folded)
        df = np.zeros(len(char_vocab) + len(word_vocab))
        for g, i in char_vocab.items():
            df[i] = char_df[g]
        for g, i in word_vocab.items():
            df[len(char_vocab) + i] = word_df[g]
        idf = np.log((1 + n_docs) / (1 + df)) + 1.0  # scikit-learn's smoothed idf
        feat = cls(spec=spec, char_vocab=char_vocab, word_vocab=word_vocab, idf=idf)
        if spec.style:
            style = style_features(raw)
            feat.style_mean = style.mean(axis=0)
            feat.style_std = style.std(axis=0) + 1e-6
        return feat

    # -- transforming --------------------------------------------------------------------------

    def _word_entry(self, word: str) -> tuple[bytes, int | None]:
        """A word's character n-gram ids as raw int64 bytes (joining bytes is the cheapest way to
        build a comment's id array) and its unigram id; cached per word."""
        entry = self._word_cache.get(word)
        if entry is None:
            grams = char_ngrams(word, self.spec.char_min, self.spec.char_max)
            found = [i for i in map(self.char_vocab.get, grams) if i is not None]
            entry = (np.array(found, dtype=np.int64).tobytes(), self.word_vocab.get(word))
            if len(self._word_cache) >= _WORD_CACHE_LIMIT:
                self._word_cache.clear()
            self._word_cache[word] = entry
        return entry

    def _text_ids(self, text: str) -> IntArray:
        """The vocabulary ids of a folded text's n-grams, with repeats (chars first, then words)."""
        words = text.split()
        cached = self._word_cache.get  # a hit (nearly every word) without a method call
        entries = [cached(w) or self._word_entry(w) for w in words]
        chars = b"".join([e[0] for e in entries])
        word_ids = array("q", self._word_ids(words, [e[1] for e in entries]))  # cheaper than numpy's
        return np.frombuffer(chars + word_ids.tobytes(), dtype=np.int64)  # read-only

    def _tuple_vocab(self) -> dict[tuple[int, ...], int]:
        """Word n-grams of two or more words keyed by their words' unigram ids (built on first use)."""
        if self._tuples is None:
            tuples: dict[tuple[int, ...], int] = {}
            for gram, i in self.word_vocab.items():
                if " " in gram:
                    parts = [self.word_vocab.get(w) for w in gram.split(" ")]
                    if all(p is not None for p in parts):
                        tuples[tuple(p for p in parts if p is not None)] = i
            self._tuples = tuples
        return self._tuples

    def _word_ids(self, words: list[str], unigrams: list[int | None] | None = None) -> list[int]:
        """Ids of the word n-grams. An n-gram occurs in no more documents than each of its words,
        so while the vocabulary is not capped and starts at unigrams, every kept n-gram's words are
        kept too, and an n-gram is looked up by its words' ids (no string joins)."""
        offset = self.n_char
        lo, hi = self.spec.word_min, self.spec.word_max
        found: list[int] = []
        if lo == 1 and self.n_word < self.spec.max_word_features:
            uni = unigrams if unigrams is not None else [self.word_vocab.get(w) for w in words]
            found.extend(offset + i for i in uni if i is not None)
            get = self._tuple_vocab().get
            for n in range(2, hi + 1):
                # every n consecutive unigram ids (a tuple with an unknown word's None finds nothing)
                grams = zip(*(uni[i:] for i in range(n)), strict=False)
                found.extend(offset + i for i in map(get, grams) if i is not None)
            return found
        get_word = self.word_vocab.get
        for n in range(lo, hi + 1):
            for j in range(len(words) - n + 1):
                i = get_word(words[j] if n == 1 else " ".join(words[j : j + n]))
                if i is not None:
                    found.append(offset + i)
        return found

    def encode(self, folded: Sequence[str], raw: Sequence[str]) -> Encoded:
        """Sparse n-gram counts as coordinate arrays, plus the scaled style rows.

        Scoring works on these arrays directly (``numpy.bincount``), which for one comment is
        several times cheaper than building scipy matrices.
        """
        n = len(folded)
        n_ng = self.n_ngrams
        per_text = [self._text_ids(text) for text in folded]
        lengths = np.array([len(a) for a in per_text], dtype=np.int64)
        ids = np.concatenate(per_text) if per_text else np.zeros(0, dtype=np.int64)
        style: FloatArray | None = None
        if self.spec.style:
            style = (style_features(raw) - self.style_mean) / self.style_std * self.spec.style_scale
        if n == 1:
            return self._encode_one(ids, style)
        rows = np.repeat(np.arange(n, dtype=np.int64), lengths)
        keys, counts = np.unique(rows * n_ng + ids, return_counts=True)
        rows = keys // n_ng
        cols = keys % n_ng
        # tf-idf per block, each block L2-normalized on its own
        data = (1.0 + np.log(counts)) * self.idf[cols]
        slot = rows * 2 + (cols >= self.n_char)
        norms = np.sqrt(np.bincount(slot, weights=data * data, minlength=2 * n))
        norms[norms == 0] = 1.0
        data = data / norms[slot]
        return Encoded(n=n, rows=rows, cols=cols, tfidf=data, style=style)

    def counts_one(self, folded: str, raw: str, raw_style: FloatArray | None = None) -> Counts:
        """One text's distinct n-gram ids (sorted), their tf-idf values and its scaled style row —
        what a model needs to score it (:meth:`LinearEnsemble.score_one`), shared by every model with the
        same :attr:`fingerprint`. ``raw_style``: ``style_features([raw])[0]`` if the caller has it
        (featurizers differ in their scaling, not in that row)."""
        cols, counts = _distinct_counts(self._text_ids(folded))
        style: FloatArray | None = None
        if self.spec.style:
            row = style_features([raw])[0] if raw_style is None else raw_style
            style = (row - self.style_mean) / self.style_std * self.spec.style_scale
        return Counts(cols=cols, tfidf=self._tfidf_one(cols, counts), style=style)

    def _encode_one(self, ids: IntArray, style: FloatArray | None) -> Encoded:
        """:meth:`encode` for a single text: fewer, cheaper numpy calls."""
        cols, counts = _distinct_counts(ids)
        data = self._tfidf_one(cols, counts)
        return Encoded(n=1, rows=np.zeros(len(cols), dtype=np.int64), cols=cols, tfidf=data, style=style)

    def _tfidf_one(self, cols: IntArray, counts: IntArray) -> FloatArray:
        """One text's tf-idf values of its distinct n-grams ``cols`` (sorted), each block
        L2-normalized on its own, as :meth:`encode` computes them."""
        data: FloatArray = (1.0 + np.log(counts)) * self.idf[cols]
        k = int(np.searchsorted(cols, self.n_char))  # cols are sorted: chars first, then words
        for part in (data[:k], data[k:]):
            norm = math.sqrt(part @ part)
            if norm > 0:
                part /= norm
        return data

    def transform(self, folded: Sequence[str], raw: Sequence[str]) -> Batch:
        """The encoded batch as scipy matrices (for training)."""
        import scipy.sparse as sp

        enc = self.encode(folded, raw)
        shape = (enc.n, self.n_ngrams)
        tfidf = sp.csr_matrix((enc.tfidf, (enc.rows, enc.cols)), shape=shape)
        presence = sp.csr_matrix((np.ones(len(enc.cols)), (enc.rows, enc.cols)), shape=shape)
        if enc.style is not None:
            tfidf = sp.hstack([tfidf, sp.csr_matrix(enc.style)], format="csr")
        return Batch(tfidf=tfidf, presence=presence)


def _distinct_counts(ids: IntArray) -> tuple[IntArray, IntArray]:
    """The distinct values of ``ids`` (sorted) and how often each occurs (written for one comment's
    few hundred ids: numpy's ``unique``, ``diff`` and ``append`` cost more in their Python
    wrappers than in their work)."""
    ids = np.sort(ids)
    n = len(ids)
    if not n:
        return ids, ids
    first = np.empty(n, dtype=bool)
    first[0] = True
    np.not_equal(ids[1:], ids[:-1], out=first[1:])
    starts = np.flatnonzero(first)
    counts = np.empty_like(starts)
    np.subtract(starts[1:], starts[:-1], out=counts[:-1])
    counts[-1] = n - starts[-1]
    return ids[starts], counts


@dataclass(frozen=True)
class Counts:
    """One text's distinct n-gram ids (sorted: chars before words), the tf-idf value of each (each
    block L2-normalized) and the scaled style row: what every model over the same features reads."""

    cols: IntArray
    tfidf: FloatArray
    style: FloatArray | None


@dataclass(frozen=True)
class Encoded:
    """Coordinate form of a batch: ``(rows[k], cols[k])`` has tf-idf value ``tfidf[k]``."""

    n: int
    rows: IntArray
    cols: IntArray
    tfidf: FloatArray
    style: FloatArray | None


def _vocab(df: Counter[str], min_df: int, cap: int) -> dict[str, int]:
    """Keep n-grams with ``df >= min_df``; if more than ``cap``, the most frequent (ties by text)."""
    kept = [(c, g) for g, c in df.items() if c >= min_df]
    kept.sort(key=lambda x: (-x[0], x[1]))
    return {g: i for i, (_, g) in enumerate(kept[:cap])}


def vocab_list(vocab: dict[str, int]) -> list[str]:
    out = [""] * len(vocab)
    for g, i in vocab.items():
        out[i] = g
    return out


def vocab_from_list(items: Iterable[str]) -> dict[str, int]:
    return {g: i for i, g in enumerate(items)}
