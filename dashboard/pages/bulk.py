"""Bulk: upload a ZIP, a CSV/XLSX manifest of URLs or many photos; run, watch, control and export batches.

A batch never runs inside the Streamlit process: it is queued for the Celery
workers (``BROKER_URL``) or run by ``python -m enhancer batch-resume`` in a
process of its own (:func:`enhancer.batch.start.start_batches`). Progress is
read from the database, so it survives a page reload or an app restart, and a
batch whose runner died is restarted by the page.
"""
from __future__ import annotations

import os
import time
from functools import partial

import pandas as pd
import streamlit as st

from enhancer.batch import export_batch
from enhancer.batch.background import stage_uploads
from enhancer.batch.errors import BatchError
from enhancer.batch.start import resume_stalled, start_batches, submit
from enhancer.batch.export import enhanced_zip, rows as export_rows
from enhancer.batch.control import request, summary
from enhancer import INPUT_EXTENSIONS, OUTPUT_FORMATS, PROFILES, EnhanceOptions, EnhancerError, Mode, delete_batch

try:  # the dashboard's shared accessors (dashboard/state.py), when present
    from dashboard.state import actor as current_actor, service as get_service, settings as get_settings
except ImportError:  # standalone: a small local cache of the same things
    from enhancer.app import build_backends as build_service
    from enhancer.config import load_settings

    @st.cache_resource(show_spinner=False)
    def get_settings():
        return load_settings()

    @st.cache_resource(show_spinner="Connecting to the database and storage…")
    def get_service():
        return build_service(get_settings())

    def current_actor():
        return "dashboard:local"

RESULT_ROWS = 500
UPLOAD_TYPES = ["csv", "xlsx", "zip", *INPUT_EXTENSIONS]
STALL_CHECK_S = 10.0


def _eta(s: float | None) -> str:
    return "—" if s is None else f"{int(s) // 60}m {int(s) % 60:02d}s"


def _usage(use: dict) -> str:
    """AI usage per provider in words ("gemini: 3 calls, 1,200 tokens"); empty when no AI ran."""
    return "; ".join(f"{p}: " + ", ".join(f"{v:,.0f} {k.replace('_', ' ')}" for k, v in u.items())
                     for p, u in use.items())


def batch_row(sm) -> dict:
    """One line of the batches table, with column names an operator reads (not the summary's field names)."""
    return {"Name": sm.name, "Status": sm.status + (" (stalled)" if sm.stalled else ""),
            "Done": f"{sm.done}/{sm.total}", "Completed": sm.completed, "Failed": sm.failed,
            "Skipped / reused": sm.skipped, "Images/min": round(sm.images_per_minute, 1),
            "Active time": _eta(sm.active_s), "ETA": _eta(sm.eta_s) if sm.status == "running" else "—",
            "AI usage": _usage(sm.ai_usage), "Batch ID": sm.batch_id}


def start_form(svc, cfg) -> None:
    st.subheader("New batch")
    files = st.file_uploader("ZIP, CSV/XLSX manifest (sku_id, image_url), or photos", type=UPLOAD_TYPES,
                             accept_multiple_files=True)
    c1, c2, c3, c4 = st.columns(4)
    mode = c1.selectbox("Mode", [m.value for m in Mode], index=[m.value for m in Mode].index("AUTO"))
    target = c2.number_input("Target size KB (0 = none)", min_value=0, max_value=2000, value=0, step=10)
    fmt = c3.selectbox("Format", list(OUTPUT_FORMATS))
    profile = c4.selectbox("Profile", ["(none)"] + list(PROFILES))
    c5, c6, c7 = st.columns([2, 1, 1])
    name = c5.text_input("Batch name (default: the file name)")
    workers = c6.number_input("Workers", min_value=1, max_value=32, value=os.cpu_count() or 2,
                              disabled=bool(cfg.broker_url),
                              help="Photos in flight at once (with BROKER_URL the Celery workers decide)")
    force = c7.checkbox("Force re-enhance", help="enhance again even when the same photo was already done")
    has_key = bool(cfg.gemini_api_key)
    use_ai = st.checkbox("Gemini AI enhancement", value=has_key and cfg.ai_provider == "gemini",
                         disabled=not has_key,
                         help="Edits every photo with Gemini first; the local pipeline is the fallback. "
                              "Token usage is counted per batch." if has_key
                         else "Disabled: GEMINI_API_KEY is not set.")
    if not has_key:
        st.caption("Gemini AI enhancement is disabled: set GEMINI_API_KEY to enable.")
    if st.button("Start batch", type="primary", disabled=not files):
        try:
            opts = EnhanceOptions.parse(mode, int(target) or None, fmt, None if profile == "(none)" else profile,
                                        "gemini" if use_ai else ("local" if cfg.ai_provider == "gemini" else None),
                                        default_ai=cfg.ai_provider)
            source = stage_uploads([(f.name, f.getvalue()) for f in files], cfg.data_dir / "batches" / "uploads")
            default_name = files[0].name.rsplit(".", 1)[0] if len(files) == 1 else f"{len(files)} photos"
            started = submit(svc, cfg, source, options=opts, name=name.strip() or default_name,
                             workers=int(workers), force=force,
                             actor=current_actor())
        except (EnhancerError, ValueError) as exc:
            st.error(f"Could not start: {exc}")
            return
        ids = started["batch_ids"]
        st.session_state["bulk_batch"] = ids[0]
        where = "queued for the workers" if started["mode"] == "broker" else "running in a process of its own"
        st.success(f"Started {len(ids)} batch(es): {where}.")


