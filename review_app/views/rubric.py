"""Rubric review: score generated outputs 1-5 per criterion, blind when two runs are compared."""

from __future__ import annotations

import streamlit as st

from review_app import services as svc
from review_app.services import TuneloopError
from review_app.state import dataset_page, md_escape


@dataset_page("Rubric review")
def render(store, user, dataset: str) -> None:
    if not user.can("reviewer"):
        st.info("Rubric review is for reviewers.")
        return
    runs = svc.runs_table(store, dataset)
    ids = runs.filter(runs["task"] == "sft")["id"].to_list() if runs.height else []
    if not ids:
        st.info("No generation runs with outputs yet: train an sft run, then generate outputs for its test prompts.")
        return
    run_a = st.selectbox("Run", ids, key="rub_a")
    other = st.selectbox("Compare side by side with (blind)", ["(none)"] + [i for i in ids if i != run_a], key="rub_b")
    run_b = None if other == "(none)" else other
    items = svc.rubric_items(store, user, run_a, run_b)
    if not items:
        st.info("No generated outputs stored for this run (or none shared by both runs).")
        return
    pos = min(st.session_state.get("rub_pos", 0), len(items) - 1)
    item = items[pos]
    st.caption(f"Prompt {pos + 1} of {len(items)}")
    st.markdown(md_escape(item.prompt))
    cols = st.columns(len(item.outputs))
    for slot, (col, (_run, output), checks) in enumerate(zip(cols, item.outputs, item.checks), 1):
        with col:
            st.subheader(f"Output {slot}")
            st.markdown(md_escape(output))
            failed = [k for k in ("placeholders", "too_short", "too_long", "pii") if checks.get(k)]
            st.caption("automatic checks: " + (", ".join(failed) + " failed" if failed else "passed"))
            scores = {c: st.slider(c, 1, 5, 3, key=f"rub_{slot}_{c}") for c in svc.criteria()}
            comment = st.text_input("Comment", key=f"rub_{slot}_comment")
            if st.button("Save scores", key=f"rub_save_{slot}"):
                try:
                    svc.submit_rubric(store, user, item.outputs[slot - 1][0], item.example_id, scores, comment)
                except TuneloopError as exc:
                    st.error(str(exc))
                else:
                    st.success(f"Scores for output {slot} saved.")
    nav = st.columns(2)
    if nav[0].button("Previous", key="rub_prev", disabled=pos == 0):
        st.session_state["rub_pos"] = pos - 1
        st.rerun()
    if nav[1].button("Next", key="rub_next", disabled=pos >= len(items) - 1):
        st.session_state["rub_pos"] = pos + 1
        st.rerun()
    summary = svc.rubric_summary(store, [r for r in (run_a, run_b) if r])
    if summary.height:
        st.caption("Mean score per criterion, with inter-reviewer agreement (Krippendorff's alpha, ordinal)")
        st.dataframe(summary, hide_index=True, width="stretch")


render()
