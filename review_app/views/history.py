"""History: every revision of an example (who, when, what, why)."""

from __future__ import annotations

import json

import streamlit as st

from review_app import services as svc
from review_app.services import TuneloopError
from review_app.state import get_store, require_user


def render() -> None:
    store = get_store()
    require_user()
    st.title("History")
    example_id = st.number_input("Example id", min_value=1, step=1, value=None, key="h_id")
    if example_id is None:
        st.caption("Enter an example id (shown on the queue and browse pages).")
        return
    try:
        ex = svc.example(store, int(example_id))
    except TuneloopError as exc:
        st.error(str(exc))
        return
    st.caption(f"{ex['dataset']} · {ex['status']} · version {ex['version']}")
    revs = svc.history(store, int(example_id))
    st.dataframe([{"version": r["version"], "when": r["created_at"], "who": r["actor"], "action": r["action"],
                   "before": json.dumps(r["before"]) if r["before"] else "", "after": json.dumps(r["after"]) if r["after"] else "", "why": r["reason"]} for r in revs],
                 hide_index=True, use_container_width=True)


render()
