"""The queue: one item at a time, keyboard first.

The item area is a fragment, so a key press reruns only it, and its widgets have stable keys,
so the browser updates them in place rather than building ~40 elements anew per item. Every
action still carries the id and version of the item it was drawn for and runs only if the
browser had that item on screen when the key was pressed (:mod:`queue_actions`); a key pressed
while the next item was loading is dropped, never applied to an item nobody saw. What is the
same for every item (the key legend) is drawn outside the fragment; optional panels beside the
item are drawn only when opened.

Keys: ``1``-``9`` label (fixed order per dataset), ``Enter`` save / approve the label shown on
the Save button (search result, current label or the model's), ``M`` take the model's
suggestion, ``/`` search labels (Esc leaves), ``A`` approve, ``X`` reject, ``S`` skip, ``U`` undo,
``P`` previous item, ``N`` add the note.
"""

from __future__ import annotations

import html
import os

import streamlit as st

from review_app import services as svc
from review_app.services import TuneloopError
from review_app.state import dataset_picker, get_store, md_escape, require_user
from review_app.ui import SEARCH_LABEL, boxed, diff, keyboard, plain
from review_app.views import queue_actions as qa
from review_app.views.queue_context import context_panel

# TUNELOOP_QUEUE_FRAGMENT=0 reruns the whole page per key press (the naive page the latency
# benchmark compares against).
FRAGMENT = os.environ.get("TUNELOOP_QUEUE_FRAGMENT", "1") != "0"


def _filters(store, user, dataset) -> svc.QueueFilter:
    sb = st.sidebar
    stages = ["review", "annotate", "all"] if user.can("reviewer") else ["annotate"]
    stage = sb.radio("Queue", stages, horizontal=True, key="queue_stage",
                     help="review: labelled items awaiting approval · annotate: unlabelled items")
    options = svc.filter_options(store, dataset)
    label = sb.selectbox("Label", ["(any)", *options.labels], key="queue_label")
    flag = sb.selectbox("Open flag", ["(any)", *options.flags], key="queue_flag")
    source = sb.selectbox("Source", ["(any)", *options.sources], key="queue_source")
    skipped = tuple(st.session_state.setdefault("skipped", {}).get(dataset, ()))
    return svc.QueueFilter(stage=stage, label=None if label == "(any)" else label,
                           flag=None if flag == "(any)" else flag,
                           source_id=None if source == "(any)" else options.sources[source], exclude_ids=skipped)


# -- messages -----------------------------------------------------------------------------------
def _conflict_box() -> None:
    c = st.session_state.get("conflict")
    if not c:
        return
    theirs = c["theirs"]
    with st.container(border=True):
        st.warning(f"**{md_escape(c['who'])}** changed example {c['id']} while you were on it "
                   f"(now version {theirs.get('version')}). Nothing was overwritten.")
        rows = [(f, c["mine"].get(f), theirs.get(f)) for f in ("label", "status", "response") if f in c["mine"]
                or (f != "response" and theirs.get(f) is not None)]
        head, mine_col, theirs_col = st.columns([1, 3, 3])
        head.caption("field")
        mine_col.caption("mine")
        theirs_col.caption(f"theirs ({md_escape(c['who'])})")
        for field, mine, their in rows:
            head.markdown(f"**{field}**")
            if field == "response" and mine is not None:
                with mine_col:
                    diff(their, mine)
                with theirs_col:
                    plain(their)
            else:
                with mine_col:
                    plain("—" if mine is None else str(mine), fold_at=None)
                with theirs_col:
                    plain("—" if their is None else str(their), fold_at=None)
        left, right = st.columns(2)
        if left.button("Keep their version", key="conflict_keep"):
            st.session_state.pop("conflict", None)
            st.rerun()
        if right.button("Apply mine on top", key="conflict_mine", type="primary"):
            st.session_state.pop("conflict", None)
            store, user = get_store(), st.session_state["user"]
            try:
                if c["action"] == "undo":
                    qa.run(store, user, "undo", c["id"], theirs["version"], theirs["version"])
                else:
                    qa.run(store, user, c["action"], c["id"], theirs["version"], *c["args"])
            except TuneloopError as exc:
                st.session_state["flash"] = ("error", str(exc))
            st.rerun()


def _undone_box() -> None:
    res: svc.Undone | None = st.session_state.get("undone")
    if res is None:
        return
    changed = ", ".join(f"{k} {res.replaced.get(k)!r} → {v!r}" for k, v in res.restored.items()) or "no fields"
    st.info(f"Undid your {md_escape(res.action)} of example {res.id}: {md_escape(changed)}. It is shown below.")


