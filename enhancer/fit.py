"""Size targeting: the last step of every mode (first version: bisection)."""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from .imageio import encode


@dataclass(frozen=True)
class Fitted:
    data: bytes
    width: int
    height: int
    format: str
    quality: int | None
    target_met: bool


def fit_to_size(rgb: np.ndarray, alpha: np.ndarray | None, *, fmt: str,
                target_bytes: int | None, floor_bytes: int | None = None) -> Fitted:
    """Encode as large as fits ``target_bytes``; best effort, never raises for a target."""
    lossy = fmt in ("JPEG", "WEBP")
    if target_bytes is None:
        q = 92 if lossy else None
        data = encode(rgb, alpha, fmt=fmt, quality=q or 0)
        return Fitted(data, rgb.shape[1], rgb.shape[0], fmt, q, True)
    while True:
        if lossy:
            lo, hi, best = 10, 95, None
            while lo <= hi:
                q = (lo + hi) // 2
                data = encode(rgb, alpha, fmt=fmt, quality=q)
                if len(data) <= target_bytes:
                    best, lo = (data, q), q + 1
                else:
                    hi = q - 1
            if best:
                return Fitted(best[0], rgb.shape[1], rgb.shape[0], fmt, best[1], True)
        else:
            data = encode(rgb, alpha, fmt=fmt)
            if len(data) <= target_bytes:
                return Fitted(data, rgb.shape[1], rgb.shape[0], fmt, None, True)
        h, w = rgb.shape[:2]
        if max(h, w) <= 64:
            data = encode(rgb, alpha, fmt=fmt, quality=10)
            return Fitted(data, w, h, fmt, 10 if lossy else None, len(data) <= target_bytes)
        size = (max(1, int(w * 0.8)), max(1, int(h * 0.8)))
        rgb = cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)
        if alpha is not None:
            alpha = cv2.resize(alpha, size, interpolation=cv2.INTER_AREA)
