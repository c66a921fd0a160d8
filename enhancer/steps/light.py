"""Exposure, tone, white balance and local contrast.

Everything is estimated on a small copy and applied at full resolution with
one per-channel lookup table (plus, only for photos that stay flat, a
luminance gain from CLAHE), so a 12 MP photo costs a few tens of ms. Each
correction is bounded and has a dead zone, so a well-exposed, neutral photo
comes back untouched (the same object).
"""
from __future__ import annotations

import cv2
import numpy as np

from ..context import Context

_ANALYSIS_SIDE = 400
_LUMA = np.array([0.299, 0.587, 0.114], np.float32)

# White balance: casts below this (largest per-channel log-ratio) are taken
# for the scene's own colour (a ginger cat, a brown table) and left alone.
# Beyond _SCENE_CAST the colour is the subject's (a red product filling the
# frame), not the light's: even tungsten under a daylight setting stays below.
_CAST_DEAD_ZONE, _SCENE_CAST, _MAX_GAIN = 0.11, 0.45, 1.6
# Levels: stretch only a clearly compressed range. Clean photos met in
# practice span at least ~180 levels with a white point above ~200 and a black
# point below ~40; anything inside that is taken as intended (low-key, pastel,
# a star field whose few bright points blur below 200).
_WHITE_MIN, _BLACK_MAX, _MIN_RANGE = 190.0, 40.0, 180.0
_MAX_EXPOSURE = 4.0
# Midtones: a photo still this dark after levels gets a bounded gamma lift,
# unless it is mostly black background (night sky, product on black).
_DARK_MEAN, _MID_TARGET, _MIN_GAMMA, _MAX_BLACK_SHARE = 50.0, 90.0, 0.7, 0.5
# Local contrast: only corrected photos still this flat (luminance std).
_FLAT_STD, _CLAHE_BLEND = 20.0, 0.5
# A curve that moves no value by more than this is not worth applying.
_NO_OP_DELTA = 2.0


def light_correction(img: np.ndarray, ctx: Context) -> np.ndarray:
    """Fix exposure, tone, colour cast and flatness; no-op on a well-lit photo.

    Parameters
    ----------
    img : ndarray, uint8, shape (H, W, 3)
        RGB photo.
    ctx : Context
        Unused apart from the contract; the step measures its own statistics.

    Returns
    -------
    ndarray
        The corrected photo, or ``img`` itself when nothing needed fixing.
    """
    x = np.arange(256, dtype=np.float32)
    small = _stats_copy(img)
    # Levels first: an offset (haze, flat contrast) dilutes a cast's colour
    # ratios, so white balance is estimated on the stretched photo.
    levels = levels_curve(small.astype(np.float32), extremes=lambda: _extremes(img))
    stretched = cv2.LUT(small, np.clip(levels + 0.5, 0, 255).astype(np.uint8)).astype(np.float32)
    gains = white_balance_gains(stretched)
    balanced = np.clip(stretched * gains, 0, 255)
    gamma = midtone_gamma(balanced)
    luts = np.stack([255.0 * (np.clip(levels * g, 0, 255) / 255.0) ** gamma for g in gains], axis=-1)
    lut = 255.0 * (x / 255.0) ** gamma
    if np.abs(luts - x[:, None]).max() < _NO_OP_DELTA:
        return img
    # Local contrast only for a photo that needed tone work and is still flat;
    # a low-key or misty photo that is otherwise fine keeps its mood.
    flat = _needs_local_contrast(balanced, lut)
    out = cv2.LUT(img, np.clip(luts + 0.5, 0, 255).astype(np.uint8).reshape(256, 1, 3))
    if flat:
        out = local_contrast(out)
    return out


def white_balance_gains(rgb: np.ndarray) -> np.ndarray:
    """Per-channel gains that remove a colour cast, or ones when there is none.

    Three estimates of the illuminant vote: grey-world (mean colour),
    white-patch (brightest pixels) and grey-edge (mean gradient colour, van de
    Weijer et al. 2007). Each is fooled by a different scene: an orange cat
    or a blue sky fools grey-world, a coloured highlight white-patch, a
    textured coloured surface grey-edge. Per channel the median is used, so
    one fooled estimate is outvoted and never sets the correction alone; a
    real cast moves at least two.
    """
    px = rgb.reshape(-1, 3)
    lum = px @ _LUMA
    ok = (px.max(axis=1) < 250) & (lum > 20)
    if ok.sum() < 100:
        return np.ones(3, np.float32)
    grey_world = px[ok].mean(axis=0)
    # A highlight with one channel clipped still shows the cast's direction
    # (as a lower bound); only fully blown pixels carry no colour.
    lit = (px.min(axis=1) < 250) & (lum > 20)
    top = px[lit][lum[lit] >= np.percentile(lum[lit], 95)]
    white_patch = top.mean(axis=0)
    smooth = cv2.GaussianBlur(rgb, (0, 0), 1.0)
    gx = cv2.Sobel(smooth, cv2.CV_32F, 1, 0)
    gy = cv2.Sobel(smooth, cv2.CV_32F, 0, 1)
    grey_edge = np.sqrt(gx * gx + gy * gy).reshape(-1, 3)[ok].mean(axis=0)
    casts = []
    for est in (grey_world, white_patch, grey_edge):
        c = np.log(np.maximum(est, 1e-3))
        casts.append(c - c.mean())
    cast = np.median(casts, axis=0)
    cast -= cast.mean()
    if not _CAST_DEAD_ZONE <= np.abs(cast).max() <= _SCENE_CAST:
        return np.ones(3, np.float32)
    cast = np.clip(cast, -np.log(_MAX_GAIN), np.log(_MAX_GAIN))
    gains = np.exp(-cast)
    # Keep overall brightness: the levels stage decides exposure.
    return (gains / float(gains @ _LUMA)).astype(np.float32)


