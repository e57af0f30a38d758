"""AppTest: the Runs page (evaluate, loop back, confusion cell, rounds) and the rubric review page."""

from __future__ import annotations

import json
import shutil

import polars as pl
import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from curation import Store
from curation.store import evaluation as store_evaluation
from curation.store import runs as store_runs
from evaluation.rubric import summarize_checks
from review_app.auth import User, add_user

from .test_app import APP


@pytest.fixture
def runs_db(trained, tmp_path, monkeypatch):
    path = tmp_path / "app.duckdb"
    shutil.copy(trained.db, path)
    with Store(path) as s:
        add_user(s, "rita", "reviewer", "rita-pass")
        add_user(s, "ana", "annotator", "ana-pass")
    monkeypatch.setenv("TUNELOOP_DB", str(path))
    st.cache_resource.clear()
    yield path
    st.cache_resource.clear()


def _page(user: User, page: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120)
    at.session_state["user"] = user
    at.session_state["dataset"] = "banking77"
    at.run()
    return at.switch_page(f"views/{page}.py").run()


def _store():
    from review_app.state import get_store

    return get_store()


def test_runs_page_evaluates_then_sends_errors_and_a_confusion_cell(runs_db, trained):
    at = _page(User("rita", "reviewer"), "runs")
    assert at.title[0].value == "Runs · banking77"
    assert at.selectbox(key="run_pick").value == trained.run_id
    at.button(key="run_evaluate").click().run()
    assert not at.exception
    labels = [m.label for m in at.metric]
    assert labels[:4] == ["accuracy", "macro-F1", "ECE", "escalated (in scope)"]
    ev = store_evaluation.get_evaluation(_store(), trained.run_id)[0]
    assert any(c.value == "Escalation policy: " + ev["threshold"]["text"] for c in at.caption)
    assert "at most 5% of in-scope texts are escalated" in ev["threshold"]["text"]
    cell = ev["top_confused"][0]
    at.selectbox(key="run_cell").select(0).run()
    at.button(key="run_send_cell").click().run()
    assert at.success[0].value == f"{cell['count']} examples sent to review."
    at.number_input(key="run_budget").set_value(5).run()
    at.button(key="run_send_errors").click().run()
    assert at.success[0].value.startswith("5 examples sent to review (")  # the budget counts new items
    at.number_input(key="run_budget").set_value(0).run()
    at.button(key="run_send_errors").click().run()
    wrong = sum(r["count"] for r in ev["top_confused"])
    assert "model disagrees with label" in at.success[0].value
    flagged = _store().cursor().execute("SELECT count(DISTINCT example_id) FROM flags WHERE check_name = 'model_error'").fetchall()[0][0]
    assert flagged >= wrong  # every test mistake (plus validation mistakes and doubts)
    at.run()  # the rounds table is drawn above the buttons: the next run shows the corrections
    rounds = at.dataframe[1].value
    assert rounds["run"].tolist() == [trained.run_id] and rounds["sent"].tolist() == [flagged]


def test_runs_page_annotators_see_metrics_but_no_loop_back_buttons(runs_db, trained):
    from evaluation import EvalConfig, evaluate_run

    evaluate_run(_store(), trained.run_id, config=EvalConfig(bootstrap=0, baseline=False))
    at = _page(User("ana", "annotator"), "runs")
    assert not at.exception
    assert [m.label for m in at.metric][:2] == ["accuracy", "macro-F1"]
    assert not [b for b in at.button if b.key in ("run_send_errors", "run_send_cell")]


def _gen_run(s: Store, run_id: str, outputs: list[str]) -> None:
    store_runs.insert_run(s, run_id, snapshot_id="x", dataset="banking77", task="sft", base_model="m", config={})
    store_runs.finish_run(s, run_id, status="completed", metrics={}, path="/nowhere")
    store_evaluation.replace_generations(s, run_id, pl.DataFrame({
        "example_id": [1, 2], "prompt": ["how do I reset my card pin?", "what is the meaning of life?"],
        "reference": ["r1", "r2"], "output": outputs, "checks": [json.dumps({"pii": []})] * 2}))


def test_rubric_page_scores_blind_outputs_and_aggregates(runs_db):
    s = _store()
    _gen_run(s, "gen-a", ["Open the app and choose Reset PIN.", "I can only help with banking; let me pass you to a colleague."])
    _gen_run(s, "gen-b", ["No idea.", "42."])
    at = _page(User("rita", "reviewer"), "rubric")
    assert at.title[0].value == "Rubric review · banking77"
    at.selectbox(key="rub_a").select("gen-a").run()
    at.selectbox(key="rub_b").select("gen-b").run()
    subheaders = [h.value for h in at.subheader]
    assert subheaders == ["Output 1", "Output 2"]
    assert not any("gen-a" in m.value or "gen-b" in m.value for m in at.markdown)  # blind
    for c in ("correctness", "clarity", "tone", "safety", "usefulness"):
        at.slider(key=f"rub_1_{c}").set_value(2)
    at.text_input(key="rub_1_comment").input("too vague")
    at.button(key="rub_save_1").click().run()
    assert at.success[0].value == "Scores for output 1 saved."
    reviews = store_evaluation.rubric_reviews(s, ["gen-a", "gen-b"])
    assert len(reviews) == 1 and reviews[0]["scores"] == dict.fromkeys(("clarity", "correctness", "safety", "tone", "usefulness"), 2)
    assert reviews[0]["comment"] == "too vague" and reviews[0]["example_id"] == 1
    assert at.dataframe[-1].value["mean"].tolist() == [2.0] * 5



def test_runs_page_generates_outputs_of_a_generation_run_with_progress(runs_db, monkeypatch):
    import evaluation

    s = _store()
    store_runs.insert_run(s, "gen-x", snapshot_id="x", dataset="banking77", task="sft", base_model="m", config={})
    store_runs.finish_run(s, "gen-x", status="completed", metrics={}, path="/nowhere")
    calls = []

    def fake_generation(store, run_id, *, limit, progress):  # the generation itself is tested in test_rubric
        calls.append((run_id, limit))
        for i in range(limit):
            progress("generating", i + 1, limit)
        checks = [{"passed": True, "pii": []}, {"passed": False, "placeholders": ["{{Order Number}}"], "pii": []}]
        store_evaluation.replace_generations(store, run_id, pl.DataFrame({
            "example_id": [1, 2], "prompt": ["p1", "p2"], "reference": ["r1", "r2"], "output": ["o1", "Your {{Order Number}}"],
            "checks": [json.dumps(c) for c in checks]}))
        return summarize_checks(run_id, checks, [False, False])

    monkeypatch.setattr(evaluation, "evaluate_generation", fake_generation)
    at = _page(User("ana", "annotator"), "runs")
    at.selectbox(key="run_pick").select("gen-x").run()
    assert not at.exception and not [b for b in at.button if b.key == "run_generate"]  # reviewers generate
    at = _page(User("rita", "reviewer"), "runs")
    at.selectbox(key="run_pick").select("gen-x").run()
    assert "No outputs generated" in at.info[0].value
    at.number_input(key="gen_limit").set_value(2).run()
    at.button(key="run_generate").click().run()
    assert not at.exception and calls == [("gen-x", 2)]
    assert at.success[0].value == "2 outputs generated, 1 passed the automatic checks."
    assert [(m.label, m.value) for m in at.metric] == [("outputs", "2"), ("passed the automatic checks", "50%"), ("failed", "1")]
