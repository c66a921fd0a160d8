"""Exposure, tone, white balance and local contrast.

Everything is estimated on a small copy (plus a strided look at the
full-resolution extremes) and applied at full resolution with one
per-channel lookup table (plus, only for photos that stay flat, a
luminance gain from CLAHE), so a 12 MP photo costs a few tens of ms. Each
correction is bounded and has a dead zone, so a well-exposed, neutral photo
comes back untouched (the same object).
"""
from __future__ import annotations

import functools
from typing import NamedTuple

import cv2
import numpy as np

from .._numeric import percentile
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
# Within this of _WHITE_MIN the full-resolution white decides (stretch below
# half of it: an exposure loss's 192, not chelsea's 212 or a star field's 254).
_NEAR_WHITE = 20.0
# A black moves below _BLACK_MAX too when it is lifted relative to the white
# (a fade's offset; an exposure loss keeps the ratio, clean photos' darkest
# pixels sit below 0.02 of their white) and the range is compressed or no
# pixel reaches _FADED_WHITE either (both ends pulled in).
_BLACK_SHARE, _FADED_WHITE = 0.08, 245.0
_MAX_EXPOSURE = 4.0
# Per-channel levels need the extremes' cast and grey-edge's to point alike
# (cosine), and a cast of at least _MIN_TINT (log ratio) to bother.
_CAST_AGREEMENT, _MIN_TINT = 0.7, 0.03
# ...or, in an underexposed photo, a cast up to this (centred log ratio) in the whites.
_DARK_CAST = 0.15
# Whites tinted by at most this (centred log ratio; a light's colour, where
# grey-edge agrees) are balanced even when nothing else needs levels.
_LIGHT_CAST = 0.15
# ...or a lifted black whose tint matches the whites' (log ratio, or relative
# range difference) and spans at least _MIN_BLACK_TINT levels.
_TINT_MATCH, _MIN_BLACK_TINT = 0.03, 4.0
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
        ``ctx.report.noise``: how far noise (or a denoise before this step)
        may have moved the extremes; the step measures everything else itself.

    Returns
    -------
    ndarray
        The corrected photo, or ``img`` itself when nothing needed fixing.
    """
    x = np.arange(256, dtype=np.float32)
    small = _stats_copy(img)
    extremes = functools.cache(lambda: _extremes(img))
    # Levels first: an offset (haze, flat contrast) dilutes a cast's colour
    # ratios, so white balance is estimated on the stretched photo.
    noise = float(ctx.report.noise) if ctx is not None and ctx.report is not None else 0.0
    levels, tint = levels_curves(small.astype(np.float32), extremes=extremes, noise=noise)
    stretched = cv2.LUT(small, _lut_u8(levels)).astype(np.float32)
    gains = white_balance_gains(stretched)
    whites_balanced = tint is not None  # per-channel white points took a cast out
    whites = extremes().channel_whites if tint is not None else None
    if tint is not None and np.sum(whites >= whites.max() - 1) >= 2:
        # Channels sharing the top level were clipped there (a ceiling the
        # flattening moved), so the extremes understate a cast that boosted
        # one of them; white balance over the photo then sees more of it.
        # Keep whichever removes more of the same cast.
        shared, _ = levels_curves(small.astype(np.float32), extremes=extremes, noise=noise,
                                   per_channel_whites=False)
        shared_stretched = cv2.LUT(small, _lut_u8(shared)).astype(np.float32)
        shared_gains = white_balance_gains(shared_stretched)
        cast = _log_chroma(1.0 / shared_gains)
        if np.abs(cast).max() > np.abs(tint).max() and _cosine(cast, tint) >= _CAST_AGREEMENT:
            levels, stretched, gains = shared, shared_stretched, shared_gains
            whites_balanced = False
    if whites_balanced and np.any(gains != 1) and _cosine(_log_chroma(1.0 / gains), tint) >= _CAST_AGREEMENT:
        # The per-channel whites already took the cast out; what white balance
        # still sees in the same direction is the subject's own colour (a red
        # fundus, a ginger cat): removing it again would over-correct.
        gains = np.ones(3, np.float32)
    if not whites_balanced and np.any(gains != 1):
        ext = extremes()
        wc = _log_chroma(ext.channel_whites)
        if ext.white >= _FADED_WHITE and (np.abs(wc).max() < _MIN_TINT
                                          or _cosine(wc, _log_chroma(1.0 / gains)) < 0):
            # A bright white in the photo is neutral (or tinted the other
            # way): the light was not coloured. What white balance sees is
            # the scene's colour, or colour a tone curve exaggerated.
            gains = np.ones(3, np.float32)
    balanced = np.clip(stretched * gains, 0, 255)
    gamma = midtone_gamma(balanced)
    luts = 255.0 * (np.clip(levels * gains, 0, 255) / 255.0) ** gamma
    lut = 255.0 * (x / 255.0) ** gamma
    if np.abs(luts - x[:, None]).max() < _NO_OP_DELTA:
        return img
    # Local contrast only for a photo that needed tone work and is still flat;
    # a low-key or misty photo that is otherwise fine keeps its mood.
    flat = _needs_local_contrast(balanced, lut)
    out = cv2.LUT(img, _lut_u8(luts))
    if flat:
        out = local_contrast(out)
    return out


def _lut_u8(curves: np.ndarray) -> np.ndarray:
    """(256, 3) float curves as the (256, 1, 3) uint8 table cv2.LUT applies per channel."""
    return np.clip(curves + 0.5, 0, 255).astype(np.uint8).reshape(256, 1, 3)


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
    hi, lo = _channel_max_min(rgb)
    ok = (hi.ravel() < 250) & (lum > 20)
    if ok.sum() < 100:
        return np.ones(3, np.float32)
    grey_world = _masked_mean(rgb, ok)
    # A highlight with one channel clipped still shows the cast's direction
    # (as a lower bound); only fully blown pixels carry no colour.
    lit = (lo.ravel() < 250) & (lum > 20)
    top = px[lit][lum[lit] >= np.percentile(lum[lit], 95)]
    casts = [_log_chroma(est) for est in (grey_world, top.mean(axis=0), _edge_colour(rgb, ok))]
    cast = np.median(casts, axis=0)
    cast -= cast.mean()
    if not _CAST_DEAD_ZONE <= np.abs(cast).max() <= _SCENE_CAST:
        return np.ones(3, np.float32)
    cast = np.clip(cast, -np.log(_MAX_GAIN), np.log(_MAX_GAIN))
    gains = np.exp(-cast)
    # Keep overall brightness: the levels stage decides exposure.
    return (gains / float(gains @ _LUMA)).astype(np.float32)


def levels_curves(rgb: np.ndarray, *, extremes=None, per_channel_whites: bool = True,
                  noise: float = 0.0) -> tuple[np.ndarray, np.ndarray | None]:
    """Per-channel levels curves, shape (256, 3), and the cast they remove.

    Identity unless the tonal range is compressed or faded.

    Whether to stretch is decided on robust percentiles (white point from
    each pixel's brightest channel, so no channel clips; black point from its
    darkest), and a black is judged lifted relative to the white: a fade or
    haze lifts it in proportion, an exposure loss does not. When stretching, the near-extremes go to 0 and 255: photos
    nearly always hold a true black and a white somewhere, so this inverts a
    global exposure or contrast loss more exactly than mapping percentiles to
    guessed targets.

    That black and white are neutral, so channels whose extremes differ show
    a cast or a tinted fade, and each channel gets its own points; but only
    when grey-edge, which a coloured subject fools far less than extremes,
    sees the same cast (a ginger cat has no neutral white), or when a lifted
    black carries the whites' tint (see :func:`_same_tint`). With
    ``per_channel_whites=False`` only the blacks are per channel and the rest
    of the cast is left to white balance. The cast the extremes show is
    returned as centred log gains, or ``None`` when the points are shared.

    ``extremes`` is an :class:`_Extremes` or a callable returning one (called
    only when a stretch is needed), as :func:`_extremes` does. ``noise`` is
    the photo's noise sigma: a coloured black smaller than that is no
    evidence of an offset (noise and denoising move single channels' extremes).
    """
    x = np.arange(256, dtype=np.float32)
    identity = np.repeat(x[:, None], 3, axis=1)
    hi, lo = _channel_max_min(rgb)
    white = float(np.percentile(hi, 99.5))
    floor, black = (float(v) for v in np.percentile(lo, [0.01, 0.5]))
    span = white - black
    stretch_white = white < _WHITE_MIN or span < _MIN_RANGE
    # The small copy's averaging pulls whites in (a star field's points most):
    # near the line, the full-resolution extremes decide.
    near_white = not stretch_white and white < _WHITE_MIN + _NEAR_WHITE
    # Blacks move only when clearly lifted: shifting a deep background by even
    # a few levels is visible (and SSIM punishes it hard in dark regions).
    stretch_black = black > _BLACK_MAX
    # A fade or haze lifts the black in proportion to the range it leaves,
    # while an exposure loss keeps black and white in their ratio; the small
    # copy's floor (averaging only raises it) screens before the extremes confirm.
    maybe_faded = floor > _BLACK_SHARE * white
    # A coloured offset (flare, a scanner's or a filter's tint) moves each
    # channel's black and white by the same amount, where photos hold a
    # neutral black and white; the range can stay wide.
    # (screened on the blacks: the small copy's averaging pulls its whites in)
    blacks = np.array([percentile(rgb[..., c], 0.5) for c in range(3)])
    maybe_tinted = float(blacks.max() - blacks.min()) >= 2 * _MIN_BLACK_TINT
    # A cast by gains (the light's colour) tints the whites while the
    # brightest channel can still reach the top: nothing else flags it.
    whites = np.array([percentile(rgb[..., c], 99.5) for c in range(3)])
    maybe_cast = float(np.abs(_log_chroma(whites)).max()) >= _MIN_TINT
    if not (stretch_white or stretch_black or maybe_faded or maybe_tinted or maybe_cast or near_white):
        return identity, None
    if extremes is None:
        extremes = _Extremes(black, white, np.full(3, black), np.full(3, white))
    ext = extremes() if callable(extremes) else extremes
    stretch_white = stretch_white or (near_white and ext.white < _WHITE_MIN + _NEAR_WHITE / 2)
    if maybe_tinted and _offset_tint(ext.channel_blacks, ext.channel_whites, noise=noise):
        # The offset comes off each channel and one gain for all (so a
        # subject's own colour is kept) brings the widest span to 0-255. A
        # channel spanning less than that is the subject's colour at either
        # end, so the difference is split: its black sits above 0 by as much
        # as its white below 255 (coffee's red: 8 and 249). A cast left over
        # is white balance's to remove.
        spans = ext.channel_whites - ext.channel_blacks
        gain = min(255.0 / float(spans.max()), _MAX_EXPOSURE)
        lo = ext.channel_blacks - (spans.max() - spans) / 2
        return np.clip((x[:, None] - lo) * gain, 0, 255).astype(np.float32), None
    if not (stretch_white or stretch_black or maybe_faded):
        # Only the whites' tint to go on: a light's colour shifts the whites
        # by a modest gain; whites further apart are the subject's own colour
        # (a red fundus, a sunset) and stay.
        if not maybe_cast or float(np.abs(_log_chroma(ext.channel_whites)).max()) > _LIGHT_CAST:
            return identity, None
    # Judged on the extremes, the levels actually moved: no pixel of a clean
    # photo near the floor, and (when the range is not compressed otherwise)
    # none near the ceiling either: both ends pulled in. A dark product on
    # white keeps its white, a night photo's noise reaches the floor.
    if ext.black > _BLACK_SHARE * ext.white and (stretch_white or ext.white < _FADED_WHITE):
        stretch_white = stretch_black = True
    lo, hi = np.full(3, ext.black, np.float32), np.full(3, ext.white, np.float32)
    old_white, new_white = (hi, 255.0) if stretch_white else (np.full(3, white, np.float32), white)
    # Bounded: a channel's white may sit below the brightest by a gain of at
    # most _MAX_GAIN; a smaller difference than _MIN_TINT is not worth it.
    hi_c = np.maximum(ext.channel_whites, ext.channel_whites.max() / _MAX_GAIN)
    cast = _log_chroma(hi_c)
    tint = None
    # Both ends of a lifted range tinted alike (by a gain or an offset) are two
    # witnesses of a neutral black and white; grey-edge, which a starfield's
    # coloured stars or an offset's flat colour fool, is not needed then.
    both_ends = stretch_black and _same_tint(ext.channel_blacks, hi_c)
    # An underexposed photo (white point well below the top, black not lifted) with a mild cast
    # in its whites: a catalog photo's backdrop or highlights are neutral, and
    # scaling all channels alike would keep the cast, so the whites alone are
    # witness enough (grey-edge, which a dark photo's weak gradients make
    # unreliable, is not asked). A strong tint stays the subject's (a red dress).
    dark_cast = (white < _WHITE_MIN and ext.black <= _BLACK_SHARE * ext.white  # dark, not faded
                 and np.abs(cast).max() <= _DARK_CAST)
    if np.abs(cast).max() >= _MIN_TINT and (
            both_ends or dark_cast or _cosine(cast, _log_chroma(_edge_colour(rgb))) >= _CAST_AGREEMENT):
        tint = cast
        # A coloured black is a tinted fade or haze only where the whites show
        # the same tint (a fade lifts both ends alike, by a fraction of the
        # whites' spread); a stained slide's red tissue under white light is
        # the subject's colour and keeps it.
        blacks = ext.channel_blacks
        lift, spread = blacks - blacks.min(), hi_c - hi_c.min()
        lo = np.full(3, blacks.min(), np.float32)
        if _cosine(lift, spread) >= _CAST_AGREEMENT:
            lo = _tinted_blacks(blacks, hi_c)
        # A tinted fade can keep the brightest channel's range wide: judge them all.
        stretch_white = stretch_white or float((hi_c - lo).mean()) < _MIN_RANGE
        if stretch_white:
            old_white, new_white = (hi_c if per_channel_whites else hi), 255.0
        elif per_channel_whites:  # the tint goes, the white level stays
            old_white, new_white = hi_c, float(hi_c.max())
    # Without a lifted black, exposure is a pure gain (pivot at 0), as in a camera.
    old_black = lo if stretch_black else np.zeros(3, np.float32)
    if (old_white - old_black).min() < 8:
        return identity, None
    gain = np.minimum(new_white / (old_white - old_black), _MAX_EXPOSURE)
    return np.clip((x[:, None] - old_black) * gain, 0, 255).astype(np.float32), tint


def _same_tint(blacks: np.ndarray, whites: np.ndarray) -> bool:
    """Whether the black and white extremes carry one tint: the same colour
    ratio (a cast after the fade) or the same level difference (a coloured
    offset) between the two channels :func:`_black_pair` trusts, a tint of
    more than a level or two."""
    pair = _black_pair(blacks, whites)
    if pair is None or abs(blacks[pair[0]] - blacks[pair[1]]) < _MIN_BLACK_TINT:
        return False
    (ba, bb), (wa, wb) = blacks[list(pair)], whites[list(pair)]
    ratio_gap = abs(float(np.log(max(ba, 1.0) / max(bb, 1.0)) - np.log(wa / wb)))
    offset_gap = abs(float((wa - ba) - (wb - bb)))
    return ratio_gap <= _TINT_MATCH or offset_gap <= _TINT_MATCH * float((wa - ba + wb - bb) / 2)


def _offset_tint(blacks: np.ndarray, whites: np.ndarray, *, noise: float = 0.0) -> bool:
    """Whether every channel spans the same range from a black that differs
    by more than a few levels: one coloured offset over a neutral black and
    white. A stained slide's coloured shadows under white light (whites
    alike, so the spans differ) or a subject's colour do not qualify."""
    spans = whites - blacks
    tint = float(blacks.max() - blacks.min())
    # A photo's own spans differ by a few % (coffee's: 5 %). A large coloured
    # black, one channel still near black, and whites tinted the same way are
    # evidence enough to allow that much. (With every black lifted it may be
    # a tinted fade, whose spans differ by its cast: see levels_curves; with
    # whites alike, a subject's coloured shadows on a pure white backdrop.)
    loose = (tint >= 3 * _MIN_BLACK_TINT and blacks.min() <= _BLACK_MAX / 4
             and _cosine(blacks - blacks.mean(), whites - whites.mean()) >= 0.5)
    tol = 2 * _TINT_MATCH if loose else _TINT_MATCH
    return (tint >= max(2 * _MIN_BLACK_TINT, noise) and spans.min() > 0
            and float(spans.max() - spans.min()) <= tol * float(spans.mean()))


