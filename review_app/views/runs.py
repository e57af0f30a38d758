"""Runs: evaluations, calibration and confusion charts, loop back into review, and the rounds."""

from __future__ import annotations

import altair as alt
import polars as pl
import streamlit as st

from review_app import services as svc
from review_app.services import TuneloopError
from review_app.state import dataset_page, show_flash


def _charts(ev: dict) -> None:
    c1, c2 = st.columns(2)
    rel = pl.DataFrame(ev["reliability"])
    if rel.height:
        diag = alt.Chart(pl.DataFrame({"x": [0.0, 1.0], "y": [0.0, 1.0]})).mark_line(strokeDash=[4, 4], color="gray").encode(x="x", y="y")
        pts = alt.Chart(rel).mark_line(point=True).encode(
            x=alt.X("confidence", title="mean confidence", scale=alt.Scale(domain=[0, 1])),
            y=alt.Y("accuracy", title="accuracy", scale=alt.Scale(domain=[0, 1])), tooltip=["count", "confidence", "accuracy"])
        c1.caption(f"Reliability diagram (ECE {ev['ece']:.3f})")
        c1.altair_chart(diag + pts, width="stretch")
    cov = pl.DataFrame(ev["coverage_curve"])
    if cov.height:
        c2.caption("Coverage versus accuracy (lower threshold keeps more)")
        c2.altair_chart(alt.Chart(cov).mark_line().encode(x=alt.X("coverage", scale=alt.Scale(domain=[0, 1])),
                                                          y=alt.Y("accuracy", scale=alt.Scale(zero=False)),
                                                          tooltip=["threshold", "coverage", "accuracy"]), width="stretch")
    names, matrix = ev["confusion"]["labels"], ev["confusion"]["matrix"]
    cells = pl.DataFrame([{"labelled": names[i], "predicted": names[j], "count": matrix[i][j]}
                          for i in range(len(names)) for j in range(len(names)) if matrix[i][j]])
    if cells.height:
        st.caption("Confusion matrix (rows: labelled, columns: predicted)")
        st.altair_chart(alt.Chart(cells).mark_rect().encode(x="predicted:N", y="labelled:N", color="count:Q",
                                                            tooltip=["labelled", "predicted", "count"]), width="stretch")


def _generation(store, user, run_id: str) -> None:
    """A generation (sft) run: its outputs' automatic checks, and generating them from the app."""
    show_flash("gen_flash")
    summ = svc.generation_summary(store, run_id)
    if summ is None:
        st.info("No outputs generated for this run yet.")
    else:
        cols = st.columns(3)
        cols[0].metric("outputs", summ.outputs)
        cols[1].metric("passed the automatic checks", f"{summ.pass_rate:.0%}")
        cols[2].metric("failed", summ.outputs - summ.passed)
        failed = pl.DataFrame({"check": list(summ.failed), "outputs": list(summ.failed.values())})
        st.altair_chart(alt.Chart(failed).mark_bar().encode(x=alt.X("outputs:Q", title="outputs failing"),
                                                            y=alt.Y("check:N", title=None), tooltip=["check", "outputs"]),
                        width="stretch")
        st.caption("Score the outputs (blind, side by side with another run) on the Rubric review page.")
    if not user.can("reviewer"):
        return
    limit = st.number_input("Test prompts to answer", min_value=1, max_value=1000, value=50, step=10, key="gen_limit",
                            help="Greedy generation, about 30 tokens/s for SmolLM2 on CPU.")
    if st.button("Generate outputs for the test prompts", key="run_generate"):
        bar = st.progress(0.0, text="loading the model")

        def tick(stage: str, done: int, total: int) -> None:
            bar.progress(done / max(total, 1), text=f"{stage}: {done} of {total}")

        try:
            res = svc.generate_outputs(store, user, run_id, limit=int(limit), progress=tick)
        except TuneloopError as exc:
            st.error(str(exc))
        else:
            st.session_state["gen_flash"] = ("success", f"{res.outputs} outputs generated, {res.passed} passed the "
                                                        "automatic checks.")
            st.rerun()


