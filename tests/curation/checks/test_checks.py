"""Checks: planted defects per check (exact flagged sets), flag sync on re-runs, priorities, resolution."""

from __future__ import annotations

import hashlib
import re

import numpy as np
import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from curation import BadInput, ColumnMap, InvalidValue, LabelSchema, StaleVersion, Store, import_file
from curation.checks.algos import response_conflicts, schema_flags
from curation.checks.label_errors import find_label_errors, knn_probs, rank_issues
from curation.checks.registry import CHECKS, CheckConfig, get_check
from curation.checks.run import apply_flag_action, run_checks
from curation.store import review as store_review

TOPICS = ("card", "cash", "rate", "pin")


def topic_encoder(texts: list[str]) -> np.ndarray:
    """Stand-in for MiniLM: one direction per topic word, plus small text-specific noise (deterministic)."""
    out = np.zeros((len(texts), 32), dtype=np.float32)
    for i, t in enumerate(texts):
        words = re.findall(r"\w+", t.lower())
        for w in words:
            if w in TOPICS:
                out[i, TOPICS.index(w)] += 1.0
        seed = int(hashlib.md5(t.encode()).hexdigest()[:8], 16)
        out[i, 8:] = np.random.default_rng(seed).normal(0, 0.08, 24)
        out[i] /= np.linalg.norm(out[i])
    return out


def _csv(write, name: str, rows: list[tuple], cols=("id", "text", "label")):
    return write(name, pl.DataFrame(rows, schema=list(cols), orient="row").write_csv())


def _ids(store: Store) -> dict[str, int]:
    return dict(store.cursor().execute("SELECT external_id, id FROM examples").fetchall())


def _open(store: Store, check: str) -> set[str]:
    return {r[0] for r in store.cursor().execute(
        "SELECT e.external_id FROM flags f JOIN examples e ON e.id = f.example_id "
        "WHERE f.check_name = ? AND f.resolution IS NULL", [check]).fetchall()}


def _topic_rows() -> list[tuple]:
    rows = []
    for topic in TOPICS:
        for i in range(10):
            rows.append((f"{topic}{i}", f"question {i} about my {topic}", topic))
    return rows


@pytest.fixture
def topics(store: Store, write) -> Store:
    rows = _topic_rows()
    # planted label errors: card texts labelled pin and rate
    rows[3] = ("card3", "question 3 about my card", "pin")
    rows[7] = ("card7", "question 7 about my card", "rate")
    import_file(store, _csv(write, "t.csv", rows), "t", columns=ColumnMap(label="label"))
    return store


# -- registry and config -----------------------------------------------------------------------
def test_registry_lists_every_check_and_unknown_name_lists_valid_ones():
    assert list(CHECKS) == ["label_conflict", "label_issue", "schema", "outlier", "agreement"]
    with pytest.raises(InvalidValue, match=r"check: 'nope' is not valid \(choose one of: label_conflict, label_issue, "
                                           r"schema, outlier, agreement\)"):
        get_check("nope")


def test_config_rejects_bad_values_with_the_field_named():
    with pytest.raises(InvalidValue, match="folds: 1 is not valid; cross-validation needs at least 2 folds"):
        CheckConfig(folds=1)
    with pytest.raises(InvalidValue, match=r"label_method: 'magic' is not valid \(choose one of: ours, rank, cleanlab, naive\)"):
        CheckConfig(label_method="magic")
    with pytest.raises(InvalidValue, match="relative_confidence: 0 is not valid; it must be positive"):
        CheckConfig(relative_confidence=0)
    with pytest.raises(InvalidValue, match=r"min_share: 0.3 is not valid; it must lie in \[0.5, 1\]"):
        CheckConfig(min_share=0.3)
    with pytest.raises(InvalidValue, match=r"neighbours / passes: \(10, 3\) is not valid; neighbours >= 1"):
        CheckConfig(passes=3)


# -- label_issue ------------------------------------------------------------------------------
def test_label_issue_flags_exactly_the_planted_mislabels_with_the_right_suggestion(topics):
    res = run_checks(topics, "t", CheckConfig(checks=("label_issue",)), encoder=topic_encoder)
    assert _open(topics, "label_issue") == {"card3", "card7"}
    flags = store_review.open_flags(topics, _ids(topics)["card3"])
    assert [(f["check_name"], f["severity"], f["suggestion"]) for f in flags] == [("label_issue", "warning", "card")]
    assert flags[0]["detail"].startswith("likely mislabelled: the model gives the label 'pin' probability")
    assert 0.95 < flags[0]["score"] <= 1.0
    assert res.summaries["label_issue"]["examined"] == 40


