"""Quality assessment: sharpness, exposure, noise and clipping of a photo.

Everything is measured on a copy normalised to :data:`ANALYSIS_SIDE` pixels
(longest side) so scores are comparable across resolutions and a 12 MP
photo costs a few tens of milliseconds. Noise is the exception: downscaling
averages noise away, so it is estimated on native-resolution tiles.
"""
from __future__ import annotations

from dataclasses import replace

import cv2
import numpy as np

from ._numeric import percentile
from .imageio import Decoded, composite_on, decode, shrink
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


def assess_decoded(dec: Decoded, *, size_bytes: int, small: np.ndarray | None = None,
                   sharpness_side: int | None = None, tried: tuple[str, ...] = ()) -> QualityReport:
    """Score an already decoded photo (see :func:`assess`).

    Parameters
    ----------
    dec : Decoded
        The pixels; transparent pixels (alpha) are judged as they show, on
        white, and left out of exposure, contrast and clipping (a cut-out's
        clear pixels are not "crushed to black").
    size_bytes : int
        The encoded size to report.
    small : ndarray, optional
        :func:`analysis_copy` of ``dec.rgb`` when the caller already has one.
    sharpness_side : int, optional
        Longest side of the copy the blur score is measured on (default
        :data:`ANALYSIS_SIDE`). :func:`enhancer.enhance` passes the side at
        which the product is as large as in the upload's analysis, so a
        product placed larger on a canvas is not called blurrier for it.
    tried : tuple of str
        Step names already applied: a warning does not suggest a mode that
        just ran ("try LIGHT_CORRECTION" after light correction).

    Notes
    -----
    On a plain studio background (its border is one flat colour), the
    brightness and clipping figures are measured on the subject only: a
    clean white background is neither "overexposed" nor "blown out".
    ``quality_score`` (0-100, higher is better) weighs sharpness 35 %,
    exposure 20 % (full marks for a subject brightness within 78-178),
    contrast 15 %, cleanliness (noise) 20 % and clipping 10 %, all on those
    same subject figures.
    """
    rgb, alpha = dec.rgb, dec.alpha
    if alpha is not None and (alpha < 250).mean() > 0.001:
        rgb = composite_on(rgb, alpha, (255, 255, 255))
        small = None
    else:
        alpha = None
    small = analysis_copy(rgb) if small is None else small
    gray = cv2.cvtColor(small, cv2.COLOR_RGB2GRAY)
    sharp_gray = gray
    if sharpness_side is not None and sharpness_side < max(small.shape[:2]):
        side = max(32, int(sharpness_side))
        sharp_gray = cv2.cvtColor(analysis_copy(rgb, side=side), cv2.COLOR_RGB2GRAY)
    blur = blur_score(sharp_gray)
    noise = estimate_noise(rgb)
    a_small = None
    if alpha is not None:
        a_small = alpha if alpha.shape == gray.shape else \
            cv2.resize(alpha, gray.shape[::-1], interpolation=cv2.INTER_AREA)
    subject, studio = _subject(gray, a_small)
    vals = gray[subject] if subject is not None else gray.ravel()
    brightness = float(vals.mean())
    # contrast over the whole frame: a plain product standing out from its background is contrast too
    contrast = float(gray.std())
    # a white background with no subject found (a nearly empty frame) is not blown out
    bare = studio and subject is None
    hi = 0.0 if bare else float((vals >= 250).mean() * 100)
    lo = float((vals <= 5).mean() * 100)
    warnings = [m for _, m in findings(blur=blur, brightness=min(brightness, 215.0) if bare else brightness,
                                       contrast=contrast, noise=noise, hi=hi, lo=lo,
                                       long_side=max(dec.rgb.shape[:2]), tried=tried)]
    score = _overall(blur=blur, brightness=brightness, contrast=contrast, noise=noise, hi=hi, lo=lo)
    return QualityReport(width=dec.width, height=dec.height, format=dec.format, size_bytes=size_bytes,
                         blur_score=round(blur, 2), brightness=round(brightness, 2),
                         contrast=round(contrast, 2), noise=round(noise, 3),
                         clipped_highlights=round(hi, 3), clipped_shadows=round(lo, 3),
                         quality_score=round(score, 2), warnings=tuple(warnings))


