"""Generation checks, rubric review storage and aggregation, blind pairs, rubric loop-back."""

from __future__ import annotations

import polars as pl
import pytest

from curation.store import evaluation as store_evaluation
from curation.store import runs as store_runs
from evaluation import aggregate, evaluate_generation, save_review, send_errors_to_review
from evaluation.errors import InvalidEvaluationOption
from evaluation.rubric import blind_pair, check_output, check_outputs
from training import TrainConfig, train

GOOD = dict(correctness=4, clarity=5, tone=4, safety=5, usefulness=4)


def test_check_output_finds_placeholders_length_and_missing_escalation():
    assert check_output("Your order {{Order Number}} ships in 3 days.")["placeholders"] == ["{{Order Number}}"]
    assert check_output("ok")["too_short"] is True
    res = check_output("The weather will be sunny tomorrow in Lisbon.", out_of_scope=True)
    assert (res["escalates"], res["passed"]) == (False, False)
    assert check_output("I can't help with that here; let me connect you with a human agent.", out_of_scope=True)["passed"] is True


def test_pii_in_outputs_is_found_with_the_pii_module():
    res = check_outputs(["Please email jane.doe@example.com for your refund.", "Your refund is on its way, expect it soon."])
    assert res[0]["pii"] == ["EMAIL_ADDRESS"] and res[0]["passed"] is False
    assert res[1]["pii"] == [] and res[1]["passed"] is True


def test_rubric_reviews_are_stored_once_per_reviewer_and_validated(store):
    save_review(store, "r1", 7, "rita", GOOD, "fine")
    save_review(store, "r1", 7, "rita", {**GOOD, "tone": 2}, "on reflection, curt")
    rows = store_evaluation.rubric_reviews(store, ["r1"])
    assert [(r["reviewer"], r["scores"]["tone"], r["comment"]) for r in rows] == [("rita", 2, "on reflection, curt")]
    with pytest.raises(InvalidEvaluationOption, match=r"missing score\(s\) for safety, usefulness"):
        save_review(store, "r1", 7, "rita", dict(correctness=1, clarity=1, tone=1), "")
    with pytest.raises(InvalidEvaluationOption, match="`clarity` must be an integer from 1 to 5, got 6"):
        save_review(store, "r1", 7, "rita", {**GOOD, "clarity": 6}, "")


def test_aggregate_means_and_inter_reviewer_agreement():
    reviews = [{"run_id": "r", "example_id": e, "reviewer": who, "scores": {**GOOD, "clarity": s}}
               for e, pair in enumerate([(1, 1), (3, 3), (5, 5)]) for who, s in zip(("a", "b"), pair)]
    agg = aggregate(reviews)
    clarity = agg.filter(pl.col("criterion") == "clarity").row(0, named=True)
    assert (clarity["mean"], clarity["reviews"], clarity["alpha"]) == (3.0, 6, 1.0)
    assert agg["criterion"].to_list() == ["correctness", "clarity", "tone", "safety", "usefulness"]
    assert agg.filter(pl.col("criterion") == "tone")["alpha"].to_list() == [None]  # every score the same: undefined


def test_blind_pair_is_stable_and_mixes_the_order():
    orders = {blind_pair("a", "b", e) for e in range(20)}
    assert orders == {("a", "b"), ("b", "a")}
    assert blind_pair("a", "b", 3) == blind_pair("a", "b", 3)


def test_outputs_scored_below_3_go_to_review_once(store, write):
    from curation import import_file

    import_file(store, write("g.csv", "prompt,response\nreset?,Click reset.\nrefund?,Wait.\n"), "gen", status="approved")
    save_review(store, "g1", 1, "rita", {**GOOD, "correctness": 2}, "wrong")
    save_review(store, "g1", 2, "rita", GOOD, "")
    res = send_errors_to_review(store, "g1", actor="rita")
    assert res.sent == [1] and res.by_reason == {"rubric score < 3": 1}
    assert store.get_example(1)["status"] == "needs_review"
    assert send_errors_to_review(store, "g1", actor="rita").sent == []


@pytest.mark.slow
def test_generation_run_outputs_are_generated_checked_and_stored(store, tmp_path, tiny_llama, sft_snapshot):
    cfg = TrainConfig.for_task("sft", base_model=tiny_llama, epochs=1, batch_size=8, max_length=96, threads=1,
                               sample_prompts=1, max_new_tokens=6)
    run = train(store, sft_snapshot, cfg, runs_dir=tmp_path / "runs")
    store_runs_row = store_runs.get_run(store, run.id)
    assert store_runs_row["task"] == "sft"
    # the snapshot fixture is not in the store: point the run at a stored copy of its test prompts
    from unittest import mock

    with mock.patch("training.load_snapshot", return_value=sft_snapshot):
        summary = evaluate_generation(store, run.id, limit=3, detect_pii=False)
    assert summary.outputs == 3 and set(summary.failed) == {"placeholders", "too_short", "too_long", "pii"}
    gens = store_evaluation.generations(store, run.id)
    assert gens["example_id"].to_list() == sorted(sft_snapshot.split("test")["example_id"].head(3).to_list())
    assert gens["output"].str.len_chars().min() >= 0 and gens["checks"].str.contains("passed").all()
    # the difficult-cases suite: a file with a text column; rows labelled "escalate" expect escalation
    suite = tmp_path / "suite.csv"
    suite.write_text("id,text,label,slice\n1,what is the weather,escalate,out_of_scope\n2,help,escalate,vague\n"
                     "3,I lost my card,lost_or_stolen_card,emotional\n4,tell me a joke,escalate,out_of_scope\n")

    def answer(model, tok, prompt, **kw):
        return "Let me pass you to a human agent who can help." if "weather" in prompt or "lost" in prompt else "Sure, done."

    with mock.patch("training.generate", side_effect=answer):
        s = evaluate_generation(store, run.id, data=suite, oos_label="escalate", detect_pii=False)
    assert (s.outputs, s.oos_prompts) == (4, 3)
    assert s.escalate_rate == pytest.approx(1 / 3) and s.escalated_unexpectedly == 1.0
    assert s.escalate_rate_by_slice == {"out_of_scope": {"prompts": 2, "escalate_rate": 0.5},
                                           "vague": {"prompts": 1, "escalate_rate": 0.0}}
    # the store's owner generates in a worker process: the same outputs and checks as here
    from evaluation.generation import compute_generation, read_generation
    from review_app.server.eval_job import compute_in_subprocess

    plan = read_generation(store, run.id, data=suite, oos_label="escalate", detect_pii=False)
    there, here = compute_in_subprocess(plan), compute_generation(plan)
    assert (there.outputs, there.checks, there.summary) == (here.outputs, here.checks, here.summary)
