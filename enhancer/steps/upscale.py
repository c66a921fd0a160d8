"""Upscaling to a target longest side: Lanczos plus back-projection.

Lanczos gives a clean first guess; iterative back-projection then restores
detail by making the result, when downscaled again, match the input
(``x += up(y - down(x))``). Its overshoot is limited to the local range of
the Lanczos guess so edges do not ring.
"""
from __future__ import annotations

import cv2
import numpy as np

from ..context import Context

MAX_FACTOR = 4.0
MAX_SIDE = 10_000
#: Back-projection rounds (tested 3 vs 6: no gain past 3).
_ROUNDS = 3
#: Above this many output pixels, plain Lanczos keeps memory bounded.
_BACKPROJECT_MAX_PIXELS = 24_000_000
_OVERSHOOT = 0.2
#: AUTO upscales only photos below this longest side: thumbnails no
#: marketplace takes (their minimum is 500-1000 px). Kept under 500 so a
#: usable 450-500 px photo is not resized behind the operator's back.
MIN_AUTO_SIDE = 400


def upscale(img: np.ndarray, ctx: Context) -> np.ndarray:
    """Upscale to ``ctx.options.upscale_target`` (longest side); no-op when large enough.

    The factor is capped at :data:`MAX_FACTOR` and the result at
    :data:`MAX_SIDE` pixels. ``ctx.alpha``, when present, is resized alongside.

    Parameters
    ----------
    img : ndarray, uint8, shape (H, W, 3)
    ctx : Context

    Returns
    -------
    ndarray
        The upscaled photo, or ``img`` itself.
    """
    h, w = img.shape[:2]
    target = min(int(ctx.options.upscale_target), MAX_SIDE)
    if max(h, w) >= target:
        return img
    f = min(target / max(h, w), MAX_FACTOR)
    size = (max(1, round(w * f)), max(1, round(h * f)))
    if size == (w, h):
        return img
    if ctx.alpha is not None:
        ctx.alpha = cv2.resize(ctx.alpha, size, interpolation=cv2.INTER_LINEAR)
    ctx.provenance.resized(size[0] / w)
    return upscale_to(img, size)


def upscale_if_small(img: np.ndarray, ctx: Context) -> np.ndarray:
    """AUTO's upscale: only thumbnail-sized photos (under :data:`MIN_AUTO_SIDE`).

    A careful retoucher does not change the size of a photo that is fine; one
    that marketplaces would reject is brought up to the upscale target.
    """
    if max(img.shape[:2]) >= MIN_AUTO_SIDE:
        return img
    return upscale(img, ctx)


def upscale_to(img: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Resize ``img`` up to ``size`` (width, height) with back-projected detail."""
    up = cv2.resize(img, size, interpolation=cv2.INTER_LANCZOS4)
    if size[0] * size[1] > _BACKPROJECT_MAX_PIXELS:
        return up
    lr = img.astype(np.float32)
    x = up.astype(np.float32)
    for _ in range(_ROUNDS):
        err = cv2.subtract(lr, cv2.resize(x, img.shape[1::-1], interpolation=cv2.INTER_AREA))
        cv2.add(x, cv2.resize(err, size, interpolation=cv2.INTER_CUBIC), dst=x)
    # Bound to the Lanczos guess's 3x3 range plus a margin; the range is taken
    # on uint8 (exact: erode/dilate only pick values) and the arithmetic is in
    # place, so no extra float copies of the (large) result are made.
    k = np.ones((3, 3), np.uint8)
    lo, hi = cv2.erode(up, k), cv2.dilate(up, k)
    margin = cv2.multiply(cv2.subtract(hi, lo), _OVERSHOOT, dtype=cv2.CV_32F)
    cv2.min(x, cv2.add(hi, margin, dtype=cv2.CV_32F), dst=x)
    cv2.max(x, cv2.subtract(lo, margin, dtype=cv2.CV_32F), dst=x)
    return np.clip(x + 0.5, 0, 255).astype(np.uint8)
