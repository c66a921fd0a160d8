"""Review: images whose variants wait for a decision; approve or reject in place.

Each variant is one small form, so Tab moves image → Approve → Reject → next
variant in reading order and Enter/Space presses the focused button.
"""
from __future__ import annotations

import math

import streamlit as st

from dashboard import state
from dashboard.components import esc, fmt, mode_label, signed
from enhancer import EnhancerError
from enhancer.service import decide

PER_PAGE = 10

st.title("Review")
svc = state.service()

flash = st.session_state.pop("review_flash", None)
if flash:
    st.success(flash)

page = int(st.columns(4)[0].number_input("Page", min_value=1, value=1, step=1, key="review_page_no"))
total, queue = state.review_page(PER_PAGE, (page - 1) * PER_PAGE)
st.markdown(f"**{total:,}** image(s) waiting for review")
if not queue:
    st.info("Nothing to review. Results wait here when a person must choose: several variants, an AI "
            "result, or a new result for an image whose file was already approved. A single local result "
            "is approved automatically.")

for img, variants in queue:
    with st.container(border=True):
        st.markdown(f"**{esc(img['sku_id'])}** · {esc(img['filename'])} · {esc(img['review'])}")
        st.page_link("dashboard/pages/detail.py", label="Open detail", icon=":material/open_in_new:",
                     query_params={"id": img["id"]})
        if not variants:
            st.caption("No open variants.")
        cols = st.columns(3)
        for i, h in enumerate(variants):
            with cols[i % len(cols)], st.form(f"review_{h['id']}", border=True):
                thumb = state.thumbnail(h["thumbnail_key"]) if h["thumbnail_key"] else None
                if thumb:
                    st.image(thumb, width="stretch")
                qm, sm = h["quality_metadata"], h["size_metadata"]
                cut = sm.get("reduction_percent")
                change = signed(None if cut is None else -cut, "%")
                st.caption(f"#{h['enhancement_sequence']} {esc(mode_label(h['enhancement_mode']))} · "
                           f"{esc(h['provider'])}  \nquality {fmt(h['original_quality_score'])} → "
                           f"{fmt(h['enhanced_quality_score'])} · size {change} · "
                           f"{fmt(sm.get('enhanced_kb'), ' KB')}")
                a, r = st.columns(2)
                approve = a.form_submit_button("Approve", type="primary", width="stretch")
                reject = r.form_submit_button("Reject", width="stretch")
            if approve or reject:
                decision = "approved" if approve else "rejected"
                try:
                    decide(svc, h["id"], decision, actor=state.actor())
                except (EnhancerError, ValueError) as exc:
                    st.error(esc(str(exc)))
                else:
                    state.clear_data()
                    st.session_state["review_flash"] = (
                        f"{img['sku_id']}: variant #{h['enhancement_sequence']} {decision}.")
                    st.rerun()

if total > PER_PAGE:
    st.caption(f"Page {page} of {math.ceil(total / PER_PAGE)}")
