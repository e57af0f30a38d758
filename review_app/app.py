"""Streamlit entry point: holds the store for the process and routes pages by role.

Start it with ``tuneloop app`` (which sets ``TUNELOOP_DB``). Pages are scripts in ``views/``;
their logic lives in :mod:`review_app.services`.
"""

from __future__ import annotations

import streamlit as st

from review_app.services import TuneloopError
from review_app.state import current_user, freeze_startup_objects, get_store, session_cookie_script, sign_out

st.set_page_config(page_title="Tuneloop review", layout="wide")
try:
    get_store()  # open (and migrate) the store once per process, before any page runs
except TuneloopError as exc:  # busy, missing, damaged, a bad setting: say so, no traceback
    st.error(str(exc))
    st.button("Retry", key="retry_store")  # a click reruns the script, which tries again
    st.stop()
freeze_startup_objects()

user = current_user()
session_cookie_script()
if user is None:
    pages = [st.Page("views/login.py", title="Log in", url_path="login")]
else:
    pages = {
        "Review": [
            st.Page("views/queue.py", title="Queue", url_path="queue", default=True),
            st.Page("views/browse.py", title="Browse", url_path="browse"),
            st.Page("views/history.py", title="History", url_path="history"),
            st.Page("views/dashboard.py", title="Dashboard", url_path="dashboard"),
            st.Page("views/duplicates.py", title="Duplicates", url_path="duplicates"),
            st.Page("views/checks.py", title="Checks & coverage", url_path="checks"),
            st.Page("views/snapshots.py", title="Snapshots", url_path="snapshots"),
            st.Page("views/runs.py", title="Runs", url_path="runs"),
            st.Page("views/rubric.py", title="Rubric review", url_path="rubric"),
        ],
    }
    if user.can("reviewer"):
        pages["Review"].append(st.Page("views/jobs.py", title="Jobs", url_path="jobs"))
    if user.can("admin"):
        pages["Admin"] = [
            st.Page("views/import_export.py", title="Import / export", url_path="import"),
            st.Page("views/users.py", title="Users", url_path="users"),
            st.Page("views/settings.py", title="Settings", url_path="settings"),
        ]
    st.sidebar.caption(f"Signed in as **{user.name}** ({user.role})")
    if st.sidebar.button("Log out", key="logout"):
        sign_out()
        st.rerun()

st.navigation(pages).run()
