"""Browse: filter and search examples; reviewers approve or relabel a selection (with confirmation).

The table is frozen until the filters change or the user refreshes it, so a selection always
refers to the rows and versions on screen; a bulk action carries those versions, and rows
someone changed since are reported as stale, not applied.
"""

from __future__ import annotations

import streamlit as st

from review_app import services as svc
from review_app.services import TuneloopError
from review_app.state import dataset_page, get_store


@dataset_page("Browse")
def render(store, user, dataset: str) -> None:
    c1, c2, c3 = st.columns(3)
    status = c1.selectbox("Status", ["(any)", "imported", "needs_review", "approved", "rejected"], key="b_status")
    options = svc.filter_options(store, dataset)
    label = c2.selectbox("Label", ["(any)", *options.labels], key="b_label")
    flag = c3.selectbox("Open flag", ["(any)", *options.flags], key="b_flag")
    c4, c5, c6 = st.columns(3)
    sources = options.sources
    source = c4.selectbox("Source", ["(any)", *sources], key="b_source")
    annotator = c5.selectbox("Changed by", ["(any)", *options.users], key="b_annotator")
    search = c6.text_input("Search text", key="b_search")
    query = dict(status=None if status == "(any)" else status, label=None if label == "(any)" else label,
                 flag=None if flag == "(any)" else flag, source_id=None if source == "(any)" else sources[source],
                 annotator=None if annotator == "(any)" else annotator, search=search or None)
    shown = st.session_state.get("b_shown")
    if shown is not None and shown[0][:2] != (dataset, query):
        st.session_state["b_page"] = 0  # new filters: back to the first page
    page = st.session_state.setdefault("b_page", 0)
    c7, c8, c9 = st.columns([2, 1, 1])
    refresh = c7.button("Refresh the table", key="b_refresh")
    if c8.button("Previous rows", key="b_prev", disabled=page == 0):
        page = st.session_state["b_page"] = page - 1
    if c9.button("Next rows", key="b_next", disabled=shown is not None and shown[1].height < svc.BROWSE_LIMIT):
        page = st.session_state["b_page"] = page + 1
    if refresh or shown is None or shown[0] != (dataset, query, page):
        shown = ((dataset, query, page), svc.browse(store, dataset, **query, offset=page * svc.BROWSE_LIMIT))
        st.session_state["b_shown"] = shown
        st.session_state["b_table_gen"] = st.session_state.get("b_table_gen", 0) + 1  # a new table: no selection
    frame = shown[1]
    first = page * svc.BROWSE_LIMIT
    st.caption(f"{frame.height} examples shown (at most {svc.BROWSE_LIMIT}; rows {first + 1}–{first + frame.height}) "
               "· as loaded; Refresh to see later changes")
    event = st.dataframe(frame, key=f"b_table_{st.session_state['b_table_gen']}", on_select="rerun",
                         selection_mode="multi-row", hide_index=True, use_container_width=True)
    rows = event.selection.rows if event and event.selection else []
    selected = {int(frame["id"][i]): (int(frame["version"][i]), frame["label"][i]) for i in rows}
    if not user.can("reviewer"):
        return
    st.subheader(f"Bulk actions ({len(selected)} selected)")
    new_label = st.selectbox("New label", svc.label_choices(store, dataset), index=None, key="b_new_label")
    left, right = st.columns(2)
    if left.button("Approve selected", disabled=not selected, key="b_approve"):
        _confirm(selected, "approve", None)
    if right.button("Relabel selected", disabled=not selected or not new_label, key="b_relabel"):
        _confirm(selected, "relabel", new_label)
    done = st.session_state.pop("bulk_result", None)
    if done:
        st.success(f"{len(done.done)} examples changed.")
        if done.stale:
            st.warning(f"{len(done.stale)} changed by someone else since the table was loaded and were left alone "
                       f"(stale): {', '.join(map(str, done.stale))}. Refresh the table to see their changes.")


@st.dialog("Confirm bulk action", width="large")
def _confirm(selected: dict[int, tuple[int, str | None]], action: str, new_label: str | None) -> None:
    what = "approve" if action == "approve" else f"relabel as '{new_label}'"
    st.write(f"{what.capitalize()} these {len(selected)} examples, as shown? Each change is recorded in their "
             "history; any changed since the table was loaded is left alone and reported.")
    st.dataframe([{"id": i, "label as shown": lab, "version": v} for i, (v, lab) in selected.items()],
                 hide_index=True, use_container_width=True, height=min(36 * (len(selected) + 1) + 2, 300))
    st.caption("Open flags stay open: an example with an open label_issue, label_conflict or pii_review flag stays "
               "out of snapshots until the flag is decided in the queue or on the Checks page.")
    if st.button("Yes, do it", type="primary"):
        try:
            seen = {i: v for i, (v, _) in selected.items()}
            st.session_state["bulk_result"] = svc.bulk(get_store(), st.session_state["user"], seen, action, new_label)
            st.session_state.pop("b_shown", None)  # reload the table after the change
        except TuneloopError as exc:
            st.error(str(exc))
            return
        st.rerun()


render()