# -- the page -----------------------------------------------------------------------------------
def render() -> None:
    store, user = get_store(), require_user()
    dataset = dataset_picker(store)
    if not dataset:
        return
    flt = _filters(store, user, dataset)
    keyboard()
    st.sidebar.caption(_keys_legend(user))  # the same for every item: drawn once, outside the fragment
    link = st.query_params.get("item")
    if link and not st.session_state.get("link_opened"):
        st.session_state["link_opened"] = True
        if link.isdigit():
            st.session_state["pinned"] = int(link)
    st.title(f"Queue · {dataset}")
    main, side = st.columns([3, 2], gap="medium")
    # the same for every item of the dataset: outside the fragment, drawn once
    side.expander("Guidelines: what good looks like", expanded=True).markdown(
        svc.get_dataset(store, dataset).guidelines or "_No guidelines yet; an admin can add them under Settings._")
    with main:
        (st.fragment(_queue) if FRAGMENT else _queue)(dataset, flt)


def _keys_legend(user) -> str:
    keys = "`1`–`9` label · `⏎` save" + (" / approve as" if user.can("reviewer") else "") + " · `M` model's label"
    keys += " · `/` search · `Esc` leave a field"
    keys += " · `A` approve · `X` reject" if user.can("reviewer") else ""
    return f"**Keys** {keys} · `S` skip · `U` undo · `N` note · `P` previous"


def _queue(dataset: str, flt: svc.QueueFilter) -> None:
    store, user = get_store(), st.session_state["user"]
    flash = st.session_state.pop("flash", None)
    if flash:
        getattr(st, flash[0])(flash[1])
    toast = st.session_state.pop("toast", None)
    if toast:  # shown here, not in the callback: a toast from a callback would land at the page top
        st.toast(toast)
    _conflict_box()
    _undone_box()
    try:
        pinned = st.session_state.get("pinned")
        item = svc.open_item(store, user, pinned) if pinned else svc.next_item(store, user, dataset, flt)
    except TuneloopError as exc:
        st.error(str(exc))
        st.session_state.pop("pinned", None)
        return
    if item is None:
        st.session_state["shown"] = None
        st.success("Nothing left in this queue. Change the filters, or take a break.")
        if flt.exclude_ids and st.button("Bring back the items I skipped"):
            st.session_state["skipped"][dataset] = []
            st.rerun()
        c1, c2 = st.columns(2)
        c1.button("Undo my last change", key="undo_empty", shortcut="U", on_click=qa.act, args=("undo", 0, 0))
        c2.button("Previous item", key="prev_empty", shortcut="P", on_click=qa.previous,
                  disabled=not st.session_state.get("trail"))
        return
    qa.start_item(item, _field_defaults(item))
    _item(store, user, item, pinned is not None)
    context_panel(store, user, item)
    # last, so the browser takes the token only once it has the whole item (see queue_actions)
    st.text_input("shown item", key=qa.TOKEN, label_visibility="collapsed")
    st.session_state["shown"] = (item.id, item.version)


def _field_defaults(item: svc.Item) -> dict[str, str | None]:
    """The structured fields' starting values: the current label's, else the model's."""
    if not item.schema.structured:
        return {}
    ex, schema = item.example, item.schema
    suggestion = item.prediction["label"] if item.prediction else None
    current = schema.parse(ex["label"]) if ex["label"] else {}
    suggested = schema.parse(suggestion) if suggestion else {}
    out = {}
    for name, values in schema.fields:
        default = current.get(name) or suggested.get(name)
        out[f"field_{name}"] = default if default in values else None
    return out


def _item(store, user, item: svc.Item, pinned: bool) -> None:
    ex = item.example
    done = st.session_state.get("done_count", 0)
    st.caption(f"Example {ex['id']}" + (f" · {md_escape(ex['external_id'])}" if ex["external_id"] else "")
               + f" · {ex['status']} · version {ex['version']} · "
               + ("opened from your history or a link" if pinned else f"{item.remaining} left in this queue")
               + f" · {done} done this session · [link](?item={ex['id']})")
    if pinned:
        st.button("Back to the queue", key="back", on_click=qa.back_to_queue)
    spans = {f: [s for s in item.pii if s["field"] == f] for f in ("text", "prompt", "response")}
    current = f"<b>Current label:</b> {html.escape(ex['label'])}" if ex["label"] else "<b>Current label:</b> <i>none yet</i>"
    if item.task == "classification":  # one element: the text in its box, and the current label
        st.html(boxed(ex["text"], spans["text"], fold_at=700) + f"<div style='margin-top:.6rem'>{current}</div>")
    else:
        _generation(item, spans)
        st.html(current)
    _label_controls(store, user, item)
    _actions(user, item)


