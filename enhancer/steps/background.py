"""Background removal for studio-like product shots (classic CV, no model download).

Work happens on a copy about 640 px on its longest side; only the final matte
is brought back to full size (guided upsampling), so a 12 MP photo costs about
as much as a small one.

1. Background model: a smooth quadratic surface per Lab channel, fitted
   robustly to the border ring. It follows vignettes, grey sweeps and
   coloured paper with a gradient, which a single border colour would not.
2. Evidence: chroma distance to the model, lightness difference (darker-only
   differences of the same chroma are shadow-like) and local texture
   (shadows are smooth, products have edges).
3. GrabCut on the small copy, seeded from that evidence (sure/probable
   foreground and background); confident shadows are seeded as background.
4. Clean-up: keep the main components, fill holes that are not
   background-coloured (or are small), then a feathered matte upsampled with
   a guided filter so the edge follows the full-resolution image.

A learned saliency matte (U^2-Net-p, :mod:`._saliency`) is fused in:

* on a studio backdrop the classic evidence keeps its precision (shadows,
  holes, exact edges) and the learned matte only rescues what the backdrop
  model cannot see: a white product on a white sweep, a light panel touching
  a light backdrop. Where the network is sure, pixels are never seeded as
  background and its core is seeded as product; GrabCut settles the rest.
* anywhere else (a busy border) the learned matte decides, cleaned to the
  product's components, and the same guided upsampling refines its edge.
"""
from __future__ import annotations

import cv2
import numpy as np

from ..context import Context
from ..imageio import shrink
from ._fullres import for_each_band
from ._saliency import saliency

WORK_SIDE = 640
RING = 0.03          # border ring used for the background model (share of the side)
GRABCUT_ITERS = 3
FLAT_K = 0.035        # std of the brightness ratio inside a flat product part (a shadow spreads more)
SHARP_EDGE = 50.0     # Sobel magnitude along a region's border that marks a crisp edge, not a shadow
MIN_COMPONENT = 0.12  # components at least this share of the largest are kept
MIN_PART = 0.003      # smaller ones down to this share are kept when confidently foreground
SALIENT = 0.5         # learned-matte probability above which a pixel counts as product
SALIENT_CORE = 0.9    # ... and above which (eroded) it seeds sure product on a studio backdrop
SALIENT_LOW, SALIENT_HIGH = 0.3, 0.7  # hysteresis on the learned matte where it alone decides
LEAK = 1.6            # a backdrop mask this many times the learned one (and unlike it) leaked
MIN_SALIENT = 0.004   # a salient region smaller than this share of the frame is no product
MAX_SALIENT = 0.92    # ... nor one that covers nearly all of it (nothing stands out)


def remove_background(img: np.ndarray, ctx: Context) -> np.ndarray:
    """Put the product mask in ``ctx.alpha`` (255 = product); pixels are unchanged.

    Returns the input object unchanged when the image already has a real
    alpha channel or no studio-like background is found (a busy border).
    """
    if ctx.alpha is not None and (ctx.alpha < 250).mean() > 0.01:
        return img  # already cut out: keep the uploader's matte
    alpha = product_matte(img)
    if alpha is None:
        ctx.notes.append("Background removal found no product standing out from the background, so "
                         "nothing was cut; retake the photo with the product filling more of the frame.")
        return img
    ctx.alpha = alpha
    return img.copy()  # a new object so the step counts as applied; pixels unchanged


def product_matte(img: np.ndarray) -> np.ndarray | None:
    """The product's alpha matte (H, W) uint8, or None when no product stands out.

    Raises
    ------
    ModelError
        If the packaged saliency model is missing or corrupt.
    """
    h, w = img.shape[:2]
    f = min(1.0, WORK_SIDE / max(h, w))
    small = shrink(img, (max(1, round(w * f)), max(1, round(h * f)))) if f < 1 else img
    sal = cv2.resize(saliency(small), (small.shape[1], small.shape[0]), interpolation=cv2.INTER_LINEAR)
    learned = _salient_mask(sal)
    model = _background_model(small.astype(np.float32))
    mask = _segment(small, model, sal) if model is not None else None
    if mask is not None and learned is not None and _leaks(mask, learned):
        mask = None  # a regular texture (brick, a printed page) passed for a backdrop
    if mask is None:
        mask = learned
    if mask is None:
        return None
    return _upsample_matte(mask, img, small)


