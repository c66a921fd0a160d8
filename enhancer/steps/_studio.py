"""The studio matte: a product on a plain backdrop, from a model of that backdrop.

Works on the small working copy (about 640 px); :mod:`.background` fuses it
with the learned matte and brings the result to full size.

1. Backdrop model: a smooth quadratic surface per RGB channel, fitted
   robustly to the border ring. It follows vignettes, grey sweeps and
   coloured paper with a gradient, which a single border colour would not.
   A border with fine detail (brick, print, a scene) is no backdrop.
2. Evidence: a brightness ratio and a chroma angle against the model
   (darker-only differences of the same chroma are shadow-like) and local
   texture (shadows are smooth, products have edges).
3. GrabCut seeded from that evidence and from the learned matte (sure /
   probable product and background); confident shadows are seeded as
   background, the network's confident core as product, and backdrop the
   product encloses (a handle's hole, which the network fills; also where
   a light part of the product walls it in) as background; white on white,
   only where the product's edge rings it.
4. Clean-up: keep the main components, fill holes that are not
   backdrop-coloured (or are small).
5. (:func:`cast_shadow_parts`, on the fused matte) the product's drop
   shadow, fitted as its silhouette moved and blurred, tells a part the
   matte missed (shade it does not explain) from a shadow it kept.
6. (:func:`shade_off_edges`) shade still kept beyond the product's
   crisp outline, where the matte's own outline is soft, goes.
7. (:func:`walled_panels`, last) a panel in the backdrop's colours that
   the product's long crisp outline walls off from the backdrop is added.
"""
from __future__ import annotations

from collections.abc import Callable
from functools import cached_property
from typing import NamedTuple

import cv2
import numpy as np

RING = 0.03          # border ring used for the backdrop model (share of the side)
RING_DETAIL = 0.05    # a backdrop's border has (almost) no fine detail; a busy scene's has plenty
# A backdrop's border, blurred, lies within this many RGB levels of its fitted surface (median): studio
# shots in benchmarks/shots.py at most 0.6, scenes out of focus (coins, a street at night) 8.6-9.
MISFIT, MISFIT_SIGMA = 4.0, 2.0
GRABCUT_ITERS = 3
GRABCUT_SEED = 0x5EED
# On a scene, GrabCut's colour models start from the most compact of this many k-means clusterings (OpenCV's
# own start is one, from a random k-means++ seeding): one start settles on either of two mattes where a colour
# sits between the product's and the scene's (coins beside a bottle: IoU 0.98 or 0.68 by the RNG's seed), and
# the slightest change to its seeds (the int8 network's map) flips it. busy_set 0.890 -> 0.897, held-out
# busy 0.831 -> 0.835, unseen 0.826 -> 0.827 (benchmarks/background.py), for no time (k-means on 2000
# pixels). Studio shots keep one start: there it moved shots both ways (a white mug 0.99 -> 0.76, a white
# racket 0.76 -> 0.98) for the same means.
GRABCUT_STARTS = 8
GMM_COMPONENTS = 5  # OpenCV's GrabCut models each side's colours with 5 Gaussians
GMM_SAMPLES = 2000  # ... started from this many of its pixels (evenly spaced); its first round takes all
FLAT_K = 0.035        # std of the brightness ratio inside a flat product part (a shadow spreads more)
SHARP_EDGE = 50.0     # Sobel magnitude along a region's border that marks a crisp edge, not a shadow
SHARP_STEP = 3.0      # ... and this many times it: a step no cast shadow makes, even unevenly lit
FAINT_EDGE = 4.0      # a crisp edge this many times the backdrop's noise (and too faint for SHARP_EDGE)
FAINT_LENGTH = 0.04   # ... this share of the short side long splits shadow-coloured regions too
FAINT_CUT = 5         # ... and judged once more with their cut band this wide (px), closing a 1 px leak
FAINT_THICK = 13      # ... for regions at least this thick (px): not a strip of shadow along an edge
LIT_STRIP = 4         # plain backdrop this wide (px) or less between a crisp edge and a shadow is a lit strip
MIN_COMPONENT = 0.12  # components at least this share of the largest are kept
MIN_PART = 0.003      # smaller ones down to this share are kept when confidently foreground
SALIENT = 0.5         # learned-matte probability above which a pixel is never sure backdrop
SALIENT_CORE = 0.9    # ... and above which (eroded) it seeds sure product
NOISE_FLOOR = 2.0     # least backdrop noise assumed, in Sobel levels (a render has none)
HOLE_EDGE = 2.5       # white on white, a hole's outline: mean gradient this many times the backdrop's (noise)
HOLE_EDGED = 0.4      # ... or that gradient along at least this share of it (the rest in the shade cast into it)
HOLE_MIN = 0.001      # ... its plain core at least this share of the frame
HOLE_WALLED = 0.9     # ... or grown to the outline, edged, and the learned matte over this share beyond it
HOLE_CUT = 6.0        # ... grown out to where the gradient passes this many times the backdrop's
HOLE_GROWTH = 5.0     # ... to at most this many times the core's area
HOLE_CHROMA = 2.0     # ... and its median chroma angle within this many noise levels of the backdrop's nearby
HOLE_SEEN = 0.5       # a hole GrabCut left, over this share of it such backdrop, is not filled again
HOLE_OPEN = 0.3       # the backdrop's shade where the learned matte is under this is seen through a hole
HOLE_SMOOTH = 0.75    # ... when at most this share of it is detailed at the fine scale
CRISP_BLUR = 1.5      # white on white: an edge blurred by less (sigma, working px) is the product's outline,
CRISP_GAP = 7         # ... with gaps up to about this wide (px) closed; a soft shadow's ramp is blurred by 3-10
STANDS_OUT = 0.25     # share of the learned matte the backdrop model alone calls product; below it, white on
                      # white (white products 0.02-0.11; coloured rackets, their heads filled, 0.43-0.46)


def backdrop_model(small: np.ndarray) -> np.ndarray | None:
    """The backdrop as a smooth (H, W, 3) float32 surface, or None when the border is not plain."""
    return _background_model(small.astype(np.float32))


class Split(NamedTuple):
    """Every pixel against the backdrop model (:func:`_split`)."""
    k: np.ndarray        # brightness ratio
    ang: np.ndarray      # chroma angle
    bg_norm: np.ndarray  # the model's colour length
    k_noise: float       # the noise of k in the border ring
    a_noise: float       # ... and of the angle


class Backdrop:
    """A working copy seen against its backdrop model, as the studio steps read it, each reading made
    once per matte: the colour split (about 3 ms at the working size, which three steps read), the
    gradient and each edge's blur (``grey``, ``grad``, ``blur``: what :class:`.background._Focus`
    computes for the fused matte too), the long faint crisp edges."""

    def __init__(self, small: np.ndarray, model: np.ndarray, grey: np.ndarray, grad: np.ndarray,
                 blur: np.ndarray):
        self.small, self.grey, self.grad, self.blur = small, grey, grad, blur
        self.ring = _ring(small.shape[:2])
        self.split = _split(small, model)

    @classmethod
    def of(cls, small: np.ndarray, model: np.ndarray) -> Backdrop:
        """The reading of ``small`` against ``model``, its gradient and blur computed here."""
        grey = cv2.cvtColor(small, cv2.COLOR_RGB2GRAY).astype(np.float32)
        grad = gradient(grey)
        return cls(small, model, grey, grad, edge_blur(grey, grad))

    @cached_property
    def faint_edges(self) -> np.ndarray:
        return _faint_crisp_edges(self.grad, self.blur < CRISP_BLUR, self.ring)


def studio_mask(seen: Backdrop, sal: np.ndarray,
                finer: Callable[[], np.ndarray] | None = None) -> np.ndarray | None:
    """The product's mask (bool, the working copy's size) on a modelled backdrop, or None when none is
    found.

    ``sal`` is the learned matte at small's size: where it says "product" no
    pixel is seeded as backdrop, which rescues what the model cannot see (a
    white product on a white sweep, a light panel on a light backdrop).
    ``finer``, when given, returns a finer learned matte; it is asked for only
    when the backdrop model barely sees the product (white on white), where
    the network carries the matte.
    """
    return _segment(seen, sal, finer)


def _ring(shape: tuple[int, int]) -> np.ndarray:
    h, w = shape
    r = max(2, int(round(RING * min(h, w))))
    ring = np.zeros((h, w), bool)
    ring[:r], ring[-r:], ring[:, :r], ring[:, -r:] = True, True, True, True
    return ring


def _ring_detail(rgb: np.ndarray) -> float:
    """Share of the border ring with fine detail above the noise (0 for a studio backdrop).

    A sweep's noise and gradients leave no high-pass energy; a wall, a page
    or a scene does, even where its mean colour fits a smooth surface.
    """
    grey = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    ring = highpass(grey)[_ring(grey.shape)]
    return float((ring > max(3.0, 4.0 * float(np.median(ring)))).mean())


#: Detail (90th percentile of the high-pass energy, grey levels) in the border ring at half the working
#: size above which the border has structure of its own (craters, a cell culture, fabric), not just noise.
STRUCTURE = 1.6


