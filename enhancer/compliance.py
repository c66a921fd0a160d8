"""Marketplace compliance: measure an image against a profile, rule by rule.

The rules measure the product photo, not what our own steps added around it.
STANDARDIZE pads a photo onto a white canvas, so a ring at the canvas edge
would only read our padding: :class:`Provenance` records where the source's
pixels sit in the output, whether their background was replaced through a
matte, and how far they were magnified, and :func:`evaluate` reads the
background, the fill and the real resolution from that.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from .imageio import decode
from .profiles import Profile, get_profile
from .quality import edge_width
from .types import ComplianceReport, RuleResult

WORK_SIDE = 800
BORDER = 0.02  # share of each side read as "the background"
#: A background pixel is "plain" within this many levels (max channel) of the background's median.
PLAIN_LEVELS = 14
#: Share of the background that must be plain for "white or light" (a busy scene is not a background).
PLAIN_SHARE = 0.90
#: Tolerance (levels, max channel) of an "exact" strict-background pixel: JPEG noise on pure white.
EXACT_LEVELS = 2


@dataclass
class Provenance:
    """Where the output's pixels came from; the steps that move pixels keep it up to date.

    Attributes
    ----------
    source_size : (int, int) or None
        (width, height) of the upload; None when unknown (plain bytes).
    scale : float
        Linear magnification of the source's pixels in the output (2.0: each
        source pixel became 2x2). Upscaling multiplies it, downscaling divides.
    placed : (x0, y0, x1, y1) or None
        Box of the output where the source (or its crop) was pasted onto a
        canvas of our own; None when the output is the photo's own frame.
    matted : bool
        The photo's background around the product was replaced through a
        matte (so the canvas colour around the product is a real background).
    matte : ndarray or None
        That matte in output coordinates (255 = product), when there is one.
    source_background : (int, int, int) or None
        Median colour of the upload's own border, measured before padding.
    softness : float
        How far the upload itself had been blown up, read from its edges
        (:func:`softness`); 1.0 for a crisp photo.
    edge_contact : float
        Share of the upload's own border covered by the product's matte: a
        product on a background leaves its border free.
    backdrop : bool or None
        The upload's own border is a plain backdrop (a studio shot); False for
        a scene (brick, a table, a street) the product was cut out of; None
        when not measured.
    """

    source_size: tuple[int, int] | None = None
    scale: float = 1.0
    placed: tuple[int, int, int, int] | None = None
    matted: bool = False
    matte: np.ndarray | None = None
    source_background: tuple[int, int, int] | None = None
    softness: float = 1.0
    edge_contact: float = 0.0
    backdrop: bool | None = None

    def resized(self, factor: float) -> None:
        """The output was resized by ``factor`` (linear) after placement."""
        self.scale *= factor
        if self.placed is not None:
            self.placed = tuple(int(round(v * factor)) for v in self.placed)
        if self.matte is not None:
            h, w = self.matte.shape
            self.matte = cv2.resize(self.matte, (max(1, round(w * factor)), max(1, round(h * factor))),
                                    interpolation=cv2.INTER_AREA)


#: Native-resolution crop the softness is read on; the edge width (px) below which edges are crisp
#: (skimage's photos and studio shots at native size measure 1.5-2.5, a 3x blow-up 4-4.5).
SOFT_CROP, CRISP_EDGE = 1024, 2.5
_SOFT_STEPS = (1.0, 1.5, 2.0, 3.0, 4.0, 6.0, 8.0)
#: A matte touching more than this share of the photo's own border is a scene (or a product
#: cut off by the frame, which marketplaces refuse too), not a product on a background.
EDGE_CONTACT_MAX = 0.02


def softness(rgb: np.ndarray) -> float:
    """Blow-up factor read from the pixels: 1.0 for a crisp photo, about k for one upscaled k times.

    A photo's sharpest edges at native resolution are 1.5-2.5 px wide
    (:func:`enhancer.quality.edge_width`); an upscale widens them. The
    central crop is shrunk step by step until its edges are crisp again: the
    factor where that happens (interpolated) is how far it had been blown up.
    One measurement at native size suffices for an ordinary photo.
    """
    h, w = rgb.shape[:2]
    y0, x0 = max(0, (h - SOFT_CROP) // 2), max(0, (w - SOFT_CROP) // 2)
    crop = np.ascontiguousarray(rgb[y0:y0 + SOFT_CROP, x0:x0 + SOFT_CROP])
    gray = cv2.cvtColor(crop, cv2.COLOR_RGB2GRAY)
    prev = None
    for d in _SOFT_STEPS:
        size = (max(1, round(gray.shape[1] / d)), max(1, round(gray.shape[0] / d)))
        if min(size) < 48:
            break
        width = edge_width(cv2.resize(gray, size, interpolation=cv2.INTER_AREA) if d > 1 else gray)
        if width is None:
            break
        if width <= CRISP_EDGE:
            if prev is None:
                return 1.0
            # interpolate (in log d) where the width crossed the crisp line
            (d0, w0) = prev
            t = (w0 - CRISP_EDGE) / max(w0 - width, 1e-6)
            return float(np.exp(np.log(d0) + t * (np.log(d) - np.log(d0))))
        prev = (d, width)
    return prev[0] if prev else 1.0


def _product_mask(rgb: np.ndarray, alpha: np.ndarray | None) -> tuple[np.ndarray, float, float]:
    """Product mask on a copy at most WORK_SIDE, and the (x, y) factors back to full size."""
    h, w = rgb.shape[:2]
    f = min(1.0, WORK_SIDE / max(h, w))
    size = (max(1, round(w * f)), max(1, round(h * f)))
    if alpha is not None:
        a = cv2.resize(alpha, size, interpolation=cv2.INTER_AREA) if f < 1 else alpha
        mask = a > 127
    else:
        small = cv2.resize(rgb, size, interpolation=cv2.INTER_AREA) if f < 1 else rgb
        small = cv2.GaussianBlur(small, (3, 3), 0)
        ring = small[_ring(small.shape[:2])]
        bg = np.median(ring, axis=0)
        if (np.abs(ring.astype(np.int16) - bg.astype(np.int16)).max(-1) <= 2).mean() >= 0.99:
            # a canvas of one exact colour (what standardize makes): everything off it is the product
            mask = np.abs(small.astype(np.int16) - bg.astype(np.int16)).max(-1) > 16
        else:  # a photo: the same product matte background removal and standardize use
            from .steps.background import product_matte  # the steps import this module

            matte = product_matte(rgb)
            if matte is None:
                mask = np.zeros(small.shape[:2], bool)
            else:
                mask = (cv2.resize(matte, size, interpolation=cv2.INTER_AREA) if f < 1 else matte) > 127
    mask = cv2.morphologyEx(mask.astype(np.uint8), cv2.MORPH_OPEN, np.ones((3, 3), np.uint8)).astype(bool)
    return mask, w / mask.shape[1], h / mask.shape[0]


def product_box(rgb: np.ndarray, alpha: np.ndarray | None = None) -> tuple[int, int, int, int] | None:
    """Bounding box (x0, y0, x1, y1) of the product: from alpha, from a flat canvas's colour, or else from
    the product matte background removal uses (:func:`enhancer.steps.background.product_matte`).

    Specks are opened away first; None when no product stands out.
    """
    h, w = rgb.shape[:2]
    mask, sx, sy = _product_mask(rgb, alpha)
    ys, xs = np.nonzero(mask)
    if len(ys) == 0:
        return None
    return (int(xs.min() * sx), int(ys.min() * sy), min(w, int(np.ceil((xs.max() + 1) * sx))),
            min(h, int(np.ceil((ys.max() + 1) * sy))))


def _ring(shape: tuple[int, int], share: float = BORDER) -> np.ndarray:
    h, w = shape
    r = max(1, int(round(share * min(h, w))))
    ring = np.zeros((h, w), bool)
    ring[:r], ring[-r:], ring[:, :r], ring[:, -r:] = True, True, True, True
    return ring


def border_colour(rgb: np.ndarray) -> tuple[int, int, int]:
    """Median colour of an image's own border ring (what its background looks like)."""
    small = rgb
    if max(rgb.shape[:2]) > WORK_SIDE:
        f = WORK_SIDE / max(rgb.shape[:2])
        small = cv2.resize(rgb, (max(1, round(rgb.shape[1] * f)), max(1, round(rgb.shape[0] * f))),
                           interpolation=cv2.INTER_AREA)
    med = np.median(small[_ring(small.shape[:2])], axis=0)
    return int(med[0]), int(med[1]), int(med[2])


