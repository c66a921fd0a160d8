"""Quality assessment: sharpness, exposure, noise and clipping of a photo.

Everything is measured on a copy normalised to :data:`ANALYSIS_SIDE` pixels
(longest side) so scores are comparable across resolutions and a 12 MP
photo costs a few tens of milliseconds. Noise is the exception: downscaling
averages noise away, so it is estimated on native-resolution tiles.
"""
from __future__ import annotations

import cv2
import numpy as np

from ._numeric import percentile
from .imageio import Decoded, decode, shrink
from .types import QualityReport

ANALYSIS_SIDE = 768
#: Narrowest measurable edge (analysis pixels; scores 100) and the width per 1/e of score.
_SHARP_WIDTH, _WIDTH_SCALE = 1.0, 4.5
_NOISE_TILE, _NOISE_TILES = 160, 3
_LINEAR_RATIO = 1.25


def assess(data: bytes, *, max_pixels: int | None = None) -> QualityReport:
    """Score a photo's quality from its bytes.

    Parameters
    ----------
    data : bytes
        The encoded photo.
    max_pixels : int, optional
        Refuse images above this many pixels (default: the decoder's limit).

    Returns
    -------
    QualityReport

    Raises
    ------
    InvalidImageError
        If the bytes are not a usable image.
    """
    dec = decode(data) if max_pixels is None else decode(data, max_pixels=max_pixels)
    return assess_decoded(dec, size_bytes=len(data))


def assess_decoded(dec: Decoded, *, size_bytes: int, small: np.ndarray | None = None) -> QualityReport:
    """Score an already decoded photo (see :func:`assess`); ``small`` is its
    :func:`analysis_copy` when the caller already has one."""
    rgb = dec.rgb
    small = analysis_copy(rgb) if small is None else small
    gray = cv2.cvtColor(small, cv2.COLOR_RGB2GRAY)
    blur = blur_score(gray)
    noise = estimate_noise(rgb)
    brightness = float(gray.mean())
    contrast = float(gray.std())
    hi = float((gray >= 250).mean() * 100)
    lo = float((gray <= 5).mean() * 100)
    studio = _border_is_plain_white(gray)
    warnings = _warnings(blur=blur, brightness=brightness, contrast=contrast, noise=noise,
                         hi=hi, lo=lo, studio=studio, long_side=max(rgb.shape[:2]))
    score = _overall(blur=blur, brightness=brightness, contrast=contrast, noise=noise,
                     hi=0.0 if studio else hi, lo=lo)
    return QualityReport(width=dec.width, height=dec.height, format=dec.format, size_bytes=size_bytes,
                         blur_score=round(blur, 2), brightness=round(brightness, 2),
                         contrast=round(contrast, 2), noise=round(noise, 3),
                         clipped_highlights=round(hi, 3), clipped_shadows=round(lo, 3),
                         quality_score=round(score, 2), warnings=tuple(warnings))


def analysis_copy(rgb: np.ndarray, *, side: int = ANALYSIS_SIDE) -> np.ndarray:
    """Downscale (area filter) so the longest side is at most ``side``; never upscale."""
    h, w = rgb.shape[:2]
    long = max(h, w)
    if long <= side:
        return rgb
    f = side / long
    # a 2 MP photo's last step (866 -> 768) is bilinear: blur scores move by at most 0.3
    return shrink(rgb, (max(1, round(w * f)), max(1, round(h * f))), linear_below=_LINEAR_RATIO)


