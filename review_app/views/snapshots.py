"""Snapshots: list, datasheet, diff; admins create and download exports."""

from __future__ import annotations

import streamlit as st

from review_app import services as svc
from review_app.services import SnapshotConfig, TuneloopError, parse_split
from review_app.state import dataset_page, download_guard, show_flash


@dataset_page("Snapshots")
def render(store, user, dataset: str) -> None:
    if user.can("admin"):
        with st.expander("Create a snapshot of the approved examples", expanded=False):
            with st.form("snap_create"):
                c1, c2, c3 = st.columns(3)
                name = c1.text_input("Name", key="snap_name")
                split = c2.text_input("Split train,validation,test", value="0.8,0.1,0.1", key="snap_split")
                seed = c3.number_input("Seed", min_value=0, value=0, step=1, key="snap_seed")
                allow = st.text_input("Let these flags through (comma-separated check names)", key="snap_allow")
                if st.form_submit_button("Create snapshot", type="primary"):
                    try:
                        cfg = SnapshotConfig(name=name or None, split=parse_split(split), seed=int(seed),
                                             allow_flags=tuple(a.strip() for a in allow.split(",") if a.strip()))
                        res = svc.create_snapshot(store, user, dataset, cfg)
                    except TuneloopError as exc:
                        st.error(str(exc))
                    else:
                        st.success(f"Snapshot {res.id} {'created' if res.created else 'already existed'}: "
                                   f"{res.items} items.")
    snaps = svc.list_snapshots(store, dataset)
    if not snaps:
        st.info("No snapshots yet. Approve examples, then create one (admins), or run "
                "`tuneloop snapshot create --dataset NAME`.")
        return
    st.dataframe([{"id": s["id"], "name": s["name"], "items": s["items"], "created": s["created_at"],
                   "by": s["created_by"]} for s in snaps], hide_index=True, use_container_width=True)
    ids = [s["id"] for s in snaps]
    label = {s["id"]: f"{s['id']} · {s['name'] or ''} · {s['items']} items" for s in snaps}
    chosen = st.selectbox("Snapshot", ids, format_func=label.get, key="snap_pick")
    sheet, markdown = svc.datasheet(store, chosen)
    tab_sheet, tab_diff, tab_export, tab_train = st.tabs(["Datasheet", "Diff", "Export", "Train"])
    with tab_sheet:
        st.markdown(markdown)
    with tab_diff:
        other = st.selectbox("Compare with", [i for i in ids if i != chosen], format_func=label.get, key="snap_other")
        if other:
            d = svc.diff_snapshots(store, other, chosen)
            cols = st.columns(5)
            for col, key in zip(cols, ["added", "removed", "relabelled", "edited", "moved"]):
                col.metric(key, d["counts"][key])
            shift = [{"split": split, "label": lab, "before": v["a"], "after": v["b"], "change": v["delta"]}
                     for split, labels in d["label_shift"].items() for lab, v in labels.items() if v["delta"]]
            st.caption("Label shift per split (labels whose count changed)")
            st.dataframe(shift, hide_index=True, use_container_width=True)
        else:
            st.caption("Only one snapshot so far.")
    with tab_export:
        if not user.can("admin"):
            st.caption("Admins can download exports.")
        else:
            fmt = st.selectbox("Format", svc.export_formats(), key="snap_fmt")
            if st.button("Prepare download", key="snap_prepare"):
                try:
                    st.session_state["snap_zip"] = svc.snapshot_download(store, user, chosen, fmt)
                except TuneloopError as exc:
                    st.error(str(exc))
            prepared = st.session_state.get("snap_zip")
            if prepared:
                data = prepared[1]
                st.download_button(f"Download {prepared[0]}", download_guard(lambda: data), file_name=prepared[0],
                                   mime="application/zip", key="snap_download", on_click="ignore")

    with tab_train:
        _train(user, chosen)


def _train(user, snapshot_id: str) -> None:
    """Start training on the chosen snapshot as a job (reviewers and admins)."""
    from review_app.state import get_owner

    if not user.can("reviewer"):
        st.caption("Reviewers and admins can train a model on a snapshot.")
        return
    show_flash("train_flash")
    st.caption("Trains a LoRA model in a background process at lower priority: reviewing goes on meanwhile. "
               "Follow it on the Jobs page; the run appears on the Runs page when it completes.")
    with st.form("train_form"):
        c1, c2, c3 = st.columns(3)
        epochs = c1.number_input("Epochs (0 = the task's default)", min_value=0, value=0, step=1, key="train_epochs")
        lr = c2.number_input("Learning rate (0 = default)", min_value=0.0, value=0.0, format="%.5f", key="train_lr")
        cap = c3.number_input("At most N training examples (0 = all)", min_value=0, value=0, step=100, key="train_cap")
        base = st.text_input("Base model folder (empty = the bundled default)", key="train_base")
        if st.form_submit_button("Train", type="primary"):
            try:
                job_id = svc.start_training(get_owner(), user, snapshot_id, epochs=int(epochs) or None,
                                                 learning_rate=float(lr) or None, max_train_examples=int(cap) or None,
                                                 base_model=base.strip() or None)
            except TuneloopError as exc:
                st.session_state["train_flash"] = ("error", str(exc))
            else:
                st.session_state["train_flash"] = ("success", f"Training job {job_id} queued: see the Jobs page.")
            st.rerun()


render()