def evaluate(rgb: np.ndarray, alpha: np.ndarray | None, profile: Profile | str, *,
             fmt: str | None = None, size_bytes: int | None = None,
             provenance: Provenance | None = None) -> ComplianceReport:
    """Check an image (array, plus the encoded format/size when known) against a profile.

    JPEG output is judged as it will look: transparent pixels on white. With
    ``provenance`` (what :func:`enhancer.enhance` knows about its own output)
    the background is read from the photo's own pixels, not our padding, and
    the source resolution behind the output is checked.
    """
    prof = get_profile(profile)
    if alpha is not None and alpha.min() >= 250:
        alpha = None  # an opaque alpha channel says nothing about where the product is
    prov = provenance or Provenance()
    h, w = rgb.shape[:2]
    rules: list[RuleResult] = []
    if prof.aspect:
        want = prof.aspect[0] / prof.aspect[1]
        rules.append(RuleResult("aspect ratio", abs(w / h - want) <= 0.01 * want,
                                f"{w}:{h} ({w / h:.3f})", f"{prof.aspect[0]}:{prof.aspect[1]} ({want:.3f})"))
    rules.append(RuleResult("minimum size", min(w, h) >= prof.min_side and max(w, h) >= prof.min_long,
                            f"{w}x{h}", f"shortest >= {prof.min_side}, longest >= {prof.min_long} px"))
    rules.append(RuleResult("maximum size", max(w, h) <= prof.max_long, f"{max(w, h)} px",
                            f"longest <= {prof.max_long} px"))
    if prov.source_size is not None and prof.min_long:
        rules.append(_resolution_rule(max(w, h), prov, prof))
    rules.append(_background_rule(rgb, alpha, prof, fmt, prov))
    rules.extend(_placement_rules(rgb, alpha, prof, prov))
    if prof.format and fmt:
        rules.append(RuleResult("format", fmt.upper() == prof.format, fmt.upper(), prof.format))
    if size_bytes is not None and (prof.min_kb or prof.max_kb):
        lo, hi = (prof.min_kb or 0) * 1024, (prof.max_kb or 10 ** 9) * 1024
        rules.append(RuleResult("file size", lo <= size_bytes <= hi, f"{size_bytes / 1024:.0f} KB",
                                f"{prof.min_kb or 0}-{prof.max_kb or '∞'} KB"))
    return ComplianceReport(profile=prof.name, rules=tuple(rules))


