"""Duplicate-group services: decisions need a reviewer."""

from __future__ import annotations


import pytest

from review_app import services as svc
from review_app.errors import PermissionDenied

from .people import ANA, RITA


def test_duplicate_decisions_need_a_reviewer(ds):
    with pytest.raises(PermissionDenied, match="may not split duplicate groups"):
        svc.dup_split(ds, ANA, "d", 1)
    with pytest.raises(PermissionDenied, match="may not choose canonical examples"):
        svc.dup_set_canonical(ds, ANA, "d", 1)
    with pytest.raises(PermissionDenied, match="may not merge duplicate groups"):
        svc.dup_merge(ds, ANA, "d", [1, 2])
    res = svc.dup_merge(ds, RITA, "d", [1, 2], reason="same request")
    assert res.duplicates == 1
    assert ds.get_example(2)["duplicate_of"] == 1
