"""Image detail: the original and every enhancement in sequence; re-enhance; approve or reject; download."""
from __future__ import annotations

import streamlit as st

from dashboard import state
from dashboard.components import compliance, esc, fmt, mode_label, quality_metrics
from db.repo import ImageFilter
from enhancer import (EXTENSIONS, MAX_TARGET_KB, MIME_TYPES, MIN_TARGET_KB, OUTPUT_FORMATS, PROFILED_MODES,
                      PROFILES, EnhanceOptions, EnhancerError, Mode, decide, delete_image, delete_product, reenhance,
                      sku_from_filename)

st.title("Image detail")
svc = state.service()
flash = st.session_state.pop("detail_flash", None)
if flash:
    st.success(flash)

image_id = st.query_params.get("id") or ""
if not image_id:
    st.info("Open an image from the **Gallery**, or pick one of the latest uploads.")
    _, recent = state.gallery_page(ImageFilter(), "newest", 50, 0)
    names = {r["id"]: f"{r['sku_id']} · {r['filename']} · {r['created_at']}" for r in recent}
    choice = st.selectbox("Latest images", list(names), index=None, placeholder="Choose an image",
                          format_func=names.get)
    if choice:
        st.query_params["id"] = choice
        st.rerun()
    st.stop()

found = state.image_detail(image_id)
if found is None:
    st.error(f"No image with id {esc(image_id)}.")
    st.page_link("dashboard/pages/gallery.py", label="Back to the gallery", icon=":material/arrow_back:")
    st.stop()
img, history = found

st.subheader(esc(f"{img['sku_id']} · {img['filename']}"))
st.caption(f"Product {esc(img['sku_id'])}, image {img['position']}" + (" (main)" if img["is_main"] else "")
           + f" · status {img['status']} · {esc(img['review'])}"
           + (f" at {img['reviewed_at']}" if img["reviewed_at"] else "")
           + f" · created {img['created_at']} · id {img['id']}")
if img["status"] == "FAILED":
    st.error(f"Enhancement failed: {esc(img['error_message'] or 'unknown error')}. "
             "Re-enhance below to retry.")


left, right = st.columns([1, 2])
with left:
    st.markdown("**Original**")
    orig = state.preview(img["original_key"]) if img["original_key"] else None
    if orig:
        st.image(orig, width="stretch")
    st.caption(f"{fmt(img['original_width'])}×{fmt(img['original_height'])} · "
               f"{fmt(img['original_size_kb'], ' KB')}")
    st.download_button("Download original", data=lambda: svc.storage.get(img["original_key"]),
                       file_name=img["filename"], mime="application/octet-stream", on_click="ignore",
                       key="dl_original", width="stretch")

last = (history[-1]["quality_metadata"].get("options") or {}) if history else {}
modes = [m.value for m in Mode]
who = state.actor()
can_operate, can_delete = who.can("operator"), who.can("admin")  # the service enforces the same roles
with right, st.form("reenhance"):
    st.markdown("**Re-enhance**")
    a, b = st.columns(2)
    # the form starts from what this image was last enhanced with
    mode = a.selectbox("Mode", modes, format_func=mode_label,
                       index=modes.index(last["mode"]) if last.get("mode") in modes else 0)
    target = b.number_input("Target size (KB)", min_value=MIN_TARGET_KB, max_value=MAX_TARGET_KB,
                            value=int(last.get("target_size_kb") or 500), step=50)
    c, d = st.columns(2)
    formats = list(OUTPUT_FORMATS)
    out_fmt = c.selectbox("Format", formats, index=formats.index(last["output_format"])
                          if last.get("output_format") in formats else 0)
    profiles = list(PROFILES)
    profile = d.selectbox("Marketplace profile (Standardize / Full)", profiles,
                          index=profiles.index(last["profile"]) if last.get("profile") in profiles
                          else profiles.index("generic"))
    if st.form_submit_button("Re-enhance", type="primary", disabled=not can_operate,
                             help=None if can_operate else "Needs the operator role"):
        try:
            with st.spinner("Enhancing…"):
                uses_profile = Mode(mode) in PROFILED_MODES
                opts = EnhanceOptions.parse(mode, int(target), out_fmt, profile if uses_profile else None, "local")
                res = reenhance(svc, image_id, opts, actor=state.actor())
        except (EnhancerError, ValueError) as exc:
            st.error(esc(str(exc)))
        else:
            state.clear_data()
            st.session_state["detail_flash"] = (
                f"Added enhancement #{res.enhancement_sequence} ({mode_label(res.enhancement_mode)})"
                + (": waiting for review, the approved file stays current." if res.review_status == "pending_review"
                   and img["review_status"] == "approved" else "."))
            st.rerun()

