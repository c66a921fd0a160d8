"""Held-out tone and colour check: degradations the light-correction tuning never saw.

Run from the repository root::

    python3 -m benchmarks.tone_heldout            # seed 7
    python3 -m benchmarks.tone_heldout --seed 3   # other random parameters

``benchmarks.quality`` holds the rows light correction was tuned on; this
one draws other kinds of damage with random parameters (seeded per family
and photo): gamma darkening and brightening, per-channel gains in linear
light, coloured offsets, a red fade, a flattening around mid-grey, a dark
photo with a cast, blue shade, a cool flat print. Photos are skimage's
colour photographs at 512 px. Each family's mean PSNR against the clean
photo is compared with Pillow autocontrast (cutoff 1 and 0) and OpenCV CLAHE,
and the two photos where LIGHT_CORRECTION trails the best baseline most are
named. It reports; it does not gate: some damage is ambiguous without the
original (a gamma change looks like a dark scene, a blue shade on a red
fundus like a red cast), and the rows marked NO are where the heuristics
still lose to a per-channel stretch.
"""
from __future__ import annotations

import argparse
import zlib

import cv2
import numpy as np
import skimage.data

from benchmarks.quality import BASELINES, _linear_cast, run_mode, score, u8

PHOTOS = ("astronaut", "chelsea", "coffee", "rocket", "retina", "immunohistochemistry", "hubble_deep_field")
BASES = ("autocontrast", "autocontrast0", "clahe")


def photo(name: str, side: int = 512) -> np.ndarray:
    img = getattr(skimage.data, name)()[..., :3]
    h, w = img.shape[:2]
    f = side / max(h, w)
    return cv2.resize(img, (round(w * f), round(h * f)), interpolation=cv2.INTER_AREA) if f < 1 else img


def families(rng: np.random.Generator) -> dict:
    return {
        "gamma_dark": lambda im: u8(255 * (im / 255.0) ** rng.uniform(1.5, 2.2)),
        "gamma_bright": lambda im: u8(255 * (im / 255.0) ** rng.uniform(0.55, 0.75)),
        "lin_cast": lambda im: _linear_cast(im, rng.uniform(0.7, 1.3, 3)),
        "offset_cast": lambda im: u8(im * 0.85 + rng.uniform(0, 40, 3)),
        "red_fade": lambda im: u8((0.6 * im + 60) * np.array([1.12, 0.97, 0.88])),
        "flat_mid": lambda im: u8(128 + rng.uniform(0.4, 0.7) * (im.astype(np.float32) - 128)),
        "dark_cast": lambda im: _linear_cast(im, rng.uniform(0.2, 0.5) * rng.uniform(0.75, 1.25, 3)),
        "blue_shade": lambda im: _linear_cast(im, [0.8, 0.95, 1.25]),
        "cool_flat": lambda im: u8(u8(im * np.array([0.88, 1.0, 1.12])) * 0.65 + 35),
    }


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args(argv)
    refs = {n: photo(n) for n in PHOTOS}
    print(f"{'family':14} {'LC':>7} {'AUTO':>7} {'best baseline':>22}  ok   LC - best baseline, worst two photos")
    losses = 0
    for fam in families(np.random.default_rng(0)):
        rows = {k: [] for k in ("LC", "AUTO", *BASES)}
        for name, ref in refs.items():
            rng = np.random.default_rng(zlib.crc32(f"{fam}/{name}/{args.seed}".encode()))
            bad = families(rng)[fam](ref)
            size = ref.shape[1::-1]
            rows["LC"].append(score(run_mode(bad, "LIGHT_CORRECTION", size), ref, "psnr"))
            rows["AUTO"].append(score(run_mode(bad, "AUTO", size), ref, "psnr"))
            for b in BASES:
                rows[b].append(score(BASELINES[b](bad, size), ref, "psnr"))
        mean = {k: float(np.mean(v)) for k, v in rows.items()}
        best = max(BASES, key=lambda b: mean[b])
        gap = np.array(rows["LC"]) - np.max([rows[b] for b in BASES], axis=0)
        worst = sorted(zip(gap, refs))[:2]
        ok = mean["LC"] > mean[best] and mean["AUTO"] >= mean["LC"] - 0.5
        losses += not ok
        print(f"{fam:14} {mean['LC']:7.2f} {mean['AUTO']:7.2f} {best:>14} {mean[best]:7.2f}  {'yes' if ok else 'NO ':3}  "
              + ", ".join(f"{n} {d:+.1f}" for d, n in worst))
    print(f"\nfamilies where LIGHT_CORRECTION trails a baseline: {losses} of {len(families(np.random.default_rng(0)))}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
