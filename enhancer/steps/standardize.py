"""Trim to the product and place it on the marketplace profile's canvas.

The product comes from ``ctx.alpha`` when background removal ran, otherwise
from the same matte (:func:`.background.matte_on_backdrop`, on a backdrop or a
busy scene); when no product stands out the whole photo is letterboxed.
"""
from __future__ import annotations

import cv2
import numpy as np

from ..compliance import border_colour, product_box
from ..context import Context
from ..imageio import shrink
from ..profiles import get_profile
from .background import matte_on_backdrop, on_backdrop

DEFAULT_PROFILE = "generic"


def standardize(img: np.ndarray, ctx: Context) -> np.ndarray:
    """Product centred on the profile canvas at the profile's fill.

    The result is opaque (the canvas colour is the background), so
    ``ctx.alpha`` is cleared. Compliance is not measured here: the pipeline
    measures it once on the final image, with its encoded size and format;
    ``ctx.provenance`` tells it where the photo sits on the canvas, how much
    it was magnified and whether its background was replaced through a matte.
    """
    prof = get_profile(ctx.options.profile or DEFAULT_PROFILE)
    alpha, backdrop = ctx.alpha, None
    if alpha is None:
        alpha, backdrop = matte_on_backdrop(img)
        if alpha is None:
            ctx.notes.append("No plain studio background found: the whole photo was placed on the "
                             f"{prof.canvas[0]}x{prof.canvas[1]} canvas with its own background, "
                             "so it cannot pass a white-background rule.")
    box = product_box(img, alpha) if alpha is not None else None
    if box is None:
        box, alpha = (0, 0, img.shape[1], img.shape[0]), None
    x0, y0, x1, y1 = box
    crop = img[y0:y1, x0:x1]
    crop_a = alpha[y0:y1, x0:x1] if alpha is not None else None

    cw, ch = prof.canvas  # profiles without a fixed aspect still get their recommended square
    fill = prof.target_fill
    scale = min(fill * cw / crop.shape[1], fill * ch / crop.shape[0])
    pw, ph = max(1, round(crop.shape[1] * scale)), max(1, round(crop.shape[0] * scale))
    part = shrink(crop, (pw, ph)) if scale < 1 else cv2.resize(crop, (pw, ph), interpolation=cv2.INTER_CUBIC)
    canvas = np.empty((ch, cw, 3), np.uint8)
    canvas[:] = prof.background
    ox, oy = (cw - pw) // 2, (ch - ph) // 2
    part_a = cv2.resize(crop_a, (pw, ph), interpolation=cv2.INTER_LINEAR) if crop_a is not None else None
    if part_a is not None:
        a = part_a.astype(np.float32) * (1.0 / 255.0)
        # part * a + background * (1 - a), one OpenCV pass
        canvas[oy:oy + ph, ox:ox + pw] = cv2.blendLinear(part, canvas[oy:oy + ph, ox:ox + pw], a, 1.0 - a)
    else:
        canvas[oy:oy + ph, ox:ox + pw] = part
    prov = ctx.provenance
    prov.source_background = border_colour(img)
    prov.edge_contact = _edge_contact(alpha) if alpha is not None else 0.0
    prov.backdrop = (on_backdrop(img) if backdrop is None else backdrop) if alpha is not None else None
    prov.scale *= scale
    prov.placed = (ox, oy, ox + pw, oy + ph)
    prov.matted = crop_a is not None
    prov.matte = None
    if part_a is not None:
        prov.matte = np.zeros((ch, cw), np.uint8)
        prov.matte[oy:oy + ph, ox:ox + pw] = part_a
    ctx.alpha = None
    return canvas


def _edge_contact(alpha: np.ndarray) -> float:
    """Share of the photo's border ring (1 % of the side) the product's matte covers."""
    h, w = alpha.shape
    r = max(2, round(0.01 * min(h, w)))
    ring = np.concatenate([alpha[:r].ravel(), alpha[-r:].ravel(),
                           alpha[r:-r, :r].ravel(), alpha[r:-r, -r:].ravel()])
    return float((ring > 127).mean())
