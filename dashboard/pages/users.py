"""Users (admin): who has which role when the identity provider sends no roles claim."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import auth, state
from enhancer.errors import EnhancerError
from enhancer.service.access import ROLES
from enhancer.service.users import list_users, remove_user, set_user

me = auth.require_page("admin")
st.title("Users")
cfg = state.settings()
svc = state.service()
st.caption("A role from the provider's roles/groups claim wins over this table; ADMIN_EMAILS are always admin; "
           f"anyone else signed in is a {cfg.default_role} (DEFAULT_ROLE).")

users = list_users(svc)
st.dataframe(pd.DataFrame(users, columns=["email", "role", "created_at"]), hide_index=True, width="stretch")

with st.form("add_user", clear_on_submit=True):
    c1, c2 = st.columns([3, 1])
    email = c1.text_input("E-mail")
    role = c2.selectbox("Role", ROLES, index=1)
    if st.form_submit_button("Add or change", type="primary"):
        try:
            res = set_user(svc, email, role, actor=me)
            st.success(f"{res['email']} is now {res['role']}.")
            auth._stored_role.clear()
        except (EnhancerError, ValueError) as exc:
            st.error(str(exc))

if users:
    c1, c2 = st.columns([3, 1])
    gone = c1.selectbox("Remove user", [u["email"] for u in users], index=None)
    if c2.button("Remove", disabled=not gone):
        try:
            remove_user(svc, gone, actor=me)
            auth._stored_role.clear()
            st.rerun()
        except EnhancerError as exc:
            st.error(str(exc))