def _resolution_rule(long_side: int, prov: Provenance, prof: Profile) -> RuleResult:
    """Real detail behind the output: its long side in source pixels.

    Zoom shows the source's detail, not the canvas size: a 160 px thumbnail
    blown up to 2000 px has 160 px of detail. A modest upscale is accepted
    (``prof.max_upscale``), so the rule asks for ``min_long / max_upscale``.
    """
    detail = long_side / (max(prov.scale, 1.0) * prov.softness)
    need = math.ceil(prof.min_long / prof.max_upscale)
    src = prov.source_size
    how = [f"{src[0]}x{src[1]} source"]
    if prov.scale > 1.01:
        how.append(f"magnified {prov.scale:.1f}x")
    if prov.softness > 1.05:
        how.append(f"its edges look blown up {prov.softness:.1f}x")
    measured = f"~{detail:.0f} px of real detail ({', '.join(how)})"
    return RuleResult("source resolution", detail >= need - 0.5, measured,
                      f">= {need} px (longest {prof.min_long} px, upscaled at most {prof.max_upscale:g}x)")


def _placement_rules(rgb, alpha, prof: Profile, prov: Provenance) -> list[RuleResult]:
    h, w = rgb.shape[:2]
    want_fill = f"{prof.fill[0]:.0%}-{prof.fill[1]:.0%} of the frame"
    if prov.placed is not None and not prov.matted:
        x0, y0, x1, y1 = prov.placed
        whole = max((x1 - x0) / w, (y1 - y0) / h)
        return [RuleResult("product fill", False,
                           f"no product isolated: the whole photo fills {whole:.1%}", want_fill)]
    matte = prov.matte if prov.matte is not None and prov.matte.shape == (h, w) else alpha
    box = product_box(rgb, matte)
    if box is None:
        return [RuleResult("product fill", False, "no product found", want_fill)]
    x0, y0, x1, y1 = box
    fill = max((x1 - x0) / w, (y1 - y0) / h)
    out = [RuleResult("product fill", prof.fill[0] - 0.01 <= fill <= prof.fill[1] + 0.01,
                      f"{fill:.1%}", want_fill)]
    if prof.margin > 0:
        m = min(x0 / w, y0 / h, (w - x1) / w, (h - y1) / h)
        out.append(RuleResult("margins", m >= prof.margin - 0.005, f"{m:.1%}",
                              f">= {prof.margin:.0%} free on each side"))
    return out


