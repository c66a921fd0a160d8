"""Gallery: filtered, sorted, paginated thumbnails (LIMIT/OFFSET on indexed columns), ZIP and exports."""
from __future__ import annotations

import math

import streamlit as st

from dashboard import state
from dashboard.components import esc, mode_label, signed, to_csv, to_excel, to_json, zip_files
from db.models import ImageStatus, ReviewStatus
from db.repo import SORTS, ImageFilter
from enhancer import EXTENSIONS, Mode, sku_from_filename

COLS = 4
REVIEW_LABELS = {"none": "No result yet", "pending_review": "Waiting for review", "approved": "Approved",
                 "rejected": "Rejected"}
SELECTED = "gallery_selected"

st.title("Gallery")
svc = state.service()

with st.container(border=True):
    f1, f2, f3, f4 = st.columns(4)
    search = f1.text_input("Search SKU or file name", placeholder="any part of it…")
    status = f2.selectbox("Status", ["", *[s.value for s in ImageStatus]], format_func=lambda v: v or "All")
    mode = f3.selectbox("Mode", ["", *[m.value for m in Mode]], format_func=lambda v: mode_label(v) if v else "All")
    review = f4.selectbox("Review", ["", *[r.value for r in ReviewStatus]],
                          format_func=lambda v: REVIEW_LABELS.get(v, v) if v else "All")
    g1, g2, g3, g4 = st.columns([2, 1, 1, 1])
    dates = g1.date_input("Created between", value=(), format="YYYY-MM-DD")
    sort = g2.selectbox("Sort", list(SORTS), format_func=lambda v: v.replace("_", " ").capitalize())
    per_page = g3.selectbox("Per page", [12, 24, 48, 96], index=1)
    page = int(g4.number_input("Page", min_value=1, value=1, step=1, key="gallery_page_no"))

lo, hi = state.date_bounds(dates)
filt = ImageFilter(status=status or None, mode=mode or None, review_status=review or None,
                   search=search.strip() or None, created_from=lo, created_to=hi)
total, rows = state.gallery_page(filt, sort, per_page, (page - 1) * per_page)
pages = max(1, math.ceil(total / per_page))
if page > pages:  # filters shrank the result: show the last page instead of an empty one
    page = pages
    total, rows = state.gallery_page(filt, sort, per_page, (page - 1) * per_page)

selected: set[str] = st.session_state.setdefault(SELECTED, set())
top = st.columns([3, 2])
top[0].markdown(f"**{total:,}** image(s) match · page {page:,} of {pages:,}")

if not rows:
    st.info("No images match. Upload some on **Upload & Enhance**, or loosen the filters.")
for start in range(0, len(rows), COLS):
    cols = st.columns(COLS)
    for col, r in zip(cols, rows[start:start + COLS]):
        with col.container(border=True):
            thumb = state.thumbnail(r["thumbnail_key"]) if r["thumbnail_key"] else None
            if thumb:
                st.image(thumb, width="stretch")
            else:
                st.caption("No enhanced image" + (" (failed)" if r["status"] == "FAILED" else ""))
            st.markdown(f"**{esc(r['sku_id'])}**  \n{esc(r['filename'])}")
            change = None if r["size_reduction_percent"] is None else -r["size_reduction_percent"]
            st.caption(f"{r['created_at']} · {esc(mode_label(r['enhancement_mode']))} · {r['status']} · "
                       f"image {r['position']} · {esc(r['review'])}  \nquality {signed(r['quality_improvement'])} · "
                       f"size {signed(change, '%')}")
            if r["status"] == "FAILED" and r["error_message"]:
                st.caption(esc(r["error_message"][:160]))
            a, b = st.columns(2)
            a.page_link("dashboard/pages/detail.py", label="Open", icon=":material/open_in_new:",
                        query_params={"id": r["id"]})
            picked = b.checkbox("Select", value=r["id"] in selected, key=f"sel_{r['id']}",
                                disabled=not r["enhanced_key"])
            (selected.add if picked else selected.discard)(r["id"])

st.divider()
keep = {r["id"]: r for r in rows}
st.session_state.setdefault("gallery_known", {}).update(
    {i: (r["enhanced_key"], r["filename"], r.get("enhanced_format")) for i, r in keep.items()})
known = st.session_state["gallery_known"]
chosen = [i for i in selected if i in known and known[i][0]]


def _zip() -> bytes:
    return zip_files((f"{sku_from_filename(known[i][1])}_enhanced.{EXTENSIONS.get(known[i][2] or '', 'jpg')}",
                      lambda k=known[i][0]: svc.storage.get(k)) for i in chosen)


e = st.columns([3, 2, 2, 2, 2])
e[0].download_button(f"Download ZIP ({len(chosen)} selected)", data=_zip, file_name="pixel_lab_enhanced.zip",
                     mime="application/zip", disabled=not chosen, on_click="ignore", width="stretch")
if e[1].button("Clear selection", disabled=not selected, width="stretch"):
    selected.clear()
    for k in [k for k in st.session_state if str(k).startswith("sel_")]:
        del st.session_state[k]
    st.rerun()
e[2].download_button("Export CSV", data=lambda: to_csv(state.export_rows(filt, sort)),
                     file_name="pixel_lab_images.csv", mime="text/csv", on_click="ignore", width="stretch")
e[3].download_button("Export JSON", data=lambda: to_json(state.export_rows(filt, sort)),
                     file_name="pixel_lab_images.json", mime="application/json", on_click="ignore",
                     width="stretch")
e[4].download_button("Export Excel", data=lambda: to_excel(state.export_rows(filt, sort)),
                     file_name="pixel_lab_images.xlsx", on_click="ignore", width="stretch",
                     mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
st.caption("Exports cover every image matching the filters (up to 100 000 rows), not just this page.")