def _delete_popover(label: str, icon: str, what: str, confirm: str, delete, target: str, done: str) -> None:
    """A delete behind a confirmation: nothing to press until the box is ticked."""
    with left.popover(label, icon=icon):
        st.write(f"Deletes {what}. This cannot be undone.")
        if st.checkbox(confirm, key=f"confirm_{label}") and \
                st.button(f"{label} for good", type="primary", key=f"do_{label}"):
            try:
                delete(svc, target, actor=state.actor())
            except (EnhancerError, ValueError) as exc:
                st.error(esc(str(exc)))
            else:
                state.clear_data()
                st.query_params.clear()
                st.session_state["detail_flash"] = done
                st.rerun()


if can_delete:
    _delete_popover("Delete image", ":material/delete:", "this image, every enhancement of it and their files",
                    "Yes, delete it", delete_image, image_id,
                    f"Deleted image {img['filename']} of {img['sku_id']}.")
    _delete_popover("Delete product", ":material/delete_forever:",
                    f"product {esc(img['sku_id'])} with all its images, their enhancements and files",
                    "Yes, delete the whole product", delete_product, img["product_id"],
                    f"Deleted product {img['sku_id']} and its images.")


def _decide(history_id: str, decision: str, seq: int) -> None:
    try:
        decide(svc, history_id, decision, actor=state.actor())
    except (EnhancerError, ValueError) as exc:
        st.session_state["detail_flash"] = f"Could not record the decision: {exc}"
    else:
        st.session_state["detail_flash"] = f"Enhancement #{seq} {decision}."
    state.clear_data()


st.divider()
st.markdown(f"**Enhancements** ({len(history)})")
if not history:
    st.info("No enhancements yet.")
for h in history:
    qm, sm = h["quality_metadata"], h["size_metadata"]
    current = h["enhanced_key"] == img["enhanced_key"]
    with st.container(border=True):
        p, m = st.columns([1, 2])
        prev = state.preview(h["enhanced_key"]) if h["enhanced_key"] else None
        if prev:
            p.image(prev, width="stretch")
        with m:
            st.markdown(f"**#{h['enhancement_sequence']} · {esc(mode_label(h['enhancement_mode']))}**"
                        + (" · current" if current else "")
                        + f"  \nprovider {esc(h['provider'])}"
                        + (f" ({esc(h['model_version'])})" if h["model_version"] else "")
                        + f" · **{esc(h['review'])}**"
                        + (f" at {h['reviewed_at']}" if h["reviewed_at"] and h["reviewed_by"] != "auto" else "")
                        + f" · {h['created_at']}")
            before = qm.get("before") or {}
            quality_metrics(h["original_quality_score"], h["enhanced_quality_score"], qm.get("blur_before"),
                            qm.get("blur_after"), sm.get("original_kb"), sm.get("enhanced_kb"),
                            sm.get("reduction_percent"), h["processing_time_ms"],
                            format_before=before.get("format"), format_after=h["enhanced_format"],
                            dims_before=(before.get("width"), before.get("height")),
                            dims_after=(h["enhanced_width"], h["enhanced_height"]))
            st.caption(f"{fmt(h['enhanced_width'])}×{fmt(h['enhanced_height'])} "
                       f"{esc(h['enhanced_format'] or '')}"
                       f" · steps: {esc(', '.join(qm.get('steps') or []) or 'none')}")
            if qm.get("fixed"):
                st.caption("Fixed: " + esc("; ".join(qm["fixed"])))
            for note in qm.get("notes") or []:
                st.caption(esc(note))
            for w in qm.get("warnings_after") or []:
                st.warning(esc(w))
            compliance(qm.get("compliance"))
            b1, b2, b3 = st.columns(3)
            seq = h["enhancement_sequence"]
            b1.button("Approve", key=f"approve_{h['id']}", type="primary", width="stretch",
                      disabled=h["review_status"] == "approved" or not can_operate, on_click=_decide,
                      args=(h["id"], "approved", seq))
            b2.button("Reject", key=f"reject_{h['id']}", width="stretch",
                      disabled=h["review_status"] == "rejected" or not can_operate, on_click=_decide,
                      args=(h["id"], "rejected", seq))
            fmt_ = h["enhanced_format"] or ""
            b3.download_button(f"Download #{h['enhancement_sequence']}",
                               data=lambda k=h["enhanced_key"]: svc.storage.get(k),
                               file_name=f"{sku_from_filename(img['filename'])}_enhanced_{h['enhancement_sequence']}."
                                         f"{EXTENSIONS.get(fmt_, 'jpg')}",
                               mime=MIME_TYPES.get(fmt_, "application/octet-stream"), on_click="ignore",
                               key=f"dl_{h['id']}", disabled=not h["enhanced_key"], width="stretch")
