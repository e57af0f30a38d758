"""History: every revision of an example (who, when, what changed, why)."""

from __future__ import annotations

import streamlit as st

from review_app import services as svc
from review_app.services import TuneloopError
from review_app.state import get_store, require_user


def _changes(before: dict | None, after: dict | None) -> str:
    """``field: old → new`` per changed field, one line each (values shortened)."""
    def short(v: object) -> str:
        s = "—" if v is None else " ".join(str(v).split())
        return s if len(s) <= 80 else s[:79] + "…"

    before, after = before or {}, after or {}
    return "\n".join(f"{k}: {short(before.get(k))} → {short(after.get(k))}" for k in dict.fromkeys([*before, *after]))


def render() -> None:
    store = get_store()
    require_user()
    st.title("History")
    recent = list(reversed(st.session_state.get("trail", [])))
    default = st.query_params.get("item") or (recent[0] if recent else None)
    example_id = st.number_input("Example id", min_value=1, step=1, key="h_id",
                                 value=int(default) if str(default or "").isdigit() else None)
    if recent:
        st.caption("Your recent items: " + ", ".join(map(str, recent[:10])))
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
                   "changes": _changes(r["before"], r["after"]), "why": r["reason"]} for r in revs],
                 hide_index=True, use_container_width=True)


render()
