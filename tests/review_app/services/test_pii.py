"""Personal-data services of the queue page."""

from __future__ import annotations

import json

import pytest

from curation import BadInput, import_file
from review_app import services as svc
from review_app.errors import PermissionDenied

from .people import ANA, RITA


def test_pii_review_actions_need_a_reviewer_and_replace_missed_spans(store, write):
    import_file(store, write("p.csv", "id,text\np1,Call Zorblax Quint about the refund\n"), "p")
    with pytest.raises(PermissionDenied, match="may not mark missed personal data"):
        svc.pii_mark_missed(store, ANA, 1, 1, "text", "Zorblax Quint", "PERSON")
    with pytest.raises(BadInput, match="'Nobody' does not appear in the example"):
        svc.pii_mark_missed(store, RITA, 1, 1, "text", "Nobody", "PERSON")
    svc.pii_mark_missed(store, RITA, 1, 1, "text", "Zorblax Quint", "PERSON")
    ex = store.get_example(1)
    assert ex["text"] == "Call <PERSON_1> about the refund"
    item = svc.load_item(store, 1)
    assert [(f["entity"], f["field"], f["start"], f["end"]) for f in item.pii] == [("PERSON", "text", 5, 15)]
    assert "Zorblax" not in json.dumps([r["before"] for r in store.revisions(1)] + [r["after"] for r in store.revisions(1)])
