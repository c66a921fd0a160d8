"""BACKGROUND_REMOVE benchmark: studio product shots with known masks.

Run by hand from the repository root::

    python3 benchmarks/background.py            # 2 MP shots, table of IoU vs plain GrabCut
    python3 benchmarks/background.py --side 4000  # 12 MP shots (slower)

Each shot: a product texture cut from an ``skimage.data`` photo to a product
shape (bag, box, bottle, shoe, mug with a handle hole), placed on a studio
background (white, off-white with vignette, grey sweep, coloured paper), with
a soft contact/drop shadow, sensor noise and JPEG compression. The known
shape is the ground truth. Targets: mean IoU >= 0.95, worst >= 0.90.
The baseline is OpenCV GrabCut initialised with a rectangle 4 % in from the
border (what one would do without a background model).
"""
from __future__ import annotations

import argparse
import io
import sys
import time
from pathlib import Path

import cv2
import numpy as np
from PIL import Image
from skimage import data as skdata

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from enhancer import enhance  # noqa: E402

TEXTURES = ["chelsea", "coffee", "astronaut", "rocket", "hubble_deep_field", "immunohistochemistry",
            "colorwheel", "retina", "camera", "coins"]
BACKGROUNDS = {
    "white": dict(color=(252, 252, 252), vignette=0.0, sweep=0.0),
    "offwhite_vignette": dict(color=(246, 243, 236), vignette=0.16, sweep=0.0),
    "grey_sweep": dict(color=(214, 214, 216), vignette=0.05, sweep=0.28),
    "blue_paper": dict(color=(176, 204, 232), vignette=0.08, sweep=0.08),
    "pink_paper": dict(color=(242, 198, 210), vignette=0.06, sweep=0.0),
    "yellow_paper": dict(color=(246, 228, 160), vignette=0.10, sweep=0.05),
}
SHAPES = ["bag", "box", "bottle", "shoe", "mug"]


