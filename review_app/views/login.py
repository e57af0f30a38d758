"""Log in with name and password (argon2, rate-limited)."""

from __future__ import annotations

import streamlit as st

from review_app import services as svc
from review_app.state import get_store, sign_in


def render() -> None:
    st.title("Tuneloop review")
    st.caption("Log in to label, review and curate fine-tuning data.")
    with st.form("login"):
        name = st.text_input("User name", key="login_name")
        password = st.text_input("Password", type="password", key="login_password")
        submitted = st.form_submit_button("Log in", type="primary")
    if submitted:
        try:
            sign_in(svc.log_in(get_store(), name, password))
        except svc.BadInput as exc:
            st.error(str(exc))
            return
        st.rerun()


render()
