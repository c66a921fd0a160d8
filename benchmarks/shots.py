"""Product shots with known masks, for the background-removal benchmark and tests.

Two families, both seeded and built from ``skimage.data`` (no download):

* **studio** (:func:`compose`): a product on a plain backdrop (white,
  off-white with vignette, grey sweep, coloured paper) with a soft shadow.
  ``finish`` picks the product's look: ``"texture"`` (a photo cut to the
  product's shape), ``"white"`` (a white product on its white sweep, told
  apart only by its shading and its shadow) or ``"two_tone"`` (a photo with
  a backdrop-coloured panel touching the product's edge).
* **busy** (:func:`compose_busy`): a product on a real, textured scene (brick,
  grass, gravel, a printed page, a café table, a cat photo, ...), with a
  contact shadow and, sometimes, the background out of focus.

Silhouettes include thin parts (a bag's strap, a racket's handle, a lamp's
stem) and holes (a mug's handle, a racket's head).
"""
from __future__ import annotations

import io

import cv2
import numpy as np
from PIL import Image
from skimage import data as skdata

BACKGROUNDS = {
    "white": dict(color=(252, 252, 252), vignette=0.0, sweep=0.0),
    "offwhite_vignette": dict(color=(246, 243, 236), vignette=0.16, sweep=0.0),
    "grey_sweep": dict(color=(214, 214, 216), vignette=0.05, sweep=0.28),
    "blue_paper": dict(color=(176, 204, 232), vignette=0.08, sweep=0.08),
    "pink_paper": dict(color=(242, 198, 210), vignette=0.06, sweep=0.0),
    "yellow_paper": dict(color=(246, 228, 160), vignette=0.10, sweep=0.05),
    "white_sweep": dict(color=(250, 250, 250), vignette=0.03, sweep=0.10),
}
# backdrops no rule was tuned on (dark, saturated, a warm sweep): a check that the studio matte generalises
OTHER_BACKDROPS = {
    "black": dict(color=(18, 18, 20), vignette=0.0, sweep=0.0),
    "dark_grey": dict(color=(60, 62, 64), vignette=0.1, sweep=0.1),
    "red_paper": dict(color=(200, 40, 40), vignette=0.05, sweep=0.05),
    "green_screen": dict(color=(40, 180, 70), vignette=0.05, sweep=0.0),
    "beige_sweep": dict(color=(225, 210, 185), vignette=0.1, sweep=0.3),
}
SHAPES = ["bag", "box", "bottle", "shoe", "mug", "racket", "lamp"]
# busy scenes: skimage image and an RGB tint for the grey ones (brick is reddish, grass green...)
BUSY = {
    "brick": ("brick", (1.05, 0.62, 0.48)),
    "grass": ("grass", (0.62, 0.95, 0.45)),
    "gravel": ("gravel", (0.95, 0.9, 0.82)),
    "page": ("page", (1.0, 0.98, 0.92)),
    "cafe_table": ("coffee", None),
    "cat_photo": ("chelsea", None),
    "street": ("rocket", None),
    "portrait": ("astronaut", None),
    "coins": ("coins", (0.95, 0.85, 0.6)),
}
# scenes no rule was tuned on (skimage photos the busy sets do not use): a check, no goal. A clock, the moon
# and a cell on a plain wall pass for a studio backdrop; a motorcycle and a cameraman are in-focus subjects
UNSEEN = {
    "cameraman": ("camera", None),
    "moon": ("moon", (1.0, 0.97, 0.9)),
    "hubble": ("hubble_deep_field", None),
    "ihc": ("immunohistochemistry", None),
    "clock": ("clock", (0.9, 0.95, 1.0)),
    "motorcycle": ("stereo_motorcycle", None),  # the left view of the stereo pair
    "cell": ("cell", (0.8, 0.9, 1.0)),
}
PRODUCT_TEXTURES = ["chelsea", "coffee", "astronaut", "rocket", "hubble_deep_field", "immunohistochemistry",
                    "colorwheel", "retina", "camera", "coins"]
FINISHES = ("texture", "solid", "label")


