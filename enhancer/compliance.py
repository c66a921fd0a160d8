"""Marketplace compliance: measure an image against a profile, rule by rule."""
from __future__ import annotations

import cv2
import numpy as np

from .imageio import decode
from .profiles import Profile, get_profile
from .types import ComplianceReport, RuleResult

WORK_SIDE = 800
BORDER = 0.02  # share of each side read as "the background"


def product_box(rgb: np.ndarray, alpha: np.ndarray | None = None) -> tuple[int, int, int, int] | None:
    """Bounding box (x0, y0, x1, y1) of the product, from alpha or the product matte.

    Without alpha, the box comes from the same matte background removal and
    standardize use (:func:`enhancer.steps.background.product_matte`); None
    when no product stands out. A canvas of one exact colour (what
    standardize makes) needs no matte: everything off that colour is the
    product. Specks are opened away first.
    """
    from .steps.background import product_matte  # the steps import this module

    h, w = rgb.shape[:2]
    f = min(1.0, WORK_SIDE / max(h, w))
    size = (max(1, round(w * f)), max(1, round(h * f)))
    if alpha is not None:
        a = cv2.resize(alpha, size, interpolation=cv2.INTER_AREA) if f < 1 else alpha
        mask = a > 127
    else:
        small = cv2.resize(rgb, size, interpolation=cv2.INTER_AREA) if f < 1 else rgb
        ring = small[_ring(small.shape[:2])]
        bg = np.median(ring, axis=0)
        if (np.abs(ring.astype(np.int16) - bg.astype(np.int16)).max(-1) <= 2).mean() >= 0.99:
            mask = np.abs(small.astype(np.int16) - bg.astype(np.int16)).max(-1) > 16
        else:
            alpha = product_matte(rgb)
            if alpha is None:
                return None
            a = cv2.resize(alpha, size, interpolation=cv2.INTER_AREA) if f < 1 else alpha
            mask = a > 127
    mask = cv2.morphologyEx(mask.astype(np.uint8), cv2.MORPH_OPEN, np.ones((3, 3), np.uint8))
    ys, xs = np.nonzero(mask)
    if len(ys) == 0:
        return None
    sx, sy = w / mask.shape[1], h / mask.shape[0]
    return (int(xs.min() * sx), int(ys.min() * sy), min(w, int(np.ceil((xs.max() + 1) * sx))),
            min(h, int(np.ceil((ys.max() + 1) * sy))))


def _ring(shape: tuple[int, int]) -> np.ndarray:
    h, w = shape
    r = max(1, int(round(BORDER * min(h, w))))
    ring = np.zeros((h, w), bool)
    ring[:r], ring[-r:], ring[:, :r], ring[:, -r:] = True, True, True, True
    return ring


def evaluate(rgb: np.ndarray, alpha: np.ndarray | None, profile: Profile | str, *,
             fmt: str | None = None, size_bytes: int | None = None) -> ComplianceReport:
    """Check an image (array, plus the encoded format/size when known) against a profile.

    JPEG output is judged as it will look: transparent pixels on white.
    """
    prof = get_profile(profile)
    if alpha is not None and alpha.min() >= 250:
        alpha = None  # an opaque alpha channel says nothing about where the product is
    h, w = rgb.shape[:2]
    rules: list[RuleResult] = []
    if prof.aspect:
        want = prof.aspect[0] / prof.aspect[1]
        rules.append(RuleResult("aspect ratio", abs(w / h - want) <= 0.01 * want,
                                f"{w}:{h} ({w / h:.3f})", f"{prof.aspect[0]}:{prof.aspect[1]} ({want:.3f})"))
    rules.append(RuleResult("minimum size", min(w, h) >= prof.min_side and max(w, h) >= prof.min_long,
                            f"{w}x{h}", f"shortest >= {prof.min_side}, longest >= {prof.min_long} px"))
    rules.append(RuleResult("maximum size", max(w, h) <= prof.max_long, f"{max(w, h)} px",
                            f"longest <= {prof.max_long} px"))
    rules.append(_background_rule(rgb, alpha, prof, fmt))
    box = product_box(rgb, alpha)
    if box is None:
        rules.append(RuleResult("product fill", False, "no product found",
                                f"{prof.fill[0]:.0%}-{prof.fill[1]:.0%} of the frame"))
    else:
        x0, y0, x1, y1 = box
        fill = max((x1 - x0) / w, (y1 - y0) / h)
        rules.append(RuleResult("product fill", prof.fill[0] - 0.01 <= fill <= prof.fill[1] + 0.01,
                                f"{fill:.1%}", f"{prof.fill[0]:.0%}-{prof.fill[1]:.0%} of the frame"))
        if prof.margin > 0:
            m = min(x0 / w, y0 / h, (w - x1) / w, (h - y1) / h)
            rules.append(RuleResult("margins", m >= prof.margin - 0.005, f"{m:.1%}",
                                    f">= {prof.margin:.0%} free on each side"))
    if prof.format and fmt:
        rules.append(RuleResult("format", fmt.upper() == prof.format, fmt.upper(), prof.format))
    if size_bytes is not None and (prof.min_kb or prof.max_kb):
        lo, hi = (prof.min_kb or 0) * 1024, (prof.max_kb or 10 ** 9) * 1024
        rules.append(RuleResult("file size", lo <= size_bytes <= hi, f"{size_bytes / 1024:.0f} KB",
                                f"{prof.min_kb or 0}-{prof.max_kb or '∞'} KB"))
    return ComplianceReport(profile=prof.name, rules=tuple(rules))


