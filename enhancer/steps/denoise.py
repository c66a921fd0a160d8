"""Edge-preserving denoise with strength set by the estimated noise.

Luminance and chroma are treated apart (YCrCb): non-local means on
luminance keeps edges and texture; chroma carries little detail, so it is
denoised at half resolution (or less) and upsampled, which removes colour
blotches cheaply. Non-local means costs ~0.4 s per megapixel, so large
photos are split in two bands: the coarse band (a downscaled copy holding
:data:`_NLM_PIXELS`) gets non-local means, the fine band a local Wiener
shrinkage at full resolution.

Downscaling by ``f`` leaves noise ``sigma * f``; below :data:`_COARSE_MIN_SIGMA`
non-local means on the luma copy changes it by a fraction of a level (its
weights only trust a patch itself), so it is skipped: on a 12 MP photo the
coarse luma band is then just an area average, and the cost is a few
full-size passes, run band by band on all cores.
"""
from __future__ import annotations

import cv2
import numpy as np

from ..context import Context
from ..imageio import shrink
from ..quality import estimate_noise
from ._fullres import for_each_band

#: Below this sigma (0-255) a photo is clean (clean photos measure 0-2.5;
#: see estimate_noise). Strength ramps in over _RAMP sigma above it.
MIN_SIGMA, _RAMP = 3.0, 2.0
#: Non-local means filtering strength per unit of noise sigma (tuned on
#: skimage photos with Gaussian noise sigma 5-25: 0.6 luma, 0.8 chroma).
_H_LUMA, _H_CHROMA = 0.6, 0.8
#: Share of independent per-channel noise left in Y (sqrt(0.299^2 + 0.587^2 + 0.114^2)).
_Y_SHARE = 0.67
_NLM_PIXELS = 300_000
#: Per-channel noise (0-255) below which non-local means on the downscaled
#: luma band is skipped: at 2.0 it lowers the band's RMS error by ~0.3 levels, at 1.2 by
#: ~0.05 (measured on astronaut, 632x474), for ~0.17 s of CPU per band.
_COARSE_MIN_SIGMA = 2.0
#: The same for chroma (h 0.8 sigma: at sigma 1 NLM's weights trust only the patch itself).
_CHROMA_MIN_SIGMA = 1.0


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
    # Luma's strength from luma's own noise: grain the channels share is up to
    # 1.5x stronger in Y than the per-channel sigma suggests.
    luma = max(estimate_noise(img, luma=True), _Y_SHARE * sigma)
    return denoise_rgb(img, sigma=sigma * strength, luma_sigma=luma * strength)


def _sigma(img: np.ndarray, ctx: Context) -> float:
    r = ctx.report if ctx is not None else None
    if r is not None and (r.height, r.width) == img.shape[:2]:
        return float(r.noise)
    return estimate_noise(img)


def denoise_rgb(img: np.ndarray, *, sigma: float, luma_sigma: float | None = None) -> np.ndarray:
    """Denoise an RGB uint8 photo whose noise sigma (0-255, per channel) is known;
    ``luma_sigma`` is luminance's (default: that of independent channel noise)."""
    luma_sigma = _Y_SHARE * sigma if luma_sigma is None else luma_sigma
    h, w = img.shape[:2]
    # NLM's h was tuned against the per-channel sigma directly (noise in Y is
    # ~0.67 of it for independent channel noise).
    f = min(1.0, float(np.sqrt(_NLM_PIXELS / (h * w))))
    # Chroma is only needed at the small scale: YCrCb is affine in RGB, so
    # converting an area-downscaled RGB copy equals downscaling Cr and Cb
    # (and RGB2GRAY's Y equals YCrCb's: both BT.601).
    # One area resize, not the faster halving cascade: it gives the coarse
    # band noise sigma * f, as NLM's h assumes, and a better band split for
    # the Wiener step (12 MP astronaut, sigma 12: SSIM 0.6792 vs 0.6738).
    small = cv2.resize(img, _small_size(img.shape, f), interpolation=cv2.INTER_AREA) if f < 1.0 else img
    # Same for chroma: NLM's h assumes noise sigma * f / 2 (hubble_deep_field,
    # sigma 15: SSIM 0.7319 from the cascade, 0.7325 from one resize).
    # When its NLM is skipped, halving the luma copy is as good and cheaper.
    half = (cv2.resize(img, _small_size(img.shape, 0.5 * f), interpolation=cv2.INTER_AREA)
            if sigma * 0.5 * f >= _CHROMA_MIN_SIGMA else shrink(small, _small_size(small.shape, 0.5)))
    _, cr, cb = cv2.split(cv2.cvtColor(half, cv2.COLOR_RGB2YCrCb))
    cr, cb = (_chroma(c, size=(w, h), sigma=sigma * 0.5 * f) for c in (cr, cb))
    if f >= 1.0:
        y = cv2.fastNlMeansDenoising(cv2.cvtColor(img, cv2.COLOR_RGB2GRAY), None,
                                     float(_H_LUMA / _Y_SHARE * luma_sigma), 7, 21)
        return cv2.cvtColor(cv2.merge([y, cr, cb]), cv2.COLOR_YCrCb2RGB)
    return _two_band(img, cv2.cvtColor(small, cv2.COLOR_RGB2GRAY), cr, cb, f=f, sigma=luma_sigma / _Y_SHARE)


