"""Metrics, calibration and threshold selection against scikit-learn and hand computations."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import (
    accuracy_score,
    confusion_matrix,
    precision_recall_fscore_support,
)

from evaluation.errors import InvalidEvaluationOption
from evaluation.metrics import (
    bootstrap_ci,
    choose_threshold,
    classification_metrics,
    compare_per_class,
    coverage_curve,
    expected_calibration_error,
    frequency_band,
    out_of_scope,
    reliability,
    slice_metrics,
)

Y_TRUE = ["billing", "billing", "login", "login", "login", "shipping", "shipping", "refund"]
Y_PRED = ["billing", "login", "login", "login", "billing", "shipping", "login", "shipping"]


def test_metrics_match_scikit_learn_on_hand_made_predictions():
    m = classification_metrics(Y_TRUE, Y_PRED)
    assert m["accuracy"] == pytest.approx(accuracy_score(Y_TRUE, Y_PRED)) == pytest.approx(4 / 8)
    for avg in ("macro", "micro", "weighted"):
        p, r, f, _ = precision_recall_fscore_support(Y_TRUE, Y_PRED, average=avg, zero_division=0)
        assert (m[f"{avg}_precision"], m[f"{avg}_recall"], m[f"{avg}_f1"]) == pytest.approx((p, r, f))
    labels = sorted(set(Y_TRUE) | set(Y_PRED))
    assert m["confusion"]["matrix"] == confusion_matrix(Y_TRUE, Y_PRED, labels=labels).tolist()
    p, r, f, s = precision_recall_fscore_support(Y_TRUE, Y_PRED, labels=labels, zero_division=0)
    assert [c["label"] for c in m["per_class"]] == labels
    assert [c["f1"] for c in m["per_class"]] == pytest.approx(f.tolist())
    assert [c["support"] for c in m["per_class"]] == s.tolist()


def test_top_confused_pairs_are_counted_labelled_then_predicted():
    m = classification_metrics(Y_TRUE, Y_PRED)
    assert m["top_confused"] == [
        {"labelled": "billing", "predicted": "login", "count": 1},
        {"labelled": "login", "predicted": "billing", "count": 1},
        {"labelled": "refund", "predicted": "shipping", "count": 1},
        {"labelled": "shipping", "predicted": "login", "count": 1},
    ]


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.sampled_from("abcd"), st.sampled_from("abcde")), min_size=1, max_size=60))
def test_macro_and_weighted_f1_agree_with_scikit_learn_on_any_predictions(pairs):
    t, p = [a for a, _ in pairs], [b for _, b in pairs]
    m = classification_metrics(t, p)
    for avg in ("macro", "weighted"):
        assert m[f"{avg}_f1"] == pytest.approx(precision_recall_fscore_support(t, p, average=avg, zero_division=0)[2])


def test_bootstrap_interval_contains_the_point_estimate_and_is_seeded():
    t = ["a"] * 30 + ["b"] * 30
    p = ["a"] * 25 + ["b"] * 5 + ["b"] * 20 + ["a"] * 10
    ci = bootstrap_ci(t, p, n_resamples=300, seed=1)
    acc = classification_metrics(t, p)["accuracy"]
    assert ci["accuracy"][0] < acc < ci["accuracy"][1]
    assert ci == bootstrap_ci(t, p, n_resamples=300, seed=1)
    with pytest.raises(InvalidEvaluationOption, match="`level` must be between 0 and 1, got 2"):
        bootstrap_ci(t, p, level=2)


def test_ece_and_reliability_bins_by_hand():
    conf = [0.95, 0.95, 0.55, 0.55]
    ok = [True, False, True, True]
    rel = reliability(conf, ok, bins=10)
    assert rel.select("bin", "count", "accuracy").rows() == [(5, 2, 1.0), (9, 2, 0.5)]
    # |1.0 - 0.55| * 2/4 + |0.5 - 0.95| * 2/4
    assert expected_calibration_error(conf, ok, bins=10) == pytest.approx(0.45)


def test_coverage_curve_keeps_ties_together():
    curve = coverage_curve([0.9, 0.8, 0.8, 0.3], [True, True, False, False])
    assert curve.rows() == [(0.9, 0.25, 1.0), (0.8, 0.75, pytest.approx(2 / 3)), (0.3, 1.0, 0.5)]


def test_threshold_is_the_lowest_reaching_the_target_precision():
    conf = [0.99, 0.9, 0.8, 0.7, 0.6, 0.5]
    ok = [True, True, True, False, True, False]
    assert choose_threshold(conf, ok, target_precision=0.75) == {
        "threshold": 0.6, "precision": 0.8, "coverage": pytest.approx(5 / 6), "target_precision": 0.75, "target_met": True}
    assert choose_threshold(conf, ok, target_precision=1.0)["threshold"] == 0.8
    unreachable = choose_threshold([0.9, 0.8], [False, False], target_precision=0.9)
    assert (unreachable["target_met"], unreachable["precision"]) == (False, 0.0)
    with pytest.raises(InvalidEvaluationOption, match=r"`target_precision` must be in \(0, 1\], got 0"):
        choose_threshold(conf, ok, target_precision=0)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.floats(0, 1), st.booleans()), min_size=1, max_size=50), st.floats(0.05, 1.0))
def test_chosen_threshold_meets_the_target_whenever_it_says_so(rows, target):
    conf, ok = np.array([c for c, _ in rows]), np.array([o for _, o in rows])
    res = choose_threshold(conf, ok, target_precision=target)
    kept = conf >= res["threshold"]
    assert kept.any()
    assert ok[kept].mean() == pytest.approx(res["precision"])
    if res["target_met"]:
        assert ok[kept].mean() >= target - 1e-9
        lower = conf[conf < res["threshold"]]
        assert all(ok[conf >= t].mean() < target - 1e-12 for t in lower)  # no lower threshold also reaches it


def test_out_of_scope_recall_and_in_scope_accuracy():
    res = out_of_scope(["a", "oos", "oos", "b"], ["a", "a", "b", "a"], [0.9, 0.2, 0.95, 0.99], 0.5, "oos")
    assert (res["oos_recall"], res["in_scope_accuracy"], res["in_scope_abstained"]) == (0.5, 0.5, 0.0)


def test_slices_frequency_bands_and_regressions():
    frame = pl.DataFrame({"expected": ["a", "a", "b", "c"], "label": ["a", "b", "b", "c"], "src": ["x", "x", "y", "y"],
                          "abstained": [False, True, False, False]})
    assert slice_metrics(frame, "src").select("slice", "n", "accuracy", "abstained").rows() == [("x", 2, 0.5, 0.5), ("y", 2, 1.0, 0.0)]
    assert frequency_band(["a"] * 10 + ["b"] * 9 + ["c"] * 2 + ["d"] * 8) == {"a": "common", "b": "common", "c": "rare", "d": "common"}
    cmp = compare_per_class([{"label": "a", "f1": 0.5}, {"label": "b", "f1": 0.9}], [{"label": "a", "f1": 0.8}, {"label": "b", "f1": 0.88}])
    assert [(r["label"], r["regression"]) for r in cmp] == [("a", True), ("b", False)]


def test_auroc_matches_scikit_learn_with_ties():
    from sklearn.metrics import roc_auc_score

    from evaluation.metrics import auroc

    rng = np.random.default_rng(3)
    a, b = rng.random(200).round(1), (rng.random(80) - 0.3).round(1)
    assert auroc(a, b) == pytest.approx(roc_auc_score(np.r_[np.ones(200), np.zeros(80)], np.r_[a, b]))
    assert auroc(a, []) is None


def test_oos_recall_at_coverage_sets_the_threshold_on_in_scope_scores():
    from evaluation.metrics import ood_detection, oos_recall_at_coverage

    in_scope = np.arange(100, dtype=float)  # threshold at 95% coverage = 5: scores 0..4 escalated
    oos = np.array([-1.0, 2.0, 4.5, 50.0])
    assert oos_recall_at_coverage(in_scope, oos) == {"0.95": 0.75, "0.97": 0.5, "0.99": 0.25}
    rep = ood_detection({"s": np.r_[in_scope, oos]}, np.r_[np.zeros(100, bool), np.ones(4, bool)])
    assert rep["s"]["oos_recall_at_coverage"]["0.95"] == 0.75 and 0 < rep["s"]["auroc"] < 1
