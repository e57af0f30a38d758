"""Roles and states (#21 class 7): an annotator changes only items open to them; approved and
rejected items stay as a reviewer left them."""

from __future__ import annotations

import pytest

from curation import import_file
from curation.errors import PermissionDenied
from review_app import services as svc

from .people import ANA, RITA


def _decided(store, example_id: int, action) -> dict:
    row = store.get_example(example_id)
    return action(store, RITA, example_id, row["version"])


@pytest.mark.parametrize("decision", ["approved", "rejected"])
def test_an_annotator_cannot_relabel_or_pass_on_a_decided_item(ds, decision):
    row = svc.label(ds, ANA, 1, 1, "billing")
    decide = svc.approve if decision == "approved" else svc.reject
    row = decide(ds, RITA, 1, row["version"])
    before = ds.get_example(1)
    with pytest.raises(PermissionDenied, match=rf"^user 'ana' \(annotator\) may not label example 1, which is {decision}; "
                                               r"it needs the reviewer role — reviewers decide approved and rejected "
                                               r"items; ask one to reopen it$"):
        svc.label(ds, ANA, 1, row["version"], "login")
    with pytest.raises(PermissionDenied, match=rf"may not pass on example 1, which is {decision}"):
        svc.pass_on(ds, ANA, 1, row["version"])
    assert ds.get_example(1) == before


def test_an_annotator_cannot_correct_the_response_of_an_approved_item(store, write):
    import_file(store, write("g.csv", "prompt,response\nhow do I reset?,Click reset.\n"), "gen")
    row = svc.approve(store, RITA, 1, 1)
    with pytest.raises(PermissionDenied, match=r"may not correct the response of example 1, which is approved"):
        svc.correct_response(store, ANA, 1, row["version"], "something else")
    assert store.get_example(1)["response"] == "Click reset."


def test_reviewers_still_change_decided_items_and_annotators_open_ones(ds):
    row = svc.approve(ds, RITA, 1, 1, new_label="billing")
    row = svc.label(ds, RITA, 1, row["version"], "login")  # a reviewer may reopen with a new label
    assert (row["label"], row["status"]) == ("login", "needs_review")
    row = svc.label(ds, ANA, 1, row["version"], "shipping")  # open again: the annotator may change it
    assert (row["label"], row["status"]) == ("shipping", "needs_review")
