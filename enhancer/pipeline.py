"""``enhance``: decode once, run the mode's steps, fit to size, report.

Costs on a 12 MP photo are dominated by one decode and one (or a few) JPEG
encodes, so the pipeline never decodes twice: the "after" quality report is
computed from the array already in memory plus the encoded size, not by
decoding the output again.
"""
from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

import cv2

from ._alloc import keep_freed_memory
from ._threads import one_blas_thread
from .compliance import evaluate, softness
from .context import Context, Options
from . import outcome
from .fit import Fitted, fit_to_size, keep_stream
from .imageio import DEFAULT_MAX_PIXELS, Decoded, decode, jpeg_without_metadata, thumbnail_from_array
from .formats import normalize_output
from .modes import MODES
from .profiles import get_profile
from .quality import ANALYSIS_SIDE, analysis_copy, assess_decoded, with_warnings
from .steps.background import NO_PRODUCT, already_cut
from .types import DEFAULT_PROFILE, PROFILED_MODES, EnhancementResult, Mode

# The library's own bounds (what one encode can sensibly aim at); a request's budget is narrower,
# enhancer.options.MIN_TARGET_KB..MAX_TARGET_KB.
MIN_TARGET_KB, MAX_TARGET_KB = 1, 50_000
# The "after" report is measured while the encoder runs: both release the GIL,
# so on two cores the report costs no wall time.
_REPORTS = ThreadPoolExecutor(max_workers=4, thread_name_prefix="pixel-lab-report")


