"""Compliance benchmark: STANDARDIZE's verdict per profile against the truth built into each photo.

Run by hand from the repository root::

    python3 benchmarks/compliance.py            # table per profile, then the misjudged cases
    python3 benchmarks/compliance.py --verbose  # every case's failed rules

Every photo is made here, with its truth known by construction:

- ``product``: a product (a shape whose texture is an ``skimage.data`` photo
  tiled at its native scale, so every pixel is real detail) on a plain
  studio background (white, off-white, grey sweep, coloured paper), with a
  soft shadow, sensor noise and JPEG compression, photographed at three
  sizes: large (product ~1300 px), middle (~560 px) and thumbnail (~100 px);
- ``blown-up``: a thumbnail someone else enlarged 5-8x with bicubic;
- ``scene``: a busy photo that is not a product on a plain background;
- ``on-scene``: the same product pasted on a busy photo.

Truth for a profile: the photo is a product on a plain background and the
frame STANDARDIZE makes has enough real detail, that is the product's long
side / the profile's fill >= ``min_long / max_upscale`` source pixels (a
marketplace's zoom shows real detail, a 2x upscale at most). Sizes are
chosen far from that line (the middle product passes 500 px profiles and
fails Myntra's 720 and Etsy's 1000), so the table measures the rules, not
rounding at the boundary. Goal: no false pass, at most 1 false fail in 20. The verdict leaves out
the byte window (Myntra's and Ajio's minimum KB): whether an encoder can
reach 500 KB for a flat 1080x1440 canvas is not a property of the photo, so
misses are counted in their own column.
"""
from __future__ import annotations

import argparse
import io
import math
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from PIL import Image
from skimage import data as skdata

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from enhancer import PROFILES, enhance  # noqa: E402

BACKGROUNDS = {"white": (252, 252, 252), "offwhite": (244, 241, 234), "grey": (214, 214, 216),
               "blue": (176, 204, 232), "pink": (242, 198, 210), "light": (236, 236, 236)}
TEXTURES = ["astronaut", "coffee", "chelsea", "rocket", "hubble_deep_field", "immunohistochemistry", "camera"]
SCENES = ["astronaut", "chelsea", "coffee", "rocket", "hubble_deep_field", "immunohistochemistry", "camera", "clock",
          "coins", "page", "grass", "brick", "moon", "cell", "text"]
ON_SCENES = ["astronaut", "rocket", "chelsea", "coffee", "page", "grass", "brick", "coins", "camera", "moon"]


@dataclass
class Case:
    name: str
    kind: str
    data: bytes
    box: tuple[int, int] = (0, 0)  # the product's (width, height) in real pixels; (0, 0): not a product

    def detail(self, prof) -> float:
        """Source pixels across the long side of the canvas STANDARDIZE makes from this photo."""
        cw, ch = prof.canvas
        scale = prof.target_fill * min(cw / self.box[0], ch / self.box[1])
        return max(cw, ch) / scale

    def truth(self, prof) -> bool:
        if self.kind != "product":
            return False
        return self.detail(prof) >= math.ceil(prof.min_long / prof.max_upscale)


def _rgb(name: str) -> np.ndarray:
    img = getattr(skdata, name)()
    img = np.stack([img] * 3, -1) if img.ndim == 2 else img[..., :3]
    return np.ascontiguousarray(img)


def _tiled(name: str, h: int, w: int) -> np.ndarray:
    """The photo mirrored and tiled to (h, w) at its native scale: no upscaled pixel anywhere."""
    src = _rgb(name)
    reps = (math.ceil(h / src.shape[0]) + 1, math.ceil(w / src.shape[1]) + 1)
    row = [src if i % 2 == 0 else src[:, ::-1] for i in range(reps[1])]
    band = np.concatenate(row, axis=1)
    full = np.concatenate([band if i % 2 == 0 else band[::-1] for i in range(reps[0])], axis=0)
    return full[:h, :w]


