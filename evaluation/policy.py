"""When a classifier escalates to a human: the escalation policy and its threshold.

Two modes, both chosen on the validation split (which holds in-scope examples only):

- ``coverage`` (default): escalate at most ``budget`` of in-scope traffic. The threshold is the
  ``budget`` quantile of the validation in-scope scores, so it needs no out-of-scope examples
  and its cost is known in advance ("at most 5% of ordinary tickets go to a human"); every
  text scoring below it (the unfamiliar ones, and the model's least sure) is escalated.
- ``precision``: the lowest threshold whose kept validation predictions reach
  ``target_precision`` (the earlier behaviour). With no out-of-scope examples in validation it
  only guards against in-scope mistakes: on an intent set with 1,000 out-of-scope queries it
  escalated 7.5% of them (issue #18).

The score is one of :data:`training.heads.OOD_SCORES` (higher = more in scope).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from training.heads import OOD_SCORES

from . import metrics as M
from .errors import InvalidEvaluationOption

MODES = ("coverage", "precision")
NEVER = -1e30  # a threshold no score falls below (finite, so it stays valid JSON)
# bench/ood_bench.py (BANKING77, 25% of intents held out as unknown): see docs/evaluation.md.
DEFAULT_BUDGET = 0.05
DEFAULT_SCORE = "combined"


@dataclass(frozen=True)
class EscalationPolicy:
    """How a run decides to escalate a text to a human instead of answering with a label."""

    mode: str = "coverage"
    budget: float = DEFAULT_BUDGET        # coverage: share of in-scope traffic that may be escalated
    target_precision: float = 0.9         # precision: precision the kept validation predictions must reach
    score: str = DEFAULT_SCORE            # in-scope score compared with the threshold

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise InvalidEvaluationOption(f"escalation policy: `mode` must be one of {', '.join(MODES)}, got {self.mode!r}")
        if not 0 <= self.budget < 1:
            raise InvalidEvaluationOption(f"escalation policy: `budget` (share of in-scope traffic escalated) must be in "
                                          f"[0, 1), got {self.budget}; e.g. 0.05 for 5%")
        if not 0 < self.target_precision <= 1:
            raise InvalidEvaluationOption(f"escalation policy: `target_precision` must be in (0, 1], got {self.target_precision}")
        if self.score not in OOD_SCORES:
            raise InvalidEvaluationOption(f"escalation policy: `score` must be one of {', '.join(OOD_SCORES)}, got {self.score!r}")

    def usable_score(self, available: dict) -> str:
        """The policy's score, or ``max_softmax`` when the run lacks what it needs (an older run
        without ``scoring.npz``)."""
        return self.score if self.score in available else "max_softmax"

    def choose(self, scores: dict[str, np.ndarray], correct: np.ndarray) -> dict:
        """The threshold chosen on validation: ``{"threshold", "score", "mode", "budget" | "target_precision",
        "coverage", "precision", "target_met", "text"}`` (``text`` states the policy in words)."""
        name = self.usable_score(scores)
        s = np.asarray(scores[name], dtype=float)
        ok = np.asarray(correct, dtype=bool)
        if s.size == 0:
            out = {"threshold": NEVER, "score": name, "mode": self.mode, "coverage": 1.0, "precision": None,
                   "target_met": False, "note": "no validation split: no escalation"}
        elif self.mode == "coverage":
            ordered = np.sort(s)
            k = int(np.floor(self.budget * len(s) + 1e-9))
            thr = float(ordered[min(k, len(s) - 1)])
            kept = s >= thr
            out = {"threshold": thr, "score": name, "mode": "coverage", "budget": self.budget,
                   "coverage": float(kept.mean()), "precision": float(ok[kept].mean()) if kept.any() else None,
                   "target_met": True}
        else:
            chosen = M.choose_threshold(s, ok, target_precision=self.target_precision)
            out = {**chosen, "score": name, "mode": "precision"}
        out["text"] = describe(out)
        return out


def describe(thr: dict) -> str:
    """The policy in words, for ``predict``, the model card and the Runs page."""
    score = {"max_softmax": "the top class probability", "energy": "the energy score (log-sum-exp of the logits)",
             "mahalanobis": "the Mahalanobis distance to the nearest class mean", "knn": "the similarity to the nearest "
             "training examples", "combined": "a combination of the similarity to the nearest training examples and "
             "the top class probability"}.get(thr.get("score", "max_softmax"), thr.get("score"))
    if thr.get("note"):
        return f"Never escalates ({thr['note']})."
    if thr.get("mode") == "coverage":
        return (f"Escalates to a human when {score} is below {thr['threshold']:.4g}: chosen on the validation split so that "
                f"at most {thr['budget']:.0%} of in-scope texts are escalated (there it escalated {1 - thr['coverage']:.1%}, "
                "the least familiar and least sure). Out-of-scope texts are escalated when they look unlike the training data.")
    met = "" if thr.get("target_met") else " (not reachable: the most precise threshold is used)"
    return (f"Escalates to a human when {score} is below {thr['threshold']:.4g}: the lowest threshold whose kept "
            f"validation predictions reach precision {thr.get('target_precision')}{met}; it keeps {thr['coverage']:.1%} "
            "of validation texts. It does not aim at out-of-scope texts.")
