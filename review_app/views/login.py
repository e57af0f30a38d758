"""Log in with name and password (argon2, rate-limited)."""

from __future__ import annotations

import streamlit as st

from curation import BadInput

from review_app.auth import authenticate
from review_app.state import get_store


def render() -> None:
    st.title("Tuneloop review")
    st.caption("Log in to label, review and curate fine-tuning data.")
    with st.form("login"):
        name = st.text_input("User name", key="login_name")
        password = st.text_input("Password", type="password", key="login_password")
        submitted = st.form_submit_button("Log in", type="primary")
    if submitted:
        try:
            st.session_state["user"] = authenticate(get_store(), name, password)
        except BadInput as exc:
            st.error(str(exc))
            return
        st.rerun()


render()
