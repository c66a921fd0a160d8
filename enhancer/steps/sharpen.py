"""Adaptive sharpening (placeholder: identity)."""
import numpy as np

from ..context import Context


def sharpen(img: np.ndarray, ctx: Context) -> np.ndarray:
    return img