def _background_pixels(rgb, alpha, prov: Provenance) -> tuple[np.ndarray, np.ndarray | None, str]:
    """The pixels that stand for the photo's background, their alpha, and where they were read.

    - the photo pasted whole on our canvas (no matte): its own border ring;
    - a matted product on our canvas: a band just outside the matte, where a
      left-over shadow or halo would show;
    - otherwise the image's border ring (the photo's own frame).
    """
    h, w = rgb.shape[:2]
    if prov.placed is not None and not prov.matted:
        x0, y0, x1, y1 = prov.placed
        ring = _ring((y1 - y0, x1 - x0))
        sel = np.zeros((h, w), bool)
        sel[y0:y1, x0:x1] = ring
        where = "the photo's own border"
    elif prov.matted and prov.matte is not None and prov.matte.shape == (h, w):
        prod = (prov.matte > 8).astype(np.uint8)
        r_in = max(2, round(0.005 * min(h, w)))
        r_out = max(r_in + 2, round(0.03 * min(h, w)))
        # the band by each pixel's distance from the product: dilating by disks this wide took 0.27 s on a
        # 2000 px canvas, the distance 0.03
        dist = cv2.distanceTransform(1 - prod, cv2.DIST_L2, cv2.DIST_MASK_PRECISE)
        sel = (dist > r_in) & (dist <= r_out)
        where = "around the product"
        if sel.sum() < 100:
            sel, where = _ring((h, w)), "the border"
    else:
        sel, where = _ring((h, w)), "the border"
    a = alpha[sel] if alpha is not None else None
    return rgb[sel], a, where


