"""The queue: one item at a time, keyboard first.

Keys: 1-9 label with the most frequent labels, L save the label chosen in the search box,
A approve, X reject, S skip, U undo, N add the note (reviewers approve; annotators label).
"""

from __future__ import annotations

import streamlit as st

from curation import StaleVersion, TuneloopError
from curation.store import review as sr

from review_app import services as svc
from review_app.state import dataset_picker, get_store, highlight, md_escape, require_user

KEYS_HELP = "**Keys** · `1`–`9` label · `L` save chosen label · `A` approve · `X` reject · `S` skip · `U` undo · `N` note"


def _filters(store, user, dataset) -> sr.QueueFilter:
    sb = st.sidebar
    stages = ["review", "annotate", "all"] if user.can("reviewer") else ["annotate"]
    stage = sb.radio("Queue", stages, horizontal=True, key="queue_stage",
                     help="review: labelled items awaiting approval · annotate: unlabelled items")
    labels = [lab for lab, _ in sr.label_frequencies(store, dataset)]
    label = sb.selectbox("Label", ["(any)", *labels], key="queue_label")
    flags = sr.open_flag_names(store, dataset)
    flag = sb.selectbox("Open flag", ["(any)", *flags], key="queue_flag")
    sources = {f"{s['id']}: {s['file_name']}": s["id"] for s in store.list_sources(dataset)}
    source = sb.selectbox("Source", ["(any)", *sources], key="queue_source")
    skipped = tuple(st.session_state.setdefault("skipped", {}).get(dataset, ()))
    return sr.QueueFilter(stage=stage, label=None if label == "(any)" else label,
                          flag=None if flag == "(any)" else flag,
                          source_id=None if source == "(any)" else sources[source], exclude_ids=skipped)


def _act(action: str, example_id: int, version: int, *args) -> None:
    """Button callback: run one service action; keep a conflict for the user to decide on."""
    store, user = get_store(), st.session_state["user"]
    st.session_state.pop("conflict", None)
    try:
        if action == "label":
            svc.label(store, user, example_id, version, args[0])
        elif action == "label_from_pick":
            value = _picked_label(example_id)
            if not value:
                st.session_state["flash"] = ("warning", "Choose a label first (type to search).")
                return
            svc.label(store, user, example_id, version, value)
            args = (value,)
            action = "label"
        elif action == "approve":
            response = st.session_state.get(f"resp_{example_id}")
            original = args[0] if args else None
            svc.approve(store, user, example_id, version,
                        response=response if response is not None and response != original else None)
        elif action == "reject":
            svc.reject(store, user, example_id, version, st.session_state.get(f"note_{example_id}") or None)
        elif action == "response":
            svc.correct_response(store, user, example_id, version, st.session_state.get(f"resp_{example_id}", ""))
        elif action == "note":
            svc.note(store, user, example_id, version, st.session_state.get(f"note_{example_id}", ""))
            st.session_state["flash"] = ("success", "Note added.")
            return
        elif action == "skip":
            svc.skip(store, user, example_id)
            st.session_state.setdefault("skipped", {}).setdefault(st.session_state["dataset"], []).append(example_id)
        elif action == "undo":
            row = svc.undo_last(store, user, st.session_state["dataset"])
            st.session_state["flash"] = ("info", f"Undid your last change to example {row['id']}." if row
                                         else "Nothing to undo.")
            return
        st.session_state["flash"] = ("success", f"{action}: example {example_id} saved.")
    except StaleVersion as exc:
        st.session_state["conflict"] = {"action": action, "id": example_id, "args": args, "theirs": exc.current_row,
                                        "who": _last_actor(store, example_id)}
    except TuneloopError as exc:
        st.session_state["flash"] = ("error", str(exc))


def _picked_label(example_id: int) -> str | None:
    fields = st.session_state.get(f"fields_{example_id}")
    if fields:
        values = [st.session_state.get(f"field_{example_id}_{f}") for f in fields]
        return ", ".join(values) if all(values) else None
    return st.session_state.get(f"pick_{example_id}")


def _last_actor(store, example_id: int) -> str:
    revs = store.revisions(example_id)
    return revs[-1]["actor"] if revs else "someone"