def structured_border(small: np.ndarray) -> bool:
    """Does the border hold structure coarser than the noise, though its colour fits a smooth surface?

    Noise loses energy when the image is halved; structure (a crater field, a
    weave) keeps it. A grey planetary surface passes the backdrop model's
    tests (no fine detail, a smooth mean) and fails this one. Not judged on
    thumbnails (under 300 px), whose ring is too thin to tell.
    """
    h, w = small.shape[:2]
    if min(h, w) < 300:
        return False
    grey = cv2.cvtColor(small, cv2.COLOR_RGB2GRAY).astype(np.float32)
    half = cv2.resize(grey, (w // 2, h // 2), interpolation=cv2.INTER_AREA)

    def p90(g: np.ndarray) -> float:
        return float(np.percentile(highpass(g)[_ring(g.shape)], 90))

    coarse = p90(half)
    return coarse > STRUCTURE and coarse > p90(grey)


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
    # Noise averages out under a blur; what the surface misses and stays is a scene's own shapes
    smooth = cv2.GaussianBlur(rgb, (0, 0), MISFIT_SIGMA)[ys, xs].astype(np.float64)
    if np.median(np.linalg.norm(smooth - A @ coef, axis=1)[keep]) > MISFIT:
        return None  # smooth but not this smooth surface: a scene out of focus (coins, a street)
    if _ring_detail(rgb) > RING_DETAIL:
        return None  # plain on average but patterned (brick, print, a night scene): not a backdrop
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


def _split(small: np.ndarray, model: np.ndarray) -> Split:
    """Every pixel as a brightness ratio k and a chroma angle against the backdrop model, the model's
    colour length, and the noise of k and of the angle in the border ring.

    A shadow scales the background by k < 1 and keeps its chromaticity (in
    sRGB too: a power law keeps channel ratios).
    """
    p = small.astype(np.float32)
    bg = np.maximum(model, 1.0)
    bg_sq = _dot3(bg, bg)
    k = _dot3(p, bg) / bg_sq
    bg_norm = np.sqrt(bg_sq)
    off = p - k[..., None] * bg
    ang = np.sqrt(_dot3(off, off)) / (np.maximum(k, 0.05) * bg_norm)
    ring = _ring(k.shape)
    k_noise = max(0.008, 1.4826 * float(np.median(np.abs(k[ring] - np.median(k[ring])))))
    a_noise = max(0.004, 1.4826 * float(np.median(ang[ring])))
    return Split(k, ang, bg_norm, k_noise, a_noise)


def _dot3(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Each pixel's dot product of two (H, W, 3) colour arrays, summed in channel order as
    ``(a * b).sum(-1)`` sums (the same bits), in a third of its time: numpy reduces a
    3-long last axis pixel by pixel."""
    return a[..., 0] * b[..., 0] + a[..., 1] * b[..., 1] + a[..., 2] * b[..., 2]


def _segment(seen: Backdrop, sal: np.ndarray,
             finer: Callable[[], np.ndarray] | None = None) -> np.ndarray | None:
    small, grey, grad, ring = seen.small, seen.grey, seen.grad, seen.ring
    h, w = small.shape[:2]
    k, ang, bg_norm, k_noise, a_noise = seen.split
    textured = _textured(grey, ring, 2.0, 1.5)  # wide: smooth-ish product areas count as detail
    fine = _textured(grey, ring, 1.0, 1.0)      # narrow: a shadow touching the product edge stays smooth

    a_hi, a_lo = max(0.09, 9 * a_noise), max(0.03, 4 * a_noise)
    k_lo = 3 * k_noise + 0.01
    shadow_colour = (k > 0.5) & (k < 1 - k_lo) & (ang < a_lo)
    shadow = shadow_colour & ~textured
    plain = (np.abs(1 - k) < k_lo) & (ang < a_lo)  # background-coloured, detail or not
    sharp_step = seen.blur < CRISP_BLUR  # on an edge: the product's outline, not a shadow's ramp
    # a lit strip between a product part and its own offset shadow is only told from plain where one grey
    # level moves k by well under the shadow threshold (not on black, where it moves it by 0.05)
    lit = plain & ~_lit_strips(plain, shadow, grad) if _levels_fine(bg_norm, k_lo) else plain
    crisp = _sharp_bounded(shadow, lit, grad, k, seen.faint_edges)
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
    learned, learned_core = _learned(sal)
    # Where the network fills a hole (a mug's handle), the backdrop seen through it stays background.
    # Only enclosed regions: a light panel on the product's edge looks like backdrop too, and there the
    # network is right.
    stands_out = (sure_fg & learned).sum() >= STANDS_OUT * max(1, learned.sum())
    backdrop_shade = (ang < a_lo) & (k > 0.5) & (k < 1 + k_lo)  # the backdrop's chroma, as bright or in shade
    seen_open = np.zeros((h, w), bool)
    if stands_out:
        lit = plain & ~textured
        backdrop = lit | shadow
        near = _near_backdrop(learned, backdrop)
        hole = enclosed(learned & ~backdrop) & backdrop  # enclosed by the product, of the backdrop's colour
        seen_open = _seen_open(sal, learned, hole, backdrop_shade, fine, ang, a_noise, near)
        hole = _backdrop_chroma(hole | seen_open, ang, a_noise, near)
        # The backdrop seen through a hole is in the shade of the product's rim along part of it (a racket's
        # frame casts its shadow into its head), and that shade, walled in by the rim's crisp edges, passes
        # for a grey panel of the product; the hole grows over it to the product's crisp outline, as the
        # walled holes below do. two_tone_set: 0.937 -> 0.951 (a racket's head on white 0.76 -> 0.99, on
        # yellow paper 0.56 -> 0.79; three rackets 0.002-0.012 lower); fresh studio shots (benchmarks/
        # background.py --set fresh, draws 2 and 3, 300 shots): 0.9745 -> 0.9756, 6 up (a racket on black
        # 0.73 -> 0.90, on a beige sweep 0.76 -> 0.98), 5 down (at most 0.045, a racket on a grey sweep);
        # studio_set, other_backdrops_set and every busy set unchanged, held-out studio +0.003 / -0.005.
        outline = _outline(grad, sharp_step, ring)
        hole = _grown(hole, outline, ring)
        # A hole walled in partly by a light part of the product (a panel in the backdrop's own colour, a
        # light handle) leaks out through that part above, shadow-coloured as it is. The plain backdrop the
        # product and such parts wall in is a hole too, grown over the shade cast into it to the product's
        # crisp outline.
        walled = _edged(enclosed(learned & ~lit) & lit & ~hole, grad, ring)
        hole |= _grown(_backdrop_chroma(walled, ang, a_noise, near), outline, ring)
    else:
        coarse = learned
        if finer is not None:
            # the network carries the matte here, and its coarser map spills into the shadow beside the
            # product (a lamp's stem, a racket's head): held-out white products on a white sweep and
            # off-white, 84 shots: IoU 0.919 -> 0.941 (the finer map alone, lamps 0.91 -> 0.96). What
            # only the coarser one calls product is left to GrabCut, not seeded as backdrop: a stem or
            # a handle the finer map sees as a line was cut (those 84: 0.952 -> 0.958; 800 px white
            # rackets 0.87 / 0.80 -> 0.93 / 0.96)
            learned, learned_core = _learned(finer())
        # White on white: the product's shaded rim is shadow-coloured, so only the plain backdrop
        # counts, and the product has enclosed backdrop-coloured parts of its own (where its shading
        # crosses the backdrop's level). A hole is what the product's edge rings all round.
        backdrop = plain & ~textured
        # The hole grows out to the product's outline, a crisp edge, first: the shadow the body casts
        # across the backdrop seen through a handle is shadow-coloured like the white product and its
        # soft ramp is an edge too, so growing to any edge stopped at it and left half the hole filled
        # (white mugs in studio_set(seeds=2): 0.917 / 0.918 -> 0.953 / 0.975).
        strong = cv2.dilate(_strong(grad, ring).astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool)
        cores = enclosed(learned & ~backdrop) & backdrop
        hole = _edged(cores, grad, ring)
        # Where the frame's shade covers most of a hole, the plain core left is outlined mostly by the
        # shade's soft edge; grown over the shade to the product's crisp outline, it is edged all round.
        # So is a plain band of a white body's shading grown to the body's outline, but beyond that lies
        # the backdrop, beyond a hole the product. Fresh studio draw 3: a grey racket on the grey sweep
        # 0.47 -> 0.59 (a quarter of its head opens); draw 2: a white racket 0.87 -> 0.89; no other shot
        # of the studio, two-tone, other, held-out or fresh sets moves.
        outline = _outline(grad, sharp_step, ring)
        hole |= _walled(_edged(_grown(cores & ~hole, outline, ring), grad, ring), learned)
        hole = _backdrop_chroma(hole, ang, a_noise, _near_backdrop(learned, backdrop))
        hole = _grown(_grown(hole, outline, ring), strong, ring)
        sure_bg &= ~(coarse & ~hole)  # what only the coarser map calls product is left to GrabCut
    learned &= ~hole
    learned_core &= ~hole
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
    gc[cv2.erode(seen_open.astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool)] = cv2.GC_BGD
    _grabcut_roi(small, gc)
    mask = (gc == cv2.GC_FGD) | (gc == cv2.GC_PR_FGD)
    mask = _opened(mask)
    mask = _main_components(mask, sure_fg)
    if mask is None:
        return None
    if stands_out:  # GrabCut's hole where the network sees one too, in the backdrop's smooth shade: backdrop
        strength = np.where(backdrop_shade & ~fine & (sal < HOLE_OPEN), 0.0, strength)
    return _fill_holes(mask, strength, hole)


def _seen_open(sal: np.ndarray, learned: np.ndarray, hole: np.ndarray, backdrop_shade: np.ndarray,
               fine: np.ndarray, ang: np.ndarray, a_noise: float, near: np.ndarray) -> np.ndarray:
    """The holes the network sees open where the backdrop model sees no backdrop (beyond ``hole``).

    A product small in the frame (a mug at 0.4 of the frame's height, a
    racket at 0.6) casts its shadow over much of what its holes show, and
    that shade, walled in by the hole's crisp rim, passes for a grey panel
    of the product: GrabCut, seeded so, kept it, and the holes it opened
    were filled again as not backdrop-coloured. The network sees such a hole
    open, though. A region its matte encloses where it is under HOLE_OPEN
    (median), in the backdrop's chroma, no brighter than the backdrop
    (``backdrop_shade``) and smooth (at most HOLE_SMOOTH of it detailed at
    the fine scale: a print of grey coins on a grey lamp, where the map dips
    too, is detailed) is the backdrop. Not where the map only sags: over a
    box's backdrop-coloured panel it fell to 0.38 (median), in the holes of
    small rackets it is under 0.02. Seeded as backdrop for GrabCut, and a
    hole GrabCut leaves there is not filled again.
    benchmarks/background.py --set small --draw 1,2 --count 100, the shots
    on backdrops: 0.904 / 0.860 -> 0.916 / 0.903 (10 shots better by
    0.06-0.54, none worse); --set backdrops --draw 4,5,6 --count 150 (the
    full-size studio sets): every mean unchanged, 2 shots better, a racket
    on black 0.977 -> 0.960 (GrabCut's fit moved by the seeds); the busy,
    held-out and unseen scene sets unchanged.
    """
    n, labels = cv2.connectedComponents((enclosed(learned) & backdrop_shade & ~hole).astype(np.uint8),
                                        connectivity=4)
    if n <= 1:
        return np.zeros_like(hole)
    keep = (_per_label(labels, fine.astype(np.float32), n, np.mean) <= HOLE_SMOOTH) & \
        (_per_label(labels, sal, n, np.median) < HOLE_OPEN)
    keep[0] = False
    return _backdrop_chroma(keep[labels], ang, a_noise, near)


def gradient(grey: np.ndarray) -> np.ndarray:
    """Sobel gradient magnitude of a float32 grey image."""
    return np.hypot(cv2.Sobel(grey, cv2.CV_32F, 1, 0, ksize=3), cv2.Sobel(grey, cv2.CV_32F, 0, 1, ksize=3))


def _outline(grad: np.ndarray, sharp_step: np.ndarray, ring: np.ndarray) -> np.ndarray:
    """The product's crisp outline: strong edges that are crisp steps, gaps up to CRISP_GAP closed."""
    crisp = (_strong(grad, ring) & sharp_step).astype(np.uint8)
    return cv2.dilate(crisp, np.ones((CRISP_GAP, CRISP_GAP), np.uint8)).astype(bool)


def _edged(regions: np.ndarray, grad: np.ndarray, ring: np.ndarray) -> np.ndarray:
    """The regions whose outline is an edge: its mean gradient well above the backdrop's noise.

    A hole in a white product shows the product's rim all round it; a plain
    band of the product's own shading fades in and out with no edge at all.
    Along part of a hole's outline the rim may be the soft edge of the shade
    it casts into the hole instead (a quarter of a white racket's head): an
    edge along :data:`HOLE_EDGED` of the outline is enough. Sixteen white
    rackets on the white sweep (seeds 8000-8015): 0.847 -> 0.860 (0.62 ->
    0.79, 0.79 -> 0.83); every studio and busy set unchanged.
    """
    n, labels = cv2.connectedComponents(regions.astype(np.uint8), connectivity=4)
    if n <= 1:
        return regions
    grad = cv2.dilate(grad, np.ones((5, 5), np.uint8))
    level = HOLE_EDGE * max(2 * NOISE_FLOOR, float(np.median(grad[ring])))  # max-filtered: twice
    _, mean = along_outline(labels, n, grad, ~regions, reach=3)
    _, share = along_outline(labels, n, (grad > level).astype(np.float32), ~regions, reach=3)
    edged = (mean > level) | (share >= HOLE_EDGED)
    edged &= np.bincount(labels.ravel(), minlength=n) >= HOLE_MIN * regions.size  # not a speck of noise
    edged[0] = False
    return edged[labels]


def _walled(regions: np.ndarray, learned: np.ndarray) -> np.ndarray:
    """The regions the learned matte walls in all round (``learned`` over HOLE_WALLED of a band 4 to 9 px
    beyond each): a hole shows the product's rim beyond its outline, a plain band of a white body's
    shading grown to the body's outline the backdrop."""
    n, labels = cv2.connectedComponents(regions.astype(np.uint8), connectivity=4)
    if n <= 1:
        return regions
    inside = learned.astype(np.float32)
    far_n, far = along_outline(labels, n, inside, ~regions, reach=19)
    near_n, near = along_outline(labels, n, inside, ~regions, reach=7)
    band = far_n - near_n
    keep = (band > 0) & (far_n * far - near_n * near >= HOLE_WALLED * np.maximum(band, 1))
    keep[0] = False
    return keep[labels]


def _learned(sal: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """What the learned matte calls product, and its confident core (eroded: its edge is not sure)."""
    core = cv2.erode((sal > SALIENT_CORE).astype(np.uint8), np.ones((5, 5), np.uint8)).astype(bool)
    return sal > SALIENT, core


def _near_backdrop(learned: np.ndarray, backdrop: np.ndarray) -> np.ndarray:
    """The plain backdrop in a band just outside the learned matte (5 to 15 working px away)."""
    m = learned.astype(np.uint8)
    far = cv2.dilate(m, np.ones((31, 31), np.uint8)).astype(bool)
    return far & ~cv2.dilate(m, np.ones((11, 11), np.uint8)).astype(bool) & backdrop


def _backdrop_chroma(regions: np.ndarray, ang: np.ndarray, a_noise: float, near: np.ndarray) -> np.ndarray:
    """The regions whose chroma is the backdrop's own (``near``: the backdrop around the product).

    The backdrop seen through a hole looks as the backdrop does around the
    product (whatever the backdrop model's fit there); a white product's panel
    that only matches its brightness is off in hue: neutral white against a
    cream sweep. Held-out white products on off-white: a shoe's body taken for
    a hole (0.06 IoU) had a median chroma angle 4.3 noise levels above the
    backdrop around it; the holes of mugs and rackets, on green screen too, at most 0.2.
    Nor is a dark print on a product that stands out a hole where its level
    meets a dark backdrop's or its shadow's: the gaps between coins printed on
    a bag on dark grey were 2.5-3.0 noise levels off, the holes of 32 mugs and
    rackets on 12 backdrops at most 0.8 (other_backdrops_set(seeds=4): 0.982 -> 0.986, the
    bag 0.80 -> 0.99; studio_set(seeds=4): 0.978 -> 0.979; no shot worse).
    """
    n, labels = cv2.connectedComponents(regions.astype(np.uint8), connectivity=4)
    if n <= 1 or not near.any():
        return regions
    keep = _per_label(labels, ang, n, np.median) <= float(np.median(ang[near])) + HOLE_CHROMA * a_noise
    keep[0] = False
    return keep[labels]


def edge_blur(grey: np.ndarray, grad: np.ndarray) -> np.ndarray:
    """Per pixel, how blurred the edge through it is: the Gaussian sigma (px) of its step.

    An edge blurred by sigma keeps 1 / sqrt(1 + 1/sigma^2) of its gradient when
    blurred by 1 more (Zhuo and Sim, "Defocus map estimation from a single
    image", 2011). Meaningful on edges only; ``grad`` is :func:`gradient` of ``grey``.
    """
    ratio = grad / np.maximum(gradient(cv2.GaussianBlur(grey, (0, 0), 1.0)), 1e-3)
    return 1.0 / np.sqrt(np.maximum(ratio * ratio - 1.0, 1e-3))


def _strong(grad: np.ndarray, ring: np.ndarray) -> np.ndarray:
    """Edges whose gradient stands well above the backdrop's noise."""
    return grad > HOLE_CUT * max(NOISE_FLOOR, float(np.median(grad[ring])))


def _grown(cores: np.ndarray, cuts: np.ndarray, ring: np.ndarray) -> np.ndarray:
    """Each hole core grown out to the edges around it (``cuts``: the product's inner outline).

    Not when the edges leave a gap (it would reach the frame) or the growth
    swamps the core (a plain part of the product, not the rim of a hole).
    """
    if not cores.any():
        return cores
    n, labels = cv2.connectedComponents((~cuts | cores).astype(np.uint8), connectivity=4)
    core_area = np.bincount(labels[cores], minlength=n)
    area = np.bincount(labels.ravel(), minlength=n)
    grow = (core_area > 0) & (area <= HOLE_GROWTH * core_area)
    grow[np.unique(labels[ring])] = False  # reached the frame: the outline has a gap
    grow[0] = False
    return cores | grow[labels]


def along_outline(labels: np.ndarray, n: int, grad: np.ndarray, where: np.ndarray, *, reach: int):
    """Per label: the pixels of ``where`` within a ``reach`` x ``reach`` box of it (its outline),
    how many there are and the mean of ``grad`` over them (0 where there are none)."""
    near = cv2.dilate(labels.astype(np.uint16), np.ones((reach, reach), np.uint8)).astype(np.int32)
    at = where & (near > 0)
    counts = np.bincount(near[at], minlength=n)
    sums = np.bincount(near[at], weights=grad[at], minlength=n)
    return counts, np.where(counts > 0, sums / np.maximum(counts, 1), 0.0)


def _levels_fine(bg_norm: np.ndarray, k_lo: float) -> bool:
    """Does one 8-bit level of the backdrop (``bg_norm``: its colour's length per pixel) move its
    brightness ratio k by under a third of ``k_lo``?"""
    return 1.0 / float(np.median(bg_norm)) < k_lo / 3


def _lit_strips(plain: np.ndarray, shadow: np.ndarray, grad: np.ndarray) -> np.ndarray:
    """Strips of plain backdrop at most LIT_STRIP px wide between a crisp edge and a shadow-coloured region.

    A thin part (a racket's string) casts its shadow a few pixels aside, so
    a lit strip of backdrop runs between the part and its shadow. Judged
    by :func:`_sharp_bounded`, that shadow meets "plain" right beside the
    part's crisp edge and borrows its step: it passed for a grey panel of the
    product, walled in by the frame, and the racket's head stayed filled.
    other_backdrops_set(seeds=4): 0.986 -> 0.988 (a racket on a beige sweep 0.64 -> 0.98), no shot
    worse; studio_set(seeds=2), the held-out sets and busy_set(seeds=3) unchanged. Without the gate
    on the backdrop's levels three shots on black lost 0.01-0.02; with every thin strip of plain dropped
    (not only those between an edge and a shadow) a racket on black lost 0.09.
    """
    disk = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (LIT_STRIP + 1,) * 2)
    broad = cv2.morphologyEx(plain.astype(np.uint8), cv2.MORPH_OPEN, disk)
    near = np.ones((7, 7), np.uint8)
    edge = cv2.dilate((grad > SHARP_EDGE / 2).astype(np.uint8), near).astype(bool)
    return plain & ~broad.astype(bool) & edge & cv2.dilate(shadow.astype(np.uint8), near).astype(bool)


def _sharp_bounded(cand: np.ndarray, plain: np.ndarray, grad: np.ndarray, k: np.ndarray,
                   faint: np.ndarray | None = None) -> np.ndarray:
    """Shadow-coloured regions whose border with the plain background is a sharp step.

    A cast shadow fades into the background over many pixels; a smooth grey
    part of the product (a sky in a print, a matte panel) meets it at a
    crisp edge. Judged per region from the gradient along that border.

    An evenly lit region needs a crisp step (SHARP_EDGE); one whose own
    shading varies (a light shade lit from one side, darker toward its rim)
    a step three times as steep. Held-out studio shots (seeds 3000+, every
    backdrop x shape, light two-tone panels, 49 shots): 0.949 -> 0.961, a
    white lamp's shade on white 0.36 -> 0.93; studio_set(seeds=4) 0.9794 ->
    0.9801, other_backdrops_set(seeds=4) 0.9855 -> 0.9858, no shot worse.
    At twice the step the shadow inside a racket's head on dark grey, walled
    in by the frame's edges, was kept (0.97 -> 0.70).

    ``faint``: crisp edges too faint to split regions on their own (where a
    print's grey sky meets the box's own cast shadow at nearly its level, the
    two are one region, unevenly lit and softly bordered). The regions are
    judged again split by them too, and what either judgement keeps is kept:
    studio_set(seeds=4) 0.9801 -> 0.9827 (an off-white box, bottle and mug
    printed with a grey sky 0.77 / 0.87 / 0.89 -> 0.99 / 0.98 / 0.95), held-out
    studio 0.961 -> 0.966; other_backdrops_set(seeds=4) and busy_set unchanged;
    no shot worse. At 3 x the noise (FAINT_EDGE) studio 0.9818, the printed
    bottle and mug losing again; at 6 x the box only at 1600 px. Split by them
    alone, the white lamp's shade above lost its border with the backdrop.

    A third judgement widens the faint split's cut band to FAINT_CUT: one
    pixel where a crisp edge is broken (a mug's corner, where its printed sky
    meets the cast shadow beside the body) joins a sky to its shadow, and the
    two are judged as one soft-bordered region. Only regions at least
    FAINT_THICK thick are judged so: a strip of cast shadow the wider band
    cuts off along the product's edge borrows that edge's gradient and passed
    for crisp (on black; a printed box's shadow on off-white, whose sky GrabCut
    then gave to the backdrop: 0.99 -> 0.93). An off-white mug printed with a
    grey sky, 1600 px: 0.74 -> 0.96-0.98 (5 of 12 seeds failed); held-out
    studio 0.966 -> 0.971; studio_set(seeds=4) and other_backdrops_set(seeds=4)
    unchanged (no shot moved by 0.003). At 800 px the same mug stays at 0.74:
    there its sky still meets soft shadow along most of its outline.
    """
    # crisp edges split regions: a product part and its own shadow touch, but along an edge
    strong = grad > SHARP_EDGE / 2
    # the step is at most 2 px away from where "plain" starts: regions are judged by the max gradient nearby
    step = cv2.dilate(grad, np.ones((7, 7), np.uint8))
    out = _sharp_regions(cand, strong, plain, step, k)
    if faint is not None and (faint & ~strong).any():
        out |= _sharp_regions(cand, strong | faint, plain, step, k)
        out |= _sharp_regions(cand, strong | faint, plain, step, k, cut=FAINT_CUT, thick=FAINT_THICK)
    return out


def _sharp_regions(cand: np.ndarray, edges: np.ndarray, plain: np.ndarray, step: np.ndarray,
                   k: np.ndarray, cut: int = 3, thick: int = 0) -> np.ndarray:
    """:func:`_sharp_bounded` for the regions ``edges`` cut ``cand`` into; ``step``: max gradient nearby.
    ``cut``: the cut band's width (px); ``thick``: when set, only regions at least this thick are judged."""
    band = np.ones((cut, cut), np.uint8)
    cuts = cv2.dilate(edges.astype(np.uint8), band).astype(bool)
    n, labels = cv2.connectedComponents((cand & ~cuts).astype(np.uint8), connectivity=4)
    if n <= 1:
        return np.zeros_like(cand)
    # reach across the cut band (edge pixels are neither region nor plain background)
    counts, mean = along_outline(labels, n, step, plain, reach=9)
    # ... and is evenly lit: a cast shadow deepens toward the product, so its k spreads. Robustly: a
    # panel's own shading at its rim (a soft bevel) must not count, the bulk of its pixels must vary
    area = np.bincount(labels.ravel(), minlength=n)
    spread = _robust_spread(labels, k, n)
    sharp = (mean > SHARP_EDGE) & (counts >= 8) & (spread < FLAT_K)
    # A shaded light part (a lamp's white shade on white, lit from one side and darker at its rim) is not
    # evenly lit, but where it meets the backdrop it does so at a step no soft shadow makes
    sharp |= (mean > SHARP_STEP * SHARP_EDGE) & (counts >= 8)
    # A cast shadow falls on the background, so it meets the plain background
    # along its whole outline; an evenly lit region walled in by crisp edges
    # (a grey panel between printed lines, a light lid above a dark box, where
    # only a few pixels at a corner touch the backdrop) is part of the product.
    sharp |= (counts < 8) & (spread < FLAT_K) & (area >= 4)
    if thick:  # a strip of shadow beside an edge borrows the edge's gradient
        core = cv2.erode((labels > 0).astype(np.uint8), np.ones((thick, thick), np.uint8)).astype(bool)
        sharp &= np.bincount(labels[core], minlength=n) > 0
    sharp[0] = False
    out = sharp[labels]
    # give back the cut pixels that sit between a sharp region and the rest
    return out | (cand & cuts & cv2.dilate(out.astype(np.uint8), band).astype(bool))


def _faint_crisp_edges(grad: np.ndarray, sharp_step: np.ndarray, ring: np.ndarray) -> np.ndarray:
    """Long crisp edges (``sharp_step``) that stand above the backdrop's noise but are too faint for
    SHARP_EDGE."""
    edges = (grad > FAINT_EDGE * max(NOISE_FLOOR, float(np.median(grad[ring])))) & sharp_step
    n, labels, stats, _ = cv2.connectedComponentsWithStats(edges.astype(np.uint8), connectivity=8)
    extent = np.maximum(stats[:, cv2.CC_STAT_WIDTH], stats[:, cv2.CC_STAT_HEIGHT])
    long = extent >= FAINT_LENGTH * min(grad.shape)
    long[0] = False
    return long[labels]


def _robust_spread(labels: np.ndarray, k: np.ndarray, n: int) -> np.ndarray:
    """Per label, 1.4826 x the median absolute deviation of ``k`` (a std that ignores a rim)."""
    return _per_label(labels, k, n, lambda v: 1.4826 * np.median(np.abs(v - np.median(v))))


def _per_label(labels: np.ndarray, values: np.ndarray, n: int, stat) -> np.ndarray:
    """``stat`` of ``values`` over each label 1..n-1 (0 for label 0 and for empty labels)."""
    flat = labels.ravel()
    order = np.argsort(flat, kind="stable")
    vals = values.ravel()[order]
    bounds = np.searchsorted(flat[order], np.arange(n + 1))
    out = np.zeros(n, np.float64)
    for i in range(1, n):
        if bounds[i + 1] > bounds[i]:
            out[i] = stat(vals[bounds[i]:bounds[i + 1]])
    return out


def highpass(grey: np.ndarray, s_hp: float = 2.0, s_avg: float = 1.5) -> np.ndarray:
    """Local high-pass energy: |grey - its blur at s_hp|, averaged at s_avg."""
    return cv2.GaussianBlur(np.abs(grey - cv2.GaussianBlur(grey, (0, 0), s_hp)), (0, 0), s_avg)


def _textured(grey: np.ndarray, ring: np.ndarray, s_hp: float, s_avg: float) -> np.ndarray:
    """High-pass energy, not the gradient: soft shadows have gradients but no detail."""
    texture = highpass(grey, s_hp, s_avg)
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
    if seeded_grabcut(roi, roi_gc, GRABCUT_ITERS):
        gc[y0:y1, x0:x1] = roi_gc


def seeded_grabcut(img: np.ndarray, gc: np.ndarray, iters: int, *, starts: int = 1) -> bool:
    """GrabCut from a mask, in place; False (``gc`` unchanged) when its colour models are degenerate.

    GrabCut seeds its colour models by k-means from OpenCV's per-thread RNG:
    seeded here, the same photo gets the same matte whatever ran before it in
    the process. With ``starts`` > 1 the models start from the most compact of
    that many clusterings (:func:`_colour_model`), so nearly the same mask
    gets nearly the same matte.
    """
    work = gc.copy()
    if starts == 1:
        bgd, fgd = np.zeros((1, 65), np.float64), np.zeros((1, 65), np.float64)
        cv2.setRNGSeed(GRABCUT_SEED)
        mode = cv2.GC_INIT_WITH_MASK
    else:
        sure = (gc == cv2.GC_FGD) | (gc == cv2.GC_PR_FGD)
        if min(np.count_nonzero(sure), np.count_nonzero(~sure)) < GMM_COMPONENTS:
            return False
        bgd, fgd = _colour_model(img[~sure], starts), _colour_model(img[sure], starts)
        mode = cv2.GC_EVAL
    try:
        cv2.grabCut(img, work, None, bgd, fgd, iters, mode)
    except cv2.error:
        return False
    gc[...] = work
    return True


def _colour_model(pixels: np.ndarray, starts: int) -> np.ndarray:
    """GrabCut's model of these (N, 3) colours, as OpenCV lays it out: 5 Gaussians' weights, means and
    covariances (a variance of 0.01 added to a singular one, as OpenCV does)."""
    k = GMM_COMPONENTS
    x = np.ascontiguousarray(pixels[::-(-len(pixels) // GMM_SAMPLES)], np.float32)
    cv2.setRNGSeed(GRABCUT_SEED)
    _, labels, _ = cv2.kmeans(x, k, None, (cv2.TERM_CRITERIA_MAX_ITER, 10, 0.0), starts,
                              cv2.KMEANS_PP_CENTERS)
    labels = labels.ravel()
    model = np.zeros((1, 13 * k), np.float64)
    for c in range(k):
        xc = x[labels == c].astype(np.float64)
        if not len(xc):
            continue
        mean = xc.mean(0)
        cov = xc.T @ xc / len(xc) - np.outer(mean, mean)
        if np.linalg.det(cov) <= np.finfo(np.float64).eps:
            cov += 0.01 * np.eye(3)
        model[0, c] = len(xc) / len(x)
        model[0, k + 3 * c:k + 3 * c + 3] = mean
        model[0, 4 * k + 9 * c:4 * k + 9 * c + 9] = cov.ravel()
    return model


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


def enclosed(mask: np.ndarray) -> np.ndarray:
    """Background pixels not 4-connected to the border (what scipy's binary_fill_holes fills)."""
    pad = np.pad(~mask, 1, constant_values=True).view(np.uint8)
    _, labels = cv2.connectedComponents(pad, connectivity=4)
    return (labels[1:-1, 1:-1] != labels[0, 0]) & ~mask


def _fill_holes(mask: np.ndarray, strength: np.ndarray, seen: np.ndarray) -> np.ndarray:
    """Fill holes unless they are large and background-coloured (a mug's handle), or mostly where the
    backdrop was ``seen`` through the product."""
    holes = enclosed(mask)
    if not holes.any():
        return mask
    n, labels = cv2.connectedComponents(holes.astype(np.uint8), connectivity=4)
    area = mask.sum()
    out = mask.copy()
    for i in range(1, n):
        hole = labels == i
        size = np.count_nonzero(hole)
        bg_like = np.median(strength[hole]) < 1.0 or np.count_nonzero(seen[hole]) > HOLE_SEEN * size
        if not bg_like or size < 0.002 * area:
            out |= hole
    return out



# The product's cast shadow, modelled: a soft drop shadow is the product's own silhouette, moved by the
# light's offset, blurred and scaled. Fitted to the backdrop's shade, it tells a missed part of the product
# (shade it does not explain) from a shadow the matte kept (shade it explains).
CAST_STEP = 4          # fitted at 1/this of the working size
CAST_REACH = 12        # ... for offsets up to this many of its pixels (48 working px) either way
CAST_BLURS = (1, 1.5, 2, 2.5, 3, 4, 5, 6.5, 8)  # ... and these softnesses (Gaussian sigma, its pixels)
CAST_SHADE = 0.07      # darkening (1 - k) this far beyond what the shadow explains is unexplained
CAST_WALLED = 0.8      # shade beyond the matte walled off by crisp edges along this share of its outline is
                       # not fitted as shadow (a backdrop-coloured panel of the product)
CAST_CRISP = 0.2       # a part meets the backdrop at a crisp edge along at least this share of that outline
CUT_OFF_SHADE = 0.9    # a piece the opened shade cut off from the product, this share shadow-coloured
CAST_ROUNDS = 8        # the shadow fitted again to the matte each judgement left, up to this many times
CAST_BETTER = 0.05     # ... while the shadow fitted again follows the shade by this share more closely
CAST_FIT = 2.5         # shade the shadow explains to within this many noise levels (mean) is shadow
CAST_SHIFTS = np.arange(0.0, 3.01, 0.25)  # a missed part's own shadow, peeled off by these multiples of
                                          # the offset
NECK_LONG = 3.0       # a part at least this many times as long as wide (a handle, a stem) stops short of
NECK_SHARE = 0.25     # ... the product by a gap of at most this share of its area
NECK_WIDTH = 0.5      # ... and at least this share of its width wide, which is the part too


class _Cast:
    """The backdrop's shade (``dark`` = 1 - k, shadow-coloured pixels ``shade``) and the drop shadow
    fitted to it: ``a * blur_sigma(mask moved by (dx, dy))``, over the shade beyond the matte that no
    crisp edge walls off (``step``: the working copy's gradient, its maximum within 2 px)."""

    def __init__(self, seen: Backdrop, mask: np.ndarray, step: np.ndarray):
        k, ang, _, self.k_noise, a_noise = seen.split
        self.dark = np.clip(1.0 - k, 0.0, 1.0).astype(np.float32)
        self.shade = (ang < max(0.03, 4 * a_noise)) & (k > 0.5) & (k < 1 + 3 * self.k_noise + 0.01)
        self.tau = max(CAST_SHADE, 3 * self.k_noise)
        free = self.shade & ~cv2.dilate(mask.astype(np.uint8), np.ones((5, 5), np.uint8)).astype(bool)
        self.fit = _fit_cast(self.dark, mask, free & ~_walled_off(free, mask, step), step, self.tau)
        # the shadow the matte casts, and how closely it follows the shade it was fitted to where it falls
        self.here, self.miss = None, 0.0
        if self.fit is not None:
            self.here = self.of(mask)
            fitted = free & (self.here > self.tau)
            self.miss = float(np.abs(self.dark - self.here)[fitted].mean()) if fitted.any() else 0.0

    def of(self, mask: np.ndarray) -> np.ndarray:
        """The darkening (1 - k) the shadow of ``mask`` casts."""
        s, dx, dy, a = self.fit
        m = mask.astype(np.float32)
        f = 2 if s >= 4 else 1  # (at half size when that loses nothing a soft shadow shows)
        if f > 1 and min(m.shape) >= 4 * f:
            h, w = m.shape
            m = cv2.resize(m, (w // f, h // f), interpolation=cv2.INTER_AREA)
            m = cv2.resize(cv2.GaussianBlur(m, (0, 0), s / f), (w, h), interpolation=cv2.INTER_LINEAR)
        else:
            m = cv2.GaussianBlur(m, (0, 0), s)
        return a * _shift(m, dx, dy)


def _walled_off(free: np.ndarray, mask: np.ndarray, step: np.ndarray) -> np.ndarray:
    """The shade beyond the matte (``free``) that crisp edges wall off from the backdrop's: a part of the
    product the matte missed, not shadow.

    A panel in the backdrop's own colour, shaded as a solid is, is shade-coloured
    and lies beside the matte, as a shadow does; fitted as shadow, it pulled
    the fit to itself (a two-tone box's panel above its printed half: a shadow
    cast upwards, 48 px off, as soft as the fit goes), and the panel was then
    explained, and missed. A shadow meets the backdrop softly; the panel meets
    it along its outline, at a crisp edge. The shade is cut along crisp edges
    (widened by 2 px to close their gaps); a piece whose outline away from the
    matte lies on them along CAST_WALLED of it is left out of the fit, and
    the fitted shadow not explaining it, the matte's missed part it is
    (:func:`_unexplained_parts`). The backdrop's own piece, the largest, stays,
    and so does a piece mostly in the matte's holes: the backdrop seen through
    the product, walled in by its own edges (a racket's head between its
    strings), where the shadow falls as anywhere (left out, a two-tone
    racket's fell 0.84 -> 0.64).
    Against f7ad873 (the 611 backdrop shots, --fused-only): two-tone 0.961 ->
    0.963, held-out studio 0.986 -> 0.986, fresh studio draws 4 / 5 / 6
    0.973 / 0.972 / 0.973 -> 0.976 / 0.973 / 0.981 (draw 6's worst 0.626 ->
    0.739), studio and other backdrops unchanged; 16 shots better, all
    two-tone boxes, shoes and bags (0.63-0.95 -> 0.95-1.00), 7 worse by
    0.006-0.030 (white bags on the white sweep, a white lamp and racket, a
    two-tone bag and mug). The scenes that pass for a backdrop (a clock, the
    moon, a cell) moved by no shot. About 1 ms.
    """
    edges = cv2.dilate((step > SHARP_EDGE / 2).astype(np.uint8), np.ones((5, 5), np.uint8)).astype(bool)
    n, labels = cv2.connectedComponents((free & ~edges).astype(np.uint8), connectivity=8)
    if n <= 2:
        return np.zeros_like(free)
    away = (labels == 0) & ~cv2.dilate(mask.astype(np.uint8), np.ones((7, 7), np.uint8)).astype(bool)
    outline, crisp = _crisp_share(labels, n, step, away, edges)
    area = np.bincount(labels.ravel(), minlength=n)
    walled = (outline > 0) & (crisp >= CAST_WALLED)
    walled &= 2 * np.bincount(labels[enclosed(mask)], minlength=n) < area
    walled[0] = False
    walled[1 + int(np.argmax(area[1:]))] = False
    return walled[labels]


def _shift(a: np.ndarray, dx: int, dy: int) -> np.ndarray:
    """``a`` moved by (dx, dy) px; what comes in from beyond the edge repeats the edge."""
    h, w = a.shape
    p = max(abs(dx), abs(dy))
    if p == 0:
        return a
    pad = cv2.copyMakeBorder(a, p, p, p, p, cv2.BORDER_REPLICATE)
    return pad[p - dy:p - dy + h, p - dx:p - dx + w]


def _fit_cast(dark: np.ndarray, mask: np.ndarray, free: np.ndarray, step: np.ndarray,
              tau: float) -> tuple[float, int, int, float] | None:
    """(sigma, dx, dy, a) in working px: least squares of ``a * blur_sigma(mask moved by (dx, dy))``
    against ``dark`` over the backdrop ``free``, at 1/CAST_STEP size (each offset at once, by correlation).

    A fit at the edge of its window (an offset of CAST_REACH) follows shade
    further off than a shadow the product casts: a part of the product in the
    backdrop's own colour, shaded as a solid, that the matte missed (a two-tone
    mug's or bottle's panel above its print, met by the real shadow with no
    edge between, so :func:`_walled_off` cannot wall it off). The fit reads it
    as a shadow cast upwards, as soft as it goes, and the panel is explained
    and stays missed. Then the best fit of each softness in each half of the
    window (offsets down, up, right, left) is a candidate too, and the one
    whose shadow leaves the least unexplained is taken (:func:`_cast_cost`:
    the panel left as a part of the product, the real shadow explained).
    Against 97eee1f (the 611 backdrop shots, --fused-only): fresh studio draws
    4 / 5 0.976 / 0.974 -> 0.980 / 0.976, four shots better (two-tone mugs and
    bottles 0.66-0.80 -> 0.98), none worse by 0.005; studio, two-tone, other
    backdrops, held-out studio, draw 6 and the scenes that pass for a backdrop
    (54) unchanged; fresh studio draws 7 and 8 (300 shots no rule has seen)
    0.979 / 0.980, no shot moved. Tried on every fit, not only at the
    window's edge, it broke white lamps and rackets on the white sweep (-0.10
    to -0.16), whose best fit was right and an alternative a little cheaper.
    About 17 ms when it runs.
    """
    h, w = dark.shape
    size = (max(1, w // CAST_STEP), max(1, h // CAST_STEP))
    d = cv2.resize(dark, size, interpolation=cv2.INTER_AREA)
    m = cv2.resize(mask.astype(np.float32), size, interpolation=cv2.INTER_AREA)
    o = (cv2.resize(free.astype(np.float32), size, interpolation=cv2.INTER_AREA) > 0.99).astype(np.float32)
    r = CAST_REACH
    do = cv2.copyMakeBorder(d * o, r, r, r, r, cv2.BORDER_CONSTANT, value=0)
    oo = cv2.copyMakeBorder(o, r, r, r, r, cv2.BORDER_CONSTANT, value=0)
    yy, xx = np.mgrid[-r:r + 1, -r:r + 1]
    halves = (yy > 0, yy < 0, xx > 0, xx < 0)
    best, tries = None, {}
    for s in CAST_BLURS:
        b = cv2.GaussianBlur(m, (0, 0), s)
        num = cv2.matchTemplate(do, b, cv2.TM_CCORR)   # at (y, x): the shadow moved by (x - r, y - r)
        den = cv2.matchTemplate(oo, b * b, cv2.TM_CCORR)
        # the squared error at the best scale a = num / den is sum(d^2) - num^2 / den
        gain = np.where((den > 1) & (num > 0), num * num / np.maximum(den, 1e-6), -1.0)
        y, x = np.unravel_index(int(np.argmax(gain)), gain.shape)
        if gain[y, x] > 0 and (best is None or gain[y, x] > best[0]):
            best = (float(gain[y, x]), s, int(x) - r, int(y) - r, float(num[y, x] / den[y, x]))
        for half in halves:
            y, x = np.unravel_index(int(np.argmax(np.where(half, gain, -1.0))), gain.shape)
            if half[y, x] and gain[y, x] > 0:
                tries[(s, int(x) - r, int(y) - r)] = (float(num[y, x] / den[y, x]), b)
    if best is None:
        return None
    _, s, dx, dy, a = best
    if max(abs(dx), abs(dy)) >= r and len(tries) > 1:
        # crisp edges at the fit's size: a part of the product meets the backdrop at one somewhere
        crisp = (cv2.resize(cv2.dilate(step, np.ones((CAST_STEP, CAST_STEP), np.uint8)), size,
                            interpolation=cv2.INTER_NEAREST) > SHARP_EDGE / 2).astype(np.float32)
        tries[(s, dx, dy)] = (a, cv2.GaussianBlur(m, (0, 0), s))
        costs = {key: _cast_cost(d, m, o, crisp, tau, key, *t) for key, t in tries.items()}
        s, dx, dy = min(costs, key=lambda k: (costs[k], k != (s, dx, dy)))  # a tie keeps the fit
        a = tries[(s, dx, dy)][0]
    return s * CAST_STEP, dx * CAST_STEP, dy * CAST_STEP, a


def _cast_cost(d: np.ndarray, m: np.ndarray, o: np.ndarray, crisp: np.ndarray, tau: float,
               key: tuple[float, int, int], a: float, blurred: np.ndarray) -> float:
    """How much of the shade ``d`` over ``o`` the shadow ``key`` = (sigma, dx, dy) of ``m`` (``blurred``:
    ``m`` blurred by sigma; all at the fit's size) leaves unexplained, as :func:`_unexplained_parts`
    would take it: shade beside the matte that it does not explain and that meets the backdrop at a
    crisp edge somewhere is a part of the product (costing CAST_SHADE's tau per pixel, as a barely
    unexplained one), casting its shadow with the rest; the squared residual of the rest, the
    shadow's scale fitted again."""
    s, dx, dy = key
    free = o > 0
    n, labels = cv2.connectedComponents((free & (d - a * _shift(blurred, dx, dy) > tau)).astype(np.uint8),
                                        connectivity=8)
    part = np.zeros_like(free)
    if n > 1:
        body = (m > 0.5).astype(np.uint8)
        reach = 2 * max(1, round(np.hypot(dx, dy) + 2 * s)) + 1
        keep = np.bincount(labels[cv2.dilate(body, np.ones((reach, reach), np.uint8)) > 0], minlength=n) > 0
        around = (labels == 0) & ~cv2.dilate(body, np.ones((3, 3), np.uint8)).astype(bool)
        counts, share = along_outline(labels, n, crisp, around, reach=3)
        keep &= (counts > 0) & (share >= CAST_CRISP)
        keep[0] = False
        part = keep[labels]
    cast = _shift(cv2.GaussianBlur(np.maximum(m, part.astype(np.float32)), (0, 0), s), dx, dy)
    rest = free & ~part
    a = float((d * cast)[rest].sum()) / max(float((cast * cast)[rest].sum()), 1e-6)
    return float(((d - a * cast)[rest] ** 2).sum()) + tau * tau * float(part.sum())


def cast_shadow_parts(seen: Backdrop, mask: np.ndarray, step: np.ndarray) -> np.ndarray:
    """The studio matte checked against the product's own drop shadow (``step``: the working copy's
    gradient, its maximum within 2 px).

    The matte's rules judge a shadow-coloured region by its edges and its
    evenness; where a white product's shaded rim meets its own shadow at the
    same level there is no edge to judge. The shadow itself has a shape,
    though: the product's silhouette moved by the light's offset and blurred
    (:class:`_Cast`, fitted to the backdrop's shade around the matte). So

    * shade inside the matte that the rest of the matte's shadow explains,
      meeting the backdrop with no crisp edge, is shadow (a string's shadow
      inside a racket's head, kept as product); so is such shade the product
      walls in all round, with the backdrop-coloured rest of that hole (a
      quarter of a racket's head wholly in the frame's shade, which passed for
      a grey panel walled in by crisp edges); so is the shade that opening
      cuts off from the product (:func:`_cut_off_shade`); so is such shade
      a shaded rim or a backdrop-coloured panel of the product joins, once
      split from it along crisp edges (:func:`_shade_beside_panels`);
    * shade beside the matte that its shadow does not explain, and that meets
      the backdrop at a crisp edge somewhere, is a part of the product the
      matte missed, with its own shadow (a white racket's handle on a white
      sweep); the part is what explains the rest of that shade best;
    * shade a shaded side of the product trails along the shadow's offset,
      with no edge between, is that side's shadow when the rest's shadow
      explains it (:func:`_trailing_shadow`).

    studio_set 0.984 -> 0.988 (the white racket 0.73 -> 0.86), held-out studio
    0.971 -> 0.977 (8 shots better by 0.006-0.07, none worse),
    studio_set(seeds=4) 0.983 -> 0.985 (10 better, worst 0.56 -> 0.67; one
    0.008 worse), other_backdrops_set(seeds=4) 0.988 (one better); the busy
    sets do not come here. About 30 ms at the working size.

    The shadow is fitted to the matte as it comes, holes filled (the shade a
    racket's frame casts into its head kept as a grey panel): that matte casts
    a solid shadow where the real one is a frame's, and the fit, least squares
    over both, is too faint (a light racket on white: 0.18 of the backdrop's
    level, 0.28 fitted to the true outline), so the shade left in the head is
    darker than it explains and stays. The shadow is fitted again to the matte
    each judgement leaves, and the shade judged again against it, while the
    new fit follows the backdrop's shade more closely (its mean miss lower by
    CAST_BETTER), up to CAST_ROUNDS fits. A part a later fit leaves
    unexplained is added too (the light prints of a racket's frame beside its
    holes, which the first fit, pulled off by the shadow kept by the neck,
    explained), but not beside what earlier rounds added: a lamp foot's
    shadow, added as a part, pulled each fit towards itself and more of it
    was added each round (0.87 -> 0.81).
    benchmarks/background.py --set backdrops --draw 4,5,6 --count 150
    --fused-only against 6c77015: two-tone 0.967 -> 0.968, held-out studio
    0.986 -> 0.988, fresh studio draws 4 / 5 / 6 0.980 / 0.980 / 0.983 ->
    0.982 / 0.980 / 0.984; 19 shots better (a light racket on white 0.75 ->
    0.91, others 0.79 -> 0.85, 0.92 -> 0.98, 0.81 -> 0.84), 2 worse (a
    two-tone box on dark grey 0.783 -> 0.774, a white lamp 0.936 -> 0.926);
    of the 993 scene and small-product shots, the moon photo passing for a
    backdrop lost three (0.95 -> 0.91, 0.82 -> 0.79, 0.93 -> 0.90: craters
    beside the product kept) and gained one. Of 40 studio mattes (fresh
    studio draw 4's first) 26 take one fit, 13 two or three, one seven: the
    step's median time 19 -> 22 ms, its longest 61 -> 331 ms.
    """
    cast = _Cast(seen, mask, step)
    if cast.fit is None:
        return mask
    opened = _explained_shadows(mask, cast, step)
    out = _unexplained_parts(opened, cast, step)
    added = out & ~opened
    for _ in range(CAST_ROUNDS - 1):
        if np.array_equal(out, mask):
            break
        again = _Cast(seen, out, step)
        if again.fit is None or again.miss > (1 - CAST_BETTER) * cast.miss:
            break
        mask, cast = out, again
        opened = _explained_shadows(mask, cast, step)
        more = _apart_from(_unexplained_parts(opened, cast, step) & ~opened, added)
        added |= more
        out = opened | more
    return out


def _apart_from(regions: np.ndarray, other: np.ndarray) -> np.ndarray:
    """The regions (8-connected) of ``regions`` that do not touch ``other``."""
    n, labels = cv2.connectedComponents(regions.astype(np.uint8), connectivity=8)
    if n <= 1:
        return regions
    near = cv2.dilate(other.astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool)
    apart = np.ones(n, bool)
    apart[np.unique(labels[near])] = False
    apart[0] = False
    return apart[labels]


def _crisp_share(labels: np.ndarray, n: int, step: np.ndarray, around: np.ndarray,
                 crisp: np.ndarray | None = None) -> tuple:
    """Per label: how many ``around`` pixels border it, and the share of them on a crisp edge (``crisp``;
    by default where ``step`` is over SHARP_EDGE / 2)."""
    crisp = step > SHARP_EDGE / 2 if crisp is None else crisp
    counts, _ = along_outline(labels, n, step, around, reach=3)
    on, _ = along_outline(labels, n, step, around & crisp, reach=3)
    return counts, on / np.maximum(counts, 1)


def _explained_shadows(mask: np.ndarray, cast: _Cast, step: np.ndarray) -> np.ndarray:
    """The matte (the one ``cast`` was fitted to) less the shade in it that the rest's shadow explains,
    met by the backdrop softly."""
    e = _shade_as_cast(mask, cast.here, cast)
    if not e.any():
        return mask
    outside = cv2.dilate((~mask).astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool)
    judge = _ShadeJudge(mask, e, cast, step, outside)
    out, opened, kept = judge(e, mask.copy(), cast.here)
    if kept.any():
        out, more = _shade_beside_panels(judge, kept, out)
        opened |= more
    # the backdrop-coloured rest of such a hole opens with it: what joins it in the backdrop's colours,
    # walled in by the product too (the lit part of a racket's head beyond the frame's shade)
    out = out & ~_grown(opened, ~(out & cast.shade), ~mask) if opened.any() else out
    return _cut_off_shade(out, mask, cast, step)


def _shade_as_cast(mask: np.ndarray, here: np.ndarray, cast: _Cast,
                   cut: np.ndarray | None = None) -> np.ndarray:
    """The shade in ``mask`` as dark as the shadow ``here`` it casts, less ``cut``, opened (no specks)."""
    e = mask & cast.shade & (np.abs(cast.dark - here) < cast.tau) & (here > cast.tau)
    return _opened(e if cut is None else e & ~cut)


def _opened(m: np.ndarray) -> np.ndarray:
    """``m`` (bool) opened by 3x3: no specks or 1 px bridges."""
    return cv2.morphologyEx(m.astype(np.uint8), cv2.MORPH_OPEN, np.ones((3, 3), np.uint8)).astype(bool)


class _ShadeJudge:
    """Judges the shade ``e`` in the matte ``mask`` (or regions of it): shadow (out of the matte) or
    product. ``outside``: the backdrop and the pixels touching it (a region touching none is walled in).
    """

    def __init__(self, mask: np.ndarray, e: np.ndarray, cast: _Cast, step: np.ndarray, outside: np.ndarray):
        self.mask, self.cast, self.step, self.outside = mask, cast, step, outside
        # a region's outline along the rest of the product is no evidence either way
        others = (mask & ~e).astype(np.uint8)
        self.around = ~mask & ~cv2.dilate(others, np.ones((7, 7), np.uint8)).astype(bool)
        s, dx, dy, _ = cast.fit
        self.pad = int(np.ceil(3 * s + (1 + CAST_SHIFTS[-1]) * np.hypot(dx, dy)))

    def __call__(self, e: np.ndarray, out: np.ndarray, here: np.ndarray, *, loose: bool = False,
                 trail: bool = True) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``out`` less the regions of ``e`` (judged against the shadow ``here``) that are shadow; with
        the walled ones of them (``opened``), and the regions judged and kept (``kept``).

        ``loose``: the shadow need explain them only as closely as it follows
        the shade it was fitted to; ``trail``: a kept region's trailing
        shadow (:func:`_trailing_shadow`) goes too.
        """
        cast, mask, step = self.cast, self.mask, self.step
        opened, kept = np.zeros_like(mask), np.zeros_like(mask)
        n, labels, stats, _ = cv2.connectedComponentsWithStats(e.astype(np.uint8), connectivity=8)
        if n <= 1:
            return out, opened, kept
        counts, crisp = _crisp_share(labels, n, step, self.around)
        soft = crisp < CAST_CRISP
        # shade the product walls in all round has no outline to judge: the rest's shadow alone tells, for a
        # hole's size (specks of a dark print on a dark backdrop match the shade's level as well)
        walled = stats[:, cv2.CC_STAT_AREA] >= HOLE_MIN * mask.size
        walled[np.unique(labels[self.outside])] = False
        h, w = mask.shape
        pad = self.pad
        for i in np.flatnonzero((counts[1:] >= 8) | walled[1:]) + 1:
            x, y, bw, bh = stats[i, :4]
            box = (slice(max(0, y - pad), min(h, y + bh + pad)), slice(max(0, x - pad), min(w, x + bw + pad)))
            region = labels[box] == i
            # explained by the others' shadow, not by its own (the shadow is linear in its caster)
            if (soft[i] or walled[i]) and _explained(region, here[box], cast.dark[box], cast, loose=loose):
                out[box] &= ~region
                if walled[i]:
                    opened[box] |= region
                continue
            trailing = (_trailing_shadow(region, mask[box], here[box], cast.dark[box], step[box], cast)
                        if trail else np.zeros_like(region))
            out[box] &= ~trailing
            if not trailing.any():
                kept[box] |= region
        return out, opened, kept


def _shade_beside_panels(judge: _ShadeJudge, kept: np.ndarray,
                         out: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``out`` less the shadow in the shade regions ``judge`` kept, looked at again in pieces split along
    crisp edges; with the walled pieces that went.

    A panel of the product in the backdrop's own colour is shade-coloured
    where it is shaded, and the shade it casts into a hole (the upper half of
    a racket's head, below a backdrop-coloured frame) joins it in one region:
    crisp along the panel's outline, and darker than the shadow explains, it
    stays whole. Split along the crisp edges (a step over SHARP_EDGE / 2), the
    shade cast into the hole is a piece of its own and is judged as before.
    The rest of that hole was no such shade at first: with it filled, the
    matte's shadow there is too deep. Judged against the shadow of what is
    left once the first pieces went, the pieces of it touching them go when
    the shadow explains them as closely as it follows the backdrop's shade.

    Fused (benchmarks/background.py --set backdrops --draw 4,5,6 --count 150
    --fused-only): two-tone 0.957 -> 0.961 (a racket on pink paper 0.775 ->
    0.888), fresh studio draws 4-6 each +0.000 to +0.001 with 8 shots better
    (white products on the white sweep, a bag 0.938 -> 0.980; a textured
    racket on white 0.679 -> 0.736) and none worse; 12 shots better over the
    backdrop sets, one worse (a white racket 0.830 -> 0.812, by 72 backdrop
    pixels fewer at the working size, which flipped :func:`_blurred_props`'
    whole-outline test).
    Without the split the shade stays whole; with every piece judged loosely
    at once the top of a bag's backdrop-coloured panel went (0.974 -> 0.966).
    """
    cast, step = judge.cast, judge.step
    crisp = step > SHARP_EDGE / 2
    before = out.copy()
    out, opened, _ = judge(_opened(kept & ~crisp), out, cast.here, trail=False)
    gone = before & ~out
    if not gone.any():
        return out, opened
    here = cast.of(out)
    n, labels = cv2.connectedComponents(_shade_as_cast(out, here, cast, cut=crisp).astype(np.uint8),
                                        connectivity=8)
    touching = np.zeros(n, bool)
    beside = cv2.dilate(gone.astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool)
    touching[np.unique(labels[beside])] = True
    touching[0] = False
    e = touching[labels]
    again = _ShadeJudge(out, e, cast, step, judge.outside)
    out, _, _ = again(e, out.copy(), here, loose=True, trail=False)
    return out, opened


def _cut_off_shade(out: np.ndarray, mask: np.ndarray, cast: _Cast, step: np.ndarray) -> np.ndarray:
    """``out`` (the matte ``mask`` less the shade :func:`_explained_shadows` opened) less the shade that
    opening cut off from the product: apart from its largest part, a piece beside what opened, all
    shadow-coloured, meeting the backdrop with no crisp edge (the far side of a white racket's shadow,
    whose near side the fit explained). Held-out studio's white racket 0.813 -> 0.828; no other shot of
    the studio, two-tone, other-backdrop and fresh studio sets (about 560) moved by 0.005. A coin print
    on a bag is as dark as shade but meets the backdrop at crisp edges: without that check, -0.023."""
    n, labels, stats, _ = cv2.connectedComponentsWithStats(out.astype(np.uint8), connectivity=8)
    if n <= 2:
        return out
    area = stats[:, cv2.CC_STAT_AREA]
    main = 1 + int(np.argmax(area[1:]))
    beside = np.zeros(n, bool)
    opened = cv2.dilate((mask & ~out).astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool)
    beside[np.unique(labels[opened])] = True
    shade = np.bincount(labels.ravel(), weights=cast.shade.ravel(), minlength=n)
    around = ~out & ~cv2.dilate((labels == main).astype(np.uint8), np.ones((7, 7), np.uint8)).astype(bool)
    _, crisp = _crisp_share(labels, n, step, around)
    drop = beside & (shade >= CUT_OFF_SHADE * area) & (crisp < CAST_CRISP)
    drop[0] = drop[main] = False
    return out & ~drop[labels]


def _explained(region: np.ndarray, here: np.ndarray, dark: np.ndarray, cast: _Cast, *,
               loose: bool = False) -> bool:
    """Is the shade of ``region`` what the rest of the matte (casting ``here`` with it) casts there?

    To within the backdrop's noise; ``loose``: or as closely as the fitted
    shadow follows the shade it was fitted to (a real shadow is no blurred
    silhouette to the pixel).
    """
    rest = (here - cast.of(region))[region]
    tol = max(CAST_FIT * cast.k_noise, cast.miss if loose else 0.0)
    return bool(rest.mean() > cast.tau and np.abs(dark[region] - rest).mean() < tol)


def _trailing_shadow(region: np.ndarray, mask: np.ndarray, here: np.ndarray, dark: np.ndarray,
                     step: np.ndarray, cast: _Cast) -> np.ndarray:
    """The part of ``region`` that is the shadow the product casts beyond its shaded side (else none).

    A white tube's far side is as dark as the shadow it casts, and meets it
    with no edge: the two are one region, whose outline along the tube is
    crisp, so it is not shade as a whole. Its shadow is the band the whole
    matte trails along the shadow's offset. Of the bands trailing by
    :data:`CAST_SHIFTS` of it, the one the rest's shadow explains best is
    shadow when it meets the backdrop softly, away from the rest, and the
    shadow explains it as closely as it does the shade it was fitted to.

    A white racket on the white sweep: the matte beyond the frame's outline
    13 % -> 8 % of the product (seeds 4005, 4008). studio_set(seeds=2): two
    shots +0.006 / +0.011; held-out studio 0.980 -> 0.982 (its white racket
    0.762 -> 0.813, found while looking at it); two-tone set three +0.005 -
    0.011; studio_set(seeds=4, 1200 px), other_backdrops_set(seeds=2): none
    moved by 0.005; no shot anywhere worse. 3-14 ms.
    """
    none = np.zeros_like(region)
    _, dx, dy, _ = cast.fit
    best, band, m8 = None, none, mask.astype(np.uint8)
    for t in CAST_SHIFTS[1:]:
        ahead = _shift(m8, -int(round(t * dx)), -int(round(t * dy))).astype(bool)
        trail = region & ~ahead
        if np.count_nonzero(trail) < 8:
            continue
        miss = np.abs(dark[trail] - (here - cast.of(trail))[trail]).mean()
        if best is None or miss < best:
            best, band = miss, trail
    # where it meets the backdrop, away from the rest of the product
    kept = cv2.dilate((mask & ~band).astype(np.uint8), np.ones((7, 7), np.uint8)).astype(bool)
    beyond = cv2.dilate(band.astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool) & ~mask & ~kept
    if (np.count_nonzero(beyond) < 8 or (step[beyond] > SHARP_EDGE / 2).mean() >= CAST_CRISP
            or not _explained(band, here, dark, cast, loose=True)):
        return none
    return band


def _unexplained_parts(mask: np.ndarray, cast: _Cast, step: np.ndarray) -> np.ndarray:
    """The matte plus the part of the product whose shade beside it its shadow does not explain."""
    here = cast.of(mask)
    dark, tau = cast.dark, cast.tau
    unexplained = cast.shade & ~mask & (dark - here > tau)
    n, labels = cv2.connectedComponents(_opened(unexplained).astype(np.uint8), connectivity=8)
    if n <= 1:
        return mask
    # near where a part joins the product, the product's shadow explains the part's shade (a handle
    # below a racket's head): near is within the shadow's reach
    s, dx, dy, _ = cast.fit
    reach = 2 * max(1, round(np.hypot(dx, dy) + 2 * s)) + 1
    near = cv2.dilate(mask.astype(np.uint8), np.ones((reach, reach), np.uint8)).astype(bool)
    keep = np.zeros(n, bool)
    keep[np.unique(labels[near])] = True
    around = (labels == 0) & ~cv2.dilate(mask.astype(np.uint8), np.ones((7, 7), np.uint8)).astype(bool)
    counts, crisp = _crisp_share(labels, n, step, around)
    keep &= crisp >= CAST_CRISP
    keep[0] = False
    extra = keep[labels]
    if not extra.any():
        return mask
    # the shade is the part and the part's own shadow beyond it: the part is what, moved along the
    # shadow's offset, still lands on shade or product, as far as explains the rest of the shade best.
    # Only the box around it changes (the shadow is linear in what casts it).
    ys, xs = np.nonzero(extra)
    pad = int(np.ceil(3 * s + (1 + CAST_SHIFTS[-1]) * np.hypot(dx, dy)))
    h, w = mask.shape
    box = (slice(max(0, ys.min() - pad), min(h, ys.max() + pad + 1)),
           slice(max(0, xs.min() - pad), min(w, xs.max() + pad + 1)))
    both = (extra | mask).astype(np.uint8)
    judged = (cast.shade | extra)[box] & ~mask[box]
    d, base, ex = dark[box], here[box], extra[box]
    best, part = None, ex
    for t in CAST_SHIFTS:
        cand = ex & _shift(both, -int(round(t * dx)), -int(round(t * dy)))[box].astype(bool)
        out = judged & ~cand
        cost = float(((d - base - cast.of(cand))[out] ** 2).sum()) + tau * tau * float(cand.sum())
        if best is None or cost < best:
            best, part = cost, cand
    whole = np.zeros_like(mask)
    whole[box] = part
    out = mask | whole
    return out | _neck(whole, out, cast.shade, reach)


def _neck(part: np.ndarray, mask: np.ndarray, shade: np.ndarray, reach: int) -> np.ndarray:
    """Where a part the matte missed meets the product, the product's own shadow explains the part's
    shade, so the part stops short of it (a racket's neck below its head). The shade between them along
    the part's own axis, within ``reach``, is the part too."""
    n, labels = cv2.connectedComponents(part.astype(np.uint8), connectivity=8)
    out = np.zeros_like(mask)
    for i in range(1, n):
        one = labels == i
        m = cv2.moments(one.astype(np.uint8), binaryImage=True)
        if m["m00"] < 2:
            continue
        # a long part (a handle, a stem), its width, and its long axis
        cov = np.array([[m["mu20"], m["mu11"]], [m["mu11"], m["mu02"]]]) / m["m00"]
        low, high = np.linalg.eigvalsh(cov)
        if high < NECK_LONG ** 2 * max(low, 1e-6):
            continue
        width = np.sqrt(12 * max(low, 0.0))
        angle = 0.5 * np.arctan2(2 * m["mu11"], m["mu20"] - m["mu02"])
        r = reach // 2
        line = np.zeros((2 * r + 1, 2 * r + 1), np.uint8)
        cv2.line(line, (round(r - r * np.cos(angle)), round(r - r * np.sin(angle))),
                 (round(r + r * np.cos(angle)), round(r + r * np.sin(angle))), 1)
        both = (one | mask).astype(np.uint8)
        closed = cv2.erode(cv2.dilate(both, line), line).astype(bool)
        near = cv2.dilate(one.astype(np.uint8), line).astype(bool)
        gap = (closed & near & shade & ~mask).astype(np.uint8)
        k, glabels = cv2.connectedComponents(gap, connectivity=4)
        if k <= 1:
            continue
        small = np.bincount(glabels.ravel(), minlength=k) <= NECK_SHARE * m["m00"]
        # as wide as the part (a streak along the kernel's line is no neck)
        depth = cv2.distanceTransform(np.pad(gap, 1), cv2.DIST_L2, 3)[1:-1, 1:-1]
        wide = np.zeros(k)
        inside = gap.astype(bool)
        np.maximum.at(wide, glabels[inside], depth[inside])
        touches_part, _ = along_outline(glabels, k, one, one, reach=3)
        touches_rest, _ = along_outline(glabels, k, mask, mask & ~one, reach=3)
        keep = (touches_part > 0) & (touches_rest > 0) & small
        keep &= 2 * wide >= NECK_WIDTH * width
        keep[0] = False
        out |= keep[glabels]
    return out


# A shadow the matte kept beside the product, moved off to the product's crisp outline.
SNAP_REACH = 5        # the matte's outline is looked for again within this many working px of it
SNAP_SOFT = 40.0      # ... where it ran along no edge (Sobel magnitude, mean): a shadow's blurred fringe
SNAP_GAIN = 1.5       # ... and moves to an edge this many times as strong, and crisp (SHARP_EDGE / 2)
SNAP_SMOOTH = 0.35    # ... through what is smoother than that edge by this factor (mean gradient)
SNAP_CHROMA = 3.0     # ... and has the chroma of the backdrop beside it to within this many degrees


def shade_off_edges(small: np.ndarray, mask: np.ndarray, grad: np.ndarray) -> np.ndarray:
    """The studio matte less the shade it kept beyond the product's crisp outline (``grad``: the working
    copy's gradient, :func:`gradient`).

    Where a dark part of the product meets its own drop shadow, shadow and
    product are both darker than the backdrop, and GrabCut and the shadow
    model can keep a band of shadow with the part: the matte's outline then
    runs along the shadow's blurred fringe, on no edge at all, while the
    product's outline is a crisp edge a few pixels in. A watershed on the
    image, seeded with the matte's core (and the ridge of its thin parts) and
    with the backdrop beyond SNAP_REACH of it, finds the strongest edge
    between them. Each piece it takes away goes only when all of these hold:
    the old outline there was soft and the new one is crisp, the piece is
    smooth, and it has the backdrop's chroma (shade, not a panel of the
    product that merely ends at an edge of its print). Nothing is added.

    benchmarks/background.py --set backdrops --draw 4,5,6 --count 150
    --fused-only: two-tone 0.963 -> 0.967 (worst 0.791 -> 0.820: rackets with
    a dark print below a light head, on white 0.792 -> 0.850), other
    backdrops 0.992 -> 0.993 (a racket on black 0.960 -> 0.982), fresh studio
    draws 4-6 18 shots better by 0.005 to 0.04 (worst of draw 4 0.656 ->
    0.673); 25 shots better, none worse. Without the chroma test a bottle
    printed with a flag lost the flag's stripe along its side (0.990 ->
    0.982); without the soft outline it ran along, so did others. About 5 ms.
    """
    bx, by, bw, bh = cv2.boundingRect(mask.astype(np.uint8))
    if not bw:
        return mask
    # all of it within the matte's box and the reach of its dilations around it
    pad = SNAP_REACH + 8
    h, w = mask.shape
    y0, y1 = max(0, by - pad), min(h, by + bh + pad)
    x0, x1 = max(0, bx - pad), min(w, bx + bw + pad)
    old = mask[y0:y1, x0:x1].astype(bool)
    small, grad = small[y0:y1, x0:x1], grad[y0:y1, x0:x1]
    m8 = old.astype(np.uint8)
    depth = cv2.distanceTransform(np.pad(m8, 1), cv2.DIST_L2, 3)[1:-1, 1:-1]
    core = depth > SNAP_REACH
    # a part too thin for a core keeps its ridge as a seed, so the watershed cannot take it whole
    ridge = (depth > 0) & (depth >= cv2.dilate(depth, np.ones((3, 3), np.uint8)))
    ridge &= ~cv2.dilate(core.astype(np.uint8), disk(SNAP_REACH + 1)).astype(bool)
    seeds = np.zeros(old.shape, np.int32)
    seeds[cv2.dilate(m8, disk(SNAP_REACH)) == 0] = 1
    seeds[core | ridge] = 2
    cv2.watershed(cv2.cvtColor(small, cv2.COLOR_RGB2BGR), seeds)
    new = (seeds == 2) | ((seeds == -1) & old)
    changed = new ^ old
    n, labels = cv2.connectedComponents(changed.astype(np.uint8), connectivity=8)
    if n <= 1:
        return mask
    near = cv2.dilate(labels.astype(np.uint16), np.ones((5, 5), np.uint8)).astype(np.int32)
    # each piece's outlines, inside and backdrop beside it: all within its 5 x 5 neighbourhood
    at = near > 0
    near, lab, grad, rgb = near[at], labels[at], grad[at], small[at].astype(np.float32)
    was_edge, now_edge, old, changed = either_side(old)[at], either_side(new)[at], old[at], changed[at]

    def mean_of(where: np.ndarray, values: np.ndarray, by: np.ndarray) -> np.ndarray:
        counts = np.bincount(by[where], minlength=n)
        return np.bincount(by[where], weights=values[where], minlength=n) / np.maximum(counts, 1)

    was, now = mean_of(was_edge, grad, near), mean_of(now_edge, grad, near)
    inside = mean_of(changed & ~was_edge & ~now_edge, grad, lab)
    beside = ~old & ~changed
    piece = np.stack([mean_of(changed, rgb[:, c], lab) for c in range(3)], -1)
    backdrop = np.stack([mean_of(beside, rgb[:, c], near) for c in range(3)], -1)
    cos = (piece * backdrop).sum(-1) / np.maximum(np.linalg.norm(piece, axis=-1) *
                                                  np.linalg.norm(backdrop, axis=-1), 1e-6)
    shade = np.degrees(np.arccos(np.clip(cos, -1.0, 1.0))) < SNAP_CHROMA
    shade &= np.bincount(near[beside], minlength=n) > 0
    added = np.bincount(lab[changed & ~old], minlength=n) > 0
    go = ((was < SNAP_SOFT) & (now > SNAP_GAIN * was) & (now > SHARP_EDGE / 2)
          & (inside < SNAP_SMOOTH * now) & shade & ~added)
    go[0] = False
    out = mask.copy()
    out[y0:y1, x0:x1] &= ~go[labels]
    return out


# A panel of the product in the backdrop's own colours, walled off from the backdrop by crisp edges.
PANEL_GAP = 15        # long crisp edges (FAINT_EDGE, FAINT_LENGTH), gaps in them narrower than this closed (px)
PANEL_FACING = 0.2    # ... between it and the backdrop along this share of its outline (and FAINT_LENGTH px)


def walled_panels(seen: Backdrop, mask: np.ndarray) -> np.ndarray:
    """The studio matte plus the panels of the product in the backdrop's own colours that the product's
    crisp outline walls off from the backdrop.

    A product printed with a grey sky, on a grey sweep, has a panel no
    darker than the backdrop or only a little: every rule that tells product
    from backdrop by colour calls it backdrop, and where it is shadow-coloured
    its shading spreads too much for a flat panel. What shows it is its
    outline: the print ends at the product's edge, a long crisp step, where
    a shadow fades out. So the pixels in the backdrop's colours (and its
    shade) are cut into cells by the long crisp edges, their gaps narrower
    than PANEL_GAP closed (where the print crosses the backdrop's level
    there is no step for a few pixels). A cell the border ring does not
    reach, beside the matte, is a panel when the backdrop lies just across
    such an edge along PANEL_FACING of its outline: nothing but the edge
    between them. A cast shadow meets the backdrop softly, and a hole the
    product rings (a handle's) has the product's body between it and the
    backdrop, so neither is taken; but a part no wider than the walls, in
    the backdrop's colours too (a bag's handle printed with the sky), is all
    wall, and the hole behind it faces the backdrop across it. Only along
    that part, though: a tenth of the hole's outline in fresh studio draw 6
    (with 11 px walls), where the panels taken face it along over a third
    of theirs. The walls between a panel and the backdrop are split between
    them by distance.

    A mug printed with the cameraman on a grey sweep (fresh studio draw 5,
    three seeds): 0.78-0.81 -> 0.96-0.97, its sky had been cut away (at 1200
    and 2400 px 0.95-0.97). benchmarks/background.py --set backdrops --draw
    4,5,6 --count 150 --fused-only: those three shots better, no other shot
    of the seven sets moved by 0.005. Without the gaps closed the sky leaked
    out where its level crosses the backdrop's: a 7 px gap in its edge, 11
    px in another mug's at 1200 px (PANEL_GAP 11 closed gaps up to 10 px);
    with every crisp edge as a wall, not only the long ones, JPEG specks
    walled pieces of cast shadow off (20 shots of the fixed studio sets
    worse by up to 0.08).
    About 6 ms at the working size, the colour split and the edges read
    from ``seen``.
    """
    h, w = mask.shape
    k, ang, _, k_noise, a_noise = seen.split
    ring = seen.ring
    r = PANEL_GAP // 2
    walls = cv2.dilate(seen.faint_edges.astype(np.uint8), disk(r)).astype(bool)
    backdrop_shade = (ang < max(0.03, 4 * a_noise)) & (k > 0.5) & (k < 1 + 3 * k_noise + 0.01)
    n, labels = cv2.connectedComponents((backdrop_shade & ~walls & ~mask).astype(np.uint8), connectivity=4)
    if n <= 1:
        return mask
    is_outer = np.zeros(n, bool)
    is_outer[labels[ring]] = True
    is_outer[0] = False
    outer = is_outer[labels]
    # the backdrop, grown across the walls (never through the product) as far as a wall is wide
    across, free = outer.astype(np.uint8), ((walls | outer) & ~mask).astype(np.uint8)
    k3 = np.ones((3, 3), np.uint8)
    for _ in range(2 * r + 3):
        across = cv2.dilate(across, k3) & free
    across = cv2.dilate(across, k3).astype(bool)
    f = labels.astype(np.float32)
    outline = (labels > 0) & (cv2.erode(f, k3) != cv2.dilate(f, k3))
    length = np.bincount(labels[outline], minlength=n)
    facing = np.bincount(labels[outline & across], minlength=n)
    beside = np.zeros(n, bool)
    beside[labels[cv2.dilate(mask.astype(np.uint8), disk(r + 3)).astype(bool)]] = True
    area = np.bincount(labels.ravel(), minlength=n)
    panel = (beside & (area >= HOLE_MIN * h * w) & (facing >= FAINT_LENGTH * min(h, w))
             & (facing >= PANEL_FACING * length))
    panel &= ~is_outer
    if not panel.any():
        return mask
    panel = panel[labels]
    to_panel = cv2.distanceTransform((~panel).astype(np.uint8), cv2.DIST_L2, 3)
    to_outer = cv2.distanceTransform((~outer).astype(np.uint8), cv2.DIST_L2, 3)
    return mask | panel | (walls & (to_panel < to_outer) & (to_panel <= r + 1))


def either_side(mask: np.ndarray) -> np.ndarray:
    """The pixels either side of ``mask``'s outline (bool), 8-connected."""
    k3 = np.ones((3, 3), np.uint8)
    m8 = mask.astype(np.uint8)
    return (mask & ~cv2.erode(m8, k3).astype(bool)) | (~mask & cv2.dilate(m8, k3).astype(bool))


def disk(radius: int) -> np.ndarray:
    """A round structuring element of this radius, in pixels."""
    return cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1,) * 2)
