"""``enhance``: decode, run the mode's steps, fit to size, assess the result."""
from __future__ import annotations

import time

from .context import Context, Options
from .fit import fit_to_size
from .imageio import DEFAULT_MAX_PIXELS, decode
from .modes import MODES
from .profiles import get_profile
from .quality import assess_decoded
from .types import OUTPUT_FORMATS, EnhancementResult, Mode
from .imageio import Decoded

MIN_TARGET_KB, MAX_TARGET_KB = 1, 50_000


def enhance(data: bytes, mode: str | Mode = "AUTO", *, target_size_kb: int | None = None,
            output_format: str = "JPEG", profile: str | None = None,
            upscale_target: int = 2000, max_pixels: int = DEFAULT_MAX_PIXELS) -> EnhancementResult:
    """Enhance a photo in the given mode and encode it within ``target_size_kb``.

    Parameters
    ----------
    data : bytes
        The photo as uploaded.
    mode : str or Mode
        One of :class:`Mode`, any case.
    target_size_kb : int, optional
        Byte budget (KB = 1024 bytes). The result never exceeds it.
    output_format : {"JPEG", "PNG", "WEBP"}
    profile : str, optional
        Marketplace profile name (see :data:`enhancer.PROFILES`).

    Returns
    -------
    EnhancementResult

    Raises
    ------
    InvalidImageError
        If ``data`` is not a usable image.
    ValueError
        For an unknown mode, format or profile, or an out-of-range target.
    """
    t0 = time.perf_counter()
    mode = Mode.parse(mode)
    fmt = str(output_format).strip().upper()
    fmt = "JPEG" if fmt == "JPG" else fmt
    if fmt not in OUTPUT_FORMATS:
        raise ValueError(f"unknown output format {output_format!r}; use one of {', '.join(OUTPUT_FORMATS)}")
    if target_size_kb is not None and not (MIN_TARGET_KB <= int(target_size_kb) <= MAX_TARGET_KB):
        raise ValueError(f"target_size_kb must be between {MIN_TARGET_KB} and {MAX_TARGET_KB}, got {target_size_kb}")
    prof = get_profile(profile) if profile else None

    dec = decode(data, max_pixels=max_pixels)
    before = assess_decoded(dec, size_bytes=len(data))
    ctx = Context(report=before, alpha=dec.alpha,
                  options=Options(target_size_kb=target_size_kb, output_format=fmt,
                                  profile=prof.name if prof else None, upscale_target=upscale_target))
    img, applied = dec.rgb, []
    for step in MODES[mode]:
        out = step(img, ctx)
        if out is not img:
            applied.append(step.__name__)
            img = out
    floor = prof.min_kb * 1024 if prof and prof.min_kb else None
    fitted = fit_to_size(img, ctx.alpha, fmt=fmt,
                         target_bytes=int(target_size_kb) * 1024 if target_size_kb else None,
                         floor_bytes=floor)
    after = assess_decoded(Decoded(decode(fitted.data).rgb, None, fmt), size_bytes=len(fitted.data))
    return EnhancementResult(
        data=fitted.data, width=fitted.width, height=fitted.height, format=fmt,
        size_bytes=len(fitted.data), mode=mode, steps=tuple(applied),
        quality_before=before, quality_after=after,
        processing_time_ms=round((time.perf_counter() - t0) * 1000, 1),
        encode_quality=fitted.quality, compliance=ctx.compliance,
        target_met=fitted.target_met, notes=tuple(ctx.notes))
