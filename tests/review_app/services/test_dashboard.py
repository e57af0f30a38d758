"""Dashboard services: agreement statistics."""

from __future__ import annotations


import polars as pl
import pytest

from review_app import services as svc



def test_agreement_statistics_match_hand_computed_values():
    long = pl.DataFrame({
        "example_id": [1, 1, 2, 2, 3, 3, 4],
        "annotator": ["a", "b", "a", "b", "a", "b", "a"],
        "label": ["x", "x", "y", "y", "x", "y", "x"],
    })
    got = svc.agreement(long)
    # 3 items with 2 annotations: 2 of 3 pairs agree. Krippendorff's alpha (nominal):
    # values x,x,y,y,x,y -> n=6, o_xx=2, o_yy=2, o_xy=o_yx=1; n_x=n_y=3;
    # D_o = 2/6, D_e = (3*3*2)/(6*5) = 0.6 -> alpha = 1 - (1/3)/0.6 = 4/9
    assert got["items"] == 3 and got["annotators"] == 2
    assert got["observed_agreement"] == pytest.approx(2 / 3)
    assert got["krippendorff_alpha"] == pytest.approx(4 / 9)


def test_dashboard_agreement_adds_fleiss_and_cohen():
    long = pl.DataFrame({"example_id": [1, 1, 2, 2], "annotator": ["a", "b", "a", "b"], "label": ["x", "x", "x", "y"]})
    got = svc.agreement(long)
    assert got["items"] == 2 and got["observed_agreement"] == 0.5
    assert set(got) == {"items", "annotators", "observed_agreement", "krippendorff_alpha", "fleiss_kappa", "cohen_kappa"}
