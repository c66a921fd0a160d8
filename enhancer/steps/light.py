"""Exposure, white balance and local contrast (placeholder: identity)."""
import numpy as np

from ..context import Context


def light_correction(img: np.ndarray, ctx: Context) -> np.ndarray:
    return img