def _shape_mask(shape: str, h: int, w: int, rng: np.random.Generator) -> np.ndarray:
    m = np.zeros((h, w), np.uint8)
    cx, cy = w // 2 + int(rng.integers(-w // 12, w // 12)), h // 2 + int(rng.integers(-h // 14, h // 14))
    s = min(h, w)
    if shape == "bag":
        cv2.ellipse(m, (cx, cy + s // 10), (int(s * 0.3), int(s * 0.26)), 0, 0, 360, 255, -1)
        cv2.ellipse(m, (cx, cy - s // 6), (int(s * 0.14), int(s * 0.14)), 0, 180, 360, 255, int(s * 0.03))
    elif shape == "box":
        pts = np.array([[cx - s * .28, cy - s * .2], [cx + s * .18, cy - s * .3], [cx + s * .32, cy + s * .15],
                        [cx - s * .12, cy + s * .32]], np.int32)
        cv2.fillPoly(m, [pts], 255)
    elif shape == "bottle":
        cv2.rectangle(m, (cx - s // 8, cy - s // 8), (cx + s // 8, cy + int(s * .36)), 255, -1)
        cv2.ellipse(m, (cx, cy - s // 8), (s // 8, s // 10), 0, 180, 360, 255, -1)
        cv2.rectangle(m, (cx - s // 25, cy - int(s * .38)), (cx + s // 25, cy - s // 6), 255, -1)
    elif shape == "shoe":
        pts = np.array([[cx - s * .38, cy + s * .15], [cx - s * .36, cy - s * .12], [cx - s * .15, cy - s * .16],
                        [cx + s * .05, cy - s * .02], [cx + s * .36, cy + s * .05], [cx + s * .4, cy + s * .17]],
                       np.int32)
        cv2.fillPoly(m, [pts], 255)
    else:  # mug: body plus a handle ring (the hole shows the background)
        cv2.rectangle(m, (cx - int(s * .2), cy - int(s * .25)), (cx + int(s * .14), cy + int(s * .28)), 255, -1)
        cv2.ellipse(m, (cx + int(s * .16), cy), (int(s * .12), int(s * .14)), 0, 0, 360, 255, int(s * .045))
    m = cv2.GaussianBlur(m, (0, 0), 1.0)  # anti-aliased edge, like a real lens
    return m


def compose(texture: str, background: str, shape: str, *, side: int = 1600, seed: int = 0,
            jpeg_quality: int = 88) -> tuple[bytes, np.ndarray]:
    """A studio shot as JPEG bytes and its ground-truth mask (255 = product)."""
    rng = np.random.default_rng(seed)
    h, w = side * 3 // 4, side
    bg = BACKGROUNDS[background]
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    r2 = ((xx - w / 2) / (w / 2)) ** 2 + ((yy - h / 2) / (h / 2)) ** 2
    shade = (1 - bg["vignette"] * r2 / 2) * (1 - bg["sweep"] * (yy / h) ** 1.5)
    img = np.asarray(bg["color"], np.float32)[None, None] * shade[..., None]
    mask = _shape_mask(shape, h, w, rng)
    # soft shadow: the mask shifted down-right, blurred, darkening the background
    dx, dy = int(w * rng.uniform(0.01, 0.03)), int(h * rng.uniform(0.02, 0.05))
    sh = np.zeros_like(mask, dtype=np.float32)
    sh[dy:, dx:] = mask[:h - dy, :w - dx] / 255.0
    sh = cv2.GaussianBlur(sh, (0, 0), side / 60)
    img *= (1 - rng.uniform(0.25, 0.4) * sh)[..., None]
    src = getattr(skdata, texture)()
    src = np.stack([src] * 3, -1) if src.ndim == 2 else src[..., :3]
    ys, xs = np.nonzero(mask > 127)
    y0, y1, x0, x1 = ys.min(), ys.max() + 1, xs.min(), xs.max() + 1
    tex = cv2.resize(src, (x1 - x0, y1 - y0), interpolation=cv2.INTER_CUBIC).astype(np.float32)
    a = (mask[y0:y1, x0:x1].astype(np.float32) / 255.0)[..., None]
    img[y0:y1, x0:x1] = tex * a + img[y0:y1, x0:x1] * (1 - a)
    img += rng.normal(0, 2.0, img.shape)
    rgb = np.clip(img + 0.5, 0, 255).astype(np.uint8)
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, "JPEG", quality=jpeg_quality)
    return buf.getvalue(), mask


def iou(a: np.ndarray, b: np.ndarray) -> float:
    a, b = a > 127, b > 127
    return float((a & b).sum() / max(1, (a | b).sum()))


def grabcut_rect(data: bytes) -> np.ndarray:
    rgb = np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))
    h, w = rgb.shape[:2]
    f = min(1.0, 640 / max(h, w))
    small = cv2.resize(rgb, (round(w * f), round(h * f)), interpolation=cv2.INTER_AREA)
    sh, sw = small.shape[:2]
    m = np.zeros((sh, sw), np.uint8)
    rect = (int(sw * .04), int(sh * .04), int(sw * .92), int(sh * .92))
    cv2.grabCut(small, m, rect, np.zeros((1, 65)), np.zeros((1, 65)), 5, cv2.GC_INIT_WITH_RECT)
    m = np.where((m == cv2.GC_FGD) | (m == cv2.GC_PR_FGD), 255, 0).astype(np.uint8)
    return cv2.resize(m, (w, h), interpolation=cv2.INTER_LINEAR)


def ours(data: bytes) -> tuple[np.ndarray, float]:
    t = time.perf_counter()
    res = enhance(data, "BACKGROUND_REMOVE", output_format="PNG")
    dt = time.perf_counter() - t
    out = Image.open(io.BytesIO(res.data))
    return np.asarray(out.convert("RGBA"))[..., 3], dt


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--side", type=int, default=1600)
    ap.add_argument("--seeds", type=int, default=1)
    args = ap.parse_args()
    rows = []
    k = 0
    for seed in range(args.seeds):
        for bi, background in enumerate(BACKGROUNDS):
            for si, shape in enumerate(SHAPES):
                texture = TEXTURES[(bi * len(SHAPES) + si + seed) % len(TEXTURES)]
                data, truth = compose(texture, background, shape, side=args.side, seed=k)
                k += 1
                mine, dt = ours(data)
                rows.append((background, shape, texture, iou(mine, truth), iou(grabcut_rect(data), truth), dt))
    print(f"{'background':<18} {'shape':<7} {'texture':<21} {'IoU ours':>8} {'IoU GrabCut':>11} {'ms':>6}")
    for bgn, shp, tex, a, b, dt in rows:
        print(f"{bgn:<18} {shp:<7} {tex:<21} {a:8.3f} {b:11.3f} {dt * 1000:6.0f}")
    mine = np.array([r[3] for r in rows])
    base = np.array([r[4] for r in rows])
    print(f"{'MEAN':<48} {mine.mean():8.3f} {base.mean():11.3f}")
    print(f"{'WORST':<48} {mine.min():8.3f} {base.min():11.3f}")
    print("targets: mean >= 0.95, worst >= 0.90 ->",
          "PASS" if mine.mean() >= 0.95 and mine.min() >= 0.90 else "FAIL")


if __name__ == "__main__":
    main()
