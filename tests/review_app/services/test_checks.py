"""Service functions of the Checks / Coverage page: role checks, flag table, resolution with the user's name."""

from __future__ import annotations

import polars as pl
import pytest

from curation import ColumnMap, LabelSchema, import_file
from review_app import services as svc
from review_app.auth import User
from review_app.errors import PermissionDenied

ANA = User("ana", "annotator")
RITA = User("rita", "reviewer")


@pytest.fixture
def ds(store, write):
    rows = [("a", "I was billed twice", "biling"), ("b", "ok", "login"), ("c", "cannot log in to the app", "login")]
    import_file(store, write("a.csv", pl.DataFrame(rows, schema=["id", "text", "label"], orient="row").write_csv()),
                "d", columns=ColumnMap(label="label"))
    store.update_dataset("d", label_schema=LabelSchema(labels=("billing", "login")))
    return store


def test_only_reviewers_run_checks_and_resolve_flags(ds):
    with pytest.raises(PermissionDenied):
        svc.run_checks(ds, ANA, "d", ["schema"])
    res = svc.run_checks(ds, RITA, "d", ["schema"])
    assert res.open_flags == {"schema": {"error": 1, "warning": 1}}
    table = svc.check_flags(ds, "d")
    assert table.select("external_id", "severity", "suggestion").rows() == [
        ("a", "error", "billing"), ("b", "warning", "complete the text or reject the example")]
    with pytest.raises(PermissionDenied):
        svc.resolve_check_flag(ds, ANA, table["flag_id"][0], "accept")


def test_reviewer_accepts_a_suggested_label_as_a_revision_in_their_name(ds):
    svc.run_checks(ds, RITA, "d", ["schema"])
    flag = svc.check_flags(ds, "d").row(0, named=True)
    row = svc.resolve_check_flag(ds, RITA, flag["flag_id"], "accept", flag["version"])
    assert row["label"] == "billing"
    rev = svc.history(ds, row["id"])[-1]
    assert (rev["actor"], rev["action"], rev["after"]) == ("rita", "resolve_schema", {"label": "billing"})
    assert svc.check_flags(ds, "d")["external_id"].to_list() == ["b"]
    assert svc.check_flags(ds, "d", include_resolved=True).height == 2
    assert svc.last_check_run(ds, "d")["actor"] == "rita"


def test_coverage_service_returns_frames_for_charts(ds):
    rep = svc.coverage(ds, "d", min_label_count=2, difficult=False)
    assert rep.label_balance.columns == ["label", "n", "share", "rare"]
    assert rep.rare_labels == ["biling", "billing"]


def test_last_check_run_names_an_account_or_says_it_came_from_the_command_line(ds):
    from curation.checks import CheckConfig, run_checks
    from review_app.auth import add_user

    run_checks(ds, "d", CheckConfig(checks=("schema",)), actor="root")  # the CLI without --user: the OS account
    assert svc.last_check_run(ds, "d")["run_by"] == "the command line (OS user 'root')"
    add_user(ds, "rita", "reviewer", "rita-password-1")
    svc.run_checks(ds, RITA, "d", ["schema"])
    assert svc.last_check_run(ds, "d")["run_by"] == "rita"
