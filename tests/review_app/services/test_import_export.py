"""Import / export services: uploads report the uploaded name; CSV is spreadsheet-safe."""

from __future__ import annotations


import pytest

from curation import BadInput, import_file
from review_app import services as svc

from .people import ADAM


def test_csv_export_escapes_formula_injection(ds, write):
    import_file(ds, write("x.csv", "id,text,label\nevil,=HYPERLINK(\"http://x\"),\nplus,+1 call me,\n"), "d")
    text = svc.export_csv(ds, ADAM, "d").decode()
    assert "'=HYPERLINK" in text and "'+1 call me" in text
    assert svc.csv_safe("-2") == "'-2" and svc.csv_safe("@x") == "'@x" and svc.csv_safe("ok") == "ok"


def test_import_upload_reports_the_uploaded_name(ds):
    with pytest.raises(BadInput) as exc:
        svc.import_upload(ds, ADAM, "mine.csv", b"text,label\n,billing\n", "d")
    assert str(exc.value) == "mine.csv:2:text: empty text; fill it in or remove the row"
    res = svc.import_upload(ds, ADAM, "mine.csv", b"text,label\nnew one,billing\n", "d")
    assert res.inserted == 1
