"""The queue page's button callbacks: each acts on the item the browser showed, or not at all.

The queue's widgets have stable keys (a key press re-renders them in place instead of
remounting them), so a button's identity no longer names an item. Two checks do instead:

- ``shown``: the item the last completed run drew (``None`` once an action has taken it off);
- the ``queue_shown`` token: a hidden text box whose value the server sets to ``"id.version"``
  with each new item. The browser takes the value when it renders that item and sends it back
  with every key press, so the token says which item the browser had on screen when the key
  was pressed, not which item the server last sent.

An action runs only when both name the item its callback was drawn for; a key pressed while the
next item was on its way (the server has drawn it, the browser has not shown it) is dropped with
a note. When the token names another item than the one being drawn, the item's text boxes and
fields start afresh (see :func:`start_item`), so no text typed for one item is saved on another.
"""

from __future__ import annotations

import streamlit as st

from review_app import services as svc
from review_app.services import StaleVersion, TuneloopError
from review_app.state import get_store

TOKEN = "queue_shown"
# per-item widget values, reset when a new item reaches the screen
RESP, NOTE, QUERY = "resp", "note_text", "q"
PII_VALUE, PII_ENTITY, PII_FIELD = "pii_value", "pii_entity", "pii_field"
DROPPED = "A key pressed while the next item was loading was ignored."


def token(example_id: int, version: int) -> str:
    return f"{example_id}.{version}"


def on_screen(example_id: int, version: int) -> bool:
    """Whether the item ``example_id`` at ``version`` was drawn by the last run and on screen
    in the browser when the key was pressed."""
    return (st.session_state.get("shown") == (example_id, version)
            and st.session_state.get(TOKEN) == token(example_id, version))


def start_item(item: svc.Item, defaults: dict[str, object]) -> None:
    """Before the widgets are drawn: if the browser has not shown this item yet, give its text
    boxes and fields their values for this item (``defaults``: widget key -> value).

    Values are set, never dropped: a widget keeps what the browser holds unless the server
    sends a value."""
    tok = token(item.id, item.version)
    if st.session_state.get(TOKEN) == tok:
        return  # the browser shows this item: keep what the user typed or picked
    st.session_state[TOKEN] = tok
    st.session_state[RESP] = item.example.get("response") or ""
    for key in (NOTE, QUERY, PII_VALUE):
        st.session_state[key] = ""
    st.session_state[PII_FIELD] = "text" if item.task == "classification" else "prompt"
    st.session_state[PII_ENTITY] = svc.PII_ENTITIES[0]
    st.session_state.update(defaults)


def act(action: str, example_id: int, version: int, *args) -> None:
    """Button callback: one service action on the item that was on screen, or nothing."""
    if action != "undo" and not on_screen(example_id, version):
        st.session_state["flash"] = ("info", DROPPED)
        return
    store, user = get_store(), st.session_state["user"]
    st.session_state.pop("conflict", None)
    try:
        run(store, user, action, example_id, version, *args)
    except StaleVersion as exc:
        theirs = exc.current_row
        st.session_state["conflict"] = {"action": action, "id": theirs.get("id", example_id), "args": args,
                                        "theirs": theirs, "mine": _mine(action, args),
                                        "who": svc.last_actor(store, theirs.get("id", example_id))}
    except TuneloopError as exc:
        st.session_state["flash"] = ("error", str(exc))


def _mine(action: str, args: tuple) -> dict:
    """The change the user tried to make, for the conflict box."""
    edited = st.session_state.get(RESP)
    if action in ("label", "approve_as") and args:
        return {"label": args[0]} if action == "label" else {"label": args[0], "status": "approved"}
    if action == "response":
        return {"response": args[0] if args else edited, "status": "needs_review"}
    if action == "approve":
        changed = edited is not None and args and args[0] is not None and edited != args[0]
        return {"status": "approved", **({"response": edited} if changed else {})}
    return {"status": {"reject": "rejected", "accept": "needs_review"}.get(action, action)}


def run(store, user, action: str, example_id: int, version: int, *args) -> None:
    """Apply ``action`` to the example (also "Apply mine on top" of a conflict, on their version)."""
    dataset = st.session_state["dataset"]
    if action == "undo":
        res = svc.undo_last(store, user, dataset, *args)
        if res is None:
            st.session_state["flash"] = ("info", "Nothing to undo.")
        else:
            st.session_state["undone"] = res
            st.session_state["pinned"] = res.id
        return
    if action == "note":
        svc.note(store, user, example_id, version, st.session_state.get(NOTE, ""))
        st.session_state["toast"] = "Note added."
        return
    if action == "label":
        svc.label(store, user, example_id, version, args[0])
    elif action == "approve_as":
        svc.approve(store, user, example_id, version, new_label=args[0])
    elif action == "approve":
        original = args[0] if args else None  # None: the item has no response editor
        edited = st.session_state.get(RESP) if original is not None else None
        svc.approve(store, user, example_id, version,
                    response=edited if edited is not None and edited != original else None)
    elif action == "reject":
        svc.reject(store, user, example_id, version, st.session_state.get(NOTE) or None)
    elif action == "response":
        svc.correct_response(store, user, example_id, version, args[0] if args else st.session_state.get(RESP, ""))
    elif action == "accept":
        svc.pass_on(store, user, example_id, version)
    elif action == "skip":
        svc.skip(store, user, example_id)
        st.session_state.setdefault("skipped", {}).setdefault(dataset, []).append(example_id)
    _done(example_id, action)


def _done(example_id: int, action: str) -> None:
    """Bookkeeping after an action: the item left the screen; count it; remember it for Previous."""
    st.session_state["shown"] = None
    st.session_state.pop("pinned", None)
    st.session_state.pop("undone", None)
    if action != "skip":
        st.session_state["done_count"] = st.session_state.get("done_count", 0) + 1
    trail = st.session_state.setdefault("trail", [])
    if example_id in trail:
        trail.remove(example_id)
    trail.append(example_id)
    st.session_state["toast"] = f"{action}: example {example_id} saved."


def previous() -> None:
    trail = st.session_state.get("trail", [])
    current = st.session_state.get("pinned")
    earlier = trail[: trail.index(current)] if current in trail else trail
    if earlier:
        st.session_state["pinned"] = earlier[-1]
        st.session_state["shown"] = None


def back_to_queue() -> None:
    st.session_state.pop("pinned", None)
    st.session_state.pop("undone", None)
    st.session_state["shown"] = None


def reset_response(example_id: int, version: int, original: str) -> None:
    if on_screen(example_id, version):
        st.session_state[RESP] = original