def test_rank_rule_needs_both_a_low_rank_and_a_low_probability():
    probs = np.array([
        [0.90, 0.04, 0.03, 0.01, 0.01, 0.01, 0.00, 0.00],  # label 7: rank 6, p=0 -> flagged
        [0.50, 0.45, 0.02, 0.01, 0.01, 0.01, 0.00, 0.00],  # label 1: second choice -> kept (k=2 of 8 classes)
        [0.30, 0.30, 0.20, 0.10, 0.07, 0.03, 0.00, 0.00],  # label 4: rank 4 but p=0.07 >= 0.5/8 -> kept
        [0.30, 0.30, 0.20, 0.10, 0.07, 0.03, 0.00, 0.00],  # label 5: rank 5 and p=0.03 < 0.0625 -> flagged
    ])
    y = np.array([7, 1, 4, 5])
    assert rank_issues(y, probs, top_k=3, relative_confidence=0.5).tolist() == [True, False, False, True]


NEAR = 12  # intents; intent1 lies close to intent0 (cosine 0.8), the others are orthogonal


def near_encoder(texts: list[str]) -> np.ndarray:
    """Stand-in for MiniLM with two confusable intents: one direction per intent, intent1 80% intent0."""
    base = np.eye(NEAR, 48)
    base[1] = 0.0
    base[1, :2] = (0.8, 0.6)
    out = np.zeros((len(texts), 48))
    for i, t in enumerate(texts):
        seed = int(hashlib.md5(t.encode()).hexdigest()[:8], 16)
        out[i] = base[int(re.findall(r"intent(\d+)", t)[0])]
        out[i, NEAR:] = np.random.default_rng(seed).normal(0, 0.1, 48 - NEAR)
        out[i] /= np.linalg.norm(out[i])
    return out


def test_a_confusable_flip_between_two_near_intents_is_flagged_with_the_right_suggestion(store, write):
    rows = [(f"i{c}-{i}", f"question {i} about intent{c}", f"intent{c}") for c in range(NEAR) for i in range(40)]
    rows[3] = ("i0-3", "question 3 about intent0", "intent1")  # the neighbouring intent, as people mislabel
    import_file(store, _csv(write, "near.csv", rows), "near", columns=ColumnMap(label="label"))
    res = run_checks(store, "near", CheckConfig(checks=("label_issue",)), encoder=near_encoder)
    assert _open(store, "label_issue") == {"i0-3"}
    [flag] = store_review.open_flags(store, _ids(store)["i0-3"])
    assert (flag["suggestion"], flag["severity"]) == ("intent0", "warning")
    assert 0.95 <= flag["score"] <= 1.0
    assert flag["detail"].startswith("likely mislabelled: the model gives the label 'intent1' probability")
    assert res.summaries["label_issue"]["examined"] == 480
    # the previous default rule misses it: the given label is still the model's second choice
    x, y = near_encoder([r[1] for r in rows]), np.array([int(r[2][6:]) for r in rows])
    assert not find_label_errors(x, y, NEAR, method="rank").mask[3]


def test_knn_vote_never_counts_an_example_as_its_own_neighbour_and_honours_the_pool():
    x = np.array([[1.0, 0.0], [0.99, 0.141], [0.0, 1.0], [0.141, 0.99]])
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    y = np.array([0, 1, 1, 1])
    p = knn_probs(x, y, 2, k=1)
    assert p.argmax(axis=1).tolist() == [1, 0, 1, 1]  # 0's nearest other is 1 (label 1), 1's is 0 (label 0)
    p = knn_probs(x, y, 2, k=1, pool=np.array([True, False, True, True]))
    assert p[0].argmax() == 1 and p[1].tolist() == [1.0, 0.0]  # 1 is out of the pool: 0 sees only 2 and 3


def test_naive_and_cleanlab_methods_are_selectable(topics):
    res = run_checks(topics, "t", CheckConfig(checks=("label_issue",), label_method="naive"), encoder=topic_encoder)
    assert res.summaries["label_issue"]["method"] == "naive"
    assert {"card3", "card7"} <= _open(topics, "label_issue")