@st.fragment(run_every=2)
def batches_panel(svc) -> None:
    from db import batch_repo as br
    from enhancer.batch.control import summarize

    restart_stalled(svc)
    with svc.session() as s:
        listing = [summarize(s, b, failures=0) for b in br.list_batches(s, limit=100)]
    if not listing:
        st.info("No batches yet. Upload a ZIP, a manifest or some photos above.")
        return
    st.subheader("Batches")
    st.dataframe(pd.DataFrame([batch_row(b) for b in listing]), hide_index=True, width="stretch")
    ids = [b.batch_id for b in listing]
    current = st.session_state.get("bulk_batch")
    pick = st.selectbox("Batch", ids, index=ids.index(current) if current in ids else 0,
                        format_func=lambda i: next(f"{b.name} · {b.status}" for b in listing if b.batch_id == i))
    st.session_state["bulk_batch"] = pick
    sm = summary(svc, pick, failures=5)
    st.progress(sm.done / sm.total if sm.total else 1.0, text=f"{sm.done}/{sm.total} · {sm.status}")
    m = st.columns(6)
    m[0].metric("Completed", sm.completed)
    m[1].metric("Failed", sm.failed)
    m[2].metric("Skipped / reused", sm.skipped)
    m[3].metric("Total", sm.total)
    m[4].metric("Images/min", f"{sm.images_per_minute:.0f}")
    m[5].metric("ETA", _eta(sm.eta_s) if sm.status == "running" else "—")
    for provider, use in sm.ai_usage.items():
        st.caption(f"AI usage ({provider}): " + " · ".join(f"{k.replace('_', ' ')} {v:,.0f}" for k, v in use.items()))
    if sm.stalled:
        st.warning("This batch's runner stopped (the process was killed, or no worker is running). It is "
                   "restarted automatically; Resume restarts it now. Photos already done are not processed "
                   "again.")
    controls(svc, sm)
    if sm.recent_failures:
        st.caption("Recent failures")
        st.dataframe(pd.DataFrame(sm.recent_failures), hide_index=True, width="stretch")


def restart_stalled(svc) -> None:
    """Restart batches whose runner died (at most every few seconds per session; one page wins each)."""
    now = time.monotonic()
    if now - st.session_state.get("bulk_stall_check", 0.0) < STALL_CHECK_S:
        return
    st.session_state["bulk_stall_check"] = now
    try:
        for bid in resume_stalled(svc, get_settings()):
            st.toast(f"Batch {bid[:8]} had stopped; restarted it.")
    except Exception as exc:  # never let the check break the page
        st.caption(f"Could not check for stopped batches: {exc}")


def controls(svc, sm) -> None:
    running = sm.status == "running" and not sm.stalled
    b = st.columns(4)
    action = None
    if b[0].button("Pause", disabled=sm.status not in ("queued", "running"), key="bulk_pause"):
        action = "pause"
    if b[1].button("Resume", disabled=sm.status not in ("paused", "queued", "running") or running,
                   key="bulk_resume"):
        action = "resume"
    if b[2].button("Cancel", disabled=sm.status in ("completed", "cancelled", "failed"), key="bulk_cancel"):
        action = "cancel"
    if b[3].button("Retry failed", disabled=sm.failed == 0 or running, key="bulk_retry"):
        action = "retry"
    if action:
        try:
            request(svc, sm.batch_id, action, actor=current_actor())
            if action in ("resume", "retry"):
                from enhancer.batch.control import family_ids

                start_batches(svc, get_settings(), family_ids(svc, sm.batch_id))
        except (BatchError, EnhancerError) as exc:
            st.error(str(exc))
    with st.popover("Delete batch", icon=":material/delete:", disabled=running):
        st.write("Deletes this batch (every part of its upload), its items and the images it made, with their "
                 "files. Images it only reused stay.")
        if st.checkbox("Yes, delete it", key=f"bulk_confirm_{sm.batch_id}") and \
                st.button("Delete for good", type="primary", key=f"bulk_delete_{sm.batch_id}"):
            try:
                gone = delete_batch(svc, sm.batch_id, actor=current_actor())
            except (EnhancerError, ValueError) as exc:
                st.error(str(exc))
            else:
                st.session_state.pop("bulk_batch", None)
                st.success(f"Deleted {gone.batches} batch part(s) and {gone.images} image(s).")


@st.fragment(run_every=5)
def results(svc) -> None:
    pick = st.session_state.get("bulk_batch")
    if not pick:
        return
    st.subheader("Results")
    data = export_rows(svc, pick)
    cols = ["position", "sku_id", "source", "status", "reused", "error", "enhanced_size_bytes", "quality_before",
            "quality_after", "duration_ms"]
    st.dataframe(pd.DataFrame(data[:RESULT_ROWS], columns=cols), hide_index=True, width="stretch")
    if len(data) > RESULT_ROWS:
        st.caption(f"First {RESULT_ROWS} of {len(data)} items; the exports have all of them.")
    c = st.columns(4)
    # Callables: the files are built when clicked, so they match the batch at that moment.
    for col, (fmt, mime) in zip(c, (("csv", "text/csv"), ("json", "application/json"),
                                    ("xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))):
        col.download_button(f"Export {fmt.upper()}", partial(export_batch, svc, pick, fmt),
                            file_name=f"batch_{pick[:8]}.{fmt}", mime=mime, key=f"bulk_export_{fmt}",
                            on_click="ignore")
    c[3].download_button("ZIP of enhanced files", partial(enhanced_zip, svc, pick),
                         file_name=f"batch_{pick[:8]}_enhanced.zip", mime="application/zip", key="bulk_zip",
                         on_click="ignore")


st.title("Bulk processing")
_svc, _cfg = get_service(), get_settings()
start_form(_svc, _cfg)
batches_panel(_svc)
results(_svc)
