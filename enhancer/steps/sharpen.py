"""Adaptive sharpening: undo the measured blur, without halos or noise.

The blur is measured as an edge width on the display-scale analysis copy
(see :func:`enhancer.quality.edge_width`) and converted to a Gaussian sigma.
A few van Cittert iterations (``x += y - G * x``) invert that blur on
luminance; the change is limited to the local min/max of the input plus a
small fraction of the local range (so edges get crisp, not haloed) and
shrunk where it is no bigger than the noise (so grain is not amplified).
"""
from __future__ import annotations

import functools

import cv2
import numpy as np

from ..context import Context
from ..imageio import shrink
from ..quality import ANALYSIS_SIDE, analysis_copy, edge_width, width_from_score
from ._fullres import for_each_band

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
#: Edge widths along x and y this far apart mean a motion streak, not defocus.
_STREAK = 1.25
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
    # the grey analysis copy, made at most once for both measurements
    gray = functools.cache(lambda: cv2.cvtColor(analysis_copy(img), cv2.COLOR_RGB2GRAY))
    w = _edge_width(img, ctx, gray)
    if w is None:
        return img
    sigma_a = float(np.sqrt(max(w * w - _W_SHARP ** 2, 0.0)) / _W_PER_SIGMA)
    if sigma_a < MIN_SIGMA:
        return img
    if _streaked(gray()):
        # A motion streak blurs one direction only: an isotropic deblur sharpens
        # the other and rings along the streak (worse than the input by SSIM).
        if ctx is not None:
            ctx.notes.append("The photo is blurred by motion (camera shake) in one direction; "
                             "it was not sharpened. Retake it with a steadier hand or a faster shutter.")
        return img
    sigma = min(sigma_a, _MAX_SIGMA) * max(1.0, max(img.shape[:2]) / ANALYSIS_SIDE)
    noise = float(ctx.report.noise) if ctx is not None else 0.0
    return deblur(img, sigma=sigma, noise=noise)


def _streaked(gray: np.ndarray) -> bool:
    """Whether edges across one axis of a grey analysis copy are much wider than across the other.

    Defocus, soft optics and box or Gaussian blur measure within 10 % of each
    other along x and y (skimage photos: at most 1.10); a 7-pixel streak
    measures 1.33-2.58.
    """
    wx, wy = edge_width(gray, axis=1), edge_width(gray, axis=0)
    return wx is not None and wy is not None and max(wx, wy) >= _STREAK * min(wx, wy)


def _edge_width(img: np.ndarray, ctx: Context | None, gray) -> float | None:
    """Edge width at analysis scale, read back from the input's report when the
    size matches (saves a second 12 MP downscale), else measured on ``gray()``. Earlier steps (denoise,
    light) may have run, but the blur to undo is the input's: edge width does
    not depend on contrast, and a denoiser's smoothing is not to be undone."""
    r = ctx.report if ctx is not None else None
    if r is not None and (r.height, r.width) == img.shape[:2]:
        return width_from_score(r.blur_score)
    return edge_width(gray())


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
        Van Cittert iterations; by default 3, 2 for noisy photos. More fit a
        Gaussian blur better (6: +0.003 SSIM at sigma 1.5) but overshoot when
        the real blur is a lens's disk, a box or a motion streak (6 made a
        disk-blurred photo worse than the input; see benchmarks.structure_heldout).
    """
    if iterations is None:
        iterations = 3 if noise < 8 else 2
    # Y of RGB2GRAY is YCrCb's (BT.601): changing it by d moves R, G and B by
    # d, so the change is added to each channel and hue is kept.
    y = cv2.cvtColor(img, cv2.COLOR_RGB2GRAY)
    h, w = y.shape
    k = max(1.0, sigma / _WORK_SIGMA)
    # The restored band lies below ~1/sigma: compute (and bound) it on a copy
    # where sigma is ~1.5 px, then apply it at full size with one resize.
    ys = y if k == 1.0 else shrink(y, (max(1, round(w / k)), max(1, round(h / k))))
    ysf = ys.astype(np.float32)
    s = sigma / k
    x, blurred = ysf.copy(), np.empty_like(ysf)
    for _ in range(iterations):
        cv2.GaussianBlur(x, (0, 0), s, dst=blurred)
        cv2.subtract(ysf, blurred, dst=blurred)
        cv2.add(x, blurred, dst=x)
    delta = cv2.subtract(x, ysf)
    if noise > _NOISY:
        # Soft threshold at the amplified noise level, measured on the change
        # itself (median absolute change: mostly flat regions, i.e. noise), so
        # only detail that stands above the grain is restored.
        t = 3.0 * 1.4826 * float(np.median(np.abs(delta[::2, ::2])))
        delta = cv2.subtract(delta, cv2.min(cv2.max(delta, -t), t))
    # Bound the result to the input's local range plus a small overshoot.
    r = max(1, int(np.ceil(2 * s)))
    kernel = cv2.getStructuringElement(cv2.MORPH_RECT, (2 * r + 1, 2 * r + 1))
    lo, hi = cv2.erode(ysf, kernel), cv2.dilate(ysf, kernel)
    margin = cv2.multiply(cv2.subtract(hi, lo), _OVERSHOOT)
    cv2.add(delta, ysf, dst=delta)
    cv2.min(delta, cv2.add(hi, margin), dst=delta)
    cv2.max(delta, cv2.subtract(lo, margin), dst=delta)
    cv2.subtract(delta, ysf, dst=delta)
    # Applied as two uint8 planes (brightening and darkening part), upsampled
    # separately (linear interpolation is linear, so their difference is the
    # upsampled change, within rounding): uint8 resize and saturating adds
    # are the fast paths; a float change would be a 48 MB plane at 12 MP.
    up, down = cv2.convertScaleAbs(cv2.max(delta, 0.0)), cv2.convertScaleAbs(cv2.min(delta, 0.0))
    if k > 1.0:
        up, down = (cv2.resize(p, (w, h), interpolation=cv2.INTER_LINEAR) for p in (up, down))
    out = np.empty_like(img)

    def band(r0: int, r1: int) -> None:
        u, d = up[r0:r1], down[r0:r1]
        both = cv2.min(u, d)  # where interpolation mixed signs, keep only the net change
        u, d = cv2.subtract(u, both), cv2.subtract(d, both)
        o = out[r0:r1]
        cv2.add(img[r0:r1], cv2.cvtColor(u, cv2.COLOR_GRAY2RGB), dst=o)
        cv2.subtract(o, cv2.cvtColor(d, cv2.COLOR_GRAY2RGB), dst=o)

    for_each_band(h, band)
    return out