# -- outlier ----------------------------------------------------------------------------------
def test_outlier_flags_only_the_off_topic_example(topics, write):
    import_file(topics, _csv(write, "o.csv", [("off", "what a lovely sunny afternoon", "cash")]), "t",
                columns=ColumnMap(label="label"))
    run_checks(topics, "t", CheckConfig(checks=("outlier",)), encoder=topic_encoder)
    assert _open(topics, "outlier") == {"off"}
    (flag,) = store_review.open_flags(topics, _ids(topics)["off"])
    assert flag["severity"] == "info"
    assert "likely off-topic or out of scope" in flag["detail"]


# -- schema -----------------------------------------------------------------------------------
def test_schema_flags_labels_outside_the_schema_and_short_texts(store, write):
    rows = [("a", "I was billed twice this month", "billing"), ("b", "cannot log in to my account", "biling"),
            ("c", "ok", "login"), ("d", "where is my parcel", "shipping")]
    import_file(store, _csv(write, "s.csv", rows), "s", columns=ColumnMap(label="label"))
    store.update_dataset("s", label_schema=LabelSchema(labels=("billing", "login")))
    run_checks(store, "s", CheckConfig(checks=("schema",)))
    assert _open(store, "schema") == {"b", "c", "d"}
    ids = _ids(store)
    (b,) = store_review.open_flags(store, ids["b"])
    assert (b["severity"], b["suggestion"]) == ("error", "billing")
    assert b["detail"] == "label 'biling' is not in the label schema; did you mean 'billing'?"
    (c,) = store_review.open_flags(store, ids["c"])
    assert c["detail"] == "text is too short (2 characters, minimum 3): 'ok'"
    assert c["severity"] == "warning"


def test_schema_flags_a_structured_label_missing_a_field(store, write):
    schema = LabelSchema(fields=(("category", ("Billing", "Technical")), ("priority", ("low", "high"))))
    rows = [("a", "charged twice", "Billing, high"), ("b", "app crashes on start", "Technical")]
    import_file(store, _csv(write, "x.csv", rows), "x", columns=ColumnMap(label="label"))
    store.update_dataset("x", label_schema=schema)
    run_checks(store, "x", CheckConfig(checks=("schema",)))
    assert _open(store, "schema") == {"b"}
    (b,) = store_review.open_flags(store, _ids(store)["b"])
    assert b["detail"].startswith("label 'Technical' has 1 part(s) but the schema has 2 fields (category, priority)")


def test_format_rules_of_a_generation_dataset():
    frame = pl.DataFrame({
        "id": [1, 2, 3, 4, 5],
        "text": [None] * 5,
        "prompt": ["refund?", "order status", "cancel", "hi there", "invoice"],
        "response": ['{"answer": "yes"}', '{"answer": "Dear {{Customer Name}}"}', "not json at all",
                     '{"answer": "as an AI language model I cannot"}', '{"answer": "' + "x" * 60 + '"}'],
        "label": ["a"] * 5,
    })
    rules = {"json": True, "placeholders": "forbid", "forbidden_phrases": ["As an AI language model"],
             "max_chars": 50}
    got = schema_flags(frame, LabelSchema(open=True), "generation", rules)
    assert got.select("id", "detail").rows() == [
        (2, "response has unresolved placeholders: {{Customer Name}}"),
        (3, "response is not valid JSON (Expecting value at line 1 column 1)"),
        (4, "response contains the forbidden phrase 'as an ai language model'"),
        (5, "response is too long (74 characters, maximum 50)"),
    ]
    assert got.filter(pl.col("id") == 3)["severity"].to_list() == ["error"]


def test_dataset_format_rules_come_from_its_settings(store, write):
    rows = [("p1", "where is my order", "Your order {{Order Number}} ships today", "order"),
            ("p2", "reset password", "Click 'Forgot password' on the login page", "account")]
    import_file(store, _csv(write, "g.jsonl.csv", rows, ("id", "prompt", "response", "label")), "g",
                task="generation", columns=ColumnMap(label="label"))
    store.update_dataset("g", settings={"format_rules": {"placeholders": ["Customer Name"]}})
    run_checks(store, "g", CheckConfig(checks=("schema",)))
    assert _open(store, "schema") == {"p1"}
    (f,) = store_review.open_flags(store, _ids(store)["p1"])
    assert (f["detail"], f["suggestion"]) == ("response has unresolved placeholders: {{Order Number}}",
                                              "allowed placeholders: Customer Name")