def _leaks(classic: np.ndarray, learned: np.ndarray) -> bool:
    """The backdrop model's mask spills far beyond the learned one: the border only looked plain."""
    inter = np.count_nonzero(classic & learned)
    c, l_ = np.count_nonzero(classic), np.count_nonzero(learned)
    return c > LEAK * l_ and inter / max(1, c + l_ - inter) < 0.6


def _salient_mask(sal: np.ndarray) -> np.ndarray | None:
    """The learned matte alone, reduced to the product's components; None when nothing stands out.

    Uncertain pixels count when they touch confident ones (hysteresis: a
    product part close in colour to its surroundings). A product shot frames
    the whole product, so a salient region cut by the frame (the scene's own
    subject) loses to one that is not, and a second part is kept only when it
    is as large as the main one and inside the frame too (a pair of shoes).
    """
    h, w = sal.shape
    n, labels, stats, _ = cv2.connectedComponentsWithStats((sal > SALIENT_LOW).astype(np.uint8), connectivity=8)
    if n <= 1:
        return None
    peak = np.zeros(n, np.float32)
    np.maximum.at(peak, labels.ravel(), sal.ravel())
    x, y, bw, bh, area = (stats[1:, i] for i in range(5))
    r = max(2, round(0.01 * min(h, w)))
    cut = (x < r) | (y < r) | (x + bw > w - r) | (y + bh > h - r)
    valid = peak[1:] > SALIENT_HIGH
    if not valid.any():
        return None
    score = np.where(valid, area * np.where(cut, 0.3, 1.0), -1.0)
    main = int(np.argmax(score))
    keep = valid & ~cut & (area >= 0.5 * area[main])
    keep[main] = True
    mask = np.isin(labels, np.flatnonzero(keep) + 1)
    if not MIN_SALIENT <= mask.mean() <= MAX_SALIENT:
        return None
    return mask


def _ring(shape: tuple[int, int]) -> np.ndarray:
    h, w = shape
    r = max(2, int(round(RING * min(h, w))))
    ring = np.zeros((h, w), bool)
    ring[:r], ring[-r:], ring[:, :r], ring[:, -r:] = True, True, True, True
    return ring


def _design(h: int, w: int, ys: np.ndarray, xs: np.ndarray) -> np.ndarray:
    y = ys / max(1, h - 1) * 2 - 1
    x = xs / max(1, w - 1) * 2 - 1
    return np.stack([np.ones_like(x), x, y, x * x, y * y, x * y], axis=1)


