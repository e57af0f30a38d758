"""evaluate_run, predict_file and the loop back on a tiny trained run."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest

from curation.store import evaluation as store_evaluation
from evaluation import EvalConfig, evaluate_run, predict_file, send_confusion_cell, send_errors_to_review
from evaluation.errors import EvaluationDataError, NotEvaluated
from evaluation.evaluate import ESCALATE
from training import load_snapshot

FAST = EvalConfig(bootstrap=50)


def test_evaluate_stores_predictions_threshold_report_and_card(eval_store, trained):
    res = evaluate_run(eval_store, trained.run_id, config=FAST)
    snap = load_snapshot(eval_store, trained.snapshot_id)
    s = res.summary
    assert s.n == snap.split("test").height
    assert 0 <= s.ci["accuracy"][0] <= s.accuracy <= s.ci["accuracy"][1] <= 1
    preds = store_evaluation.run_predictions(eval_store, trained.run_id)
    counts = dict(preds.group_by("split").len().iter_rows())
    assert counts == {"test": snap.split("test").height, "validation": snap.split("validation").height,
                      "unreviewed": len(trained.unreviewed)}
    _, threshold = store_evaluation.get_evaluation(eval_store, trained.run_id)
    assert threshold == s.threshold["threshold"]
    assert preds.filter(pl.col("split") == "test")["abstained"].to_list() == (res.predictions["score"] < threshold).to_list()
    assert set(s.slices) == {"label_frequency", "source"}
    assert s.slices["source"][0]["slice"] == "b.parquet"
    assert 0 <= s.baseline["macro_f1"] <= 1
    card = (res.folder / "model_card.md").read_text()
    assert "Evaluation on held-out data" in card and "Not evaluated beyond" not in card
    assert json.loads((res.folder / "evaluation.json").read_text()) == json.loads(json.dumps(s.to_dict(), default=str))
    assert store_evaluation.get_evaluation(eval_store, trained.run_id)[0]["run"] == trained.run_id
    # a second evaluation replaces the stored predictions instead of adding to them
    evaluate_run(eval_store, trained.run_id, config=EvalConfig(bootstrap=0, baseline=False))
    assert store_evaluation.run_predictions(eval_store, trained.run_id).height == preds.height


def test_evaluate_on_a_labelled_file_with_out_of_scope_rows(eval_store, trained, write):
    f = write("hard.csv", "text,label,slice\nwhere is my new card,card_arrival,vague\n"
                          "what is the weather tomorrow,escalate,oos\nmy top up failed again,top_up_failed,emotional\n")
    res = evaluate_run(eval_store, trained.run_id, data=f, config=EvalConfig(bootstrap=0, baseline=False, oos_label="escalate"))
    s = res.summary
    assert (s.n, s.oos["oos_examples"], s.oos["in_scope_examples"]) == (2, 1, 2)
    # AUROC and out-of-scope recall at 95/97/99% in-scope coverage, per score, in the summary and the files
    assert s.ood["policy_score"] == s.threshold["score"] and set(s.ood["by_score"]) >= {"max_softmax", "energy", "knn", "mahalanobis"}
    for r in s.ood["by_score"].values():
        assert 0 <= r["auroc"] <= 1 and set(r["oos_recall_at_coverage"]) == {"0.95", "0.97", "0.99"}
    written = json.loads((res.folder / "evaluation.json").read_text())
    assert written["ood"]["by_score"]["knn"]["auroc"] == s.ood["by_score"]["knn"]["auroc"]
    assert "AUROC in-scope vs out-of-scope" in (res.folder / "evaluation.md").read_text()
    assert [r["slice"] for r in s.slices["slice"]] == ["emotional", "oos", "vague"]
    assert store_evaluation.get_evaluation(eval_store, trained.run_id)[0] is None
    assert (res.folder / "evaluation.md").read_text().startswith(f"# Evaluation of run {trained.run_id}")


def test_evaluate_rejects_unknown_labels_naming_file_row_and_option(eval_store, trained, write):
    f = write("bad.csv", "text,label\nhello,card_arrival\nwhat is this,nonsense\n")
    with pytest.raises(EvaluationDataError, match=r"bad.csv:3:label: label 'nonsense' is not one of the run's 4 labels \(1 such rows\); mark out-of-scope rows with --oos-label"):
        evaluate_run(eval_store, trained.run_id, data=f, config=FAST)
    with pytest.raises(EvaluationDataError, match=r"bad.csv:1:category: column missing \(columns: text, label\)"):
        evaluate_run(eval_store, trained.run_id, data=f, config=EvalConfig(label_col="category"))


def test_coverage_policy_escalates_the_budgeted_share_of_validation(eval_store, trained):
    res = evaluate_run(eval_store, trained.run_id, config=EvalConfig(bootstrap=0, baseline=False, budget=0.1))
    val = store_evaluation.run_predictions(eval_store, trained.run_id).filter(pl.col("split") == "validation")
    assert res.summary.threshold["mode"] == "coverage" and res.summary.threshold["score"] == "combined"
    assert val["abstained"].sum() == int(0.1 * val.height)
    assert "at most 10% of in-scope texts are escalated" in (res.folder / "model_card.md").read_text()


def test_predict_abstains_by_the_runs_policy(eval_store, trained, write, tmp_path):
    from evaluation import EscalationPolicy
    from evaluation.scoring import run_scores
    from training import load_run

    f = write("in.csv", "id,text\n1,my card still has not arrived\n2,exchange rate please\n3,what is the capital of peru\n"
                        "4,I lost my card yesterday\n5,sing me a song\n")
    evaluate_run(eval_store, trained.run_id, config=EvalConfig(bootstrap=0, baseline=False, budget=0.5))
    stored, thr = store_evaluation.get_evaluation(eval_store, trained.run_id)
    res = predict_file(eval_store, trained.run_id, f, tmp_path / "out.csv")
    run = load_run(eval_store, trained.run_id)
    score = run_scores(run, pl.read_csv(f)["text"].to_list()).ood(run.scoring)[stored["threshold"]["score"]]
    out = pl.read_csv(tmp_path / "out.csv")
    assert out["abstained"].to_list() == (score < thr).tolist()
    assert res.policy == stored["threshold"]["text"] and res.abstained == int((score < thr).sum())
    # a budget given to predict chooses the threshold now, on validation
    none = predict_file(eval_store, trained.run_id, f, tmp_path / "none.csv", policy=EscalationPolicy(budget=0.0))
    assert none.score == "combined" and "at most 0% of in-scope texts" in none.policy


def test_predict_abstains_below_the_threshold(eval_store, trained, write, tmp_path):
    f = write("in.csv", "id,text\n1,my card still has not arrived\n2,exchange rate please\n")
    res = predict_file(eval_store, trained.run_id, f, tmp_path / "out.jsonl", threshold=1.01)
    rows = [json.loads(l) for l in (tmp_path / "out.jsonl").read_text().splitlines()]
    assert res.abstained == 2 and [r["decision"] for r in rows] == [ESCALATE, ESCALATE]
    predict_file(eval_store, trained.run_id, f, tmp_path / "out.csv", threshold=0.0)
    out = pl.read_csv(tmp_path / "out.csv")
    assert out.columns == ["id", "text", "predicted", "confidence", "abstained", "decision"]
    assert out["decision"].to_list() == out["predicted"].to_list()
    with pytest.raises(EvaluationDataError, match=r"out.txt: unknown output extension '.txt'"):
        predict_file(eval_store, trained.run_id, f, tmp_path / "out.txt")


def test_loop_back_sends_exactly_the_mistakes_and_doubts_once(eval_store, trained):
    with pytest.raises(NotEvaluated, match="has no evaluation yet: run `tuneloop evaluate --run"):
        send_errors_to_review(eval_store, trained.run_id)
    evaluate_run(eval_store, trained.run_id, config=EvalConfig(bootstrap=0, baseline=False, policy="precision",
                                                               target_precision=0.99, score="max_softmax"))
    preds = store_evaluation.run_predictions(eval_store, trained.run_id)
    _, thr = store_evaluation.get_evaluation(eval_store, trained.run_id)
    wrong = set(preds.filter(pl.col("split").is_in(["test", "validation"]) & (pl.col("label") != pl.col("expected")))["example_id"])
    doubt = set(preds.filter((pl.col("split") == "unreviewed") & (pl.col("confidence") < thr))["example_id"])
    assert doubt == set(preds.filter((pl.col("split") == "unreviewed") & pl.col("abstained"))["example_id"])
    res = send_errors_to_review(eval_store, trained.run_id, actor="rita")
    assert set(res.sent) == wrong | doubt and len(res.sent) == len(wrong) + len(doubt)
    for eid in wrong:
        ex = eval_store.get_example(eid)
        assert ex["status"] == "needs_review" and ex["priority"] >= 100
        flag = [f for f in eval_store._dicts("SELECT * FROM flags WHERE example_id = ?", [eid])]
        assert [(f["check_name"], f["severity"], f["detail"]) for f in flag] == [
            ("model_error", "warning", f"model disagrees with label (run {trained.run_id})")]
        assert flag[0]["suggestion"] == preds.filter(pl.col("example_id") == eid)["label"][0]
        assert eval_store.revisions(eid)[-1]["action"] == "model_error"
    for eid in doubt:
        assert eval_store.get_example(eid)["status"] == "imported"
    again = send_errors_to_review(eval_store, trained.run_id, actor="rita")
    assert again.sent == []
    assert eval_store.cursor().execute("SELECT count(*) FROM flags").fetchall()[0][0] == len(res.sent)


def test_confusion_cell_sends_exactly_that_cell(eval_store, trained):
    res = evaluate_run(eval_store, trained.run_id, config=EvalConfig(bootstrap=0, baseline=False))
    pairs = res.summary.top_confused
    assert pairs, "the tiny model makes mistakes on the test split"
    cell = pairs[0]
    got = send_confusion_cell(eval_store, trained.run_id, predicted=cell["predicted"], labelled=cell["labelled"], actor="rita")
    want = res.predictions.filter((pl.col("label") == cell["predicted"]) & (pl.col("expected") == cell["labelled"]))["example_id"]
    assert sorted(got.sent) == sorted(want.to_list()) and len(got.sent) == cell["count"]
    assert send_confusion_cell(eval_store, trained.run_id, predicted=cell["predicted"], labelled=cell["labelled"]).sent == []


SUITE = Path(__file__).resolve().parents[2] / "data" / "difficult_cases" / "suite.csv"


def test_difficult_cases_suite_is_complete_and_valid():
    suite = pl.read_csv(SUITE)
    labels = set(json.loads((SUITE.parents[1] / "banking77" / "categories.json").read_text())) | {"escalate"}
    assert suite.height >= 150 and suite["text"].n_unique() == suite.height
    assert set(suite["label"]) <= labels
    assert dict(suite.group_by("slice").len().iter_rows()) == {"vague": 31, "emotional": 35, "incomplete": 32, "hostile": 31,
                                                               "out_of_scope": 35}
    assert set(suite.filter(pl.col("slice") == "out_of_scope")["label"]) == {"escalate"}


def test_difficult_cases_are_reported_per_slice(eval_store, trained):
    res = evaluate_run(eval_store, trained.run_id, data=SUITE,
                       config=EvalConfig(bootstrap=0, baseline=False, oos_label="escalate", drop_unknown=True))
    s = res.summary
    assert s.oos["oos_examples"] == 66
    assert {r["slice"] for r in s.slices["slice"]} == {"vague", "emotional", "incomplete", "hostile", "out_of_scope"}
    assert "rows with labels unknown to the run dropped" in s.data


def test_review_budget_sends_only_the_highest_priority_items(eval_store, trained):
    from evaluation import review_candidates

    evaluate_run(eval_store, trained.run_id, config=EvalConfig(bootstrap=0, baseline=False, target_precision=0.99))
    preds = store_evaluation.run_predictions(eval_store, trained.run_id)
    _, thr = store_evaluation.get_evaluation(eval_store, trained.run_id)
    top2 = review_candidates(preds, thr)["example_id"].head(2).to_list()
    res = send_errors_to_review(eval_store, trained.run_id, actor="rita", budget=2)
    assert res.sent == top2
    first = eval_store._dicts("SELECT id FROM examples ORDER BY priority DESC, id LIMIT 2", [])
    assert sorted(r["id"] for r in first) == sorted(top2)


def test_a_second_budgeted_call_sends_the_next_items_and_never_re_asks_a_decided_one(eval_store, trained):
    from review_app import services as svc
    from review_app.auth import User

    evaluate_run(eval_store, trained.run_id, config=EvalConfig(bootstrap=0, baseline=False, target_precision=0.99))
    from evaluation import review_candidates

    preds = store_evaluation.run_predictions(eval_store, trained.run_id)
    _, thr = store_evaluation.get_evaluation(eval_store, trained.run_id)
    order = review_candidates(preds, thr)["example_id"].to_list()
    assert len(order) >= 4, "the tiny model leaves enough mistakes and doubts"
    first = send_errors_to_review(eval_store, trained.run_id, actor="rita", budget=2)
    assert first.sent == order[:2]
    rita = User("rita", "reviewer")
    for eid in first.sent:  # the reviewer keeps the label: the model_error flag is resolved by the approval
        ex = eval_store.get_example(eid)
        svc.approve(eval_store, rita, eid, ex["version"])
    second = send_errors_to_review(eval_store, trained.run_id, actor="rita", budget=2)
    assert second.sent == order[2:4]  # not the two already decided, although the model still disagrees


def test_loop_back_sends_open_label_issue_flags_ranked_with_the_mistakes(eval_store, trained):
    from curation.store import review as store_review

    evaluate_run(eval_store, trained.run_id, config=EvalConfig(bootstrap=0, baseline=False, target_precision=0.99))
    train_ids = load_snapshot(eval_store, trained.snapshot_id).split("train")["example_id"].to_list()
    sure, unsure = train_ids[0], train_ids[1]
    with eval_store.transaction() as cur:  # as `tuneloop check` raises them: score = 1 - p(given label)
        store_review.add_flag(cur, sure, "banking77", "label_issue", "warning", 0.99, "likely mislabelled", "card_arrival")
        store_review.add_flag(cur, unsure, "banking77", "label_issue", "warning", 0.2, "likely mislabelled", "exchange_rate")
    res = send_errors_to_review(eval_store, trained.run_id, actor="rita")
    assert {sure, unsure} <= set(res.sent) and res.by_reason["likely label error (label_issue check)"] == 2
    assert res.sent[0] == sure  # 100 + 10 x 0.99 beats every disagreement below 0.99 confidence
    ex = eval_store.get_example(sure)
    assert ex["status"] == "needs_review" and ex["priority"] == pytest.approx(109.9)
    loop = [f for f in store_review.open_flags(eval_store, sure) if f["check_name"] == "model_error"][0]
    assert loop["suggestion"] == "card_arrival" and loop["detail"].startswith("likely label error")
    without = send_errors_to_review(eval_store, trained.run_id, actor="rita", label_checks=False)
    assert without.sent == []  # idempotent, and nothing new without label checks


def test_review_candidates_put_the_likeliest_label_errors_first_whatever_found_them():
    from evaluation import review_candidates

    preds = pl.DataFrame({"example_id": [1, 2, 3], "split": ["test", "validation", "unreviewed"],
                          "expected": ["a", "b", None], "label": ["b", "b", "a"], "confidence": [0.95, 0.99, 0.3]})
    flags = pl.DataFrame({"example_id": [7, 8, 1], "score": [0.99, 0.5, 0.2], "suggestion": ["c", "a", "b"]})
    got = review_candidates(preds, 0.5, label_flags=flags)
    assert got["example_id"].to_list() == [7, 1, 8, 3]  # 109.9, 109.5 (1 as a disagreement), 105, 97
    assert got["reason"].to_list() == ["likely label error (label_issue check)", "model disagrees with label",
                                       "likely label error (label_issue check)", "low confidence"]
    assert review_candidates(preds, 0.5, label_flags=flags, budget=2)["example_id"].to_list() == [7, 1]