def edge_width(gray: np.ndarray, *, axis: int | None = None) -> float | None:
    """Typical width (pixels) of the sharpest edges, or None for a featureless image.

    For a blurred step edge the peak gradient divided by the step height is
    ``1 / (sqrt(2 pi) sigma)``, independent of contrast; its inverse is an edge
    width. Only pixels on real detail (large local range) count, so a plain
    studio background does not drag the score down, and a high percentile
    keeps the in-focus part of a shallow depth-of-field shot in charge.
    """
    g = gray.astype(np.float32)
    if min(g.shape) < 8:
        return None
    # A 2x2 derivative (not Sobel): its support is small enough to tell a
    # 1-pixel transition from a 2-pixel one, so slight blur already counts.
    dx = g[:, 1:] - g[:, :-1]
    dy = g[1:, :] - g[:-1, :]
    gx = 0.5 * (dx[1:, :] + dx[:-1, :])
    gy = 0.5 * (dy[:, 1:] + dy[:, :-1])
    mag = cv2.magnitude(gx, gy)
    k = cv2.getStructuringElement(cv2.MORPH_RECT, (11, 11))
    src = gray if gray.dtype == np.uint8 else g  # same values; uint8 morphology is much faster
    rng = (cv2.dilate(src, k) - cv2.erode(src, k))[1:, 1:].astype(np.float32)
    # Local maxima of the gradient along edges, on real detail only.
    peak = mag >= cv2.dilate(mag, np.ones((3, 3), np.uint8)) - 1e-6
    mask = peak & (rng >= 24.0) & (mag > 1.0)
    if axis is not None:  # only edges whose gradient runs along this axis (1: x, 0: y)
        along, across = (np.abs(gx), np.abs(gy)) if axis == 1 else (np.abs(gy), np.abs(gx))
        mask &= along >= 2.0 * across
    if mask.sum() < 30:
        mask = peak & (rng >= 10.0) & (mag > 0.5)
        if mask.sum() < 30:
            return None
    ratio = mag[mask] / rng[mask]
    r = percentile(ratio, 90)
    return 1.0 / max(r, 1e-3)


def blur_score(gray: np.ndarray) -> float:
    """Sharpness 0-100 (higher is sharper) of a grayscale analysis copy."""
    w = edge_width(gray)
    if w is None:
        return 0.0
    # Exponential fall-off: never saturates at 0, so more blur always scores lower.
    return float(100.0 * np.exp(-max(w - _SHARP_WIDTH, 0.0) / _WIDTH_SCALE))


def width_from_score(score: float) -> float | None:
    """Invert :func:`blur_score`: the edge width a score stands for (None for 0,
    which means the image had no edges to measure)."""
    if score <= 0:
        return None
    return _SHARP_WIDTH + _WIDTH_SCALE * float(np.log(100.0 / min(score, 100.0)))


def _mosaic(rgb: np.ndarray, *, size: int, n: int) -> np.ndarray:
    """Up to ``n`` x ``n`` native-resolution tiles spread over the image, stacked."""
    h, w = rgb.shape[:2]
    if h <= size * n and w <= size * n:
        return rgb
    size_y, size_x = min(size, h), min(size, w)
    ys = np.linspace(0, h - size_y, n).astype(int)
    xs = np.linspace(0, w - size_x, n).astype(int)
    return np.concatenate([rgb[y:y + size_y, x:x + size_x] for y in ys for x in xs], axis=0)


_IMMERKAER = np.array([[1, -2, 1], [-2, 4, -2], [1, -2, 1]], np.float32) / 6.0


