"""Measuring a model: the official metric on a test split, and HateCheck's functional breakdown.

HateCheck (German Multilingual HateCheck) is test-only. Its label is "hateful towards a protected
group", narrower than GermEval's OFFENSE, so the breakdown is read per functionality, not as one
score. The evasion check compares each spelling-variation case (``spell_*``: swapped, deleted,
added spaces, removed spaces, leetspeak) with the plain case it was derived from (``ref_case_id``):
same sentence, same gold label, one spelled to evade.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from parley.classifiers.data import Dataset
from parley.classifiers.errors import DataError
from parley.classifiers.metrics import EvalReport, evaluate_scores
from parley.classifiers.model import LinearEnsemble

SPELLING = (
    "spell_char_swap_h",
    "spell_char_del_h",
    "spell_space_del_h",
    "spell_space_add_h",
    "spell_leet_h",
)
GROUPS: dict[str, tuple[str, ...]] = {
    "derogation": ("derog_neg_emote_h", "derog_neg_attrib_h", "derog_dehum_h", "derog_impl_h"),
    "threats": ("threat_dir_h", "threat_norm_h"),
    "slurs": ("slur_h",),
    "profanity (hateful)": ("profanity_h",),
    "pronoun reference": ("ref_subs_clause_h", "ref_subs_sent_h"),
    "negation": ("negate_pos_h", "negate_neg_nh"),
    "phrasing": ("phrase_question_h", "phrase_opinion_h"),
    "identity, non-hateful": ("ident_neutral_nh", "ident_pos_nh"),
    "counter-speech (quotes, references)": ("counter_quote_nh", "counter_ref_nh"),
    "abuse of non-protected targets": ("target_obj_nh", "target_indiv_nh", "target_group_nh"),
    "profanity (non-hateful)": ("profanity_nh",),
    "spelling evasion": SPELLING,
}


def evaluate_model(model: LinearEnsemble, data: Dataset, threshold: float | None = None) -> EvalReport:
    scores = model.score_array(data.texts)
    return evaluate_scores(data.labels, list(scores), model.threshold if threshold is None else threshold)


@dataclass(frozen=True)
class HateCheckReport:
    accuracy: float
    per_functionality: dict[str, dict[str, Any]]
    per_group: dict[str, dict[str, Any]]
    evasion: dict[str, dict[str, Any]]
    """Per ``spell_*`` functionality and ``all``: accuracy on the variants and on their plain originals."""

    def to_json(self) -> dict[str, Any]:
        return {
            "accuracy": round(self.accuracy, 2),
            "per_group": self.per_group,
            "evasion": self.evasion,
            "per_functionality": self.per_functionality,
        }


def _acc(correct: Sequence[bool]) -> float:
    return round(100.0 * sum(correct) / len(correct), 2) if correct else 0.0


_SIMPLE_WORD_RE = re.compile(r"\w+")


def naive_prepare(text: str) -> str:
    """Lower-cased words without the engine's folding: the ablation that shows what folding buys."""
    return " ".join(_SIMPLE_WORD_RE.findall(text.lower()))


def hatecheck(model: LinearEnsemble, data: Dataset, *, fold: bool = True) -> HateCheckReport:
    """Accuracy per functionality and group, and spelling variants vs their plain originals.

    ``fold=False`` scores the raw lower-cased words instead of the engine's folded reading (the
    ablation reported in the model card).
    """
    if fold:
        scores = model.score_array(data.texts)
    else:
        scores = model.score_prepared([naive_prepare(t) for t in data.texts], data.texts)
    correct = [int(s >= model.threshold) == y for s, y in zip(scores, data.labels, strict=True)]
    by_func: dict[str, list[bool]] = defaultdict(list)
    by_id: dict[str, bool] = {}
    for ok, meta in zip(correct, data.meta, strict=True):
        by_func[meta["functionality"]].append(ok)
        by_id[meta["case_id"]] = ok
    per_func = {f: {"accuracy": _acc(v), "n": len(v)} for f, v in sorted(by_func.items())}
    per_group = {}
    for name, funcs in GROUPS.items():
        vals = [ok for f in funcs for ok in by_func.get(f, [])]
        per_group[name] = {"accuracy": _acc(vals), "n": len(vals)}
    evasion: dict[str, dict[str, Any]] = {}
    all_var: list[bool] = []
    all_plain: list[bool] = []
    for func in SPELLING:
        var: list[bool] = []
        plain: list[bool] = []
        for ok, meta in zip(correct, data.meta, strict=True):
            ref = meta.get("ref_case_id", "")
            if meta["functionality"] == func and ref in by_id:
                var.append(ok)
                plain.append(by_id[ref])
        all_var += var
        all_plain += plain
        evasion[func] = {
            "variant": _acc(var),
            "plain": _acc(plain),
            "gap": round(_acc(plain) - _acc(var), 2),
            "n": len(var),
        }
    evasion["all"] = {
        "variant": _acc(all_var),
        "plain": _acc(all_plain),
        "gap": round(_acc(all_plain) - _acc(all_var), 2),
        "n": len(all_var),
    }
    return HateCheckReport(_acc(correct), per_func, per_group, evasion)


def load_sanity_set(path: Path) -> Dataset:
    """A sanity set of ``tests/data`` (JSONL ``{"id","text","part"}``); ``meta`` keeps id and part.

    The sets are ours (written for the project): ordinary German news comments and sentences that a
    site must publish (``neutral_de``) and clear insults in news-comment style (``offensive_de``).
    """
    texts: list[str] = []
    meta: list[dict[str, str]] = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            rec = json.loads(line)
        except json.JSONDecodeError:
            raise DataError(f"{path.name}:{n}: not JSON") from None
        texts.append(str(rec["text"]))
        meta.append({"id": str(rec.get("id", n)), "part": str(rec.get("part", "dev"))})
    positive = 1 if path.stem.startswith("offensive") else 0
    return Dataset(path.stem, texts, [positive] * len(texts), meta)


def sanity_report(model: LinearEnsemble, data: Dataset, threshold: float | None = None) -> dict[str, Any]:
    """How many texts of a sanity set reach the hold threshold (overall and per part)."""
    t = model.hold_threshold if threshold is None else threshold
    scores = model.score_array(data.texts)
    held = scores >= t
    parts: dict[str, dict[str, int]] = {}
    for h, meta in zip(held, data.meta, strict=True):
        part = parts.setdefault(meta.get("part", "dev"), {"n": 0, "held": 0})
        part["n"] += 1
        part["held"] += int(h)
    ordered = sorted(scores)
    return {
        "n": len(scores),
        "held": int(held.sum()),
        "held_percent": round(100.0 * float(held.mean()), 2) if len(scores) else 0.0,
        "hold_threshold": round(t, 4),
        "median": round(float(ordered[len(ordered) // 2]), 4) if len(scores) else 0.0,
        "max": round(float(ordered[-1]), 4) if len(scores) else 0.0,
        "parts": parts,
    }