def _black_pair(blacks: np.ndarray, whites: np.ndarray) -> tuple[int, int] | None:
    """The two channels whose blacks best show a fade's tint: a subject's
    colour only raises a black (coffee's red-brown shadows), so the two that
    sit lowest relative to their whites, unless their whites match (then the
    third white carries the tint). ``None`` when all whites match."""
    a, b, c = (int(i) for i in np.argsort(blacks / whites))
    if abs(whites[a] - whites[b]) < 8:
        b = c
    return None if abs(whites[a] - whites[b]) < 8 else (a, b)


def _tinted_blacks(blacks: np.ndarray, whites: np.ndarray) -> np.ndarray:
    """Each channel's black point under a fade that tinted both ends.

    A fade then a cast scales each channel's black with its white; a tinted
    offset shifts both alike; a cast then a fade leaves the black neutral.
    All put the blacks on one line ``black = k * white + m`` with k in [0, 1],
    drawn through the :func:`_black_pair` channels; no channel's black point
    goes above its own black.
    """
    pair = _black_pair(blacks, whites)
    if pair is None:  # no tint to scale with: the neutral part only
        return np.full(3, blacks.min(), np.float32)
    a, b = pair
    k = float(np.clip((blacks[a] - blacks[b]) / (whites[a] - whites[b]), 0.0, 1.0))
    m = min(blacks[a] - k * whites[a], blacks[b] - k * whites[b])
    return np.minimum(k * whites + m, blacks).astype(np.float32)