def _background_rule(rgb, alpha, prof: Profile, fmt: str | None, prov: Provenance) -> RuleResult:
    want = (f"pure RGB{prof.background} on >= 98% of the background" if prof.strict_background
            else f"plain (>= {PLAIN_SHARE:.0%} within {PLAIN_LEVELS} levels) and light "
                 "(luma >= 235, neutral)")
    raw, a, where = _background_pixels(rgb, alpha, prov)
    # float64: a float32 sum over a large ring drifts (it once reported RGB(256,256,256))
    px = raw.astype(np.float64)
    if a is not None:
        a = a.astype(np.float64)[:, None] / 255.0
        if fmt and fmt.upper() != "JPEG" and (a < 0.5).mean() > 0.5:
            return RuleResult("background", False, "transparent", want)
        px = px * a + 255.0 * (1 - a)  # JPEG goes on white
    if len(px) == 0:
        return RuleResult("background", False, "no background visible", want)
    if prov.matted and prov.edge_contact > EDGE_CONTACT_MAX:
        return RuleResult("background", False,
                          f"the subject runs off the photo's edge on {prov.edge_contact:.0%} of its border "
                          "(a scene, or a product cut off by the frame)", want)
    if prov.matted and prov.backdrop is False:
        return RuleResult("background", False,
                          "the photo's own background is a scene, not a plain backdrop (its border is "
                          "detailed or uneven); the product was cut out of it, so check the cut-out's edges and "
                          "shoot it on a plain background", want)
    med = np.median(px, axis=0)
    plain = float((np.abs(px - med).max(axis=1) <= PLAIN_LEVELS).mean())
    colour = f"RGB({med[0]:.0f},{med[1]:.0f},{med[2]:.0f})"
    src = ""
    if prov.matted and prov.source_background is not None:
        sb = prov.source_background
        src = f"; the photo's own RGB({sb[0]},{sb[1]},{sb[2]}) replaced through the product's matte"
    if prof.strict_background:
        target = np.asarray(prof.background, np.float64)
        exact = float((np.abs(px - target).max(axis=1) <= EXACT_LEVELS).mean())
        return RuleResult("background", exact >= 0.98,
                          f"{colour} {where}, {exact:.0%} exact, {plain:.0%} plain{src}", want)
    luma = float(med @ np.array([0.299, 0.587, 0.114]))
    chroma = float(med.max() - med.min())
    return RuleResult("background", luma >= 235 and chroma <= 12 and plain >= PLAIN_SHARE,
                      f"{colour} {where}, {plain:.0%} plain{src}", want)


def check_compliance(data_or_array, profile: str | Profile, *, max_pixels: int = 60_000_000) -> ComplianceReport:
    """Check an image against a marketplace profile, rule by rule.

    Parameters
    ----------
    data_or_array : bytes or ndarray
        Encoded image bytes (format and file size are then checked too), or an
        (H, W, 3) RGB / (H, W, 4) RGBA uint8 array.
    profile : str or Profile
        A name from :data:`enhancer.PROFILES` (``"amazon"``, ``"myntra"``...).
    max_pixels : int
        Decompression-bomb limit for bytes input.

    Returns
    -------
    ComplianceReport
        Every rule with pass/fail, measured and expected values.

    Raises
    ------
    ValueError
        For an unknown profile or an array that is not (H, W, 3|4) uint8.
    InvalidImageError
        For bytes that are not a usable image.
    """
    prof = get_profile(profile)
    if isinstance(data_or_array, (bytes, bytearray, memoryview)):
        dec = decode(bytes(data_or_array), max_pixels=max_pixels)
        prov = Provenance(source_size=(dec.width, dec.height), softness=softness(dec.rgb))
        return evaluate(dec.rgb, dec.alpha, prof, fmt=dec.format, size_bytes=len(data_or_array),
                        provenance=prov)
    arr = np.asarray(data_or_array)
    if arr.dtype != np.uint8 or arr.ndim != 3 or arr.shape[2] not in (3, 4):
        raise ValueError(f"expected an (H, W, 3) or (H, W, 4) uint8 array, got {arr.shape} {arr.dtype}; "
                         "pass encoded bytes or np.asarray(pil_image.convert('RGB'))")
    alpha = arr[..., 3] if arr.shape[2] == 4 else None
    rgb = np.ascontiguousarray(arr[..., :3])
    prov = Provenance(source_size=(rgb.shape[1], rgb.shape[0]), softness=softness(rgb))
    return evaluate(rgb, alpha, prof, provenance=prov)