# -- label_conflict ---------------------------------------------------------------------------
def test_label_conflict_reuses_dedup_groups_and_its_flag(store, write):
    rows = [("a", "My card has not arrived!", "card_arrival"), ("b", "my card has not arrived", "card_delivery"),
            ("c", "my card has not arrived", "card_arrival"), ("d", "what is the exchange rate", "rate")]
    import_file(store, _csv(write, "c.csv", rows), "c", columns=ColumnMap(label="label"))
    res = run_checks(store, "c", CheckConfig(checks=("label_conflict",)))  # runs exact + near dedup first
    assert _open(store, "label_conflict") == {"a", "b", "c"}
    assert res.summaries["label_conflict"] == {"label_conflicts": 3, "groups": 1}
    n_before = store.cursor().execute("SELECT count(*) FROM flags").fetchall()[0][0]
    res2 = run_checks(store, "c", CheckConfig(checks=("label_conflict",)))
    assert res2.flags["label_conflict"] == {"opened": 0, "kept": 3, "resolved": 0}
    assert store.cursor().execute("SELECT count(*) FROM flags").fetchall()[0][0] == n_before == 3
    flag = store_review.open_flags(store, _ids(store)["b"])[0]
    assert (flag["severity"], flag["score"]) == ("error", pytest.approx(1 / 3))
    assert "card_arrival ×2, card_delivery ×1" in flag["detail"]


def test_same_prompt_with_contradicting_responses_is_flagged():
    frame = pl.DataFrame({"id": [1, 2, 3, 4], "key": ["refund", "refund", "refund", "other"],
                          "response": ["Yes, you can get a full refund within 30 days",
                                       "Yes you can get a full refund within 30 days!",
                                       "Refunds are never possible, sorry", "anything"]})
    got = response_conflicts(frame)
    assert got["id"].to_list() == [1, 2, 3]
    assert got.filter(pl.col("id") == 3)["detail"][0].startswith("same prompt as example(s) 1, 2 but a contradicting")


# -- agreement --------------------------------------------------------------------------------
def _annotate(store: Store, rows: list[tuple[int, str, str]]) -> None:
    with store.transaction() as cur:
        for ex, who, lab in rows:
            store_review.upsert_annotation(cur, ex, who, lab, None, None)


def test_agreement_flags_disagreeing_items_and_reports_statistics(store, write):
    rows = [(f"i{i}", f"text number {i}", None) for i in range(1, 5)]
    import_file(store, _csv(write, "a.csv", rows), "a")
    ids = _ids(store)
    a_labels, b_labels = ["x", "x", "y", "y"], ["x", "y", "y", "y"]
    _annotate(store, [(ids[f"i{i + 1}"], "ann", lab) for i, lab in enumerate(a_labels)]
              + [(ids[f"i{i + 1}"], "bob", lab) for i, lab in enumerate(b_labels)])
    res = run_checks(store, "a", CheckConfig(checks=("agreement",)))
    s = res.summaries["agreement"]
    assert (s["items"], s["annotators"], s["ratings"], s["flagged"]) == (4, 2, 8, 1)
    assert s["cohen_kappa"] == pytest.approx(0.5)
    assert s["fleiss_kappa"] == pytest.approx(7 / 15)
    assert s["krippendorff_alpha"] == pytest.approx(16 / 30)
    assert _open(store, "disagreement") == {"i2"}
    (f,) = store_review.open_flags(store, ids["i2"])
    assert (f["detail"], f["suggestion"], f["score"]) == (
        "annotators disagree (x ×1, y ×1); a reviewer adjudicates", None, 0.5)


def test_agreement_check_updates_the_disagreement_flag_the_queue_raised(store, write):
    import_file(store, _csv(write, "a.csv", [("i1", "some text", None)]), "a")
    ex = _ids(store)["i1"]
    _annotate(store, [(ex, "ann", "x"), (ex, "bob", "y"), (ex, "cid", "y")])
    with store.transaction() as cur:  # what review_app.services.label raises
        store_review.add_flag(cur, ex, "a", "disagreement", "warning", None, "annotators disagree (y: 2, x: 1)", "y")
    res = run_checks(store, "a", CheckConfig(checks=("agreement",)))
    assert res.flags["disagreement"] == {"opened": 0, "kept": 1, "resolved": 0, "suppressed": 0}
    (f,) = store_review.open_flags(store, ex)
    assert (f["suggestion"], f["score"]) == ("y", pytest.approx(1 / 3))