def shape_mask(shape: str, h: int, w: int, rng: np.random.Generator, *, scale: float = 1.0) -> np.ndarray:
    """An anti-aliased product silhouette (uint8, 255 = product) near the frame's centre."""
    m = np.zeros((h, w), np.uint8)
    cx, cy = w // 2 + int(rng.integers(-w // 12, w // 12)), h // 2 + int(rng.integers(-h // 14, h // 14))
    s = min(h, w) * scale
    i = int
    if shape == "bag":
        cv2.ellipse(m, (cx, i(cy + s / 10)), (i(s * 0.3), i(s * 0.26)), 0, 0, 360, 255, -1)
        cv2.ellipse(m, (cx, i(cy - s / 6)), (i(s * 0.14), i(s * 0.14)), 0, 180, 360, 255, max(2, i(s * 0.03)))
    elif shape == "box":
        pts = np.array([[cx - s * .28, cy - s * .2], [cx + s * .18, cy - s * .3], [cx + s * .32, cy + s * .15],
                        [cx - s * .12, cy + s * .32]], np.int32)
        cv2.fillPoly(m, [pts], 255)
    elif shape == "bottle":
        cv2.rectangle(m, (i(cx - s / 8), i(cy - s / 8)), (i(cx + s / 8), i(cy + s * .36)), 255, -1)
        cv2.ellipse(m, (cx, i(cy - s / 8)), (i(s / 8), i(s / 10)), 0, 180, 360, 255, -1)
        cv2.rectangle(m, (i(cx - s / 25), i(cy - s * .38)), (i(cx + s / 25), i(cy - s / 6)), 255, -1)
    elif shape == "shoe":
        pts = np.array([[cx - s * .38, cy + s * .15], [cx - s * .36, cy - s * .12], [cx - s * .15, cy - s * .16],
                        [cx + s * .05, cy - s * .02], [cx + s * .36, cy + s * .05], [cx + s * .4, cy + s * .17]],
                       np.int32)
        cv2.fillPoly(m, [pts], 255)
    elif shape == "mug":  # body plus a handle ring (the hole shows the background)
        cv2.rectangle(m, (i(cx - s * .2), i(cy - s * .25)), (i(cx + s * .14), i(cy + s * .28)), 255, -1)
        cv2.ellipse(m, (i(cx + s * .16), cy), (i(s * .12), i(s * .14)), 0, 0, 360, 255, max(2, i(s * .045)))
    elif shape == "racket":  # an oval frame with a cross of strings (four holes) on a thin handle
        c = (cx, i(cy - s * .1))
        cv2.ellipse(m, c, (i(s * .17), i(s * .22)), 0, 0, 360, 255, max(2, i(s * .03)))
        cv2.line(m, (c[0], i(c[1] - s * .22)), (c[0], i(c[1] + s * .22)), 255, max(1, i(s * .012)))
        cv2.line(m, (i(c[0] - s * .17), c[1]), (i(c[0] + s * .17), c[1]), 255, max(1, i(s * .012)))
        cv2.rectangle(m, (i(cx - s * .018), i(c[1] + s * .21)), (i(cx + s * .018), i(cy + s * .42)), 255, -1)
    else:  # lamp: a shade, a thin stem and a flat foot
        pts = np.array([[cx - s * .1, cy - s * .38], [cx + s * .1, cy - s * .38], [cx + s * .2, cy - s * .12],
                        [cx - s * .2, cy - s * .12]], np.int32)
        cv2.fillPoly(m, [pts], 255)
        cv2.rectangle(m, (i(cx - s * .012), i(cy - s * .12)), (i(cx + s * .012), i(cy + s * .34)), 255, -1)
        cv2.ellipse(m, (cx, i(cy + s * .36)), (i(s * .16), i(s * .04)), 0, 0, 360, 255, -1)
    return cv2.GaussianBlur(m, (0, 0), 1.0)  # anti-aliased edge, like a real lens


def _texture(name: str, size: tuple[int, int]) -> np.ndarray:
    src = getattr(skdata, name)()
    src = np.stack([src] * 3, -1) if src.ndim == 2 else src[..., :3]
    return cv2.resize(src, size, interpolation=cv2.INTER_CUBIC).astype(np.float32)


def _shading(mask: np.ndarray, rng: np.random.Generator, side: int) -> np.ndarray:
    """A 3-D look for a plain surface: lit from the top left, darker toward its rim."""
    h, w = mask.shape
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    light = 1.0 - 0.12 * (xx / w) - 0.10 * (yy / h)
    inside = cv2.distanceTransform((mask > 127).astype(np.uint8), cv2.DIST_L2, 5)
    rim = 1.0 - 0.16 * np.exp(-inside / (side / 60))
    low = cv2.resize(rng.normal(0, 1, (6, 8)).astype(np.float32), (w, h), interpolation=cv2.INTER_CUBIC)
    return light * rim * (1 + 0.03 * low)


