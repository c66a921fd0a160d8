"""Trim and place on a marketplace canvas (placeholder: identity)."""
import numpy as np

from ..context import Context


def standardize(img: np.ndarray, ctx: Context) -> np.ndarray:
    return img
