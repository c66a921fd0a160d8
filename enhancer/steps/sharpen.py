"""Adaptive sharpening: undo the measured blur, without halos or noise.

The blur is measured as an edge width on the display-scale analysis copy
(see :func:`enhancer.quality.edge_width`) and converted to a Gaussian sigma.
A few van Cittert iterations (``x += y - G * x``) invert that blur on
luminance; the change is limited to the local min/max of the input plus a
small fraction of the local range (so edges get crisp, not haloed) and
shrunk where it is no bigger than the noise (so grain is not amplified).
"""
from __future__ import annotations

import cv2
import numpy as np

from ..context import Context
from ..quality import analysis_copy, edge_width

#: Below this estimated blur (analysis pixels) a photo is sharp enough.
MIN_SIGMA = 0.8
#: Edge width of a typical sharp photo, and width per unit of blur sigma
#: (fitted on skimage photos blurred by sigma 0-4: w^2 = 2.0^2 + (2.1 sigma)^2).
_W_SHARP, _W_PER_SIGMA = 2.0, 2.1
_MAX_SIGMA = 4.0
#: Allowed overshoot beyond the local min/max, as a fraction of the local range.
_OVERSHOOT = 0.15
#: Noise sigma above which small changes are treated as grain (clean photos
#: measure ~1-2 from their own texture).
_NOISY = 2.5
#: Work on a copy downscaled so the blur sigma is about this many pixels.
_WORK_SIGMA = 1.5


def sharpen(img: np.ndarray, ctx: Context) -> np.ndarray:
    """Restore detail lost to defocus or soft optics; no-op on a sharp photo.

    Parameters
    ----------
    img : ndarray, uint8, shape (H, W, 3)
        RGB photo.
    ctx : Context
        ``ctx.report.noise`` sets how much small detail is treated as noise.

    Returns
    -------
    ndarray
        The sharpened photo, or ``img`` itself when it is already sharp.
    """
    small = analysis_copy(img)
    w = edge_width(cv2.cvtColor(small, cv2.COLOR_RGB2GRAY))
    if w is None:
        return img
    sigma_a = float(np.sqrt(max(w * w - _W_SHARP ** 2, 0.0)) / _W_PER_SIGMA)
    if sigma_a < MIN_SIGMA:
        return img
    sigma = min(sigma_a, _MAX_SIGMA) * max(img.shape[:2]) / max(small.shape[:2])
    noise = float(ctx.report.noise) if ctx is not None else 0.0
    return deblur(img, sigma=sigma, noise=noise)


def deblur(img: np.ndarray, *, sigma: float, noise: float = 0.0, iterations: int | None = None) -> np.ndarray:
    """Invert a Gaussian blur of ``sigma`` pixels on luminance, halo- and noise-safe.

    Parameters
    ----------
    img : ndarray, uint8, shape (H, W, 3)
    sigma : float
        Blur to undo, in pixels of ``img``.
    noise : float
        Noise sigma (0-255); more noise means fewer iterations and a higher
        threshold under which detail is left alone.
    iterations : int, optional
        Van Cittert iterations; by default 6, fewer for noisy photos.
    """
    if iterations is None:
        iterations = 6 if noise < 3 else 3 if noise < 8 else 2
    y = cv2.cvtColor(img, cv2.COLOR_RGB2GRAY)
    h, w = y.shape
    k = max(1.0, sigma / _WORK_SIGMA)
    if k > 1.0:  # the restored band lies below ~1/sigma: compute it small, apply big
        ys = cv2.resize(y, (max(1, round(w / k)), max(1, round(h / k))), interpolation=cv2.INTER_AREA)
    else:
        ys = y
    ysf = ys.astype(np.float32)
    x = ysf.copy()
    for _ in range(iterations):
        x += ysf - cv2.GaussianBlur(x, (0, 0), sigma / k)
    delta = x - ysf
    if k > 1.0:
        delta = cv2.resize(delta, (w, h), interpolation=cv2.INTER_LINEAR)
    if noise > _NOISY:
        # Soft threshold at the amplified noise level, measured on the change
        # itself (median absolute change: mostly flat regions, i.e. noise), so
        # only detail that stands above the grain is restored.
        t = 3.0 * 1.4826 * float(np.median(np.abs(delta[::2, ::2])))
        delta = cv2.subtract(delta, cv2.min(cv2.max(delta, -t), t))
    # Bound the result to the input's local range plus a small overshoot.
    r = max(1, int(np.ceil(2 * sigma)))
    kernel = cv2.getStructuringElement(cv2.MORPH_RECT, (2 * r + 1, 2 * r + 1))
    lo, hi = cv2.erode(y, kernel).astype(np.float32), cv2.dilate(y, kernel).astype(np.float32)
    margin = cv2.multiply(cv2.subtract(hi, lo), _OVERSHOOT)
    yf = y.astype(np.float32)
    new_y = cv2.min(cv2.max(cv2.add(yf, delta), cv2.subtract(lo, margin)), cv2.add(hi, margin))
    # Changing Y in YCrCb moves R, G and B by the same amount: hue is kept.
    ycc = cv2.cvtColor(img, cv2.COLOR_RGB2YCrCb)
    shifted = cv2.subtract(new_y, yf)
    ycc[..., 0] = cv2.add(ycc[..., 0], shifted, dtype=cv2.CV_8U)
    return cv2.cvtColor(ycc, cv2.COLOR_YCrCb2RGB)
