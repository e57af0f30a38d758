"""Admin services: settings, users, import and export need the admin role."""

from __future__ import annotations


import pytest

from review_app import services as svc
from review_app.errors import PermissionDenied

from .people import RITA


@pytest.mark.parametrize(("fn", "args"), [
    (svc.update_dataset_settings, ("d",)), (svc.create_user, ("x", "annotator", "pass1234")),
    (svc.import_upload, ("a.csv", b"text\nx\n", "d")), (svc.export_csv, ("d",)), (svc.export_jsonl, ("d",)),
])
def test_reviewer_may_not_administer(ds, fn, args):
    with pytest.raises(PermissionDenied, match="it needs the admin role"):
        fn(ds, RITA, *args)
