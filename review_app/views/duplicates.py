"""Duplicate groups, largest first, members side by side: split, choose the canonical, merge."""

from __future__ import annotations

import streamlit as st

from review_app import services as svc
from review_app.state import dataset_page, md_escape, run_action, show_flash

PAGE = 10


def _do(fn, *args) -> None:
    run_action("dup_flash", "Saved; later dedup runs keep this decision.", fn, *args)


@dataset_page("Duplicates")
def render(store, user, dataset: str) -> None:
    show_flash("dup_flash")
    page = st.session_state.setdefault("dup_page", 0)
    result = svc.dup_groups(store, dataset, limit=PAGE, offset=page * PAGE)
    if result.total == 0:
        st.info("No duplicate groups. Run `tuneloop dedup --dataset NAME` to find exact, near and semantic duplicates.")
        return
    st.caption(f"{result.total} groups · page {page + 1} of {(result.total + PAGE - 1) // PAGE}")
    for g in result.groups:
        title = f"Group {g.group_id} · {g.size} examples · {', '.join(g.methods) or 'exact'}"
        if g.label_conflict:
            title += " · ⚠️ labels differ"
        with st.expander(title, expanded=g.label_conflict):
            cols = st.columns(min(g.size, 4))
            for i, m in enumerate(g.members):
                with cols[i % len(cols)].container(border=True):
                    st.markdown(("**canonical** · " if m["is_canonical"] else "")
                                + f"#{m['id']} · {m['status']}")
                    st.markdown(md_escape((m["text"] or m["prompt"] or "")[:400]))
                    st.markdown(f"label: **{md_escape(m['label'] or '—')}**")
                    if user.can("reviewer") and not m["is_canonical"]:
                        st.button("Make canonical", key=f"canon_{g.group_id}_{m['id']}", on_click=_do,
                                  args=(svc.dup_set_canonical, dataset, m["id"]))
                        st.button("Not a duplicate", key=f"out_{g.group_id}_{m['id']}", on_click=_do,
                                  args=(svc.dup_split, dataset, g.group_id, [m["id"]]))
            if user.can("reviewer"):
                st.button("None of these are duplicates", key=f"split_{g.group_id}", on_click=_do,
                          args=(svc.dup_split, dataset, g.group_id, None))
    if user.can("reviewer"):
        with st.form("dup_merge"):
            ids = st.text_input("Merge: example ids that are duplicates of each other (comma-separated)",
                                key="dup_merge_ids")
            if st.form_submit_button("Merge"):
                try:
                    _do(svc.dup_merge, dataset, [int(x) for x in ids.replace(" ", "").split(",") if x])
                except ValueError:
                    st.session_state["dup_flash"] = ("error", f"ids: {ids!r} is not a comma-separated list of numbers")
                st.rerun()
    prev, nxt = st.columns(2)
    if prev.button("Previous page", disabled=page == 0, key="dup_prev"):
        st.session_state["dup_page"] = page - 1
        st.rerun()
    if nxt.button("Next page", disabled=(page + 1) * PAGE >= result.total, key="dup_next"):
        st.session_state["dup_page"] = page + 1
        st.rerun()


render()
