"""Held-out noise, blur and resolution damage: kinds the DENOISE, SHARPEN and UPSCALE tuning never saw.

Run from the repository root::

    python3 -m benchmarks.structure_heldout

``benchmarks.quality`` tunes on Gaussian noise, Gaussian blur and area
downscaling. Here: shot noise (Poisson, peak 40, plus read noise), grain
shared by the channels (luminance noise), noise then JPEG quality 85 (a
phone's output), a lens's disk blur, a motion streak, a box blur, and
bicubic downscaling by 2 and 4. Seeded per family and photo; 512 px
skimage photos. Each family's mean SSIM against the clean photo is compared
with the input and with the classic tool for the job. It reports; it does
not gate. Known: isotropic sharpening cannot undo a motion streak (the
input scores best there).
"""
from __future__ import annotations

import io
import zlib

import cv2
import numpy as np
from PIL import Image

from benchmarks.quality import BASELINES, _lanczos, run_mode, score, u8
from benchmarks.tone_heldout import PHOTOS, photo


def _poisson(im, rng, peak):
    x = im.astype(np.float32) / 255 * peak
    return u8(rng.poisson(x) / peak * 255 + rng.normal(0, 2, im.shape))


def _luma_grain(im, rng, sigma):
    return u8(im + rng.normal(0, sigma, im.shape[:2])[..., None] + rng.normal(0, sigma / 3, im.shape))


def _noisy_jpeg(im, rng, sigma, quality=85):
    buf = io.BytesIO()
    Image.fromarray(u8(im + rng.normal(0, sigma, im.shape))).save(buf, "JPEG", quality=quality)
    return np.asarray(Image.open(buf).convert("RGB"))


def _disk(im, radius):
    k = np.zeros((2 * radius + 1,) * 2, np.float32)
    cv2.circle(k, (radius, radius), radius, 1.0, -1)
    return cv2.filter2D(im, -1, k / k.sum())


def _motion(im, length):
    k = np.zeros((length, length), np.float32)
    k[length // 2] = 1.0 / length
    return cv2.filter2D(im, -1, k)


def _bicubic_down(im, f):
    h, w = im.shape[:2]
    return np.asarray(Image.fromarray(im).resize((round(w / f), round(h / f)), Image.Resampling.BICUBIC))


FAMILIES = {
    "poisson_40": ("DENOISE", "nlmeans", lambda im, r: _poisson(im, r, 40)),
    "luma_grain_18": ("DENOISE", "nlmeans", lambda im, r: _luma_grain(im, r, 18)),
    "noisy_jpeg_15": ("DENOISE", "nlmeans", lambda im, r: _noisy_jpeg(im, r, 15)),
    "disk_2": ("SHARPEN", "unsharp", lambda im, r: _disk(im, 2)),
    "motion_7": ("SHARPEN", "unsharp", lambda im, r: _motion(im, 7)),
    "box_3": ("SHARPEN", "unsharp", lambda im, r: cv2.blur(im, (3, 3))),
    "bicubic_x2": ("UPSCALE", "lanczos", lambda im, r: _bicubic_down(im, 2)),
    "bicubic_x4": ("UPSCALE", "lanczos", lambda im, r: _bicubic_down(im, 4)),
}


def main() -> int:
    refs = {n: photo(n) for n in PHOTOS}
    print(f"{'family':14} {'mode':9} {'mode':>7} {'AUTO':>7} {'input':>7} {'baseline':>17}  ok")
    losses = 0
    for fam, (mode, base, fn) in FAMILIES.items():
        rows = {k: [] for k in ("mode", "AUTO", "input", base)}
        for name, ref in refs.items():
            bad = fn(ref, np.random.default_rng(zlib.crc32(f"{fam}/{name}".encode())))
            size = ref.shape[1::-1]
            rows["mode"].append(score(run_mode(bad, mode, size), ref, "ssim"))
            rows["AUTO"].append(score(run_mode(bad, "AUTO", size), ref, "ssim"))
            rows["input"].append(score(bad if bad.shape == ref.shape else _lanczos(bad, size), ref, "ssim"))
            out = BASELINES[base](bad, size)
            rows[base].append(score(out if out.shape == ref.shape else _lanczos(out, size), ref, "ssim"))
        m = {k: float(np.mean(v)) for k, v in rows.items()}
        ok = m["mode"] > m[base] and m["AUTO"] >= m["mode"] - 0.02
        losses += not ok
        print(f"{fam:14} {mode:9} {m['mode']:7.4f} {m['AUTO']:7.4f} {m['input']:7.4f} {base:>8} {m[base]:7.4f}  "
              f"{'yes' if ok else 'NO'}", flush=True)
    print(f"\nfamilies where the mode trails its baseline: {losses} of {len(FAMILIES)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
