"""Upscaling to a target longest side (first version: Lanczos)."""
import cv2
import numpy as np

from ..context import Context

MAX_FACTOR = 4.0
MAX_SIDE = 10_000


def upscale(img: np.ndarray, ctx: Context) -> np.ndarray:
    h, w = img.shape[:2]
    target = min(ctx.options.upscale_target, MAX_SIDE)
    if max(h, w) >= target:
        return img
    f = min(target / max(h, w), MAX_FACTOR)
    size = (round(w * f), round(h * f))
    if ctx.alpha is not None:
        ctx.alpha = cv2.resize(ctx.alpha, size, interpolation=cv2.INTER_LINEAR)
    return cv2.resize(img, size, interpolation=cv2.INTER_LANCZOS4)