def _background_model(rgb: np.ndarray) -> np.ndarray | None:
    """Robust quadratic fit (per RGB channel) of the border; None when it is not plain."""
    h, w = rgb.shape[:2]
    ys, xs = np.nonzero(_ring((h, w)))
    step = max(1, len(ys) // 6000)
    ys, xs = ys[::step], xs[::step]
    vals = rgb[ys, xs].astype(np.float64)
    A = _design(h, w, ys.astype(np.float64), xs.astype(np.float64))
    keep = np.ones(len(ys), bool)
    for _ in range(4):  # iteratively drop the product (and its shadow) where they touch the border
        coef, *_ = np.linalg.lstsq(A[keep], vals[keep], rcond=None)
        res = np.linalg.norm(vals - A @ coef, axis=1)
        s = max(1.0, 1.4826 * float(np.median(res[keep])))
        keep = res < max(3.0 * s, 4.0)
    if keep.mean() < 0.55 or np.median(res[keep]) > 12:
        return None  # most of the border is not a plain background: not a studio shot
    # The surface c0 + c1 x + c2 y + c3 x^2 + c4 y^2 + c5 xy, evaluated
    # separably (row terms + column terms + the cross term): a (h*w, 6) float64
    # design matrix would cost ~0.1 s at the working size.
    x = np.linspace(-1.0, 1.0, w) if w > 1 else np.full(1, -1.0)
    y = np.linspace(-1.0, 1.0, h) if h > 1 else np.full(1, -1.0)
    c = coef.astype(np.float64)
    rows = (c[0] + np.outer(x, c[1]) + np.outer(x * x, c[3])).astype(np.float32)   # (w, 3)
    cols = (np.outer(y, c[2]) + np.outer(y * y, c[4])).astype(np.float32)           # (h, 3)
    out = np.multiply.outer(y.astype(np.float32), np.outer(x, c[5]).astype(np.float32))  # (h, w, 3)
    out += rows[None]
    out += cols[:, None]
    return out


def _segment(small: np.ndarray, model: np.ndarray, sal: np.ndarray) -> np.ndarray | None:
    h, w = small.shape[:2]
    p = small.astype(np.float32)
    bg = np.maximum(model, 1.0)
    # A shadow scales the background by k < 1 and keeps its chromaticity (in
    # sRGB too: a power law keeps channel ratios), so split every pixel into
    # a brightness ratio k and a chroma angle away from the background colour.
    k = (p * bg).sum(-1) / (bg * bg).sum(-1)
    ang = np.linalg.norm(p - k[..., None] * bg, axis=-1) / (np.maximum(k, 0.05) * np.linalg.norm(bg, axis=-1))
    ring = _ring((h, w))
    k_noise = max(0.008, 1.4826 * float(np.median(np.abs(k[ring] - np.median(k[ring])))))
    a_noise = max(0.004, 1.4826 * float(np.median(ang[ring])))
    grey = cv2.cvtColor(small, cv2.COLOR_RGB2GRAY).astype(np.float32)
    textured = _textured(grey, ring, 2.0, 1.5)  # wide: smooth-ish product areas count as detail
    fine = _textured(grey, ring, 1.0, 1.0)      # narrow: a shadow touching the product edge stays smooth

    a_hi, a_lo = max(0.09, 9 * a_noise), max(0.03, 4 * a_noise)
    k_lo = 3 * k_noise + 0.01
    shadow_colour = (k > 0.5) & (k < 1 - k_lo) & (ang < a_lo)
    shadow = shadow_colour & ~textured
    plain = (np.abs(1 - k) < k_lo) & (ang < a_lo)  # background-coloured, detail or not
    crisp = _sharp_bounded(shadow, plain, grey, k)
    shadow &= ~crisp
    # shadow-coloured and smooth at the fine scale, detailed only at the wide
    # one: the shadow just next to the product's edge. Left for GrabCut to judge.
    fringe = shadow_colour & textured & ~fine
    brighter = k > 1 + max(0.04, 5 * k_noise)
    sure_fg = (ang > a_hi) | (k < 0.35) | brighter | (textured & ~fringe & ((np.abs(1 - k) > 0.08) | (ang > a_lo)))
    maybe_fg = (((ang > a_lo) | (k < 0.5) | (k > 1 + k_lo) | textured) & ~fringe) | crisp
    sure_bg = ((np.abs(1 - k) < k_lo) & (ang < a_lo) & ~textured) | shadow
    strength = np.maximum(ang / a_lo, np.where(shadow, 0.0, np.abs(1 - k) / k_lo))

    # The learned matte rescues what the backdrop model cannot see (a white product on
    # white, a light panel on a light backdrop): where the network says "product" no
    # pixel is sure background, and its eroded core is sure product.
    learned = sal > SALIENT
    learned_core = cv2.erode((sal > SALIENT_CORE).astype(np.uint8), np.ones((5, 5), np.uint8)).astype(bool)
    sure_fg |= learned_core
    maybe_fg |= learned
    sure_bg &= ~learned
    if sure_fg.sum() < 0.001 * h * w:
        return None
    gc = np.full((h, w), cv2.GC_PR_BGD, np.uint8)
    gc[maybe_fg] = cv2.GC_PR_FGD
    gc[sure_bg] = cv2.GC_BGD  # shadows included: GrabCut would otherwise take them for a dark product
    # the sure foreground is eroded a little: JPEG ringing and soft edges are not sure
    core = cv2.erode(sure_fg.astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool)
    gc[core] = cv2.GC_FGD
    gc[ring & ~sure_fg] = cv2.GC_BGD
    _grabcut_roi(small, gc)
    mask = (gc == cv2.GC_FGD) | (gc == cv2.GC_PR_FGD)
    mask = cv2.morphologyEx(mask.astype(np.uint8), cv2.MORPH_OPEN, np.ones((3, 3), np.uint8)).astype(bool)
    mask = _main_components(mask, sure_fg)
    if mask is None:
        return None
    return _fill_holes(mask, strength)


def _sharp_bounded(cand: np.ndarray, plain: np.ndarray, grey: np.ndarray, k: np.ndarray) -> np.ndarray:
    """Shadow-coloured regions whose border with the plain background is a sharp step.

    A cast shadow fades into the background over many pixels; a smooth grey
    part of the product (a sky in a print, a matte panel) meets it at a
    crisp edge. Judged per region from the gradient along that border.
    """
    grad = np.hypot(cv2.Sobel(grey, cv2.CV_32F, 1, 0, ksize=3), cv2.Sobel(grey, cv2.CV_32F, 0, 1, ksize=3))
    # crisp edges split regions: a product part and its own shadow touch, but along an edge
    cuts = cv2.dilate((grad > SHARP_EDGE / 2).astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool)
    n, labels = cv2.connectedComponents((cand & ~cuts).astype(np.uint8), connectivity=4)
    if n <= 1:
        return np.zeros_like(cand)
    # reach across the cut band (edge pixels are neither region nor plain background)
    near = cv2.dilate(labels.astype(np.uint16), np.ones((9, 9), np.uint8)).astype(np.int32)
    border = plain & (near > 0)
    # the step is at most 2 px away from where "plain" starts: take the max gradient nearby
    grad_near = cv2.dilate(grad, np.ones((7, 7), np.uint8))
    counts = np.bincount(near[border], minlength=n).astype(np.float64)
    sums = np.bincount(near[border], weights=grad_near[border], minlength=n)
    mean = np.where(counts > 0, sums / np.maximum(counts, 1), 0.0)
    # ... and is evenly lit: a cast shadow deepens toward the product, so its k spreads
    area = np.bincount(labels.ravel(), minlength=n).astype(np.float64)
    k1 = np.bincount(labels.ravel(), weights=k.ravel(), minlength=n) / np.maximum(area, 1)
    k2 = np.bincount(labels.ravel(), weights=(k * k).ravel(), minlength=n) / np.maximum(area, 1)
    spread = np.sqrt(np.maximum(k2 - k1 * k1, 0))
    sharp = (mean > SHARP_EDGE) & (counts >= 8) & (spread < FLAT_K)
    # A cast shadow falls on the background, so it always meets the plain
    # background; an evenly lit region walled in by crisp edges on every side
    # (a grey panel between printed lines) is part of the product.
    sharp |= (counts == 0) & (spread < FLAT_K) & (area >= 4)
    sharp[0] = False
    out = sharp[labels]
    # give back the cut pixels that sit between a sharp region and the rest
    return out | (cand & cuts & cv2.dilate(out.astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool))


def _textured(grey: np.ndarray, ring: np.ndarray, s_hp: float, s_avg: float) -> np.ndarray:
    """High-pass energy, not the gradient: soft shadows have gradients but no detail."""
    texture = cv2.GaussianBlur(np.abs(grey - cv2.GaussianBlur(grey, (0, 0), s_hp)), (0, 0), s_avg)
    return texture > max(4 * float(np.median(texture[ring])), 2.5)


def _grabcut_roi(small: np.ndarray, gc: np.ndarray) -> None:
    """GrabCut in place, only over the box where anything is uncertain.

    Outside that box every seed is definite, so running the graph cut there
    would only cost time (GrabCut dominates this step).
    """
    unsure = (gc == cv2.GC_PR_FGD) | (gc == cv2.GC_PR_BGD)
    if not (gc == cv2.GC_FGD).any() or not unsure.any():
        return
    ys, xs = np.nonzero(unsure | (gc == cv2.GC_FGD))
    h, w = gc.shape
    pad = 8
    y0, y1 = max(0, ys.min() - pad), min(h, ys.max() + pad + 1)
    x0, x1 = max(0, xs.min() - pad), min(w, xs.max() + pad + 1)
    roi_gc = np.ascontiguousarray(gc[y0:y1, x0:x1])
    roi = np.ascontiguousarray(small[y0:y1, x0:x1])
    if not ((roi_gc == cv2.GC_BGD) | (roi_gc == cv2.GC_PR_BGD)).any():
        return
    bgd, fgd = np.zeros((1, 65), np.float64), np.zeros((1, 65), np.float64)
    try:
        cv2.grabCut(roi, roi_gc, None, bgd, fgd, GRABCUT_ITERS, cv2.GC_INIT_WITH_MASK)
    except cv2.error:
        return  # degenerate colour models: keep the seeded mask
    gc[y0:y1, x0:x1] = roi_gc


def _main_components(mask: np.ndarray, sure_fg: np.ndarray) -> np.ndarray | None:
    """Keep the product's parts: big components, and small ones (a bag's handle,
    a second earring) only when they are mostly confident foreground."""
    n, labels, stats, _ = cv2.connectedComponentsWithStats(mask.astype(np.uint8), connectivity=8)
    if n <= 1:
        return None
    areas = stats[1:, cv2.CC_STAT_AREA]
    sure = np.bincount(labels.ravel(), weights=sure_fg.ravel(), minlength=n)[1:]
    big = areas >= MIN_COMPONENT * areas.max()
    confident = (areas >= MIN_PART * areas.max()) & (sure >= 0.3 * areas)
    keep = np.flatnonzero(big | confident) + 1
    return np.isin(labels, keep)


def _holes(mask: np.ndarray) -> np.ndarray:
    """Background pixels not 4-connected to the border (what scipy's binary_fill_holes fills)."""
    pad = np.pad(~mask, 1, constant_values=True).view(np.uint8)
    _, labels = cv2.connectedComponents(pad, connectivity=4)
    return (labels[1:-1, 1:-1] != labels[0, 0]) & ~mask


def _fill_holes(mask: np.ndarray, strength: np.ndarray) -> np.ndarray:
    """Fill holes unless they are large and background-coloured (a mug's handle)."""
    holes = _holes(mask)
    if not holes.any():
        return mask
    n, labels = cv2.connectedComponents(holes.astype(np.uint8), connectivity=4)
    area = mask.sum()
    out = mask.copy()
    for i in range(1, n):
        hole = labels == i
        bg_like = np.median(strength[hole]) < 1.0
        if not bg_like or hole.sum() < 0.002 * area:
            out |= hole
    return out


def _upsample_matte(mask: np.ndarray, img: np.ndarray, small: np.ndarray) -> np.ndarray:
    """Feathered matte at full size; a guided filter makes its edge follow the image.

    The guided-filter coefficients are computed on the small copy and only
    they are upsampled ("fast guided filter"), so full resolution costs a
    resize and a multiply-add.
    """
    h, w = img.shape[:2]
    soft = cv2.GaussianBlur(mask.astype(np.float32), (0, 0), 0.7)
    guide = cv2.cvtColor(small, cv2.COLOR_RGB2GRAY).astype(np.float32) * (1.0 / 255.0)
    a, b = _guided_coefficients(guide, soft, r=2, eps=1e-3)
    # away from the edge the matte is flat 0 or 1: no image structure should leak in
    band = cv2.dilate(((soft > 0.01) & (soft < 0.99)).astype(np.uint8), np.ones((5, 5), np.uint8)).astype(bool)
    b = np.where(band, b, soft)
    a = np.where(band, a, 0.0).astype(np.float32)
    b = (b * 255.0).astype(np.float32)
    if (h, w) != mask.shape:
        a = cv2.resize(a, (w, h), interpolation=cv2.INTER_LINEAR)
        b = cv2.resize(b, (w, h), interpolation=cv2.INTER_LINEAR)
    alpha = np.empty((h, w), np.uint8)

    def band(r0: int, r1: int) -> None:
        # alpha*255 = a * gray + b*255, in OpenCV ops: no float64 or extra copies at 12 MP
        g = cv2.cvtColor(img[r0:r1], cv2.COLOR_RGB2GRAY).astype(np.float32)
        cv2.multiply(g, a[r0:r1], dst=g)
        cv2.add(g, b[r0:r1], dst=g)
        alpha[r0:r1] = cv2.convertScaleAbs(cv2.max(g, 0.0))

    for_each_band(h, band)
    return alpha


def _guided_coefficients(guide: np.ndarray, src: np.ndarray, *, r: int, eps: float):
    """He et al.'s guided filter, grey guide; returns the smoothed (a, b) maps."""
    k = (2 * r + 1, 2 * r + 1)
    mean_i = cv2.boxFilter(guide, -1, k)
    mean_p = cv2.boxFilter(src, -1, k)
    cov = cv2.boxFilter(guide * src, -1, k) - mean_i * mean_p
    var = cv2.boxFilter(guide * guide, -1, k) - mean_i * mean_i
    a = cov / (var + eps)
    b = mean_p - a * mean_i
    return cv2.boxFilter(a, -1, k), cv2.boxFilter(b, -1, k)
