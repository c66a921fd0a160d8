"""Review: the decisions a person must make, at scale.

The first image on the page is in focus, its original beside every result
waiting for a decision, with keyboard shortcuts: 1-9 approve that result,
A approves the suggested one, X rejects them all, J / K move the focus. The
rest of the page is a compact grid with the same buttons; "Approve all
suggested" decides a whole page at once.
"""
from __future__ import annotations

import math

import streamlit as st

from dashboard import state
from dashboard.components import esc, fmt, mode_label, signed
from enhancer import EnhancerError, decide

PER_PAGE = 8
FOCUS = "review_focus"
FLASH = "review_flash"

st.title("Review")
svc = state.service()

flash = st.session_state.pop(FLASH, None)
if flash:
    st.success(flash)

with st.container(border=True):
    f1, f2, f3, f4 = st.columns([2, 2, 1, 1])
    batches = state.review_batches()
    names = dict(batches)
    batch_id = f1.selectbox("Batch", ["", *names], format_func=lambda v: names.get(v, "All batches"))
    sku = f2.text_input("SKU", placeholder="exact SKU")
    provider = f3.selectbox("Provider", ["", "local", "gemini", "bedrock"], format_func=lambda v: v or "All")
    page = int(f4.number_input("Page", min_value=1, value=1, step=1, key="review_page_no"))

total, queue = state.review_page(PER_PAGE, (page - 1) * PER_PAGE, sku.strip() or None, provider or None,
                                 batch_id or None)
pages = max(1, math.ceil(total / PER_PAGE))
st.markdown(f"**{total:,}** image(s) waiting for review" + (f" · page {page} of {pages}" if total else ""))
st.caption("Results wait here when a person must choose: several variants, an AI result, or a new result "
           "for an image whose file is already approved. Keys: **1-9** approve that result, **A** approve the "
           "suggested one, **X** reject all, **J** / **K** next / previous image.")
if not queue:
    st.info("Nothing to review. A single local result is approved automatically; "
            "variants and AI results appear here.")
    st.stop()


def _decide_many(pairs: list[tuple[str, str]], message: str) -> None:
    done = 0
    for history_id, decision in pairs:
        try:
            decide(svc, history_id, decision, actor=state.actor())
            done += 1
        except (EnhancerError, ValueError) as exc:
            st.session_state[FLASH] = f"Could not record a decision: {exc}"
            break
    else:
        st.session_state[FLASH] = message
    st.session_state[FOCUS] = 0
    state.clear_data()


def _suggested(variants: list[dict]) -> dict:
    return next((h for h in variants if h["suggested"]), variants[0])


def _caption(h: dict) -> str:
    cut = (h["size_metadata"] or {}).get("reduction_percent")
    return (f"#{h['enhancement_sequence']} {esc(mode_label(h['enhancement_mode']))} · {esc(h['provider'])}  \n"
            f"quality {fmt(h['original_quality_score'])} → {fmt(h['enhanced_quality_score'])} · "
            f"size {signed(None if cut is None else -cut, '%')} · "
            f"{fmt((h['size_metadata'] or {}).get('enhanced_kb'), ' KB')} · "
            f"{fmt(h['enhanced_width'])}×{fmt(h['enhanced_height'])}"
            + (" · suggested" if h["suggested"] else ""))


def _original(img: dict, width: int) -> None:
    thumb = state.preview(img["original_key"], 360) if img["original_key"] else None
    if thumb:
        st.image(thumb, width=width)
    st.caption(f"Original {fmt(img['original_width'])}×{fmt(img['original_height'])} · "
               f"{fmt(img['original_size_kb'], ' KB')}")


def _result(h: dict, width: int) -> None:
    thumb = state.thumbnail(h["thumbnail_key"]) if h["thumbnail_key"] else None
    if thumb:
        st.image(thumb, width=width)
    st.caption(_caption(h))


focus = min(st.session_state.get(FOCUS, 0), len(queue) - 1)
img, variants = queue[focus]
label = f"{img['sku_id']} · {img['filename']} · image {img['position']}"
with st.container(border=True):
    st.markdown(f"**In focus ({focus + 1} of {len(queue)} on this page): {esc(label)}** · {esc(img['review'])}")
    cols = st.columns(1 + max(1, len(variants)))
    with cols[0]:
        _original(img, 240)
        st.page_link("dashboard/pages/detail.py", label="Open detail", icon=":material/open_in_new:",
                     query_params={"id": img["id"]})
    for n, (col, h) in enumerate(zip(cols[1:], variants), start=1):
        with col:
            _result(h, 240)
            seq = h["enhancement_sequence"]
            st.button(f"Approve #{seq}", key=f"focus_ok_{h['id']}", type="primary", width="stretch",
                      shortcut=str(n) if n <= 9 else None, on_click=_decide_many,
                      args=([(h["id"], "approve")], f"{img['sku_id']}: #{seq} approved."))
            st.button(f"Reject #{seq}", key=f"focus_no_{h['id']}", width="stretch", on_click=_decide_many,
                      args=([(h["id"], "reject")], f"{img['sku_id']}: #{seq} rejected."))
    a, x, k, j = st.columns(4)
    best = _suggested(variants)
    a.button(f"Approve suggested #{best['enhancement_sequence']}", shortcut="A", key="focus_approve",
             type="primary", width="stretch", on_click=_decide_many,
             args=([(best["id"], "approve")], f"{img['sku_id']}: #{best['enhancement_sequence']} approved."))
    x.button("Reject all", shortcut="X", key="focus_reject_all", width="stretch", on_click=_decide_many,
             args=([(h["id"], "reject") for h in variants], f"{img['sku_id']}: {len(variants)} result(s) rejected."))
    if k.button("Previous image", shortcut="K", key="focus_prev", width="stretch", disabled=focus == 0):
        st.session_state[FOCUS] = focus - 1
        st.rerun()
    if j.button("Next image", shortcut="J", key="focus_next", width="stretch", disabled=focus >= len(queue) - 1):
        st.session_state[FOCUS] = focus + 1
        st.rerun()

suggested = [(_suggested(v)["id"], "approve") for _, v in queue]
st.button(f"Approve all suggested on this page ({len(suggested)})", shortcut="Shift+A", key="approve_page",
          on_click=_decide_many, args=(suggested, f"Approved the suggested result of {len(suggested)} image(s)."))

rest = [(i, q) for i, q in enumerate(queue) if i != focus]
if rest:
    st.markdown("**Also on this page**")
for i, (other, vs) in rest:
    with st.container(border=True):
        cols = st.columns([1] + [1] * min(len(vs), 4) + [1])
        with cols[0]:
            st.markdown(f"**{esc(other['sku_id'])}**  \n{esc(other['filename'])}")
            _original(other, 140)
        for col, h in zip(cols[1:], vs[:4]):
            with col:
                _result(h, 140)
                b1, b2 = st.columns(2)
                seq = h["enhancement_sequence"]
                b1.button("Approve", key=f"ok_{h['id']}", type="primary", width="stretch", on_click=_decide_many,
                          args=([(h["id"], "approve")], f"{other['sku_id']}: #{seq} approved."))
                b2.button("Reject", key=f"no_{h['id']}", width="stretch", on_click=_decide_many,
                          args=([(h["id"], "reject")], f"{other['sku_id']}: #{seq} rejected."))
        if len(vs) > 4:
            cols[-1].caption(f"+{len(vs) - 4} more: focus it to see all")
        if cols[-1].button("Focus", key=f"focus_{other['id']}", width="stretch"):
            st.session_state[FOCUS] = i
            st.rerun()
