"""Edge-preserving denoise with strength set by the estimated noise.

Luminance and chroma are treated apart (YCrCb): non-local means on
luminance keeps edges and texture; chroma carries little detail, so it is
denoised at half resolution (or less) and upsampled, which removes colour
blotches cheaply. Non-local means costs ~0.4 s per megapixel, so large
photos are split in two bands: the coarse band (a downscaled copy holding
:data:`_NLM_PIXELS`) gets non-local means, the fine band a local Wiener
shrinkage at full resolution.
"""
from __future__ import annotations

import cv2
import numpy as np

from ..context import Context
from ..quality import estimate_noise

#: Below this sigma (0-255) a photo is clean (clean photos measure 0-2.5;
#: see estimate_noise). Strength ramps in over _RAMP sigma above it.
MIN_SIGMA, _RAMP = 3.0, 2.0
#: Non-local means filtering strength per unit of noise sigma (tuned on
#: skimage photos with Gaussian noise sigma 5-25: 0.6 luma, 0.8 chroma).
_H_LUMA, _H_CHROMA = 0.6, 0.8
_NLM_PIXELS = 300_000


def denoise(img: np.ndarray, ctx: Context) -> np.ndarray:
    """Remove sensor noise, keeping edges; no-op on a clean photo.

    Parameters
    ----------
    img : ndarray, uint8, shape (H, W, 3)
        RGB photo.
    ctx : Context
        ``ctx.report.noise`` (sigma on the 0-255 scale) sets the strength; it is
        re-measured when the image is not the one the report describes.

    Returns
    -------
    ndarray
        The denoised photo, or ``img`` itself when it is clean.
    """
    sigma = _sigma(img, ctx)
    if sigma < MIN_SIGMA:
        return img
    strength = min(1.0, (sigma - MIN_SIGMA) / _RAMP + 0.25)
    return denoise_rgb(img, sigma=sigma * strength)


def _sigma(img: np.ndarray, ctx: Context) -> float:
    r = ctx.report if ctx is not None else None
    if r is not None and (r.height, r.width) == img.shape[:2]:
        return float(r.noise)
    return estimate_noise(img)


def denoise_rgb(img: np.ndarray, *, sigma: float) -> np.ndarray:
    """Denoise an RGB uint8 photo whose noise sigma (0-255, per channel) is known."""
    h, w = img.shape[:2]
    ycc = cv2.cvtColor(img, cv2.COLOR_RGB2YCrCb)
    # Noise in Y is ~0.67 sigma for independent channel noise, but NLM's h
    # was tuned against the per-channel sigma directly.
    f = min(1.0, np.sqrt(_NLM_PIXELS / (h * w)))
    y = ycc[..., 0].copy()
    if f >= 1.0:
        y_out = cv2.fastNlMeansDenoising(y, None, float(_H_LUMA * sigma), 7, 21)
    else:
        y_out = _two_band_luma(y, f=f, sigma=sigma)
    ycc[..., 1:] = _chroma(ycc, f=0.5 * f, sigma=sigma)
    ycc[..., 0] = y_out
    return cv2.cvtColor(ycc, cv2.COLOR_YCrCb2RGB)


def _small_size(shape: tuple[int, ...], f: float) -> tuple[int, int]:
    return max(1, round(shape[1] * f)), max(1, round(shape[0] * f))


def _two_band_luma(y: np.ndarray, *, f: float, sigma: float) -> np.ndarray:
    size = (y.shape[1], y.shape[0])
    small = cv2.resize(y, _small_size(y.shape, f), interpolation=cv2.INTER_AREA)
    # Area downscaling by f averages 1/f^2 pixels: noise falls by f.
    small_dn = cv2.fastNlMeansDenoising(small, None, float(_H_LUMA * sigma * f), 7, 21)
    yf = y.astype(np.float32)
    low = cv2.resize(small, size, interpolation=cv2.INTER_LINEAR).astype(np.float32)
    base = cv2.resize(small_dn, size, interpolation=cv2.INTER_LINEAR).astype(np.float32)
    detail = yf - low
    # Local Wiener shrinkage: keep the part of the fine band whose local
    # energy stands above the noise (edges, texture), drop the rest.
    noise_var = (0.67 * sigma) ** 2
    energy = cv2.blur(detail * detail, (5, 5))
    gain = np.maximum(energy - noise_var, 0) / (energy + 1e-6)
    return np.clip(base + detail * gain + 0.5, 0, 255).astype(np.uint8)


def _chroma(ycc: np.ndarray, *, f: float, sigma: float) -> np.ndarray:
    size = (ycc.shape[1], ycc.shape[0])
    c = cv2.resize(ycc[..., 1:], _small_size(ycc.shape, f), interpolation=cv2.INTER_AREA)
    out = [cv2.fastNlMeansDenoising(np.ascontiguousarray(c[..., i]), None,
                                    float(_H_CHROMA * sigma * f), 5, 11) for i in range(2)]
    return cv2.resize(np.dstack(out), size, interpolation=cv2.INTER_LINEAR)