def _paint(img, mask, finish, texture, rng, side, *, base=None):
    """Paint the product (float RGB, in place) inside ``mask`` with the chosen finish."""
    ys, xs = np.nonzero(mask > 127)
    y0, y1, x0, x1 = ys.min(), ys.max() + 1, xs.min(), xs.max() + 1
    box = (slice(y0, y1), slice(x0, x1))
    if finish in ("texture", "two_tone"):
        prod = _texture(texture, (x1 - x0, y1 - y0))
        if finish == "two_tone":  # a panel in the backdrop's own colour, reaching the product's edge
            panel = np.zeros(prod.shape[:2], bool)
            panel[: int((y1 - y0) * rng.uniform(0.3, 0.45))] = True
            # light, but not invisible: a few levels off the backdrop and shaded like a solid
            light = base[y0:y1, x0:x1] * rng.uniform(0.95, 0.975) * _shading(mask, rng, side)[box][..., None]
            prod[panel] = light[panel]
    else:
        if finish == "white":
            colour = np.array([250, 250, 249], np.float32)
        else:
            colour = rng.uniform(40, 230, 3).astype(np.float32)
        prod = colour[None, None] * _shading(mask, rng, side)[box][..., None]
        if finish == "white":  # seams and a faint logo: what makes a white product visible at all
            cv2.rectangle(prod, (int((x1 - x0) * .3), int((y1 - y0) * .45)),
                          (int((x1 - x0) * .6), int((y1 - y0) * .5)), (226, 226, 226), -1)
        elif finish == "label":
            lab = _texture("text", (max(4, (x1 - x0) // 2), max(4, (y1 - y0) // 4)))
            ly, lx = (y1 - y0) * 2 // 5, (x1 - x0) // 4
            prod[ly:ly + lab.shape[0], lx:lx + lab.shape[1]] = lab
    a = (mask[box].astype(np.float32) / 255.0)[..., None]
    img[box] = prod * a + img[box] * (1 - a)


def _shadow(img, mask, rng, side, *, strength: tuple[float, float]):
    h, w = mask.shape
    dx, dy = int(w * rng.uniform(0.01, 0.03)), int(h * rng.uniform(0.02, 0.05))
    strength = rng.uniform(*strength)
    sh = np.zeros_like(mask, dtype=np.float32)
    sh[dy:, dx:] = mask[:h - dy, :w - dx] / 255.0
    sh = cv2.GaussianBlur(sh, (0, 0), side / 60)
    img *= (1 - strength * sh)[..., None]


def _finish(img, rng, jpeg_quality):
    img += rng.normal(0, 2.0, img.shape)
    rgb = np.clip(img + 0.5, 0, 255).astype(np.uint8)
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, "JPEG", quality=jpeg_quality)
    return buf.getvalue()


def compose(texture: str, background: str, shape: str, *, side: int = 1600, seed: int = 0,
            jpeg_quality: int = 88, finish: str = "texture", scale: float = 1.0) -> tuple[bytes, np.ndarray]:
    """A studio shot as JPEG bytes and its ground-truth mask (255 = product); ``scale`` shrinks the
    product in the frame (its shadow's offset and softness stay the light's)."""
    rng = np.random.default_rng(seed)
    h, w = side * 3 // 4, side
    bg = BACKGROUNDS[background] if background in BACKGROUNDS else OTHER_BACKDROPS[background]
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    r2 = ((xx - w / 2) / (w / 2)) ** 2 + ((yy - h / 2) / (h / 2)) ** 2
    shade = (1 - bg["vignette"] * r2 / 2) * (1 - bg["sweep"] * (yy / h) ** 1.5)
    img = np.asarray(bg["color"], np.float32)[None, None] * shade[..., None]
    mask = shape_mask(shape, h, w, rng, scale=scale)
    base = img.copy() if finish == "two_tone" else None
    _shadow(img, mask, rng, side, strength=(0.25, 0.4))
    _paint(img, mask, finish, texture, rng, side, base=base)
    return _finish(img, rng, jpeg_quality), mask


def busy_background(scene: str, h: int, w: int, rng: np.random.Generator, *, blur: float = 0.0) -> np.ndarray:
    """A busy scene filling an (h, w) frame, float RGB."""
    name, tint = BUSY[scene] if scene in BUSY else UNSEEN[scene]
    src = getattr(skdata, name)()
    src = src[0] if isinstance(src, tuple) else src  # a stereo pair: its left view
    src = np.stack([src] * 3, -1) if src.ndim == 2 else src[..., :3]
    sh, sw = src.shape[:2]
    f = max(h / sh, w / sw) * rng.uniform(1.0, 1.3)  # cover the frame, with a random crop
    big = cv2.resize(src, (max(w, round(sw * f)), max(h, round(sh * f))), interpolation=cv2.INTER_CUBIC)
    oy, ox = int(rng.integers(0, big.shape[0] - h + 1)), int(rng.integers(0, big.shape[1] - w + 1))
    img = big[oy:oy + h, ox:ox + w].astype(np.float32)
    if tint is not None:
        img *= np.asarray(tint, np.float32)[None, None]
    if blur > 0:
        img = cv2.GaussianBlur(img, (0, 0), blur)
    return np.clip(img, 0, 255)


def compose_busy(scene: str, shape: str, *, finish: str = "texture", texture: str = "coffee",
                 side: int = 1600, seed: int = 0, jpeg_quality: int = 88,
                 defocus: bool = False, scale: float = 1.0) -> tuple[bytes, np.ndarray]:
    """A product on a busy scene as JPEG bytes and its ground-truth mask (255 = product); ``scale``
    shrinks the product in the frame."""
    rng = np.random.default_rng(seed)
    h, w = side * 3 // 4, side
    img = busy_background(scene, h, w, rng, blur=side / 500 * rng.uniform(1.0, 2.5) if defocus else 0.0)
    mask = shape_mask(shape, h, w, rng, scale=rng.uniform(0.85, 1.1) * scale)
    _shadow(img, mask, rng, side, strength=(0.2, 0.35))
    _paint(img, mask, finish, texture, rng, side)
    return _finish(img, rng, jpeg_quality), mask


def busy_set(*, side: int = 1600, seeds: int = 1):
    """The benchmark's busy shots: (name, jpeg bytes, mask) for every scene x shape, varied finishes."""
    k = 0
    for seed in range(seeds):
        for bi, scene in enumerate(BUSY):
            for si, shape in enumerate(SHAPES):
                if (bi + si + seed) % 2:  # half the grid keeps the set quick; each scene meets each shape once in 2 seeds
                    continue
                finish = FINISHES[(bi + si + seed) // 2 % len(FINISHES)]
                texture = PRODUCT_TEXTURES[(bi * len(SHAPES) + si + seed) % len(PRODUCT_TEXTURES)]
                defocus = k % 3 == 0
                data, mask = compose_busy(scene, shape, finish=finish, texture=texture, side=side,
                                          seed=1000 + k, defocus=defocus)
                k += 1
                yield f"{scene}/{shape}/{finish}" + ("/defocus" if defocus else ""), data, mask


def studio_set(*, side: int = 1600, seeds: int = 1):
    """The benchmark's studio shots: every backdrop x shape, plus the hard light-on-light cases."""
    k = 0
    for seed in range(seeds):
        for bi, background in enumerate([b for b in BACKGROUNDS if b != "white_sweep"]):
            for si, shape in enumerate(SHAPES[:5]):
                texture = PRODUCT_TEXTURES[(bi * 5 + si + seed) % len(PRODUCT_TEXTURES)]
                data, truth = compose(texture, background, shape, side=side, seed=k)
                k += 1
                yield f"{background}/{shape}/{texture}", data, truth
        for si, shape in enumerate(SHAPES):
            data, truth = compose("coffee", "white_sweep", shape, side=side, seed=500 + k, finish="white")
            k += 1
            yield f"white_sweep/{shape}/white", data, truth
        for si, (background, shape) in enumerate([("white", "box"), ("offwhite_vignette", "bag"),
                                                  ("grey_sweep", "bottle"), ("white", "shoe")]):
            texture = PRODUCT_TEXTURES[(si + seed) % len(PRODUCT_TEXTURES)]
            data, truth = compose(texture, background, shape, side=side, seed=700 + k, finish="two_tone")
            k += 1
            yield f"{background}/{shape}/two_tone", data, truth


def other_backdrops_set(*, side: int = 1600, seeds: int = 1):
    """Studio shots on OTHER_BACKDROPS: every backdrop x shape, photo-textured products."""
    for seed in range(seeds):
        for bi, background in enumerate(OTHER_BACKDROPS):
            for si, shape in enumerate(SHAPES):
                texture = PRODUCT_TEXTURES[(si * 3 + len(background) + seed) % len(PRODUCT_TEXTURES)]
                data, truth = compose(texture, background, shape, side=side, seed=900 + 100 * seed + si)
                yield f"{background}/{shape}/{texture}", data, truth


def held_out_studio_set(*, side: int = 1600):
    """Studio shots no rule was tuned on (seeds 3000+): every backdrop x shape, a third of them with a
    light two-tone panel (a lamp's shade, a racket's head), white products on the white sweep."""
    k = 0
    for bi, background in enumerate(BACKGROUNDS):
        for si, shape in enumerate(SHAPES):
            finish = ("white" if background == "white_sweep" else
                      "two_tone" if (bi + si) % 3 == 0 else "texture")
            texture = PRODUCT_TEXTURES[(bi * 5 + si * 3 + 1) % len(PRODUCT_TEXTURES)]
            data, truth = compose(texture, background, shape, side=side, seed=3000 + k, finish=finish)
            k += 1
            yield f"{background}/{shape}/{finish}/{texture}", data, truth


def two_tone_set(*, side: int = 1600):
    """Products with holes (a mug, a bag, a racket) whose upper part is a panel in the backdrop's own
    colour, on every backdrop but the white sweep, twice each (seeds 12000+, product photos drawn at
    random): the hole is walled in partly by a light part, and the panel meets the backdrop at a faint
    edge. No rule was tuned on these seeds."""
    rng = np.random.default_rng(12)
    k = 0
    for background in [b for b in BACKGROUNDS if b != "white_sweep"]:
        for shape in ("mug", "bag", "racket"):
            for _ in range(2):
                texture = PRODUCT_TEXTURES[int(rng.integers(len(PRODUCT_TEXTURES)))]
                data, truth = compose(texture, background, shape, side=side, seed=12000 + k, finish="two_tone")
                k += 1
                yield f"{background}/{shape}/{texture}/{k}", data, truth


def unseen_set(*, side: int = 1600):
    """Busy shots on UNSEEN scenes (seeds 8000+): every scene x shape twice, finishes, product photos
    and focus drawn at random."""
    rng = np.random.default_rng(8)
    k = 0
    for _ in range(2):
        for scene in UNSEEN:
            for shape in SHAPES:
                finish = FINISHES[int(rng.integers(len(FINISHES)))]
                texture = PRODUCT_TEXTURES[int(rng.integers(len(PRODUCT_TEXTURES)))]
                defocus = bool(rng.integers(3) == 0)
                data, mask = compose_busy(scene, shape, finish=finish, texture=texture, side=side,
                                          seed=8000 + k, defocus=defocus)
                k += 1
                yield f"{scene}/{shape}/{finish}/{texture}/{k}" + ("/defocus" if defocus else ""), data, mask


def held_out_busy_set(*, side: int = 1600):
    """Busy shots no rule was tuned on (seeds 5000+): every scene x shape, finishes and product
    photos in another order than busy_set's, a third with the scene out of focus."""
    k = 0
    for bi, scene in enumerate(BUSY):
        for si, shape in enumerate(SHAPES):
            finish = FINISHES[(bi * 7 + si) % len(FINISHES)]
            texture = PRODUCT_TEXTURES[(bi * 3 + si * 5) % len(PRODUCT_TEXTURES)]
            defocus = k % 3 == 1
            data, mask = compose_busy(scene, shape, finish=finish, texture=texture, side=side, seed=5000 + k,
                                      defocus=defocus)
            k += 1
            yield f"{scene}/{shape}/{finish}" + ("/defocus" if defocus else ""), data, mask


def _backdrop_and_finish(rng: np.random.Generator) -> tuple[str, str]:
    """A random studio shot's backdrop and finish: a fifth white products on the white sweep, a fifth
    with a backdrop-coloured panel (not on black), the rest photo-textured, on any other backdrop."""
    kind = int(rng.integers(5))
    if kind == 0:
        return "white_sweep", "white"
    backdrops = [b for b in (*BACKGROUNDS, *OTHER_BACKDROPS)
                 if b != "white_sweep" and not (kind == 1 and b == "black")]
    return backdrops[int(rng.integers(len(backdrops)))], "two_tone" if kind == 1 else "texture"


def fresh_studio_set(*, side: int = 1600, draw: int = 0, count: int = 60):
    """``count`` studio shots drawn at random (``draw`` picks the sample; seeds 40000 + 1000 x draw on):
    any backdrop, the tuned ones and the others, any shape; a fifth white products on the white sweep,
    a fifth with a backdrop-coloured panel (not on black, where such a panel is black on black with
    nothing to tell it by), the rest photo-textured. A new draw is shots no rule has seen: what the
    fixed sets' figures are worth on shots like them."""
    rng = np.random.default_rng([40, draw])
    for k in range(count):
        shape = SHAPES[int(rng.integers(len(SHAPES)))]
        texture = PRODUCT_TEXTURES[int(rng.integers(len(PRODUCT_TEXTURES)))]
        backdrop, finish = _backdrop_and_finish(rng)
        data, truth = compose(texture, backdrop, shape, side=side, seed=40000 + 1000 * draw + k,
                              finish=finish)
        yield f"{backdrop}/{shape}/{finish}/{texture}/{k}", data, truth


def fresh_busy_set(*, side: int = 1600, draw: int = 0, count: int = 60):
    """``count`` busy shots drawn at random (``draw`` picks the sample; seeds 60000 + 1000 x draw on):
    any scene, the tuned ones and the unseen ones, shape, finish and product photo, a third with the
    scene out of focus. See :func:`fresh_studio_set`."""
    rng = np.random.default_rng([60, draw])
    scenes = [*BUSY, *UNSEEN]
    for k in range(count):
        scene = scenes[int(rng.integers(len(scenes)))]
        shape = SHAPES[int(rng.integers(len(SHAPES)))]
        finish = FINISHES[int(rng.integers(len(FINISHES)))]
        texture = PRODUCT_TEXTURES[int(rng.integers(len(PRODUCT_TEXTURES)))]
        defocus = bool(rng.integers(3) == 0)
        data, mask = compose_busy(scene, shape, finish=finish, texture=texture, side=side,
                                  seed=60000 + 1000 * draw + k, defocus=defocus)
        yield f"{scene}/{shape}/{finish}/{texture}/{k}" + ("/defocus" if defocus else ""), data, mask


SMALL_SCALES = (0.25, 0.6)  # small_set: the product's size against the other sets' (as tall as the frame)


def small_set(*, side: int = 1600, draw: int = 0, count: int = 60):
    """``count`` shots of products small in the frame, drawn at random (seeds 80000 + 1000 x draw on):
    the product at 0.25-0.6 of the size the other sets give it (a supplier's photo with room around the
    product), every other shot on a backdrop (as :func:`fresh_studio_set` draws them) and the rest on a
    scene (as :func:`fresh_busy_set`). Holes and thin parts are a few working pixels wide here, below
    what the network resolves on the whole frame."""
    rng = np.random.default_rng([80, draw])
    scenes = [*BUSY, *UNSEEN]
    for k in range(count):
        shape = SHAPES[int(rng.integers(len(SHAPES)))]
        texture = PRODUCT_TEXTURES[int(rng.integers(len(PRODUCT_TEXTURES)))]
        scale = float(rng.uniform(*SMALL_SCALES))
        seed = 80000 + 1000 * draw + k
        if k % 2 == 0:
            backdrop, finish = _backdrop_and_finish(rng)
            data, truth = compose(texture, backdrop, shape, side=side, seed=seed, finish=finish, scale=scale)
            yield f"{backdrop}/{shape}/{finish}/{texture}/x{scale:.2f}/{k}", data, truth
        else:
            scene = scenes[int(rng.integers(len(scenes)))]
            finish = FINISHES[int(rng.integers(len(FINISHES)))]
            defocus = bool(rng.integers(3) == 0)
            data, truth = compose_busy(scene, shape, finish=finish, texture=texture, side=side, seed=seed,
                                       defocus=defocus, scale=scale)
            yield f"{scene}/{shape}/{finish}/{texture}/x{scale:.2f}/{k}" + ("/defocus" if defocus else ""), \
                data, truth