def _conflict_box() -> None:
    c = st.session_state.get("conflict")
    if not c:
        return
    theirs = c["theirs"]
    with st.container(border=True):
        st.warning(f"**{md_escape(c['who'])}** changed example {c['id']} while you were on it "
                   f"(now version {theirs.get('version')}). Nothing was overwritten.")
        st.write({k: theirs.get(k) for k in ("label", "status", "response") if theirs.get(k) is not None})
        left, right = st.columns(2)
        if left.button("Keep their version", key="conflict_keep"):
            st.session_state.pop("conflict", None)
            st.rerun()
        if right.button("Apply mine on top", key="conflict_mine", type="primary"):
            st.session_state.pop("conflict", None)
            _act(c["action"], c["id"], theirs["version"], *c["args"])
            st.rerun()


def render() -> None:
    store, user = get_store(), require_user()
    dataset = dataset_picker(store)
    if not dataset:
        return
    flt = _filters(store, user, dataset)
    st.title(f"Queue · {dataset}")
    flash = st.session_state.pop("flash", None)
    if flash:
        getattr(st, flash[0])(flash[1])
    _conflict_box()
    try:
        item = svc.next_item(store, user, dataset, flt)
    except TuneloopError as exc:
        st.error(str(exc))
        return
    if item is None:
        st.success("Nothing left in this queue. Change the filters, or take a break.")
        if flt.exclude_ids and st.button("Bring back the items I skipped"):
            st.session_state["skipped"][dataset] = []
            st.rerun()
        st.button("Undo my last change", key="undo_empty", shortcut="U", on_click=_act, args=("undo", 0, 0))
        return
    main, side = st.columns([3, 2], gap="large")
    with main:
        _item(store, user, item)
    with side:
        _context(item)


def _item(store, user, item: svc.Item) -> None:
    ex = item.example
    st.caption(f"Example {ex['id']}" + (f" · {md_escape(ex['external_id'])}" if ex["external_id"] else "")
               + f" · {ex['status']} · version {ex['version']} · {item.remaining} in this queue")
    spans = {f: [s for s in item.pii if s["field"] == f] for f in ("text", "prompt", "response")}
    original_response = ex["response"]
    if item.task == "classification":
        with st.container(border=True):
            st.markdown(highlight(ex["text"] or "", spans["text"]))
    else:
        st.markdown("**Prompt**")
        with st.container(border=True):
            st.markdown(highlight(ex["prompt"] or "", spans["prompt"]))
        st.text_area("Response (edit to correct it)", value=original_response or "", height=220, key=f"resp_{ex['id']}")
        if spans["response"]:
            with st.expander("Personal data found in the stored response"):
                st.markdown(highlight(original_response or "", spans["response"]))
        st.button("Save response", key="save_resp", shortcut="Ctrl+Enter", on_click=_act,
                  args=("response", ex["id"], ex["version"]))

    st.markdown(f"**Current label:** {md_escape(ex['label']) if ex['label'] else '_none yet_'}")
    _label_controls(store, item)

    st.text_input("Note (N to add; also the reason when you reject)", key=f"note_{ex['id']}")
    buttons = []
    if user.can("reviewer"):
        buttons += [("Approve", "approve", "A", ("approve", ex["id"], ex["version"], original_response), "primary"),
                    ("Reject", "reject", "X", ("reject", ex["id"], ex["version"]), "secondary")]
    buttons += [("Skip", "skip", "S", ("skip", ex["id"], ex["version"]), "secondary"),
                ("Undo", "undo", "U", ("undo", ex["id"], ex["version"]), "secondary"),
                ("Add note", "note", "N", ("note", ex["id"], ex["version"]), "secondary")]
    for col, (text, key, shortcut, args, kind) in zip(st.columns(len(buttons)), buttons):
        col.button(text, key=key, shortcut=shortcut, on_click=_act, args=args, type=kind, use_container_width=True)
    st.caption(KEYS_HELP)


