"""Streamlit entry point of the review app: holds the store, routes pages.

Start it with ``tuneloop app`` (which sets ``TUNELOOP_DB``), not by hand.
"""

from __future__ import annotations

import streamlit as st

from curation import Store, settings

st.set_page_config(page_title="Tuneloop review", layout="wide")


@st.cache_resource
def get_store() -> Store:
    # One Store per app process: DuckDB allows one read-write process per file; sessions share
    # it through per-thread cursors.
    return Store(settings().db_path, lock_wait_s=settings().lock_wait_s)


store = get_store()
st.title("Tuneloop")
counts = store.status_counts()
if not counts:
    st.info("No datasets yet. Run `tuneloop demo` or `tuneloop import FILE --dataset NAME`.")
for name, row in counts.items():
    st.subheader(name)
    cols = st.columns(len(row))
    for col, (status, n) in zip(cols, row.items()):
        col.metric(status, n)
