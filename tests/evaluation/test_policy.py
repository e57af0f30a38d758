"""The escalation policy: in-scope coverage budget (default) and target precision, chosen on validation."""

from __future__ import annotations

import numpy as np
import pytest

from evaluation import EscalationPolicy
from evaluation.errors import InvalidEvaluationOption
from evaluation.metrics import choose_threshold


def _validation(n: int = 1000, seed: int = 0) -> tuple[dict, np.ndarray]:
    rng = np.random.default_rng(seed)
    knn = rng.normal(size=n)
    prob = 1 / (1 + np.exp(-rng.normal(size=n)))
    correct = rng.random(n) < prob
    return {"knn": knn, "max_softmax": prob, "combined": (knn + prob) / 2}, correct


@pytest.mark.parametrize("budget", [0.0, 0.01, 0.03, 0.05, 0.2])
def test_coverage_budget_escalates_the_budgeted_share_of_validation(budget):
    scores, correct = _validation()
    thr = EscalationPolicy(budget=budget, score="knn").choose(scores, correct)
    escalated = np.mean(scores["knn"] < thr["threshold"])
    assert escalated == pytest.approx(np.floor(budget * 1000) / 1000)
    assert thr["coverage"] == pytest.approx(1 - escalated)
    assert (thr["mode"], thr["score"], thr["budget"]) == ("coverage", "knn", budget)


def test_coverage_budget_never_escalates_more_than_the_budget_with_ties():
    scores = {"knn": np.array([0.1] * 10 + [0.5] * 90)}
    thr = EscalationPolicy(budget=0.05, score="knn").choose(scores, np.ones(100, bool))
    assert np.mean(scores["knn"] < thr["threshold"]) <= 0.05


def test_policy_states_itself_in_words():
    scores, correct = _validation()
    text = EscalationPolicy(budget=0.03, score="combined").choose(scores, correct)["text"]
    assert text.startswith("Escalates to a human when a combination of the similarity to the nearest training examples")
    assert "at most 3% of in-scope texts are escalated (there it escalated 3.0%" in text
    text = EscalationPolicy(mode="precision", target_precision=0.8, score="max_softmax").choose(scores, correct)["text"]
    assert "reach precision 0.8" in text and "It does not aim at out-of-scope texts." in text


def test_target_precision_mode_is_kept():
    scores, correct = _validation()
    thr = EscalationPolicy(mode="precision", target_precision=0.8, score="max_softmax").choose(scores, correct)
    want = choose_threshold(scores["max_softmax"], correct, target_precision=0.8)
    assert (thr["threshold"], thr["precision"], thr["coverage"], thr["target_met"]) == (
        want["threshold"], want["precision"], want["coverage"], want["target_met"])


def test_a_run_without_distance_statistics_falls_back_to_the_top_probability():
    scores, correct = _validation()
    thr = EscalationPolicy(score="knn").choose({"max_softmax": scores["max_softmax"]}, correct)
    assert thr["score"] == "max_softmax"


@pytest.mark.parametrize(("options", "message"), [
    ({"mode": "oracle"}, r"escalation policy: `mode` must be one of coverage, precision, got 'oracle'"),
    ({"budget": 5}, r"escalation policy: `budget` \(share of in-scope traffic escalated\) must be in \[0, 1\), got 5; e.g. 0.05 for 5%"),
    ({"score": "entropy"}, r"escalation policy: `score` must be one of max_softmax, energy, mahalanobis, knn, combined, got 'entropy'"),
])
def test_bad_policy_options_name_the_field_and_the_valid_values(options, message):
    with pytest.raises(InvalidEvaluationOption, match=message):
        EscalationPolicy(**options)
