"""What a model reads: the engine's evasion-resistant folding of a comment, plus a few style signals.

Every model sees a comment through :func:`prepare`, which runs the moderation engine's
:func:`parley.moderation.normalize.normalize` (zero-width characters out, NFKC, case folding,
confusables, ``ä``→``ae``, leetspeak, repeated letters, spaced letters re-joined). Training and
scoring share this one function, so "T r o t t e l", "Tr0tt3l" and a Cyrillic "Тrоttеl" reach the
model as the same words as "Trottel".

Before folding, the artifacts of the training sources are cleaned (:data:`CLEANING`), in one of
two ways recorded in the model:

- ``strip`` (models from round 2 on): @-mentions, links, GermEval 2018's ``|LBR|`` line breaks
  and retweet marks are removed, so a tweet reads like a news comment (which has none of them) and
  the model cannot learn "no @-mention" as a sign of anything;
- ``placeholder`` (round 1 models): links and @-mentions become ``URL`` and ``@USER``.

A comment without any of those artifacts is not changed by cleaning, so its reading is the
engine's own folding: :func:`prepare` then reuses a normalization the caller already has (the
moderation context computes it once for all phases) instead of folding the text again.

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

from parley.moderation.normalize import NormalizedText, normalize

NORMALIZER = "parley.moderation.normalize"

_URL_RE = re.compile(r"(?:https?://|www\.)\S+", re.IGNORECASE)
_MENTION_RE = re.compile(r"@\w+")
_LINEBREAK_RE = re.compile(r"\|LBR\|")  # GermEval 2018 writes line breaks as |LBR|
_RETWEET_RE = re.compile(r"(?<!\w)RT(?!\w)")

CLEANING: tuple[str, ...] = ("strip", "placeholder")
"""How a model's input is cleaned before folding (stored in the artifact header as ``cleaning``)."""
DEFAULT_CLEANING = "strip"
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


def has_artifacts(text: str) -> bool:
    """Whether :func:`clean` could change ``text`` (cheap substring tests first)."""
    if "@" in text or "|LBR|" in text or "://" in text:
        return True
    if "RT" in text and _RETWEET_RE.search(text):
        return True
    return "www." in text.lower()


def clean(text: str, cleaning: str = DEFAULT_CLEANING) -> str:
    """``text`` without the training sources' artifacts (see the module docstring)."""
    if not has_artifacts(text):
        return text
    text = _LINEBREAK_RE.sub(" ", text)
    if cleaning == "strip":
        text = _URL_RE.sub(" ", text)
        text = _MENTION_RE.sub(" ", text)
        return _RETWEET_RE.sub(" ", text)
    if cleaning == "placeholder":
        text = _URL_RE.sub(" URL ", text)
        return _MENTION_RE.sub(" @USER ", text)
    raise ValueError(f"unknown cleaning {cleaning!r}")


def style_text(text: str, cleaning: str = DEFAULT_CLEANING) -> str:
    """What the style features read: the cleaned text (round 1 models read the text as written)."""
    return clean(text, cleaning) if cleaning == "strip" else text


def prepare(text: str, cleaning: str = DEFAULT_CLEANING, normalized: NormalizedText | None = None) -> str:
    """The folded words a model reads: ``"@Max Du bist 1 T r o t t e l!"`` → ``"du bist 1 trotel"``.

    ``normalized`` is the engine's normalization of ``text`` if the caller has it already; it is
    used as is when cleaning leaves the text unchanged (the usual case for a comment), so the
    result is always the same as without it.
    """
    if normalized is not None and not has_artifacts(text):
        return normalized.folded
    return normalize(clean(text, cleaning)).folded


_NOT_LETTER_RE = re.compile(r"[\W\d_]+")  # what is left after removing these are the letters
_UPPER_RE = re.compile(r"[A-ZÄÖÜ\u0391-\u03a9\u0410-\u042f]")
_DIGIT_RE = re.compile(r"\d")
_SYMBOL_RE = re.compile("[\u2600-\u27bf\U0001f000-\U0001faff]")  # emoji and pictographs
_QUOTES = '"„“”«»'


def style_features(texts: Sequence[str]) -> npt.NDArray[np.float64]:
    """One row of :data:`STYLE_FEATURES` per text, read from the text as written.

    Written for speed (the moderation phase computes it for every comment): the regular
    expressions run only where a cheap test says they can match.
    """
    out = np.zeros((len(texts), len(STYLE_FEATURES)), dtype=np.float64)
    for i, text in enumerate(texts):
        n = max(len(text), 1)
        letters = len(_NOT_LETTER_RE.sub("", text))
        upper = len(_UPPER_RE.findall(text))
        bangs = text.count("!")
        asks = text.count("?")
        caps_words = min(len(_CAPS_WORD_RE.findall(text)), 10) if upper >= 3 else 0
        mentions = min(len(_MENTION_RE.findall(text)), 5) if "@" in text else 0
        link = ("://" in text or "www." in text.lower()) and _URL_RE.search(text) is not None
        symbols = 0 if text.isascii() else min(len(_SYMBOL_RE.findall(text)), 10)
        quotes = sum(text.count(q) for q in _QUOTES)
        out[i] = (
            math.log1p(len(text)),
            math.log1p(len(text.split())),
            upper / max(letters, 1),
            caps_words / 10,
            min(bangs, 10) / 10,
            min(asks, 10) / 10,
            1.0 if (bangs + asks > 1 and ("!!" in text or "??" in text or "?!" in text)) else 0.0,
            mentions / 5,
            1.0 if link else 0.0,
            10 * len(_DIGIT_RE.findall(text)) / n,
            symbols / 10,
            min(quotes, 10) / 10,
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
    folded = "\n".join(prepare(p, "placeholder") for p in _PROBES)
    return hashlib.sha256(folded.encode("utf-8")).hexdigest()[:16]
