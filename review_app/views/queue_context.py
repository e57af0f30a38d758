"""The queue page's side panel: model suggestion, flags, personal data, near-duplicates,
annotations, guidelines and history of the item on screen (not a page of its own)."""

from __future__ import annotations

import streamlit as st

from review_app import services as svc
from review_app.services import TuneloopError
from review_app.state import get_store, md_escape
from review_app.text import one_line
from review_app.ui import plain

NEIGHBOURS_SHOWN = 3


def _pii_act(action: str, *args) -> None:
    store, user = get_store(), st.session_state["user"]
    try:
        if action == "confirm":
            svc.pii_confirm(store, user, *args)
        elif action == "reject":
            svc.pii_reject(store, user, *args)
        else:
            example_id, version, field_name = args
            svc.pii_mark_missed(store, user, example_id, version, field_name,
                                st.session_state.get(f"pii_value@{example_id}.{version}", ""),
                                st.session_state.get(f"pii_entity@{example_id}.{version}", "PERSON"))
        st.session_state["shown"] = None
        st.session_state["toast"] = f"personal data: {action} saved."
    except TuneloopError as exc:
        st.session_state["flash"] = ("error", str(exc))


def _pii_panel(user, item: svc.Item) -> None:
    k = f"{item.id}.{item.version}"
    with st.expander(f"Personal data ({len(item.pii)} found)", expanded=False):
        for f in item.pii:
            score = f" · score {f['score']:.2f}" if f["score"] is not None else ""
            plain(f"{f['placeholder'] or f['entity']}  {f['entity']} in {f['field']} · {f['action']}{score}",
                  fold_at=None)
            if user.can("reviewer") and f["action"] in ("review", "replaced"):
                c1, c2 = st.columns(2)
                c1.button("Confirm", key=f"pii_ok_{f['id']}@{k}", on_click=_pii_act,
                          args=("confirm", f["id"], item.version))
                c2.button("Not personal data", key=f"pii_no_{f['id']}@{k}", disabled=not f["has_original"],
                          on_click=_pii_act, args=("reject", f["id"], item.version),
                          help=None if f["has_original"] else "the original was purged after scrubbing")
        if user.can("reviewer"):
            fields = ["text"] if item.task == "classification" else ["prompt", "response"]
            field_name = st.selectbox("Missed personal data in", fields, key=f"pii_field@{k}")
            st.text_input("Exact text to replace", key=f"pii_value@{k}")
            st.selectbox("Type", svc.PII_ENTITIES, key=f"pii_entity@{k}")
            st.button("Replace it", key=f"pii_missed@{k}", on_click=_pii_act,
                      args=("missed", item.id, item.version, field_name))


def context_panel(store, user, item: svc.Item) -> None:
    if item.prediction:
        p = item.prediction
        st.info(f"Model suggests **{md_escape(p['label'])}** (confidence {p['confidence']:.0%}, "
                f"run {md_escape(p['run_id'])}) · `M` takes it")
    for f in item.flags:
        icon = {"error": "🛑", "warning": "⚠️"}.get(f["severity"], "ℹ️")
        st.markdown(f"{icon} **{md_escape(f['check_name'])}**")
        plain((f["detail"] or "") + (f"\nSuggestion: {f['suggestion']}" if f["suggestion"] else ""), fold_at=300)
    if item.pii or user.can("reviewer"):
        _pii_panel(user, item)
    with st.expander("Guidelines: what good looks like", expanded=True):
        st.markdown(item.guidelines or "_No guidelines yet; an admin can add them under Settings._")
    if item.neighbours:
        with st.expander(f"Near-duplicates ({len(item.neighbours)})", expanded=False):
            for n in item.neighbours[:NEIGHBOURS_SHOWN]:
                plain(f"{one_line(n['text'] or n['prompt'])} → {n['label'] or '—'} ({n['status']})", fold_at=None)
            if len(item.neighbours) > NEIGHBOURS_SHOWN:
                st.caption(f"and {len(item.neighbours) - NEIGHBOURS_SHOWN} more on the Duplicates page")
    if item.annotations:
        with st.expander(f"Annotations ({len(item.annotations)})", expanded=True):
            for a in item.annotations:
                plain(f"{a['annotator']}: {a['label'] or '—'}" + (f" — {a['note']}" if a["note"] else ""),
                      fold_at=300)
    with st.expander("History"):
        for r in svc.history(store, item.id):
            plain(f"v{r['version']} · {r['created_at']:%Y-%m-%d %H:%M} · {r['actor']} · {r['action']}"
                  + (f" — {r['reason']}" if r["reason"] else ""), fold_at=300)
