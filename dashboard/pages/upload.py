"""Upload & Enhance: many photos at once, one service call per photo, results kept in session state."""
from __future__ import annotations

import mimetypes

import pandas as pd
import streamlit as st

from dashboard import state
from dashboard.components import compliance, downscale, esc, fmt, mode_label, quality_metrics, wipe
from enhancer import (INPUT_EXTENSIONS, MAX_TARGET_KB, MIN_TARGET_KB, OUTPUT_FORMATS, PROFILED_MODES, PROFILES,
                      EnhanceOptions, EnhancerError, Mode, sku_from_filename, upload)

RESULTS = "upload_results"

st.title("Upload & Enhance")
cfg = state.settings()
svc = state.service()

files = st.file_uploader("Product photos", accept_multiple_files=True,
                         type=list(INPUT_EXTENSIONS),
                         help=f"Up to {cfg.max_upload_mb} MB each. Drop many at once. A photo for a SKU that "
                              "exists is added to that product.")

skus: dict[int, str] = {}
if files:
    st.caption("SKU per file (defaults to the file name; edit as needed)")
    table = pd.DataFrame({"File": [f.name for f in files], "SKU": [sku_from_filename(f.name) for f in files]})
    edited = st.data_editor(table, hide_index=True, width="stretch", disabled=["File"], key="sku_editor",
                            column_config={"SKU": st.column_config.TextColumn(max_chars=128)})
    skus = {i: str(v).strip() for i, v in enumerate(edited["SKU"]) if v is not None}

c1, c2, c3 = st.columns(3)
mode = c1.selectbox("Mode", [m.value for m in Mode], format_func=mode_label)
target = c2.number_input("Target size (KB)", min_value=MIN_TARGET_KB, max_value=MAX_TARGET_KB, value=500,
                         step=50)
out_fmt = c3.selectbox("Format", list(OUTPUT_FORMATS))
c4, c5, c6 = st.columns(3)
needs_profile = Mode(mode) in PROFILED_MODES
profile = c4.selectbox("Marketplace profile", list(PROFILES), index=list(PROFILES).index("generic"),
                       disabled=not needs_profile,
                       help=None if needs_profile else "Used by the Standardize and Full modes.")
has_key = bool(cfg.gemini_api_key)
use_ai = c5.checkbox("Gemini AI enhancement", value=has_key and cfg.ai_provider == "gemini",
                     disabled=not has_key,
                     help="Edits with Gemini first; falls back to the local pipeline on failure." if has_key
                     else "Disabled: GEMINI_API_KEY is not set.")
if not has_key:
    c5.caption("Disabled: set GEMINI_API_KEY to enable.")
elif cfg.ai_provider == "bedrock":
    c5.caption("Unticked uses the configured provider (AI_PROVIDER=bedrock).")
variants = c6.number_input("Variants", min_value=1, max_value=max(1, cfg.enhanced_images_count), value=1,
                           help="More than one creates alternatives to pick from on the Review page.")

too_many = len(files or []) > cfg.max_batch_size
if too_many:
    st.error(f"{len(files)} files selected; at most {cfg.max_batch_size} per run (MAX_BATCH_SIZE).")
go = st.button("Enhance", type="primary", disabled=not files or too_many)


def _options() -> EnhanceOptions:
    # the checkbox decides; unticked means local unless Bedrock is the configured default
    ai = "gemini" if use_ai else (None if cfg.ai_provider == "bedrock" else "local")
    return EnhanceOptions.parse(mode, int(target), out_fmt, profile if needs_profile else None, ai,
                                int(variants), default_ai=cfg.ai_provider)


def _call(f, sku: str | None, opts: EnhanceOptions) -> dict:
    data = f.getvalue()
    try:
        res = upload(svc, data, f.name, opts, sku_id=sku or None, actor=state.actor())
    except (EnhancerError, ValueError) as exc:
        return {"filename": f.name, "error": str(exc)}
    if not res.success:
        return {"filename": f.name, "error": res.error or "Enhancement failed", "result": res}
    return {"filename": f.name, "result": res, "before": downscale(data),
            "after": state.preview(res.enhanced_key)}