def enhance(data: bytes, mode: str | Mode = "AUTO", *, target_size_kb: int | None = None,
            output_format: str = "JPEG", profile: str | None = None,
            upscale_target: int = 2000, max_pixels: int = DEFAULT_MAX_PIXELS,
            thumbnail_px: int | None = None, decoded: Decoded | None = None) -> EnhancementResult:
    """Enhance a photo in the given mode and encode it within ``target_size_kb``.

    Parameters
    ----------
    data : bytes
        The photo as uploaded (JPEG, PNG, WEBP, TIFF, BMP, GIF, AVIF, HEIC).
    mode : str or Mode
        One of :class:`Mode`, any case.
    target_size_kb : int, optional
        Byte budget (KB = 1024 bytes). The result never exceeds it. Without
        it, a profile's byte ceiling is used when the profile has one.
    output_format : {"JPEG", "PNG", "WEBP"}
        PNG and WEBP keep transparency (BACKGROUND_REMOVE); JPEG puts it on white.
    profile : str, optional
        Marketplace profile name (see :data:`enhancer.PROFILES`). STANDARDIZE
        and FULL use ``"generic"`` when none is given.
    upscale_target : int
        Longest side UPSCALE aims at.
    max_pixels : int
        Refuse larger images before decoding them (decompression bombs).
    thumbnail_px : int, optional
        Also return a JPEG thumbnail of the result with this longest side,
        made from the pixels in hand (cheaper than decoding the result).
    decoded : Decoded, optional
        ``data`` already decoded by :func:`enhancer.imageio.decode` (several
        modes of one photo decode it once); its arrays are only read.

    Returns
    -------
    EnhancementResult
        Bytes, size, quality reports before/after, steps applied, encode
        quality, compliance (when a profile applies) and ``target_met``.

    Raises
    ------
    InvalidImageError
        If ``data`` is not a usable image.
    ValueError
        For an unknown mode, format or profile, or an out-of-range target.

    Notes
    -----
    With glibc, the first call tunes the process's allocator to keep the
    memory a photo freed for the next one (:func:`enhancer._alloc.keep_freed_memory`):
    untuned, a 12 MP photo's buffers are fresh pages every time. It also
    keeps numpy's BLAS on one thread (:func:`enhancer._threads.one_blas_thread`).
    """
    keep_freed_memory()
    one_blas_thread()
    t0 = time.perf_counter()
    mode = Mode.parse(mode)
    fmt = normalize_output(output_format)
    if target_size_kb is not None and not (MIN_TARGET_KB <= int(target_size_kb) <= MAX_TARGET_KB):
        raise ValueError(f"target_size_kb must be between {MIN_TARGET_KB} and {MAX_TARGET_KB} "
                         f"(KB = 1024 bytes), got {target_size_kb}; pass None for no size limit")
    if not isinstance(upscale_target, int) or not 64 <= upscale_target <= 10_000:
        raise ValueError(f"upscale_target must be an int between 64 and 10000 pixels, got {upscale_target!r}")
    prof = get_profile(profile) if profile else None
    if prof is None and mode in PROFILED_MODES:
        prof = get_profile(DEFAULT_PROFILE)

    dec = decoded if decoded is not None else decode(data, max_pixels=max_pixels)
    small = analysis_copy(dec.rgb)  # shared by the report and, when no step changes the pixels, the thumbnail
    before = assess_decoded(dec, size_bytes=len(data), small=small)
    ctx = Context(report=before, alpha=dec.alpha,
                  options=Options(target_size_kb=target_size_kb, output_format=fmt,
                                  profile=prof.name if prof else None, upscale_target=upscale_target))
    ctx.provenance.source_size = (dec.width, dec.height)
    if prof is not None:  # only compliance reads it
        ctx.provenance.softness = softness(dec.rgb)
    ctx.notes.extend(dec.notes)
    tried = tuple(step.__name__ for step in MODES[mode])
    img, applied = dec.rgb, []
    width, height = dec.width, dec.height
    decode_notes = len(ctx.notes)
    for step in MODES[mode]:
        out = step(img, ctx)
        if out is not img:
            applied.append(step.__name__)
            img = out
            if decoded is None:  # ours alone: let the decoded pixels go (a 12 MP array less for the next steps)
                dec.rgb = img
    if not applied:
        note = outcome.nothing_done(mode.value, tried, before, ctx.options, cut_out=already_cut(dec.alpha))
        if note and not any(n.startswith("The photo is blurred by motion") for n in ctx.notes):
            # the generic note says it in the mode's words; the step's own note would repeat it
            ctx.notes[:] = [n for n in ctx.notes if n != NO_PRODUCT]
            ctx.notes.append(note)

    upload_fmt = "JPEG" if dec.format == "MPO" else dec.format
    target, floor = _byte_window(target_size_kb, prof)
    cap_only = mode is Mode.OPTIMIZE and upload_fmt == fmt and (target is None or target >= len(data))
    if cap_only:
        target = len(data)  # optimising must never make the file bigger than the upload
    # No step changed the pixels: the after-report is the before-report (same array).
    unchanged = not applied and img is dec.rgb and ctx.alpha is dec.alpha
    pending = None if unchanged else _REPORTS.submit(
        assess_decoded, Decoded(img, ctx.alpha, fmt), size_bytes=0,
        sharpness_side=_sharpness_side(before, img, ctx), tried=tried)
    fitted = None
    stream = jpeg_without_metadata(data) if unchanged and dec.verbatim and fmt == "JPEG" else None
    if stream is not None and mode is not Mode.OPTIMIZE:
        # nothing to fix: the upload's own JPEG data, metadata removed, beats any re-encode
        fitted = keep_stream(stream, width, height, target_bytes=target, floor_bytes=floor)
        if fitted is not None and len(ctx.notes) == decode_notes:  # a step that declined has said why
            ctx.notes.append("Nothing needed fixing: the upload's JPEG data was kept as it is "
                             "(metadata removed), so it is not compressed a second time.")
    if fitted is None:
        fitted = fit_to_size(img, ctx.alpha, fmt=fmt, target_bytes=target, floor_bytes=floor,
                             cap_only=cap_only)
    if cap_only and unchanged and (fitted.scaled < 1 or len(fitted.data) >= len(data)):
        # a re-encode only pays when it is smaller at full size; else keep the upload's own data
        kept = keep_stream(stream, width, height, target_bytes=len(data)) if stream else None
        fitted = kept or Fitted(data, width, height, fmt, None, True, 0)
        ctx.notes.append("The upload is already compressed as far as it goes without visible loss or "
                         "downscaling: its own data was kept" + (" (metadata removed)." if kept else "."))
    resized = (fitted.width, fitted.height) != (img.shape[1], img.shape[0])
    if resized:
        if target is not None and fitted.width < img.shape[1]:
            ctx.notes.append(outcome.downscale_note(
                before=(img.shape[1], img.shape[0]), after=(fitted.width, fitted.height), target_bytes=target,
                result_bytes=len(fitted.data), scaled=fitted.width / img.shape[1]))
        ctx.provenance.resized(fitted.width / img.shape[1])
        img = cv2.resize(img, (fitted.width, fitted.height), interpolation=cv2.INTER_AREA)
        if ctx.alpha is not None:
            ctx.alpha = cv2.resize(ctx.alpha, (fitted.width, fitted.height), interpolation=cv2.INTER_AREA)
    if not fitted.target_met:
        ctx.notes.append(f"Could not reach {target / 1024:.0f} KB even at a small size; "
                         "this is the smallest result. Raise target_size_kb.")
    if floor and not fitted.floor_met:
        ctx.notes.append(f"The {prof.name} minimum of {prof.min_kb} KB was not reached: "
                         "the image has too little detail for that file size.")
    ctx.notes.extend(outcome.size_notes(
        upload_bytes=len(data), upload_format=upload_fmt, upload_size=(width, height),
        result_bytes=len(fitted.data), result_format=fmt, result_size=(fitted.width, fitted.height)))
    # the "after" report comes from the array in hand (plus the real encoded size):
    # decoding our own output again would cost a second full decode
    if resized:
        after = assess_decoded(Decoded(img, ctx.alpha, fmt), size_bytes=len(fitted.data),
                               sharpness_side=_sharpness_side(before, img, ctx), tried=tried)
    elif unchanged:
        after = with_warnings(replace(before, format=fmt, size_bytes=len(fitted.data)), tried)
    else:
        after = replace(pending.result(), size_bytes=len(fitted.data))
    need = -(-prof.min_long // prof.max_upscale) if prof and prof.min_long else 500
    blown_up = outcome.magnified(ctx.provenance, max(img.shape[:2]), need=int(need))
    if blown_up:
        after = replace(after, warnings=after.warnings + (blown_up,))
    thumb = None
    if thumbnail_px:
        reuse = unchanged and not resized and ctx.alpha is None and max(small.shape[:2]) >= thumbnail_px
        src = small if reuse else img
        thumb = thumbnail_from_array(src, ctx.alpha, max_side=thumbnail_px)
    compliance = ctx.compliance
    if prof is not None:
        compliance = evaluate(img, ctx.alpha, prof, fmt=fmt, size_bytes=len(fitted.data),
                              provenance=ctx.provenance)
    transparent = ctx.alpha is not None and fmt != "JPEG" and bool((ctx.alpha < 250).any())
    done = outcome.fixed(before, after, applied, ctx.provenance,
                         canvas=prof.canvas if prof and "standardize" in applied else None,
                         transparent=transparent)
    return EnhancementResult(
        data=fitted.data, width=fitted.width, height=fitted.height, format=fmt,
        size_bytes=len(fitted.data), mode=mode, steps=tuple(applied),
        quality_before=before, quality_after=after,
        processing_time_ms=round((time.perf_counter() - t0) * 1000, 1),
        encode_quality=fitted.quality, compliance=compliance,
        target_met=fitted.target_met, notes=tuple(ctx.notes), thumbnail=thumb, fixed=done)


def _sharpness_side(before, img, ctx: Context) -> int:
    """Side at which the result's product is as large as in the upload's analysis copy.

    The blur score is measured on a copy normalised to ANALYSIS_SIDE; a
    product magnified onto a canvas would otherwise score blurrier only
    because it is drawn larger (and one shrunk, sharper).
    """
    f_before = min(1.0, ANALYSIS_SIDE / max(before.width, before.height))
    return max(32, round(max(img.shape[:2]) * f_before / max(ctx.provenance.scale, 1e-3)))


def _byte_window(target_size_kb: int | None, prof) -> tuple[int | None, int | None]:
    """(ceiling, floor) in bytes: the caller's target wins; else the profile's window."""
    floor = prof.min_kb * 1024 if prof and prof.min_kb else None
    if target_size_kb is not None:
        return int(target_size_kb) * 1024, floor
    if prof and prof.max_kb:
        return prof.max_kb * 1024, floor
    return None, floor
