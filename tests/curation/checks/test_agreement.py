"""Agreement statistics against hand-computed values and the krippendorff package."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from curation.checks.agreement import agreement_report, cohen_kappa, fleiss_kappa, krippendorff_alpha


def _long(rows: list[tuple[int, str, str]]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema={"example_id": pl.Int64, "annotator": pl.String, "label": pl.String}, orient="row")


def test_cohen_kappa_matches_the_hand_computed_value():
    # p_o = 3/4; p_e = 0.5*0.25 + 0.5*0.75 = 0.5 -> kappa = 0.5
    assert cohen_kappa(["x", "x", "y", "y"], ["x", "y", "y", "y"]) == pytest.approx(0.5)
    assert cohen_kappa([], []) is None
    assert cohen_kappa(["x", "x"], ["x", "x"]) == 1.0
    with pytest.raises(ValueError, match="lists differ in length"):
        cohen_kappa(["x"], [])


def test_fleiss_kappa_matches_the_textbook_example():
    # Fleiss (1971)-style table from Wikipedia: 10 items, 14 raters, 5 categories -> kappa 0.210
    table = np.array([[0, 0, 0, 0, 14], [0, 2, 6, 4, 2], [0, 0, 3, 5, 6], [0, 3, 9, 2, 0], [2, 2, 8, 1, 1],
                      [7, 7, 0, 0, 0], [3, 2, 6, 3, 0], [2, 5, 3, 2, 2], [6, 5, 2, 1, 0], [0, 2, 2, 3, 7]], float)
    overall, per = fleiss_kappa(table)
    assert overall == pytest.approx(0.20993, abs=1e-5)
    assert per.shape == (5,)


def test_report_on_two_annotators_matches_hand_computed_values():
    rep = agreement_report(_long([(1, "a", "x"), (2, "a", "x"), (3, "a", "y"), (4, "a", "y"),
                                  (1, "b", "x"), (2, "b", "y"), (3, "b", "y"), (4, "b", "y"), (5, "a", "x")]))
    assert (rep.items, rep.annotators, rep.ratings) == (4, 2, 8)  # item 5 has one annotation
    assert rep.observed_agreement == pytest.approx(0.75)
    assert rep.cohen_kappa == pytest.approx(0.5)
    # P_bar = 0.75, p_x = 3/8, p_y = 5/8, P_e = 34/64 -> (0.75 - 0.53125) / 0.46875 = 7/15
    assert rep.fleiss_kappa == pytest.approx(7 / 15)
    # coincidences o_xx = 2, o_xy = o_yx = 1, o_yy = 4; n_x = 3, n_y = 5 -> 1 - 2 / (30/7) = 16/30
    assert rep.krippendorff_alpha == pytest.approx(16 / 30)
    assert [(p["label"], p["ratings"]) for p in rep.per_label] == [("x", 3), ("y", 5)]
    assert rep.per_label[0]["kappa"] == pytest.approx(7 / 15)  # 1 - 1 / ((3/8)(5/8)*8)
    assert rep.pairs == [{"annotator_a": "a", "annotator_b": "b", "items": 4, "observed_agreement": 0.75,
                          "cohen_kappa": pytest.approx(0.5)}]
    assert rep.disagreements == [{"example_id": 2, "n": 2, "labels": "x ×1, y ×1", "majority": None, "score": 0.5}]


def test_per_annotator_agreement_with_the_majority_of_the_others():
    rep = agreement_report(_long([(1, "a", "x"), (1, "b", "x"), (1, "c", "y"),
                                  (2, "a", "y"), (2, "b", "y"), (2, "c", "y")]))
    by = {r["annotator"]: r["agreement_with_majority"] for r in rep.per_annotator}
    # item 1: a's others (x, y) tie -> not counted; c's others say x -> c disagrees
    assert by == {"a": 1.0, "b": 1.0, "c": 0.5}
    assert rep.disagreements[0]["majority"] == "x"


def test_no_item_with_two_annotations_gives_empty_statistics():
    rep = agreement_report(_long([(1, "a", "x"), (2, "b", "y")]))
    assert (rep.items, rep.fleiss_kappa, rep.krippendorff_alpha) == (0, None, None)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.lists(st.sampled_from(["x", "y", "z", None]), min_size=3, max_size=3), min_size=2, max_size=12))
def test_krippendorff_alpha_agrees_with_the_krippendorff_package(items):
    import krippendorff

    rows = [(i, f"a{j}", lab) for i, labs in enumerate(items) for j, lab in enumerate(labs) if lab is not None]
    long = _long(rows).filter(pl.len().over("example_id") >= 2)
    labels = sorted(set(long["label"].to_list()))
    if long.height == 0 or len(labels) < 2:
        return
    counts = np.zeros((len(items), len(labels)))
    for i, _, lab in long.iter_rows():
        counts[i, labels.index(lab)] += 1
    matrix = np.full((3, len(items)), np.nan)
    for i, labs in enumerate(items):
        for j, lab in enumerate(labs):
            if lab is not None and counts[i].sum() >= 2:
                matrix[j, i] = labels.index(lab)
    expected = krippendorff.alpha(reliability_data=matrix, level_of_measurement="nominal")
    assert krippendorff_alpha(counts) == pytest.approx(expected, abs=1e-9)
    assert agreement_report(long).krippendorff_alpha == pytest.approx(expected, abs=1e-9)
