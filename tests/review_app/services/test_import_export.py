"""Import / export services: uploads report the uploaded name; CSV is spreadsheet-safe."""

from __future__ import annotations

import csv
import io

import pytest

from curation import BadInput, ColumnMap, import_file
from review_app import services as svc

from .people import ADAM, ANA


def test_csv_export_escapes_formula_injection(ds, write):
    import_file(ds, write("x.csv", "id,text,label\nevil,=HYPERLINK(\"http://x\"),\nplus,+1 call me,\n"
                          "minus,-2,\nat,@x,\nok,fine,\n"), "d")
    rows = list(csv.DictReader(io.StringIO(svc.export_csv(ds, ADAM, "d").decode())))
    text = {r["id"]: r["text"] for r in rows}
    assert [text[i] for i in ("evil", "plus", "minus", "at", "ok")] == [
        "'=HYPERLINK(\"http://x\")", "'+1 call me", "'-2", "'@x", "fine"]


def test_import_upload_reports_the_uploaded_name(ds):
    with pytest.raises(BadInput) as exc:
        svc.import_upload(ds, ADAM, "mine.csv", b"text,label\n,billing\n", "d")
    assert str(exc.value) == "mine.csv:2:text: empty text; fill it in or remove the row"
    res = svc.import_upload(ds, ADAM, "mine.csv", b"text,label\nnew one,billing\n", "d")
    assert res.inserted == 1


def test_csv_export_has_prompt_and_response_columns(store, write):
    import_file(store, write("g.csv", "prompt,response\nhow to reset?,Click reset.\n"), "g")
    svc.correct_response(store, ANA, 1, 1, "Use 'Forgot password'.")
    rows = list(csv.DictReader(io.StringIO(svc.export_csv(store, ADAM, "g").decode())))
    assert [(r["prompt"], r["response"], r["status"], r["version"]) for r in rows] == [
        ("how to reset?", "Use 'Forgot password'.", "needs_review", "2")]


def test_import_page_maps_question_and_answer_columns_and_names_its_own_fields(ds):
    data = b"question,answer\nhow to reset?,Click reset.\n"
    with pytest.raises(BadInput) as exc:
        svc.import_upload(ds, ADAM, "qa.csv", data, "qa", task="generation")
    message = str(exc.value)
    assert "--" not in message and "name the right one with the 'Prompt column' field" in message
    res = svc.import_upload(ds, ADAM, "qa.csv", data, "qa", task="generation",
                            columns=ColumnMap(prompt="question", response="answer"))
    assert res.inserted == 1 and ds.get_example(res.inserted + 6)["response"] == "Click reset."
