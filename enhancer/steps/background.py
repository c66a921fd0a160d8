"""Background removal (placeholder: identity)."""
import numpy as np

from ..context import Context


def remove_background(img: np.ndarray, ctx: Context) -> np.ndarray:
    return img
