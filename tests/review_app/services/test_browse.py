"""Browse services: bulk actions carry the versions shown; stale rows are reported, not applied."""

from __future__ import annotations



from review_app import services as svc

from .people import ANA, RITA


def test_bulk_approve_reports_stale_rows_and_leaves_them(ds):
    svc.label(ds, ANA, 2, 1, "login")  # version 2 now, the reviewer saw 1
    res = svc.bulk(ds, RITA, {1: 1, 2: 1, 3: 1}, "approve")
    assert (res.done, res.stale) == ([1, 3], [2])
    assert [ds.get_example(i)["status"] for i in (1, 2, 3)] == ["approved", "needs_review", "approved"]
    assert svc.history(ds, 1)[-1]["action"] == "bulk_approve"


def test_bulk_relabel(ds):
    res = svc.bulk(ds, RITA, {4: 1, 5: 1}, "relabel", "shipping")
    assert res.done == [4, 5]
    assert [ds.get_example(i)["label"] for i in (4, 5)] == ["shipping", "shipping"]
