"""What a model reads: the engine's evasion-resistant folding of a comment, plus a few style signals.

Every model sees a comment through :func:`prepare`, which runs the moderation engine's
:func:`parley.moderation.normalize.normalize` (zero-width characters out, NFKC, case folding,
confusables, ``ä``→``ae``, leetspeak, repeated letters, spaced letters re-joined). Training and
scoring share this one function, so "T r o t t e l", "Tr0tt3l" and a Cyrillic "Тrоttеl" reach the
model as the same words as "Trottel". Links and @-mentions become placeholders first: their
spelling says nothing about the comment and would otherwise leak user names into the features.

:func:`normalizer_fingerprint` hashes the folding of a fixed probe set; an artifact records it so
a model trained under a different normalization is noticed at load time.

Style signals (:func:`style_features`) are read from the text as written, because folding erases
exactly what they measure (capitals, "!!!", emoji).
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from parley.moderation.normalize import normalize

NORMALIZER = "parley.moderation.normalize"

_URL_RE = re.compile(r"(?:https?://|www\.)\S+", re.IGNORECASE)
_MENTION_RE = re.compile(r"@\w+")
_LINEBREAK_RE = re.compile(r"\|LBR\|")  # GermEval 2018 writes line breaks as |LBR|
_CAPS_WORD_RE = re.compile(r"\b[A-ZÄÖÜ]{3,}\b")

STYLE_FEATURES: tuple[str, ...] = (
    "log_chars",
    "log_words",
    "upper_ratio",
    "caps_words",
    "exclamations",
    "questions",
    "repeated_punct",
    "mentions",
    "links",
    "digits",
    "symbols",
    "quotes",
)


def prepare(text: str) -> str:
    """The folded words a model reads: ``"@Max Du bist 1 T r o t t e l!"`` → ``"user du bist 1 trotel"``."""
    text = _LINEBREAK_RE.sub(" ", text)
    text = _URL_RE.sub(" URL ", text)
    text = _MENTION_RE.sub(" @USER ", text)
    return normalize(text).folded


_LETTER_RE = re.compile(r"[^\W\d_]")
_UPPER_RE = re.compile(r"[A-ZÄÖÜ\u0391-\u03a9\u0410-\u042f]")
_DIGIT_RE = re.compile(r"\d")
_SYMBOL_RE = re.compile("[\u2600-\u27bf\U0001f000-\U0001faff]")  # emoji and pictographs
_QUOTES_RE = re.compile('["„“”«»]')


def style_features(texts: Sequence[str]) -> npt.NDArray[np.float64]:
    """One row of :data:`STYLE_FEATURES` per text, read from the text as written."""
    out = np.zeros((len(texts), len(STYLE_FEATURES)), dtype=np.float64)
    for i, text in enumerate(texts):
        n = max(len(text), 1)
        letters = len(_LETTER_RE.findall(text))
        bangs = text.count("!")
        asks = text.count("?")
        out[i] = (
            math.log1p(len(text)),
            math.log1p(len(text.split())),
            len(_UPPER_RE.findall(text)) / max(letters, 1),
            min(len(_CAPS_WORD_RE.findall(text)), 10) / 10,
            min(bangs, 10) / 10,
            min(asks, 10) / 10,
            1.0 if (bangs + asks > 1 and ("!!" in text or "??" in text or "?!" in text)) else 0.0,
            min(len(_MENTION_RE.findall(text)), 5) / 5,
            1.0 if _URL_RE.search(text) else 0.0,
            10 * len(_DIGIT_RE.findall(text)) / n,
            min(len(_SYMBOL_RE.findall(text)), 10) / 10,
            min(len(_QUOTES_RE.findall(text)), 10) / 10,
        )
    return out


_PROBES = (
    "T r o t t e l",
    "Tr0tt3l",
    "Тrоttеl",
    "ＴＲＯＴＴＥＬ",
    "Tro\u200bttel",
    "Trooottel",
    "W.a.f.f.e.n",
    "Lügen-Presse",
    "Straße Öl Übel",
    "SektgIas",
    "2024 30er A380",
    "d u  b i s t",
    "@USER URL",
    "Ich h4sse Frauen!",
)


def normalizer_fingerprint() -> str:
    """A short hash of how the normalizer folds a fixed probe set (changes when folding changes)."""
    folded = "\n".join(prepare(p) for p in _PROBES)
    return hashlib.sha256(folded.encode("utf-8")).hexdigest()[:16]