if go and files:
    results = []
    try:
        opts = _options()
    except ValueError as exc:
        st.error(esc(str(exc)))
        st.stop()
    with st.sidebar:
        bar = st.progress(0.0, text="Starting…")
        with st.status(f"Enhancing {len(files)} file(s)…", expanded=True) as status:
            for i, f in enumerate(files):
                item = _call(f, skus.get(i), opts)
                results.append(item)
                st.write(("✗ " if "error" in item else "✓ ") + esc(f.name))
                bar.progress((i + 1) / len(files), text=f"{i + 1}/{len(files)} done")
            bad = sum("error" in r for r in results)
            status.update(label=f"Done: {len(results) - bad} enhanced, {bad} failed",
                          state="error" if bad == len(results) else "complete", expanded=False)
    st.session_state[RESULTS] = results
    state.clear_data()


@st.fragment  # moving one compare slider reruns only that card
def _render(n: int, item: dict) -> None:
    res = item.get("result")
    if "error" in item:
        msg = item["error"]
        if not msg.startswith(item["filename"]):  # service errors usually name the file already
            msg = f"{item['filename']}: {msg}"
        st.error(esc(msg), icon="⚠️")
        return
    with st.container(border=True):
        st.subheader(esc(f"{res.filename} → {res.sku_id}"))
        left, right, comp = st.columns(3)
        left.image(item["before"], caption=f"Original {res.original_width}×{res.original_height}",
                   width="stretch")
        right.image(item["after"] or item["before"], width="stretch",
                    caption=f"Enhanced {res.width}×{res.height} {res.format}")
        with comp:
            pos = st.slider("Before ← compare → after", 0, 100, 50, key=f"wipe_{n}_{res.database_id}",
                            help="Left of the line: original; right: enhanced.", label_visibility="collapsed")
            if item["after"]:
                st.image(wipe(item["before"], item["after"], pos), width="stretch",
                         caption="Compare: drag the slider to wipe original ← → enhanced")
        quality_metrics(res.quality_before, res.quality_after, res.blur_before, res.blur_after,
                        res.original_size_kb, res.enhanced_size_kb, res.size_reduction_percent,
                        res.processing_time_ms, format_before=res.original_format, format_after=res.format,
                        dims_before=(res.original_width, res.original_height), dims_after=(res.width, res.height))
        st.caption(
            f"Mode {esc(mode_label(res.enhancement_mode))} · provider {esc(getattr(res, 'provider', 'local'))}"
            + (" (AI failed, local fallback)" if getattr(res, "fell_back", False) else "")
            + f" · steps: {esc(', '.join(res.steps) or 'none')}"
            + f" · encode quality {fmt(res.encode_quality)}"
            + (" · target met" if res.target_met else " · target not met (best effort)")
            + (f" · {len(res.variants)} more variant(s) on the Review page" if res.variants else "")
            + (" · reused the earlier result for the same photo and options" if res.reused else "")
            + f" · product {esc(res.sku_id)}, image {res.position}"
            + (" · waiting for review" if res.review_status == "pending_review" else
               " · approved automatically (nothing to choose)" if res.review_status == "approved" else ""))
        if res.fixed:
            st.success("Fixed: " + esc("; ".join(res.fixed)), icon=":material/auto_fix_high:")
        for note in res.notes:
            st.info(esc(note))
        for w in res.warnings:
            st.warning(esc(w))
        compliance(res.compliance)
        d1, d2 = st.columns(2)
        d1.download_button(f"Download enhanced {esc(res.filename)}", data=lambda k=res.enhanced_key: svc.storage.get(k),
                           file_name=res.download_name, mime=res.mime_type,
                           key=f"dl_enh_{n}_{res.database_id}",
                           on_click="ignore", type="primary", width="stretch")
        d2.download_button(f"Download original {esc(res.filename)}", data=lambda k=res.original_key: svc.storage.get(k),
                           file_name=res.filename,
                           mime=mimetypes.guess_type(res.filename)[0] or "application/octet-stream",
                           key=f"dl_orig_{n}_{res.database_id}", on_click="ignore", width="stretch")


results = st.session_state.get(RESULTS) or []
if results:
    ok = sum("error" not in r for r in results)
    st.divider()
    st.markdown(f"**Results:** {ok} enhanced, {len(results) - ok} failed")
    for n, item in enumerate(results):
        _render(n, item)
elif not files:
    st.info("Choose one or more product photos, pick a mode and press **Enhance**.")
