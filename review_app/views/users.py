"""Users (admins): list and add review-app users."""

from __future__ import annotations


import streamlit as st

from review_app import services as svc
from review_app.services import TuneloopError
from review_app.state import get_store, require_user


def users() -> None:
    store, user = get_store(), require_user()
    st.title("Users")
    st.dataframe(svc.list_users(store, user), hide_index=True, use_container_width=True)
    with st.form("add_user", clear_on_submit=True):
        st.subheader("Add a user")
        name = st.text_input("Name", key="u_name")
        role = st.selectbox("Role", svc.roles(), key="u_role")
        password = st.text_input("Initial password", type="password", key="u_password")
        if st.form_submit_button("Add user"):
            try:
                svc.create_user(store, user, name, role, password)
                st.success(f"User '{name}' added as {role}.")
            except TuneloopError as exc:
                st.error(str(exc))


users()
