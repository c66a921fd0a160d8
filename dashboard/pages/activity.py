"""Activity (admin): the audit trail, filtered, newest first, exportable as CSV."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import auth, state
from db import audit

auth.require_page("admin")
st.title("Activity")
PAGE = 200

with state.service().session() as s:
    known = audit.actions(s)
c1, c2, c3, c4 = st.columns([2, 2, 2, 3])
who = c1.text_input("Actor contains", placeholder="e-mail, key:…, cli:…")
action = c2.selectbox("Action", ["(any)", *known])
kind = c3.selectbox("Target", ["(any)", "image", "enhancement", "product", "batch", "user", "key"])
since, until = state.date_bounds(c4.date_input("Dates", value=(), key="activity_dates"))
target = st.text_input("Target id", placeholder="image, enhancement, product or batch id")
filt = audit.AuditFilter(actor=who.strip() or None, action=None if action == "(any)" else action,
                         target_kind=None if kind == "(any)" else kind, target_id=target.strip() or None,
                         since=since, until=until)

with state.service().session() as s:
    total, rows = audit.entries(s, filt, limit=PAGE)
    table = [audit.as_dict(e) for e in rows]
st.caption(f"{total:,} change(s) match; showing the newest {min(total, PAGE)}.")
df = pd.DataFrame(table, columns=["at", "actor", "role", "action", "target_kind", "target_id", "detail"])
st.dataframe(df, hide_index=True, width="stretch")

if total:
    with state.service().session() as s:
        everything = [audit.as_dict(e) for e in audit.entries(s, filt, limit=100_000)[1]]
    st.download_button("Export CSV", pd.DataFrame(everything).to_csv(index=False).encode(), "activity.csv",
                       "text/csv", icon=":material/download:")
