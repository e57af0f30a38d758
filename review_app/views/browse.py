"""Browse: filter and search examples; reviewers approve or relabel a selection (with confirmation)."""

from __future__ import annotations

import streamlit as st

from curation import TuneloopError
from curation.store import review as sr

from review_app import services as svc
from review_app.state import get_store, open_page


def render() -> None:
    page = open_page("Browse")
    if page is None:
        return
    store, user, dataset = page
    c1, c2, c3 = st.columns(3)
    status = c1.selectbox("Status", ["(any)", "imported", "needs_review", "approved", "rejected"], key="b_status")
    labels = [lab for lab, _ in sr.label_frequencies(store, dataset)]
    label = c2.selectbox("Label", ["(any)", *labels], key="b_label")
    flag = c3.selectbox("Open flag", ["(any)", *sr.open_flag_names(store, dataset)], key="b_flag")
    c4, c5, c6 = st.columns(3)
    sources = {f"{s['id']}: {s['file_name']}": s["id"] for s in store.list_sources(dataset)}
    source = c4.selectbox("Source", ["(any)", *sources], key="b_source")
    annotator = c5.selectbox("Changed by", ["(any)", *[u["name"] for u in store.list_users()]], key="b_annotator")
    search = c6.text_input("Search text", key="b_search")
    frame = sr.browse(
        store, dataset, status=None if status == "(any)" else status, label=None if label == "(any)" else label,
        flag=None if flag == "(any)" else flag, source_id=None if source == "(any)" else sources[source],
        annotator=None if annotator == "(any)" else annotator, search=search or None, limit=500,
    )
    st.caption(f"{frame.height} examples shown (at most 500)")
    event = st.dataframe(frame, key="b_table", on_select="rerun", selection_mode="multi-row", hide_index=True,
                         use_container_width=True)
    rows = event.selection.rows if event and event.selection else []
    selected = {int(frame["id"][i]): int(frame["version"][i]) for i in rows}
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
            st.warning(f"{len(done.stale)} changed by someone else meanwhile and were left alone: {done.stale}")


@st.dialog("Confirm bulk action")
def _confirm(selected: dict[int, int], action: str, new_label: str | None) -> None:
    what = "approve" if action == "approve" else f"relabel as '{new_label}'"
    st.write(f"{what.capitalize()} {len(selected)} examples? Each change is recorded in their history.")
    st.caption("Open flags stay open: an example with an open label_issue, label_conflict or pii_review flag stays "
               "out of snapshots until the flag is decided in the queue or on the Checks page.")
    if st.button("Yes, do it", type="primary"):
        try:
            st.session_state["bulk_result"] = svc.bulk(get_store(), st.session_state["user"], selected, action, new_label)
        except TuneloopError as exc:
            st.error(str(exc))
            return
        st.rerun()


render()