def _background_rule(rgb, alpha, prof: Profile, fmt: str | None) -> RuleResult:
    ring = _ring(rgb.shape[:2])
    px = rgb[ring].astype(np.float32)
    if alpha is not None:
        a = alpha[ring].astype(np.float32)[:, None] / 255.0
        if fmt and fmt.upper() != "JPEG" and (a < 0.5).mean() > 0.5:
            want = "pure white (255,255,255)" if prof.strict_background else "white or light"
            return RuleResult("background", False, "transparent", want)
        px = px * a + 255.0 * (1 - a)  # JPEG goes on white
    mean = px.mean(axis=0)
    if prof.strict_background:
        target = np.asarray(prof.background, np.float32)
        pure = float((np.abs(px - target).max(axis=1) <= 2).mean())
        return RuleResult("background", pure >= 0.98,
                          f"RGB({mean[0]:.0f},{mean[1]:.0f},{mean[2]:.0f}), {pure:.0%} exact",
                          f"pure RGB{prof.background} on >= 98% of the border")
    luma = float(mean @ np.array([0.299, 0.587, 0.114], np.float32))
    chroma = float((px.max(axis=1) - px.min(axis=1)).mean())
    return RuleResult("background", luma >= 235 and chroma <= 12,
                      f"RGB({mean[0]:.0f},{mean[1]:.0f},{mean[2]:.0f})", "white or light (luma >= 235, neutral)")


def check_compliance(data_or_array, profile: str | Profile, *, max_pixels: int = 60_000_000) -> ComplianceReport:
    """Check an image against a marketplace profile, rule by rule.

    Parameters
    ----------
    data_or_array : bytes or ndarray
        Encoded image bytes (format and file size are then checked too), or an
        (H, W, 3) RGB / (H, W, 4) RGBA uint8 array.
    profile : str or Profile
        A name from :data:`enhancer.PROFILES` (``"amazon"``, ``"myntra"``...).
    max_pixels : int
        Decompression-bomb limit for bytes input.

    Returns
    -------
    ComplianceReport
        Every rule with pass/fail, measured and expected values.

    Raises
    ------
    ValueError
        For an unknown profile or an array that is not (H, W, 3|4) uint8.
    InvalidImageError
        For bytes that are not a usable image.
    """
    prof = get_profile(profile)
    if isinstance(data_or_array, (bytes, bytearray, memoryview)):
        dec = decode(bytes(data_or_array), max_pixels=max_pixels)
        return evaluate(dec.rgb, dec.alpha, prof, fmt=dec.format, size_bytes=len(data_or_array))
    arr = np.asarray(data_or_array)
    if arr.dtype != np.uint8 or arr.ndim != 3 or arr.shape[2] not in (3, 4):
        raise ValueError(f"expected an (H, W, 3) or (H, W, 4) uint8 array, got {arr.shape} {arr.dtype}; "
                         "pass encoded bytes or np.asarray(pil_image.convert('RGB'))")
    alpha = arr[..., 3] if arr.shape[2] == 4 else None
    return evaluate(np.ascontiguousarray(arr[..., :3]), alpha, prof)