def _log_chroma(rgb_triplet: np.ndarray) -> np.ndarray:
    c = np.log(np.maximum(np.asarray(rgb_triplet, np.float32), 1e-3))
    return c - c.mean()


def _cosine(a: np.ndarray, b: np.ndarray) -> float:
    return float(a @ b) / (float(np.linalg.norm(a) * np.linalg.norm(b)) + 1e-9)


def _edge_colour(rgb: np.ndarray, mask: np.ndarray | None = None) -> np.ndarray:
    """Grey-edge illuminant estimate: the mean gradient colour. Offsets
    cancel in gradients, so it needs no levels first."""
    smooth = cv2.GaussianBlur(rgb, (0, 0), 1.0)
    gx = cv2.Sobel(smooth, cv2.CV_32F, 1, 0)
    gy = cv2.Sobel(smooth, cv2.CV_32F, 0, 1)
    mag = np.sqrt(gx * gx + gy * gy)
    if mask is None:
        hi, lo = _channel_max_min(rgb)
        mask = ((hi < 250) & (lo > 5)).ravel()
    return _masked_mean(mag, mask) if mask.sum() >= 100 else np.ones(3, np.float32)


def _channel_max_min(rgb: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each pixel's brightest and darkest channel (cv2: far faster than a
    numpy reduction over the 3-long last axis)."""
    r, g, b = cv2.split(rgb)
    return cv2.max(cv2.max(r, g), b), cv2.min(cv2.min(r, g), b)


def _masked_mean(rgb: np.ndarray, mask: np.ndarray) -> np.ndarray:
    return np.array(cv2.mean(rgb, mask=mask.reshape(rgb.shape[:2]).astype(np.uint8))[:3], np.float32)


def _stats_copy(img: np.ndarray) -> np.ndarray:
    """A uint8 copy of at most ~_ANALYSIS_SIDE px (one integer-factor area resize:
    the fast path in OpenCV); statistics need no exact size."""
    h, w = img.shape[:2]
    k = int(np.ceil(max(h, w) / _ANALYSIS_SIDE))
    if k <= 1:
        return img
    return cv2.resize(img, (max(1, w // k), max(1, h // k)), interpolation=cv2.INTER_AREA)


class _Extremes(NamedTuple):
    black: float  # of the darkest channel
    white: float  # of the brightest channel
    channel_blacks: np.ndarray
    channel_whites: np.ndarray


def _extremes(img: np.ndarray) -> _Extremes:
    """Near-extreme levels (0.01 % tails) of the darkest and brightest channel,
    and of each channel.

    Taken on whole rows at a stride (not averaged) so averaging does not pull
    the extremes in, and a few hot or dead pixels do not count. Rows, not a
    grid: OpenCV reads a row-strided view in place, where gathering a grid
    would copy (a third of this function's time on 12 MP).
    """
    step = max(1, int(img.shape[0] * img.shape[1] / 2_000_000))
    chans = cv2.split(img[::step])
    mx = cv2.max(cv2.max(chans[0], chans[1]), chans[2])
    mn = cv2.min(cv2.min(chans[0], chans[1]), chans[2])
    q = 1e-4
    lo_c = [_hist_quantile(c, q) for c in chans]
    hi_c = [_hist_quantile(c, 1 - q) for c in chans]
    return _Extremes(_hist_quantile(mn, q), _hist_quantile(mx, 1 - q),
                     np.array(lo_c, np.float32), np.array(hi_c, np.float32))


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