def with_warnings(report: QualityReport, tried: tuple[str, ...]) -> QualityReport:
    """The same report with its warnings phrased for a run that tried ``tried``."""
    f = findings(blur=report.blur_score, brightness=report.brightness, contrast=report.contrast,
                 noise=report.noise, hi=report.clipped_highlights, lo=report.clipped_shadows,
                 long_side=max(report.width, report.height), tried=tried)
    return replace(report, warnings=tuple(m for _, m in f))


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


def _subject(gray: np.ndarray, alpha: np.ndarray | None) -> tuple[np.ndarray | None, bool]:
    """(subject mask or None for the whole frame, whether the background is plain white).

    The subject is what is not background: opaque pixels of a cut-out, or
    pixels away from a plain border's colour (a studio shot, our canvas).
    """
    if alpha is not None:
        opaque = alpha >= 128
        return (opaque if opaque.mean() >= 0.005 else None), True
    border = np.concatenate([gray[:2].ravel(), gray[-2:].ravel(), gray[:, :2].ravel(), gray[:, -2:].ravel()])
    med = float(np.median(border))
    plain = float((np.abs(border.astype(np.float32) - med) <= 12).mean())
    white = med >= 235 and plain >= 0.8
    if plain < 0.85:
        return None, white
    soft = cv2.GaussianBlur(gray, (3, 3), 0).astype(np.float32)
    mask = np.abs(soft - med) > 16
    mask = cv2.morphologyEx(mask.view(np.uint8), cv2.MORPH_OPEN, np.ones((3, 3), np.uint8)).astype(bool)
    share = mask.mean()
    if not 0.02 <= share <= 0.95:
        return None, white
    return mask, white


#: Each finding: its code, the step that addresses it (None: no mode does), and the message.
_SUGGEST = {"blur": ("sharpen", "SHARPEN"), "dark": ("light_correction", "LIGHT_CORRECTION"),
            "flat": ("light_correction", "LIGHT_CORRECTION"), "noise": ("denoise", "DENOISE"),
            "small": ("upscale", "UPSCALE")}


def findings(*, blur, brightness, contrast, noise, hi, lo, long_side, tried=()) -> list[tuple[str, str]]:
    """What is wrong with a photo, as (code, message) pairs.

    A message suggests the mode that fixes it unless that step is in
    ``tried`` (then it says the problem remains after it).
    """
    out: list[tuple[str, str]] = []

    def add(code: str, text: str) -> None:
        step, mode = _SUGGEST.get(code, (None, None))
        if step is None:
            out.append((code, text + "."))
        elif step in tried or (step == "upscale" and "upscale_if_small" in tried):
            out.append((code, f"{text}, even after {mode.lower().replace('_', ' ')}."))
        else:
            out.append((code, f"{text}; try {mode}."))

    if blur < 35:
        add("blur", "The photo looks blurry or out of focus")
    if brightness < 70:
        add("dark", "The photo is underexposed (too dark)")
    elif brightness > 215:
        add("bright", "The photo is overexposed (too bright)")
    if contrast < 30:
        add("flat", "The photo has low contrast and looks flat")
    if noise > 6:
        add("noise", "The photo is grainy (visible noise)")
    if hi > 5:
        add("highlights", f"{hi:.0f}% of the photo is blown-out white; detail there is lost")
    if lo > 5:
        add("shadows", f"{lo:.0f}% of the photo is crushed to black; detail there is lost")
    if long_side < 500:
        add("small", f"The photo is small ({long_side}px); marketplaces want at least 500-1000px")
    return out


def _overall(*, blur, brightness, contrast, noise, hi, lo) -> float:
    # a dead zone around mid-grey: a dark shoe or a pale shirt is a choice, not an exposure error
    exposure = 100 - min(max(abs(brightness - 128) - 50, 0) / 0.8, 100)
    contr = min(contrast / 50 * 100, 100)
    clean = 100 - min(max(noise - 2, 0) * 6, 100)
    clip = 100 - min((hi + lo) * 4, 100)
    return float(np.clip(0.35 * blur + 0.2 * exposure + 0.15 * contr + 0.2 * clean + 0.1 * clip, 0, 100))
