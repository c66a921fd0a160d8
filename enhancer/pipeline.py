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
from .compliance import evaluate
from .context import Context, Options
from .fit import fit_to_size, keep_stream
from .imageio import DEFAULT_MAX_PIXELS, Decoded, decode, jpeg_without_metadata, thumbnail_from_array
from .modes import MODES
from .profiles import get_profile
from .quality import analysis_copy, assess_decoded
from .types import OUTPUT_FORMATS, EnhancementResult, Mode

MIN_TARGET_KB, MAX_TARGET_KB = 1, 50_000
# Modes that place the product on a marketplace canvas use a profile even when none is given.
PROFILED_MODES = (Mode.STANDARDIZE, Mode.FULL)
DEFAULT_PROFILE = "generic"
# The "after" report is measured while the encoder runs: both release the GIL,
# so on two cores the report costs no wall time.
_REPORTS = ThreadPoolExecutor(max_workers=4, thread_name_prefix="pixel-lab-report")


def enhance(data: bytes, mode: str | Mode = "AUTO", *, target_size_kb: int | None = None,
            output_format: str = "JPEG", profile: str | None = None,
            upscale_target: int = 2000, max_pixels: int = DEFAULT_MAX_PIXELS,
            thumbnail_px: int | None = None) -> EnhancementResult:
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
    untuned, a 12 MP photo's buffers are fresh pages every time.
    """
    keep_freed_memory()
    t0 = time.perf_counter()
    mode = Mode.parse(mode)
    fmt = str(output_format).strip().upper()
    fmt = "JPEG" if fmt == "JPG" else fmt
    if fmt not in OUTPUT_FORMATS:
        raise ValueError(f"unknown output format {output_format!r}; use one of {', '.join(OUTPUT_FORMATS)}")
    if target_size_kb is not None and not (MIN_TARGET_KB <= int(target_size_kb) <= MAX_TARGET_KB):
        raise ValueError(f"target_size_kb must be between {MIN_TARGET_KB} and {MAX_TARGET_KB} "
                         f"(KB = 1024 bytes), got {target_size_kb}; pass None for no size limit")
    if not isinstance(upscale_target, int) or not 64 <= upscale_target <= 10_000:
        raise ValueError(f"upscale_target must be an int between 64 and 10000 pixels, got {upscale_target!r}")
    prof = get_profile(profile) if profile else None
    if prof is None and mode in PROFILED_MODES:
        prof = get_profile(DEFAULT_PROFILE)

    dec = decode(data, max_pixels=max_pixels)
    small = analysis_copy(dec.rgb)  # shared by the report and, when no step changes the pixels, the thumbnail
    before = assess_decoded(dec, size_bytes=len(data), small=small)
    ctx = Context(report=before, alpha=dec.alpha,
                  options=Options(target_size_kb=target_size_kb, output_format=fmt,
                                  profile=prof.name if prof else None, upscale_target=upscale_target))
    ctx.notes.extend(dec.notes)
    img, applied = dec.rgb, []
    decode_notes = len(ctx.notes)
    for step in MODES[mode]:
        out = step(img, ctx)
        if out is not img:
            applied.append(step.__name__)
            img = out

    target, floor = _byte_window(target_size_kb, prof)
    cap_only = target is None and mode is Mode.OPTIMIZE and dec.format == fmt
    if cap_only:
        target = len(data)  # optimising must never make the file bigger than the upload
    # No step changed the pixels: the after-report is the before-report (same array).
    unchanged = not applied and img is dec.rgb and ctx.alpha is dec.alpha
    pending = None if unchanged else _REPORTS.submit(assess_decoded, Decoded(img, ctx.alpha, fmt), size_bytes=0)
    fitted = None
    if unchanged and dec.verbatim and fmt == "JPEG" and mode is not Mode.OPTIMIZE:
        # nothing to fix: the upload's own JPEG data, metadata removed, beats any re-encode
        stream = jpeg_without_metadata(data)
        fitted = keep_stream(stream, dec.width, dec.height, target_bytes=target,
                             floor_bytes=floor) if stream else None
        if fitted is not None and len(ctx.notes) == decode_notes:  # a step that declined has said why
            ctx.notes.append("Nothing needed fixing: the upload's JPEG data was kept as it is "
                             "(metadata removed), so it is not compressed a second time.")
    if fitted is None:
        fitted = fit_to_size(img, ctx.alpha, fmt=fmt, target_bytes=target, floor_bytes=floor,
                             cap_only=cap_only)
    resized = (fitted.width, fitted.height) != (img.shape[1], img.shape[0])
    if resized:
        ctx.notes.append(f"Downscaled to {fitted.width}x{fitted.height} to fit {target / 1024:.0f} KB.")
        img = cv2.resize(img, (fitted.width, fitted.height), interpolation=cv2.INTER_AREA)
        if ctx.alpha is not None:
            ctx.alpha = cv2.resize(ctx.alpha, (fitted.width, fitted.height), interpolation=cv2.INTER_AREA)
    if not fitted.target_met:
        ctx.notes.append(f"Could not reach {target / 1024:.0f} KB even at a small size; "
                         "this is the smallest result. Raise target_size_kb.")
    if floor and not fitted.floor_met:
        ctx.notes.append(f"The {prof.name} minimum of {prof.min_kb} KB was not reached: "
                         "the image has too little detail for that file size.")
    # the "after" report comes from the array in hand (plus the real encoded size):
    # decoding our own output again would cost a second full decode
    if resized:
        after = assess_decoded(Decoded(img, ctx.alpha, fmt), size_bytes=len(fitted.data))
    elif unchanged:
        after = replace(before, format=fmt, size_bytes=len(fitted.data))
    else:
        after = replace(pending.result(), size_bytes=len(fitted.data))
    thumb = None
    if thumbnail_px:
        reuse = unchanged and not resized and ctx.alpha is None and max(small.shape[:2]) >= thumbnail_px
        src = small if reuse else img
        thumb = thumbnail_from_array(src, ctx.alpha, max_side=thumbnail_px)
    compliance = ctx.compliance
    if prof is not None:
        compliance = evaluate(img, ctx.alpha, prof, fmt=fmt, size_bytes=len(fitted.data))
    return EnhancementResult(
        data=fitted.data, width=fitted.width, height=fitted.height, format=fmt,
        size_bytes=len(fitted.data), mode=mode, steps=tuple(applied),
        quality_before=before, quality_after=after,
        processing_time_ms=round((time.perf_counter() - t0) * 1000, 1),
        encode_quality=fitted.quality, compliance=compliance,
        target_met=fitted.target_met, notes=tuple(ctx.notes), thumbnail=thumb)


def _byte_window(target_size_kb: int | None, prof) -> tuple[int | None, int | None]:
    """(ceiling, floor) in bytes: the caller's target wins; else the profile's window."""
    floor = prof.min_kb * 1024 if prof and prof.min_kb else None
    if target_size_kb is not None:
        return int(target_size_kb) * 1024, floor
    if prof and prof.max_kb:
        return prof.max_kb * 1024, floor
    return None, floor