@dataset_page("Runs")
def render(store, user, dataset: str) -> None:
    runs = svc.runs_table(store, dataset)
    if runs.height == 0:
        st.info("No runs yet: snapshot the approved examples, then train on the Snapshots page (Train tab) "
                "or with `tuneloop train --snapshot ID`.")
        return
    st.dataframe(runs.select("id", "status", "snapshot_id", "best_epoch", "val_score", "test_accuracy", "test_macro_f1", "minutes"),
                 hide_index=True, width="stretch")
    rounds = svc.rounds(store, dataset)
    if rounds:
        st.caption("Rounds: snapshot → run → metrics → corrections → next snapshot")
        st.dataframe(rounds, hide_index=True, width="stretch")
    done = runs.filter(pl.col("status") == "completed")["id"].to_list()
    if not done:
        return
    run_id = st.selectbox("Run", done, key="run_pick")
    if runs.filter(pl.col("id") == run_id)["task"][0] == "sft":
        _generation(store, user, run_id)
        return
    ev = svc.run_evaluation(store, run_id)
    if ev is None:
        st.info("This run has not been evaluated yet.")
        if user.can("reviewer") and st.button("Evaluate on the test split", key="run_evaluate"):
            with st.spinner("scoring validation and test splits, training the baseline"):
                try:
                    svc.evaluate_run(store, user, run_id)
                except TuneloopError as exc:
                    st.error(str(exc))
                else:
                    st.rerun()
        return
    cols = st.columns(5)
    ci = ev.get("ci") or {}
    cols[0].metric("accuracy", f"{ev['accuracy']:.3f}", help=f"95% CI {ci.get('accuracy')}")
    cols[1].metric("macro-F1", f"{ev['macro_f1']:.3f}", help=f"95% CI {ci.get('macro_f1')}")
    cols[2].metric("ECE", f"{ev['ece']:.3f}")
    thr = ev["threshold"]
    cols[3].metric("escalated (in scope)", f"{1 - ev['at_threshold']['coverage']:.1%}",
                   help=f"{thr.get('score', 'max_softmax')} below {thr['threshold']:.4g}")
    if ev.get("baseline"):
        cols[4].metric("baseline macro-F1", f"{ev['baseline']['macro_f1']:.3f}",
                       delta=f"{ev['baseline']['run_minus_baseline_macro_f1']:+.3f} run − baseline")
    st.caption("Escalation policy: " + (thr.get("text") or f"escalates below confidence {thr['threshold']:.3f}."))
    if ev.get("ood"):
        st.caption("Out-of-scope detection per score (AUROC in-scope vs out-of-scope; out-of-scope recall at 95/97/99% "
                   "in-scope coverage)")
        st.dataframe([{"score": n, "auroc": r["auroc"], **{f"recall @ {k}": v for k, v in r["oos_recall_at_coverage"].items()}}
                      for n, r in ev["ood"]["by_score"].items()], hide_index=True, width="stretch")
    tab_m, tab_loop, tab_cmp, tab_card = st.tabs(["Metrics", "Loop back", "Comparison", "Model card"])
    with tab_m:
        _charts(ev)
        st.caption("Per class")
        st.dataframe(ev["per_class"], hide_index=True, width="stretch")
        for name, rows in ev.get("slices", {}).items():
            st.caption(f"Slices by {name.replace('_', ' ')}")
            st.dataframe(rows, hide_index=True, width="stretch")
    with tab_loop:
        if not user.can("reviewer"):
            st.caption("Reviewers can send model errors to the review queue.")
        else:
            c1, c2 = st.columns([1, 2])
            budget = c1.number_input("Review budget (0 = all)", min_value=0, value=0, step=50, key="run_budget",
                                     help="At most this many new items, likeliest label errors first; send again for the next ones.")
            with_checks = c2.checkbox("Include likely label errors found by the checks (label_issue flags)", value=True,
                                      key="run_label_checks")
            if st.button("Send mistakes and low-confidence predictions to review", key="run_send_errors"):
                try:
                    res = svc.send_run_errors(store, user, run_id, budget=int(budget) or None, label_checks=with_checks)
                except TuneloopError as exc:
                    st.error(str(exc))
                else:
                    why = ", ".join(f"{k}: {v}" for k, v in res.by_reason.items()) or "nothing new"
                    st.success(f"{len(res.sent)} examples sent to review ({why}).")
            pairs = ev["top_confused"]
            if pairs:
                label = {i: f"predicted {p['predicted']}, labelled {p['labelled']} ({p['count']})" for i, p in enumerate(pairs)}
                pick = st.selectbox("Confusion-matrix cell", list(label), format_func=label.get, key="run_cell")
                if st.button("Send exactly these examples to review", key="run_send_cell"):
                    p = pairs[pick]
                    try:
                        res = svc.send_cell(store, user, run_id, p["predicted"], p["labelled"])
                    except TuneloopError as exc:
                        st.error(str(exc))
                    else:
                        st.success(f"{len(res.sent)} examples sent to review.")
    with tab_cmp:
        cmp = ev.get("comparison")
        if not cmp:
            st.caption("No earlier evaluated run of this dataset.")
        else:
            st.caption(f"Against {cmp['previous_run']}: macro-F1 {cmp['macro_f1_delta']:+.3f}"
                       + ("" if cmp["same_test_split"] else " (different test split)"))
            st.dataframe(cmp["per_class"], hide_index=True, width="stretch")
    with tab_card:
        st.markdown(svc.run_card(store, run_id))


render()