# -- flags: re-runs, priority, auto-resolution ------------------------------------------------
def test_flags_raise_queue_priority_by_severity_and_never_lower_it(store, write):
    rows = [("a", "fine text here", "billing"), ("b", "ok", "billing"), ("c", "also fine", "nope"),
            ("d", "no", "billing")]
    import_file(store, _csv(write, "p.csv", rows), "p", columns=ColumnMap(label="label"))
    store.update_dataset("p", label_schema=LabelSchema(labels=("billing",)))
    store.write("UPDATE examples SET priority = 5 WHERE external_id = 'd'")
    res = run_checks(store, "p", CheckConfig(checks=("schema",)))
    prio = dict(store.cursor().execute("SELECT external_id, priority FROM examples").fetchall())
    assert prio == {"a": 0.0, "b": 1.0, "c": 2.0, "d": 5.0}
    assert res.prioritised == 2
    versions = {r[0] for r in store.cursor().execute("SELECT version FROM examples").fetchall()}
    assert versions == {1}  # bookkeeping: no version bump, no revision
    assert store_review.claim_next(store, "p", "rita", store_review.QueueFilter(stage="all"), 60) == _ids(store)["d"]


def test_fixed_example_gets_its_flag_resolved_automatically_on_the_next_run(store, write):
    import_file(store, _csv(write, "f.csv", [("a", "ok", "x"), ("b", "long enough", "x")]), "f",
                columns=ColumnMap(label="label"))
    run_checks(store, "f", CheckConfig(checks=("schema",)))
    ex = store.get_example(_ids(store)["a"])
    store.update_example(ex["id"], ex["version"], {"text": "ok, my card is blocked"}, actor="rita", action="edit")
    res = run_checks(store, "f", CheckConfig(checks=("schema",)))
    assert res.flags["schema"] == {"opened": 0, "kept": 0, "resolved": 1, "suppressed": 0}
    row = store._dicts("SELECT resolution, resolved_by FROM flags", [])[0]
    assert row == {"resolution": "auto: no longer raised by the schema check", "resolved_by": "checks"}


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(st.sampled_from(["hi", "my card is blocked", "my card is blocked!", "rate?"]),
                          st.sampled_from(["a", "b", "zz"])), min_size=1, max_size=8))
def test_rerunning_checks_never_duplicates_open_flags(tmp_path_factory, rows):
    with Store(tmp_path_factory.mktemp("h") / "h.duckdb") as store:
        path = tmp_path_factory.mktemp("f") / "h.csv"
        pl.DataFrame({"id": [f"r{i}" for i in range(len(rows))], "text": [r[0] for r in rows],
                      "label": [r[1] for r in rows]}).write_csv(path)
        import_file(store, path, "h", columns=ColumnMap(label="label"))
        store.update_dataset("h", label_schema=LabelSchema(labels=("a", "b")))
        cfg = CheckConfig(checks=("label_conflict", "schema"))
        run_checks(store, "h", cfg)
        first = store._dicts("SELECT id, example_id, check_name, detail FROM flags WHERE resolution IS NULL ORDER BY id", [])
        res = run_checks(store, "h", cfg)
        second = store._dicts("SELECT id, example_id, check_name, detail FROM flags WHERE resolution IS NULL ORDER BY id", [])
        assert second == first
        assert all(c["opened"] == 0 and c["resolved"] == 0 for c in res.flags.values())
        per = store.cursor().execute("SELECT max(n) FROM (SELECT count(*) AS n FROM flags WHERE resolution IS NULL "
                                     "GROUP BY example_id, check_name)").fetchall()[0][0]
        assert per in (None, 1)


# -- resolution -------------------------------------------------------------------------------
def _flag_id(store: Store, ext: str, check: str) -> int:
    return next(f["id"] for f in store_review.open_flags(store, _ids(store)[ext]) if f["check_name"] == check)


def test_accepting_a_suggestion_relabels_with_a_revision_by_the_resolver(topics):
    run_checks(topics, "t", CheckConfig(checks=("label_issue",)), encoder=topic_encoder)
    fid = _flag_id(topics, "card3", "label_issue")
    row = apply_flag_action(topics, fid, "accept", actor="rita", expected_version=1)
    assert (row["label"], row["version"]) == ("card", 2)
    rev = topics.revisions(row["id"])[-1]
    assert (rev["actor"], rev["action"], rev["before"], rev["after"]) == (
        "rita", "resolve_label_issue", {"label": "pin"}, {"label": "card"})
    assert rev["reason"] == f"flag {fid} (label_issue): accepted: label 'pin' -> 'card'"
    flag = topics._dicts("SELECT resolution, resolved_by FROM flags WHERE id = ?", [fid])[0]
    assert flag == {"resolution": "accepted: label 'pin' -> 'card'", "resolved_by": "rita"}
    res = run_checks(topics, "t", CheckConfig(checks=("label_issue",)), encoder=topic_encoder)
    assert _open(topics, "label_issue") == {"card7"}
    assert res.flags["label_issue"]["opened"] == 0