def _label_controls(store, item: svc.Item) -> None:
    ex = item.example
    schema = item.schema
    if schema.structured:
        current = schema.parse(ex["label"]) if ex["label"] else {}
        suggestion = schema.parse(item.prediction["label"]) if item.prediction else {}
        st.session_state[f"fields_{ex['id']}"] = schema.field_names
        cols = st.columns(len(schema.fields))
        for col, (name, values) in zip(cols, schema.fields):
            default = current.get(name) or suggestion.get(name)
            col.selectbox(name, list(values), index=list(values).index(default) if default in values else None,
                          key=f"field_{ex['id']}_{name}", placeholder=f"choose {name}")
    else:
        choices = svc.label_choices(store, item.dataset)
        top = choices[:9]
        cols = st.columns(3)
        for i, lab in enumerate(top, start=1):
            cols[(i - 1) % 3].button(f"{i} · {lab}", key=f"lab_{i}", shortcut=str(i), on_click=_act,
                                     args=("label", ex["id"], ex["version"], lab), use_container_width=True)
        st.selectbox("Search all labels", choices, index=None, key=f"pick_{ex['id']}",
                     placeholder=f"type to search {len(choices)} labels")
    st.button("Save label", key="save_label", shortcut="L", on_click=_act,
              args=("label_from_pick", ex["id"], ex["version"]))


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
                                st.session_state.get(f"pii_value_{example_id}", ""),
                                st.session_state.get(f"pii_entity_{example_id}", "PERSON"))
        st.session_state["flash"] = ("success", f"personal data: {action} saved.")
    except TuneloopError as exc:
        st.session_state["flash"] = ("error", str(exc))


def _pii_panel(item: svc.Item) -> None:
    user = st.session_state["user"]
    with st.expander(f"Personal data ({len(item.pii)} found)", expanded=bool(item.pii)):
        for f in item.pii:
            line = (f"- `{md_escape(f['placeholder'] or f['entity'])}` {f['entity']} in {f['field']} · {f['action']}"
                    + (f" · score {f['score']:.2f}" if f["score"] is not None else ""))
            st.markdown(line)
            if user.can("reviewer") and f["action"] in ("review", "replaced"):
                c1, c2 = st.columns(2)
                c1.button("Confirm", key=f"pii_ok_{f['id']}", on_click=_pii_act, args=("confirm", f["id"], item.version))
                c2.button("Not personal data", key=f"pii_no_{f['id']}", disabled=not f["has_original"],
                          on_click=_pii_act, args=("reject", f["id"], item.version),
                          help=None if f["has_original"] else "the original was purged after scrubbing")
        if user.can("reviewer"):
            fields = ["text"] if item.task == "classification" else ["prompt", "response"]
            field_name = st.selectbox("Missed personal data in", fields, key=f"pii_field_{item.id}")
            st.text_input("Exact text to replace", key=f"pii_value_{item.id}")
            st.selectbox("Type", ["PERSON", "EMAIL_ADDRESS", "PHONE_NUMBER", "CREDIT_CARD", "STREET_ADDRESS",
                                  "ORDER_NUMBER", "USERNAME", "LOCATION", "IBAN_CODE", "US_SSN", "IP_ADDRESS", "URL"],
                         key=f"pii_entity_{item.id}")
            st.button("Replace it", key=f"pii_missed_{item.id}", on_click=_pii_act,
                      args=("missed", item.id, item.version, field_name))


def _context(item: svc.Item) -> None:
    if item.prediction:
        p = item.prediction
        st.info(f"Model suggests **{md_escape(p['label'])}** (confidence {p['confidence']:.0%}, run {md_escape(p['run_id'])})")
    for f in item.flags:
        icon = {"error": "🛑", "warning": "⚠️"}.get(f["severity"], "ℹ️")
        text = f"{icon} **{md_escape(f['check_name'])}** — {md_escape(f['detail'] or '')}"
        if f["suggestion"]:
            text += f"  \nSuggestion: {md_escape(f['suggestion'])}"
        st.markdown(text)
    if item.pii or st.session_state["user"].can("reviewer"):
        _pii_panel(item)
    if item.neighbours:
        with st.expander(f"Near-duplicates ({len(item.neighbours)})", expanded=True):
            for n in item.neighbours:
                st.markdown(f"- {md_escape((n['text'] or n['prompt'] or '')[:160])} → "
                            f"**{md_escape(n['label'] or '—')}** ({n['status']})")
    if item.annotations:
        with st.expander(f"Annotations ({len(item.annotations)})", expanded=True):
            for a in item.annotations:
                st.markdown(f"- {md_escape(a['annotator'])}: **{md_escape(a['label'] or '—')}**"
                            + (f" — {md_escape(a['note'])}" if a["note"] else ""))
    with st.expander("Guidelines: what good looks like", expanded=True):
        st.markdown(item.guidelines or "_No guidelines yet; an admin can add them under Settings._")
    with st.expander("History"):
        for r in svc.history(get_store(), item.id):
            st.markdown(f"- v{r['version']} · {r['created_at']:%Y-%m-%d %H:%M} · {md_escape(r['actor'])} · "
                        f"{md_escape(r['action'])}" + (f" — {md_escape(r['reason'])}" if r["reason"] else ""))


render()