def _generation(item: svc.Item, spans: dict) -> None:
    ex = item.example
    st.html("<b>Prompt</b>" + boxed(ex["prompt"], spans["prompt"], fold_at=500))
    original = ex["response"] or ""
    st.text_area("Response (edit to correct it; Esc leaves the box)", height=320, key=qa.RESP)
    edited = st.session_state.get(qa.RESP, original)
    at = (ex["id"], ex["version"])
    c1, c2, c3 = st.columns(3)
    c1.button("Save response", key="save_resp", shortcut="Ctrl+Enter", on_click=qa.act, args=("response", *at),
              use_container_width=True)
    c2.button("Reset to the original", key="reset_resp", on_click=qa.reset_response, args=(*at, original),
              disabled=edited == original, use_container_width=True)
    c3.button("Pass on as it is", key="accept", on_click=qa.act, args=("accept", *at),
              disabled=edited != original or not original or ex["status"] != "imported",
              help="Send the response to review unchanged", use_container_width=True)
    if edited != original:
        with st.expander("Your changes against the stored response", expanded=True):
            diff(original, edited)
    if spans["response"]:
        with st.expander("Personal data found in the stored response", key="pii_resp", on_change="rerun") as box:
            if box.open:
                plain(original, spans["response"])


def _label_controls(store, user, item: svc.Item) -> None:
    ex = item.example
    schema = item.schema
    suggestion = item.prediction["label"] if item.prediction else None
    query = st.text_input(SEARCH_LABEL, key=qa.QUERY, label_visibility="collapsed",
                          placeholder="/ search labels (e.g. “card arr”), Enter to pick, Esc to leave")
    matches = svc.find_labels(store, item.dataset, query) if query.strip() else []
    approve = user.can("reviewer")
    act_as = "approve_as" if approve else "label"
    if schema.structured:
        cols = st.columns(len(schema.fields))
        for col, (name, values) in zip(cols, schema.fields):
            col.selectbox(name, list(values), index=None, key=f"field_{name}", placeholder=f"choose {name}")
        picked = [st.session_state.get(f"field_{name}") for name in schema.field_names]
        fields_label = ", ".join(picked) if all(picked) else None
        changed = fields_label and fields_label != (ex["label"] or suggestion)
        chosen = matches[0] if matches else (fields_label if changed else ex["label"] or suggestion or fields_label)
    else:
        keys = svc.label_choices(store, item.dataset)[:9]
        cols = st.columns(3)
        for i, lab in enumerate(keys, start=1):
            cols[(i - 1) % 3].button(f"{i} · {lab}", key=f"lab_{i}", shortcut=str(i), on_click=qa.act,
                                     args=("label", ex["id"], ex["version"], lab), use_container_width=True,
                                     wrap=True)  # long names wrap, never cut off (no tooltip needed)
        chosen = matches[0] if matches else ex["label"] or suggestion
    if matches:
        st.caption("Matches: " + " · ".join(f"**{md_escape(m)}**" if i == 0 else md_escape(m)
                                            for i, m in enumerate(matches)))
    elif query.strip():
        st.caption("No label matches; try fewer letters.")
    verb = "Approve as" if approve else "Save"
    row = st.container(horizontal=True)
    row.button(f"⏎ {verb} {chosen}" if chosen else "⏎ Save (choose a label first)", key="save_label",
              shortcut="Enter", disabled=not chosen, on_click=qa.act, type="primary",
              args=(act_as, ex["id"], ex["version"], chosen), use_container_width=True)
    if suggestion:  # the model's label and confidence, on the key that takes it
        p = item.prediction
        row.button(f"M · model's {suggestion} ({p['confidence']:.0%})", key="model", shortcut="M", on_click=qa.act,
                   args=(act_as, ex["id"], ex["version"], suggestion), use_container_width=True,
                   help=f"suggested by run {p['run_id']} with confidence {p['confidence']:.0%}")


def _actions(user, item: svc.Item) -> None:
    ex = item.example
    at = (ex["id"], ex["version"])
    buttons = []
    if user.can("reviewer"):
        # the stored response goes along, so an edit in the box is saved with the approval
        original = (ex["response"] or "") if item.task != "classification" else None
        buttons += [("Approve", "approve", "A", ("approve", *at, original), "primary"),
                    ("Reject", "reject", "X", ("reject", *at), "secondary")]
    buttons += [("Skip", "skip", "S", ("skip", *at), "secondary"),
                ("Undo", "undo", "U", ("undo", *at), "secondary"),
                ("Note", "note", "N", ("note", *at), "secondary")]
    row = st.container(horizontal=True)  # one block, not a column per button; wraps, never cuts a name
    for text, key, shortcut, args, kind in buttons:
        row.button(f"{text} ({shortcut})", key=key, shortcut=shortcut, on_click=qa.act, args=args, type=kind,
                   use_container_width=True)
    row.button("Previous (P)", key="prev", shortcut="P", on_click=qa.previous,
                    disabled=not st.session_state.get("trail"), use_container_width=True)
    st.text_input("Note (N adds it; also the reason when you reject)", key=qa.NOTE)


render()