def estimate_noise(rgb: np.ndarray, *, luma: bool = False) -> float:
    """Noise sigma (0-255 scale, per channel) by Immerkaer's method on flat regions.

    The Laplacian-difference kernel cancels smooth image content; pixels on
    edges and texture (large smoothed gradient), clipped pixels and tile seams
    are left out so detail is not mistaken for noise. Runs on native-resolution
    tiles because any downscaling would average the noise away.

    Fine texture (fabric, coffee foam) still leaks in, so the measure is also
    taken at half scale: white noise halves there, texture does not. With
    ``e1^2 = n^2 + t^2`` and ``e2^2 = n^2 / 4 + t^2`` the noise is
    ``n^2 = (e1^2 - e2^2) / 0.75``.

    With ``luma=True``, the noise of luminance (BT.601 Y) instead: independent
    channel noise of sigma leaves about 0.67 sigma in Y, noise the channels
    share (a sensor's luminance grain, noise a JPEG encoder left after
    smoothing chroma) nearly all of it; a per-channel figure cannot tell.
    """
    tile = _mosaic(rgb, size=_NOISE_TILE, n=_NOISE_TILES)
    if luma:  # only the tiles are converted
        gray = cv2.cvtColor(tile, cv2.COLOR_RGB2GRAY)
        tile = cv2.merge([gray, gray, gray])
    e1 = _immerkaer(tile)
    if e1 <= 0 or min(tile.shape[:2]) < 32:
        return e1
    h, w = tile.shape[:2]
    half = cv2.resize(tile, (w // 2, h // 2), interpolation=cv2.INTER_AREA)
    e2 = _immerkaer(half, seam=_NOISE_TILE // 2)
    return float(min(e1, np.sqrt(max(e1 * e1 - e2 * e2, 0.0) / 0.75)))


def _immerkaer(tile: np.ndarray, *, seam: int = _NOISE_TILE) -> float:
    if min(tile.shape[:2]) < 8:
        return 0.0
    # per-pixel channel min/max by slices: numpy's axis=2 reduction is ~10x slower
    lo = np.minimum(np.minimum(tile[..., 0], tile[..., 1]), tile[..., 2])
    hi = np.maximum(np.maximum(tile[..., 0], tile[..., 1]), tile[..., 2])
    ok = (lo > 3) & (hi < 252)
    tile = tile.astype(np.float32)
    gray = cv2.cvtColor(tile, cv2.COLOR_RGB2GRAY)
    sm = cv2.GaussianBlur(gray, (0, 0), 1.5)
    grad = np.abs(cv2.Sobel(sm, cv2.CV_32F, 1, 0, ksize=3)) + np.abs(cv2.Sobel(sm, cv2.CV_32F, 0, 1, ksize=3))
    seams = np.zeros(gray.shape, bool)
    seams[::min(seam, tile.shape[0])] = True
    ok &= ~cv2.dilate(seams.view(np.uint8), np.ones((7, 1), np.uint8)).astype(bool)
    ok[:, :2], ok[:, -2:], ok[-2:] = False, False, False
    if ok.sum() < 64:
        return 0.0
    flat = ok & (grad <= percentile(grad[ok], 25))
    resp = np.abs(cv2.filter2D(tile, cv2.CV_32F, _IMMERKAER))
    per_channel = cv2.mean(resp, mask=flat.view(np.uint8))[:resp.shape[2]]  # no boolean-index copy
    return float(np.mean(per_channel) * np.sqrt(np.pi / 2))


def _border_is_plain_white(gray: np.ndarray) -> bool:
    border = np.concatenate([gray[0], gray[-1], gray[:, 0], gray[:, -1]])
    return bool((border >= 240).mean() > 0.8)


def _warnings(*, blur, brightness, contrast, noise, hi, lo, studio, long_side) -> list[str]:
    out = []
    if blur < 35:
        out.append("The photo looks blurry or out of focus; retake it or try SHARPEN.")
    if brightness < 70:
        out.append("The photo is underexposed (too dark); try LIGHT_CORRECTION.")
    elif brightness > 215 and not studio:
        out.append("The photo is overexposed (too bright).")
    if contrast < 30:
        out.append("The photo has low contrast and looks flat; try LIGHT_CORRECTION.")
    if noise > 6:
        out.append("The photo is grainy (visible noise); try DENOISE.")
    if hi > 5 and not studio:
        out.append(f"{hi:.0f}% of the photo is blown-out white; detail there is lost.")
    if lo > 5:
        out.append(f"{lo:.0f}% of the photo is crushed to black; detail there is lost.")
    if long_side < 500:
        out.append(f"The photo is small ({long_side}px); marketplaces want at least 500-1000px. Try UPSCALE.")
    return out


def _overall(*, blur, brightness, contrast, noise, hi, lo) -> float:
    exposure = 100 - min(abs(brightness - 128) / 1.1, 100)
    contr = min(contrast / 50 * 100, 100)
    clean = 100 - min(max(noise - 2, 0) * 6, 100)
    clip = 100 - min((hi + lo) * 4, 100)
    return float(np.clip(0.35 * blur + 0.2 * exposure + 0.15 * contr + 0.2 * clean + 0.1 * clip, 0, 100))
