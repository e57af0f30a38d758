"""What the queue page shows about the item below its actions: open flags, personal data,
near-duplicates, annotations and history (not a page of its own; the model's suggestion is on
the `M` button, the guidelines beside the item, drawn once per page).

Panels that most items do not need (personal data, near-duplicates, annotations, history) are
collapsed and drawn only while open; their callbacks check, like the page's, that the item was
on screen."""

from __future__ import annotations

import html

import streamlit as st

from review_app import services as svc
from review_app.services import TuneloopError
from review_app.state import get_store
from review_app.text import one_line, plain_html
from review_app.ui import plain
from review_app.views import queue_actions as qa

NEIGHBOURS_SHOWN = 3


def _pii_act(action: str, example_id: int, version: int, *args) -> None:
    if not qa.on_screen(example_id, version):
        st.session_state["flash"] = ("info", qa.DROPPED)
        return
    store, user = get_store(), st.session_state["user"]
    try:
        if action == "confirm":
            svc.pii_confirm(store, user, args[0], version)
        elif action == "reject":
            svc.pii_reject(store, user, args[0], version)
        else:
            svc.pii_mark_missed(store, user, example_id, version, st.session_state.get(qa.PII_FIELD, "text"),
                                st.session_state.get(qa.PII_VALUE, ""),
                                st.session_state.get(qa.PII_ENTITY, "PERSON"))
        st.session_state["shown"] = None
        st.session_state["toast"] = f"personal data: {action} saved."
    except TuneloopError as exc:
        st.session_state["flash"] = ("error", str(exc))


def _pii_panel(user, item: svc.Item) -> None:
    at = (item.id, item.version)
    with st.expander(f"Personal data ({len(item.pii)} found)", key="pii_open", on_change="rerun") as box:
        if not box.open:
            return
        for f in item.pii:
            score = f" · score {f['score']:.2f}" if f["score"] is not None else ""
            plain(f"{f['placeholder'] or f['entity']}  {f['entity']} in {f['field']} · {f['action']}{score}",
                  fold_at=None)
            if user.can("reviewer") and f["action"] in ("review", "replaced"):
                c1, c2 = st.columns(2)
                c1.button("Confirm", key=f"pii_ok_{f['id']}", on_click=_pii_act, args=("confirm", *at, f["id"]))
                c2.button("Not personal data", key=f"pii_no_{f['id']}", disabled=not f["has_original"],
                          on_click=_pii_act, args=("reject", *at, f["id"]),
                          help=None if f["has_original"] else "the original was purged after scrubbing")
        if user.can("reviewer"):
            fields = ["text"] if item.task == "classification" else ["prompt", "response"]
            st.selectbox("Missed personal data in", fields, key=qa.PII_FIELD)
            st.text_input("Exact text to replace", key=qa.PII_VALUE)
            st.selectbox("Type", svc.PII_ENTITIES, key=qa.PII_ENTITY)
            st.button("Replace it", key="pii_missed", on_click=_pii_act, args=("missed", *at))


def _lazy(label: str, key: str):
    """A collapsed expander whose body is drawn only while it is open (it reruns the item area
    when opened): panels most items do not need cost nothing per key press."""
    return st.expander(label, key=key, on_change="rerun")


def context_panel(store, user, item: svc.Item) -> None:
    for f in item.flags:  # one element per flag: its name and detail, as plain text
        icon = {"error": "🛑", "warning": "⚠️"}.get(f["severity"], "ℹ️")
        st.html(f"<b>{icon} {html.escape(f['check_name'])}</b>" + plain_html(
            (f["detail"] or "") + (f"\nSuggestion: {f['suggestion']}" if f["suggestion"] else ""), fold_at=300))
    if item.pii or user.can("reviewer"):
        _pii_panel(user, item)
    if item.neighbours:
        with _lazy(f"Near-duplicates ({len(item.neighbours)})", "dups_open") as box:
            if box.open:
                for n in item.neighbours[:NEIGHBOURS_SHOWN]:
                    plain(f"{one_line(n['text'] or n['prompt'])} → {n['label'] or '—'} ({n['status']})",
                          fold_at=None)
                if len(item.neighbours) > NEIGHBOURS_SHOWN:
                    st.caption(f"and {len(item.neighbours) - NEIGHBOURS_SHOWN} more on the Duplicates page")
    if item.annotations:
        with _lazy(f"Annotations ({len(item.annotations)})", "annotations_open") as box:
            if box.open:
                plain("\n".join(f"{a['annotator']}: {a['label'] or '—'}" + (f" — {a['note']}" if a["note"] else "")
                                for a in item.annotations), fold_at=1200)
    with _lazy("History", "history_open") as box:
        if box.open:  # a query per item: only while someone looks
            plain("\n".join(f"v{r['version']} · {r['created_at']:%Y-%m-%d %H:%M} · {r['actor']} · {r['action']}"
                            + (f" — {r['reason']}" if r["reason"] else "") for r in svc.history(store, item.id)),
                  fold_at=3000)
