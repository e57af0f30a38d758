"""Checks and coverage: run the checks (reviewers), resolve flags, see label balance, lengths,
sources and coverage of difficult cases."""

from __future__ import annotations

import altair as alt
import streamlit as st

from review_app import services as svc
from review_app.services import TuneloopError
from review_app.state import dataset_page, md_escape, run_action, show_flash


def _resolve(flag_id: int, action: str, version: int) -> None:
    run_action("chk_flash", f"flag {flag_id}: {action} saved.", svc.resolve_check_flag, flag_id, action, version)


@dataset_page("Checks & coverage")
def render(store, user, dataset: str) -> None:
    show_flash("chk_flash")
    last = svc.last_check_run(store, dataset)
    st.caption(f"Last check run: {last['created_at']:%Y-%m-%d %H:%M} by {md_escape(last['run_by'])}" if last
               else "No check run yet.")
    if user.can("reviewer") and st.button("Run all checks", key="chk_run", type="primary"):
        bar = st.progress(0.0, text="running checks")
        try:
            svc.run_checks(store, user, dataset, progress=lambda stage, done, total: bar.progress(
                min(done / max(total, 1), 1.0), text=stage))
        except TuneloopError as exc:
            st.error(str(exc))
        bar.empty()
        st.rerun()

    rep = svc.coverage(store, dataset)
    c1, c2, c3, c4 = st.columns(4)
    c1.metric("examples", rep.examples)
    c2.metric("labels", rep.labels)
    c3.metric("duplicates", f"{rep.duplicate_share:.1%}")
    c4.metric("flagged", f"{rep.flagged_share:.1%}")
    if rep.rare_labels:
        st.warning(f"{len(rep.rare_labels)} rare labels (fewer than {rep.min_label_count} examples): "
                   + md_escape(", ".join(rep.rare_labels[:20])))
    left, right = st.columns(2)
    with left:
        st.subheader("Label balance")
        if rep.label_balance.height:
            st.altair_chart(alt.Chart(rep.label_balance.head(40).to_pandas()).mark_bar().encode(
                x=alt.X("n:Q", title="examples"), y=alt.Y("label:N", sort="-x", title=None),
                color=alt.Color("rare:N", title="rare")), use_container_width=True)
    with right:
        st.subheader("Text length")
        if rep.lengths.height:
            st.altair_chart(alt.Chart(rep.lengths.to_pandas()).mark_bar().encode(
                x=alt.X("bin:N", sort=alt.SortField("lo"), title="characters"), y=alt.Y("n:Q", title="examples")),
                use_container_width=True)
    st.subheader("Difficult cases")
    if rep.difficult.height:
        st.altair_chart(alt.Chart(rep.difficult.drop("examples", strict=False).to_pandas()).mark_bar().encode(
            x=alt.X("n:Q", title="examples"), y=alt.Y("category:N", sort="-x", title=None)), use_container_width=True)
    st.subheader("Per source")
    st.dataframe(rep.per_source, hide_index=True, use_container_width=True)

    st.subheader("Open flags")
    flags = svc.check_flags(store, dataset, limit=200)
    if flags.height == 0:
        st.caption("No open flags.")
        return
    for row in flags.head(50).iter_rows(named=True):
        with st.container(border=True):
            st.markdown(f"**{md_escape(row['check_name'])}** ({row['severity']}) · example {row['example_id']} · "
                        f"label **{md_escape(row['label'] or '—')}**  \n{md_escape((row['text'] or '')[:300])}  \n"
                        f"_{md_escape(row['detail'] or '')}_"
                        + (f"  \nSuggestion: **{md_escape(row['suggestion'])}**" if row["suggestion"] else ""))
            if user.can("reviewer"):
                a, b = st.columns(2)
                a.button("Accept suggestion", key=f"chk_acc_{row['flag_id']}", disabled=not row["suggestion"],
                         on_click=_resolve, args=(row["flag_id"], "accept", row["version"]))
                b.button("Keep as is", key=f"chk_keep_{row['flag_id']}", on_click=_resolve,
                         args=(row["flag_id"], "keep", row["version"]))


render()