def _mask(h: int, w: int, product: int, shape: int, rng) -> np.ndarray:
    """A product shape whose long side is ``product`` px, near the centre."""
    m = np.zeros((h, w), np.uint8)
    cx = w // 2 + int(rng.integers(-w // 20, w // 20 + 1))
    cy = h // 2 + int(rng.integers(-h // 20, h // 20 + 1))
    r = product // 2
    if shape == 0:    # bottle: tall body and neck
        cv2.rectangle(m, (cx - r * 2 // 5, cy - r // 3), (cx + r * 2 // 5, cy + r), 255, -1)
        cv2.rectangle(m, (cx - r // 7, cy - r), (cx + r // 7, cy - r // 3), 255, -1)
    elif shape == 1:  # bag: wide ellipse and a handle
        cv2.ellipse(m, (cx, cy + r // 4), (r, r * 3 // 5), 0, 0, 360, 255, -1)
        cv2.ellipse(m, (cx, cy - r // 4), (r // 2, r // 2), 0, 180, 360, 255, max(2, r // 10))
    elif shape == 2:  # box, turned
        pts = np.array([[cx - r, cy - r // 3], [cx + r // 3, cy - r * 3 // 4], [cx + r, cy + r // 3],
                        [cx - r // 3, cy + r * 3 // 4]], np.int32)
        cv2.fillPoly(m, [pts], 255)
    else:             # shoe
        pts = np.array([[cx - r, cy + r // 3], [cx - r * 9 // 10, cy - r // 3],
                        [cx - r // 3, cy - r * 2 // 5], [cx + r // 8, cy], [cx + r * 9 // 10, cy + r // 8],
                        [cx + r, cy + r * 2 // 5]], np.int32)
        cv2.fillPoly(m, [pts], 255)
    return cv2.GaussianBlur(m, (0, 0), 0.8)


def _box(img_mask: np.ndarray) -> tuple[int, int]:
    ys, xs = np.nonzero(img_mask > 127)
    return int(xs.max() - xs.min() + 1), int(ys.max() - ys.min() + 1)


def _jpeg(rgb: np.ndarray, q: int = 90) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, "JPEG", quality=q)
    return buf.getvalue()


def product_photo(texture: str, background, *, side: int, product: int, shape: int, seed: int,
                  scene: str | None = None) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    h, w = side * 3 // 4, side
    if scene is None:
        yy = np.mgrid[0:h, 0:w][0].astype(np.float32)
        img = np.asarray(background, np.float32)[None, None] * (1 - 0.06 * (yy / h) ** 2)[..., None]
    else:
        img = cv2.resize(_rgb(scene), (w, h), interpolation=cv2.INTER_AREA).astype(np.float32)
    m = _mask(h, w, product, shape, rng)
    if scene is None:  # a soft contact shadow, down and to the right
        dx, dy = max(1, product // 40), max(1, product // 25)
        sh = np.zeros((h, w), np.float32)
        sh[dy:, dx:] = m[:h - dy, :w - dx] / 255.0
        img *= (1 - 0.3 * cv2.GaussianBlur(sh, (0, 0), max(1.0, product / 40)))[..., None]
    a = (m.astype(np.float32) / 255.0)[..., None]
    img = _tiled(texture, h, w).astype(np.float32) * a + img * (1 - a)
    img += rng.normal(0, 1.8, img.shape)
    return np.clip(img + 0.5, 0, 255).astype(np.uint8), m


def cases() -> list[Case]:
    out: list[Case] = []
    bgs = list(BACKGROUNDS.values())
    names = list(BACKGROUNDS)
    k = 0
    for i in range(8):  # large: plenty of detail for every profile
        t, b = TEXTURES[i % len(TEXTURES)], i % len(bgs)
        img, m = product_photo(t, bgs[b], side=2400, product=1300, shape=i % 4, seed=k)
        out.append(Case(f"large {names[b]} {t}", "product", _jpeg(img), _box(m)))
        k += 1
    for i in range(4):  # middle: 500 px profiles pass, Myntra (720) and Etsy (1000) do not
        t, b = TEXTURES[(i + 3) % len(TEXTURES)], (i + 1) % len(bgs)
        img, m = product_photo(t, bgs[b], side=1000, product=560, shape=(i + 1) % 4, seed=k)
        out.append(Case(f"middle {names[b]} {t}", "product", _jpeg(img), _box(m)))
        k += 1
    for i, side in enumerate((160, 200, 240)):  # thumbnails
        img, m = product_photo(TEXTURES[i], bgs[i], side=side, product=int(side * 0.6), shape=i, seed=k)
        out.append(Case(f"thumbnail {side} px", "product", _jpeg(img), _box(m)))
        k += 1
    for i, (side, f) in enumerate(((200, 8), (320, 5))):  # thumbnails someone else blew up
        img, _ = product_photo(TEXTURES[i + 1], bgs[0], side=side, product=int(side * 0.6), shape=i + 2,
                               seed=k)
        big = cv2.resize(img, (side * f, side * f * 3 // 4), interpolation=cv2.INTER_CUBIC)
        out.append(Case(f"blown-up {side} px x{f}", "blown-up", _jpeg(big)))
        k += 1
    for s in SCENES:  # busy scenes, enlarged to a usable size so only the content decides
        img = _rgb(s)
        f = 1600 / max(img.shape[:2])
        size = (round(img.shape[1] * f), round(img.shape[0] * f))
        big = cv2.resize(img, size, interpolation=cv2.INTER_CUBIC)
        out.append(Case(f"scene {s}", "scene", _jpeg(big)))
    for i, s in enumerate(ON_SCENES):  # a product on a busy scene (cut out cleanly or not, not a studio shot)
        img, _ = product_photo(TEXTURES[(i + 4) % len(TEXTURES)], None, side=1600, product=900, shape=i % 4,
                               seed=k, scene=s)
        out.append(Case(f"on-scene {s}", "on-scene", _jpeg(img)))
        k += 1
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--verbose", action="store_true")
    ap.add_argument("--truth", action="store_true", help="only print each product's detail per profile")
    args = ap.parse_args()
    t0 = time.perf_counter()
    all_cases = cases()
    if args.truth:
        for c in all_cases:
            if c.kind == "product":
                cells = [f"{n}:{c.detail(p):.0f}/{math.ceil(p.min_long / p.max_upscale)}"
                         for n, p in PROFILES.items()]
                print(f"{c.name:<34}", " ".join(cells))
        return
    per: dict[str, list[int]] = {}
    wrong: list[str] = []
    for case in all_cases:
        for name, prof in PROFILES.items():
            res = enhance(case.data, "STANDARDIZE", profile=name)
            # the byte window is the encoder's to meet, not a property of the photo: counted apart
            got = all(r.passed for r in res.compliance.rules if r.name != "file size")
            want = case.truth(prof)
            row = per.setdefault(name, [0, 0, 0, 0, 0])  # photos, agree, false pass, false fail, bytes
            row[4] += any(r.name == "file size" and not r.passed for r in res.compliance.rules)
            row[0] += 1
            row[1] += got == want
            row[2] += got and not want
            row[3] += want and not got
            failed = [f"{r.name}: {r.measured} (want {r.expected})" for r in res.compliance.rules
                      if not r.passed and r.name != "file size"]
            if got != want:
                wrong.append(f"{'FALSE PASS' if got else 'FALSE FAIL'} {name:<8} {case.name}: {failed}")
            elif args.verbose:
                print(f"ok {name:<8} {case.name:<28} {'pass' if got else 'fail'} {failed}")
    kinds = {}
    for c in all_cases:
        kinds[c.kind] = kinds.get(c.kind, 0) + 1
    print(f"{len(all_cases)} photos: " + ", ".join(f"{n} {k}" for k, n in kinds.items())
          + f"; {time.perf_counter() - t0:.0f} s")
    print(f"{'profile':<9} {'photos':>6} {'truth pass':>10} {'agree':>6} {'false pass':>10} "
          f"{'false fail':>10} {'byte window missed':>18}")
    tot = [0, 0, 0, 0, 0, 0]
    for name, (n, agree, fp, ff, nb) in per.items():
        passes = sum(c.truth(PROFILES[name]) for c in all_cases)
        print(f"{name:<9} {n:>6} {passes:>10} {agree:>6} {fp:>10} {ff:>10} {nb:>18}")
        for i, v in enumerate((n, passes, agree, fp, ff, nb)):
            tot[i] += v
    print(f"{'TOTAL':<9} {tot[0]:>6} {tot[1]:>10} {tot[2]:>6} {tot[3]:>10} {tot[4]:>10} {tot[5]:>18}")
    ok = tot[3] == 0 and tot[4] * 20 <= tot[0]
    print(f"goal: no false pass, at most 1 false fail in 20 -> {'PASS' if ok else 'FAIL'}")
    for line in wrong:
        print(line)


if __name__ == "__main__":
    main()