def test_keeping_the_label_is_remembered_by_later_runs(topics):
    run_checks(topics, "t", CheckConfig(checks=("label_issue",)), encoder=topic_encoder)
    row = apply_flag_action(topics, _flag_id(topics, "card7", "label_issue"), "keep", actor="rita", note="rate question")
    assert row["label"] == "rate" and row["version"] == 2
    res = run_checks(topics, "t", CheckConfig(checks=("label_issue",)), encoder=topic_encoder)
    assert res.flags["label_issue"] == {"opened": 0, "kept": 1, "resolved": 0, "suppressed": 1}
    assert _open(topics, "label_issue") == {"card3"}


def test_edit_and_reject_resolutions(store, write):
    import_file(store, _csv(write, "e.csv", [("a", "ok", "x"), ("b", "no", "x")]), "e", columns=ColumnMap(label="label"))
    run_checks(store, "e", CheckConfig(checks=("schema",)))
    row = apply_flag_action(store, _flag_id(store, "a", "schema"), "edit", actor="rita", text="ok, where is my card?")
    assert row["text"] == "ok, where is my card?"
    row = apply_flag_action(store, _flag_id(store, "b", "schema"), "reject", actor="rita")
    assert row["status"] == "rejected"
    assert _open(store, "schema") == set()


def test_resolution_errors_name_the_flag_and_what_to_do(store, write):
    import_file(store, _csv(write, "e.csv", [("a", "ok", "x")]), "e", columns=ColumnMap(label="label"))
    run_checks(store, "e", CheckConfig(checks=("schema",)))
    fid = _flag_id(store, "a", "schema")
    with pytest.raises(BadInput, match=rf"flag {fid} \(schema\) has no label to accept .*keep, edit or reject instead"):
        apply_flag_action(store, fid, "accept", actor="rita")
    with pytest.raises(BadInput, match=f"flag {fid}: an edit needs a new label, text or response"):
        apply_flag_action(store, fid, "edit", actor="rita")
    with pytest.raises(InvalidValue, match=r"resolution: 'maybe' is not valid \(choose one of: accept, keep, edit, reject\)"):
        apply_flag_action(store, fid, "maybe", actor="rita")
    with pytest.raises(StaleVersion, match="you had version 7"):
        apply_flag_action(store, fid, "keep", actor="rita", expected_version=7)
    apply_flag_action(store, fid, "keep", actor="rita")
    with pytest.raises(BadInput, match=rf"flag {fid} is already resolved by rita \(kept as is\)"):
        apply_flag_action(store, fid, "keep", actor="ben")
    with pytest.raises(BadInput, match="flag 999 does not exist"):
        apply_flag_action(store, 999, "keep", actor="rita")


def test_open_flags_appear_in_the_export(store, write, tmp_path):
    import json

    import_file(store, _csv(write, "x.csv", [("a", "ok", "x"), ("b", "long enough", "x")]), "x",
                columns=ColumnMap(label="label"))
    run_checks(store, "x", CheckConfig(checks=("schema",)))
    store.export_jsonl("x", tmp_path / "x.jsonl")
    recs = {r["id"]: r["flags"] for r in map(json.loads, (tmp_path / "x.jsonl").read_text().splitlines())}
    assert recs == {"a": [{"check": "schema", "severity": "warning", "suggestion": "complete the text or reject the example",
                           "detail": "text is too short (2 characters, minimum 3): 'ok'"}], "b": []}


def test_check_run_is_recorded(store, write):
    import_file(store, _csv(write, "x.csv", [("a", "ok", "x")]), "x", columns=ColumnMap(label="label"))
    run_checks(store, "x", CheckConfig(checks=("schema",)), actor="rita")
    from curation.store.checks import last_run

    run = last_run(store, "x")
    assert (run["checks"], run["actor"], run["summary"]["schema"]["flagged"]) == (["schema"], "rita", 1)


def test_checks_and_coverage_on_an_empty_dataset_raise_nothing(store):
    store.create_dataset("e", "generation")
    res = run_checks(store, "e")
    assert (res.open_flags, res.prioritised) == ({}, 0)
    from curation.checks.coverage import coverage_report

    assert coverage_report(store, "e").examples == 0