def _small_size(shape: tuple[int, ...], f: float) -> tuple[int, int]:
    return max(1, round(shape[1] * f)), max(1, round(shape[0] * f))


def _two_band(img: np.ndarray, y_small: np.ndarray, cr: np.ndarray, cb: np.ndarray, *,
              f: float, sigma: float) -> np.ndarray:
    """Luma: NLM on the downscaled copy for the coarse band, local Wiener for the
    fine; then back to RGB with the (full-size) denoised chroma.

    The full-resolution part runs band by band (see :mod:`._fullres`).
    """
    h, w = img.shape[:2]
    low = cv2.resize(y_small, (w, h), interpolation=cv2.INTER_LINEAR)
    # Area downscaling by f averages 1/f^2 pixels: noise falls by f.
    low_dn = None
    if sigma * f >= _COARSE_MIN_SIGMA:
        y_dn = cv2.fastNlMeansDenoising(y_small, None, float(_H_LUMA * sigma * f), 7, 21)
        low_dn = cv2.resize(y_dn, (w, h), interpolation=cv2.INTER_LINEAR)
    noise_var = (0.67 * sigma) ** 2
    out = np.empty_like(img)
    # Half the Wiener window. 7x7 lets less noise through on flat areas but
    # dilutes point detail: on hubble_deep_field (stars) SSIM fell 0.006.
    r = 2

    def band(r0: int, r1: int) -> None:
        a0, a1 = max(0, r0 - r), min(h, r1 + r)  # rows the window needs
        y = cv2.cvtColor(img[a0:a1], cv2.COLOR_RGB2GRAY)
        detail = cv2.subtract(y, low[a0:a1], dtype=cv2.CV_32F)
        # Local Wiener shrinkage: keep the part of the fine band whose local
        # energy stands above the noise (edges, texture), drop the rest:
        # out = low + detail * max(0, 1 - noise_var / energy)
        #     = y - detail * noise_var / max(energy, noise_var).
        energy = cv2.sqrBoxFilter(detail, cv2.CV_32F, (2 * r + 1, 2 * r + 1))
        cv2.max(energy, noise_var, dst=energy)
        cv2.divide(detail, energy, dst=detail, scale=noise_var)
        if low_dn is not None:  # plus the coarse band's correction, low_dn - low
            cv2.subtract(detail, low_dn[a0:a1], dst=detail, dtype=cv2.CV_32F)
            cv2.add(detail, low[a0:a1], dst=detail, dtype=cv2.CV_32F)
        i0, i1 = r0 - a0, r1 - a0
        y = cv2.subtract(y[i0:i1], detail[i0:i1], dtype=cv2.CV_8U)
        cv2.cvtColor(cv2.merge([y, cr[r0:r1], cb[r0:r1]]), cv2.COLOR_YCrCb2RGB, dst=out[r0:r1])

    for_each_band(h, band)
    return out


def _chroma(small: np.ndarray, *, size: tuple[int, int], sigma: float) -> np.ndarray:
    """A downscaled chroma plane (noise ``sigma`` at its scale), denoised and upsampled.

    Flat chroma (a star field's black) gains from NLM even at sigma ~2
    (hubble_deep_field dark+noise: SSIM 0.8733, 0.8717 without), so the
    threshold is lower than luma's.
    """
    if sigma >= _CHROMA_MIN_SIGMA:
        small = cv2.fastNlMeansDenoising(small, None, float(_H_CHROMA * sigma), 5, 11)
    return cv2.resize(small, size, interpolation=cv2.INTER_LINEAR)
