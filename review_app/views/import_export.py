"""Import / export in the browser (admins): same validation and atomicity as the CLI.

Downloads are generated when clicked, and only while the login is live: no file waits at a
stable URL for someone without a session.
"""

from __future__ import annotations

import streamlit as st

from review_app import services as svc
from review_app.services import ColumnMap, ImportValidationError, TuneloopError
from review_app.state import download_guard, get_store, require_user


def _import_form(store, user) -> None:
    st.subheader("Import a file")
    st.caption("CSV, JSONL or Parquet. All rows or none: any problem is listed below and nothing is written.")
    upload = st.file_uploader("File", type=["csv", "jsonl", "ndjson", "parquet"], key="imp_file")
    c1, c2, c3 = st.columns(3)
    dataset = c1.text_input("Dataset", value=st.session_state.get("dataset") or "", key="imp_dataset")
    task = c2.selectbox("Task", ["(from dataset or columns)", "classification", "generation"], key="imp_task")
    status = c3.selectbox("Status", ["imported", "needs_review", "approved"], key="imp_status")
    c4, c5, c6 = st.columns(3)
    text_col = c4.text_input("Text column", value="text", key="imp_text", help="classification data")
    label_col = c5.text_input("Label column(s)", value="", key="imp_label", help="comma-separated for structured labels")
    id_col = c6.text_input("Id column", value="", key="imp_id")
    c7, c8, _ = st.columns(3)
    prompt_col = c7.text_input("Prompt column", value="prompt", key="imp_prompt",
                               help="generation data, e.g. question")
    response_col = c8.text_input("Response column", value="response", key="imp_response",
                                 help="generation data, e.g. answer")
    if not st.button("Import", type="primary", disabled=upload is None or not dataset.strip(), key="imp_go"):
        return
    bar = st.progress(0.0, text="importing")
    cols = ColumnMap(text=text_col or "text", label=label_col or None, id=id_col or None,
                     prompt=prompt_col or "prompt", response=response_col or "response")
    try:
        res = svc.import_upload(
            store, user, upload.name, upload.getvalue(), dataset.strip(),
            task=None if task.startswith("(") else task, columns=cols, status=status,
            progress=lambda done, total: bar.progress(min(done / total, 1.0) if total else 0.5, text=f"{done:,} rows"),
        )
    except ImportValidationError as exc:
        bar.empty()
        st.error(f"{exc.total} problem(s) found; nothing was imported. Fix the file or the column fields and "
                 "try again.")
        st.dataframe([{"file": p.file, "row": p.row, "field": p.field, "problem": p.message} for p in exc.problems],
                     hide_index=True, use_container_width=True)
        return
    except TuneloopError as exc:
        bar.empty()
        st.error(str(exc))
        return
    bar.progress(1.0, text="done")
    st.success(f"{res.inserted} new examples in '{res.dataset}' ({res.rows} rows read, "
               f"{res.skipped_existing + res.skipped_in_file} already there or repeated).")


def import_export() -> None:
    store, user = get_store(), require_user()
    st.title("Import / export")
    _import_form(store, user)
    st.subheader("Export a dataset")
    names = svc.list_datasets(store)
    if names:
        name = st.selectbox("Dataset to export", names, key="exp_dataset")
        c1, c2 = st.columns(2)
        c1.download_button("Download JSONL", download_guard(lambda: svc.export_jsonl(store, user, name)),
                           file_name=svc.download_name(name, "jsonl"), mime="application/jsonl", key="exp_jsonl", on_click="ignore")
        c2.download_button("Download CSV (spreadsheet-safe)", download_guard(lambda: svc.export_csv(store, user, name)),
                           file_name=svc.download_name(name, "csv"), mime="text/csv", key="exp_csv", on_click="ignore")


import_export()