def levels_curve(rgb: np.ndarray, *, extremes=None) -> np.ndarray:
    """A 256-entry levels curve, identity unless the tonal range is compressed.

    Whether to stretch is decided on robust percentiles (white point from
    each pixel's brightest channel, so no channel clips; black point from its
    darkest). When stretching, the photo's near-extremes (``extremes``, e.g.
    from :func:`_extremes`) go to 0 and 255: product photos nearly always hold
    a true black and a white somewhere, so this inverts a global exposure or
    contrast loss more exactly than mapping percentiles to guessed targets.
    ``extremes`` is a ``(black, white)`` pair or a callable returning one
    (called only when a stretch is needed).
    """
    x = np.arange(256, dtype=np.float32)
    white = float(np.percentile(rgb.max(axis=-1), 99.5))
    black = float(np.percentile(rgb.min(axis=-1), 0.5))
    span = white - black
    stretch_white = white < _WHITE_MIN or span < _MIN_RANGE
    # Blacks move only when clearly lifted: shifting a deep background by even
    # a few levels is visible (and SSIM punishes it hard in dark regions).
    stretch_black = black > _BLACK_MAX
    if not (stretch_white or stretch_black):
        return x
    if callable(extremes):
        extremes = extremes()
    lo, hi = extremes if extremes is not None else (black, white)
    old_white, new_white = (hi, 255.0) if stretch_white else (white, white)
    # Without a lifted black, exposure is a pure gain (pivot at 0), as in a camera.
    old_black, new_black = (lo, 0.0) if stretch_black else (0.0, 0.0)
    if old_white - old_black < 8:
        return x
    gain = min((new_white - new_black) / (old_white - old_black), _MAX_EXPOSURE)
    return np.clip((x - old_black) * gain + new_black, 0, 255)


def _stats_copy(img: np.ndarray) -> np.ndarray:
    """A uint8 copy of at most ~_ANALYSIS_SIDE px (one integer-factor area resize:
    the fast path in OpenCV); statistics need no exact size."""
    h, w = img.shape[:2]
    k = int(np.ceil(max(h, w) / _ANALYSIS_SIDE))
    if k <= 1:
        return img
    return cv2.resize(img, (max(1, w // k), max(1, h // k)), interpolation=cv2.INTER_AREA)


def _extremes(img: np.ndarray) -> tuple[float, float]:
    """Near-extreme levels (0.01 % tails) of the darkest and brightest channel.

    Taken on a strided (not averaged) full-resolution view so averaging does
    not pull the extremes in, and a few hot or dead pixels do not count.
    """
    step = max(1, int(np.sqrt(img.shape[0] * img.shape[1] / 2_000_000)))
    view = np.ascontiguousarray(img[::step, ::step])
    chans = cv2.split(view)
    mx = cv2.max(cv2.max(chans[0], chans[1]), chans[2])
    mn = cv2.min(cv2.min(chans[0], chans[1]), chans[2])
    q = 1e-4
    return _hist_quantile(mn, q), _hist_quantile(mx, 1 - q)


def _hist_quantile(ch: np.ndarray, q: float) -> float:
    cum = np.cumsum(cv2.calcHist([ch], [0], None, [256], [0, 256]).ravel())
    return float(np.searchsorted(cum, q * cum[-1]))


def midtone_gamma(rgb: np.ndarray) -> float:
    """Gamma (< 1 lifts) for a photo still dark after levels; 1 otherwise.

    Skipped when most of the frame is black background (night sky, product
    on black), whose darkness is intended.
    """
    lum = rgb @ _LUMA
    mean = float(lum.mean())
    # Below 32 rather than 0: noise on black, clipped at 0, lifts it to ~10-20.
    if mean >= _DARK_MEAN or float((lum < 32).mean()) >= _MAX_BLACK_SHARE:
        return 1.0
    return float(max(np.log(_MID_TARGET / 255) / np.log(max(mean, 1.0) / 255), _MIN_GAMMA))


def _needs_local_contrast(rgb: np.ndarray, lut: np.ndarray) -> bool:
    lum = np.interp(rgb @ _LUMA, np.arange(256, dtype=np.float32), lut)
    return float(lum.std()) < _FLAT_STD


def local_contrast(img: np.ndarray, *, blend: float = _CLAHE_BLEND) -> np.ndarray:
    """Mild CLAHE on luminance, blended, applied as a per-pixel gain to RGB.

    Working on luminance keeps hues; the blend keeps the effect gentle.
    """
    y = cv2.cvtColor(img, cv2.COLOR_RGB2GRAY)
    tiles = max(2, min(8, max(img.shape[:2]) // 128))
    eq = cv2.createCLAHE(clipLimit=1.5, tileGridSize=(tiles, tiles)).apply(y)
    yf = y.astype(np.float32)
    target = yf + blend * (eq.astype(np.float32) - yf)
    gain = (target + 1.0) / (yf + 1.0)
    out = img.astype(np.float32) * gain[..., None]
    return np.clip(out + 0.5, 0, 255).astype(np.uint8)
