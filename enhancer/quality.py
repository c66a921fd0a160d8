"""Quality assessment (first version; the enhancement-library work refines it)."""
from __future__ import annotations

import cv2
import numpy as np

from .imageio import Decoded, decode
from .types import QualityReport


def assess(data: bytes, *, max_pixels: int | None = None) -> QualityReport:
    """Score a photo's quality from its bytes.

    Raises
    ------
    InvalidImageError
        If the bytes are not a usable image.
    """
    dec = decode(data) if max_pixels is None else decode(data, max_pixels=max_pixels)
    return assess_decoded(dec, size_bytes=len(data))


def assess_decoded(dec: Decoded, *, size_bytes: int) -> QualityReport:
    rgb = dec.rgb
    gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    scale = 1024 / max(gray.shape)
    if scale < 1:
        gray = cv2.resize(gray, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    lap = cv2.Laplacian(gray, cv2.CV_32F)
    blur = float(np.clip(lap.var() / 5.0, 0, 100))
    brightness = float(gray.mean())
    contrast = float(gray.std())
    noise = float(np.median(np.abs(lap)) / 0.6745 / 2.0)
    hi = float((gray >= 250).mean() * 100)
    lo = float((gray <= 5).mean() * 100)
    warnings = []
    if blur < 20:
        warnings.append("The photo looks blurry.")
    if brightness < 70:
        warnings.append("The photo is underexposed (too dark).")
    if brightness > 200:
        warnings.append("The photo is overexposed (too bright).")
    if contrast < 30:
        warnings.append("The photo has low contrast.")
    score = float(np.clip(0.4 * blur + 0.3 * min(contrast / 60 * 100, 100)
                          + 0.3 * (100 - abs(brightness - 128) / 1.28), 0, 100))
    return QualityReport(width=dec.width, height=dec.height, format=dec.format, size_bytes=size_bytes,
                         blur_score=round(blur, 2), brightness=round(brightness, 2),
                         contrast=round(contrast, 2), noise=round(noise, 3),
                         clipped_highlights=round(hi, 3), clipped_shadows=round(lo, 3),
                         quality_score=round(score, 2), warnings=tuple(warnings))
