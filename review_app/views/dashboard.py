"""Dashboard: counts by status and label, progress over time, throughput per person, agreement."""

from __future__ import annotations

import altair as alt
import polars as pl
import streamlit as st

from review_app import services as svc
from review_app.state import dataset_page


@dataset_page("Dashboard")
def render(store, _, dataset: str) -> None:
    d = svc.dashboard(store, dataset)
    total = int(d.by_status["n"].sum()) if d.by_status.height else 0
    counts = dict(zip(d.by_status["key"].to_list(), d.by_status["n"].to_list()))
    cols = st.columns(5)
    cols[0].metric("examples", total)
    for col, status in zip(cols[1:], ["imported", "needs_review", "approved", "rejected"]):
        col.metric(status, counts.get(status, 0))
    left, right = st.columns(2)
    with left:
        st.subheader("By status")
        st.altair_chart(alt.Chart(d.by_status.to_pandas()).mark_bar().encode(
            x=alt.X("n:Q", title="examples"), y=alt.Y("key:N", title=None, sort="-x")), use_container_width=True)
    with right:
        st.subheader("Top labels")
        top = d.by_label.head(25).with_columns(pl.col("key").fill_null("(none)"))
        st.altair_chart(alt.Chart(top.to_pandas()).mark_bar().encode(
            x=alt.X("n:Q", title="examples"), y=alt.Y("key:N", title=None, sort="-x")), use_container_width=True)
    st.subheader("Progress over time")
    if d.activity.height:
        daily = d.activity.group_by("day", "action").agg(pl.col("n").sum()).sort("day")
        st.altair_chart(alt.Chart(daily.to_pandas()).mark_bar().encode(
            x=alt.X("day:T"), y=alt.Y("n:Q", title="actions"), color="action:N"), use_container_width=True)
        st.subheader("Throughput per person")
        per = d.activity.group_by("actor", "action").agg(pl.col("n").sum())
        st.altair_chart(alt.Chart(per.to_pandas()).mark_bar().encode(
            x=alt.X("n:Q", title="actions"), y=alt.Y("actor:N", title=None, sort="-x"), color="action:N"),
            use_container_width=True)
    else:
        st.caption("No review actions yet.")
    st.subheader("Annotator agreement")
    a = d.agreement
    if a.get("items"):
        c1, c2, c3 = st.columns(3)
        c1.metric("items with 2+ annotations", a["items"])
        c2.metric("observed agreement", f"{a['observed_agreement']:.0%}")
        c3.metric("Krippendorff's alpha", f"{a['krippendorff_alpha']:.2f}")
    else:
        st.caption("No items with several annotations yet (set 'annotations per item' in Settings).")


render()
