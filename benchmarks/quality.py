"""Quality benchmark: each mode against classic baselines on degraded real photos.

Run from the repository root::

    python3 -m benchmarks.quality            # full table
    python3 -m benchmarks.quality --quick    # two photos

Photos come from ``skimage.data`` (bundled, no download). Each is degraded
the ways operators meet (underexposure, colour cast, low contrast, sensor
noise, defocus blur, low resolution, combinations, casts with a flat range);
every mode's output, through the public :func:`enhancer.enhance`, is
compared with the clean original: PSNR (dB) for tone problems, SSIM for
structure. Baselines are Pillow autocontrast, OpenCV CLAHE,
``cv2.fastNlMeansDenoisingColored``, Pillow's unsharp mask and Lanczos. Also
prints AUTO do-no-harm on clean photos, blur-score monotonicity and 50 %-scale
consistency.
"""
from __future__ import annotations

import argparse
import io
import sys

import cv2
import numpy as np
import skimage.data
from PIL import Image, ImageFilter, ImageOps
from skimage.metrics import peak_signal_noise_ratio, structural_similarity

import enhancer
from enhancer.imageio import decode

PHOTOS = ("astronaut", "chelsea", "coffee", "rocket", "immunohistochemistry", "hubble_deep_field")


def photo(name: str) -> np.ndarray:
    img = getattr(skimage.data, name)()
    return np.dstack([img] * 3) if img.ndim == 2 else img[..., :3]


def u8(x) -> np.ndarray:
    return np.clip(np.asarray(x, np.float32) + 0.5, 0, 255).astype(np.uint8)


# Degradations: name -> (function, metric). Seeded so runs are repeatable.
def _noise(img, sigma, seed=0):
    return u8(img.astype(np.float32) + np.random.default_rng(seed).normal(0, sigma, img.shape))


def _blur(img, sigma):
    return cv2.GaussianBlur(img, (0, 0), sigma)


def _linear_gain(img, g):
    """Underexposure as a camera makes it: a gain in linear light, then sRGB."""
    x = img / 255.0
    lin = np.where(x <= 0.04045, x / 12.92, ((x + 0.055) / 1.055) ** 2.4) * g
    return u8(255 * np.where(lin <= 0.0031308, lin * 12.92, 1.055 * lin ** (1 / 2.4) - 0.055))


def _linear_cast(img, gains):
    """A white-balance error as a camera makes it: per-channel gains in linear light."""
    x = img / 255.0
    lin = np.where(x <= 0.04045, x / 12.92, ((x + 0.055) / 1.055) ** 2.4) * np.asarray(gains)
    return u8(255 * np.where(lin <= 0.0031308, lin * 12.92, 1.055 * lin ** (1 / 2.4) - 0.055))


def _lowres(img, f):
    h, w = img.shape[:2]
    return cv2.resize(img, (round(w / f), round(h / f)), interpolation=cv2.INTER_AREA)


DEGRADATIONS = {
    "underexposed": (lambda im: u8(im * 0.45), "psnr"),
    "under_linear": (lambda im: _linear_gain(im, 0.3), "psnr"),
    "colour_cast": (lambda im: u8(im * np.array([1.12, 1.0, 0.78])), "psnr"),
    "low_contrast": (lambda im: u8(0.55 * im + 70), "psnr"),
    "noise_15": (lambda im: _noise(im, 15), "ssim"),
    "noise_25": (lambda im: _noise(im, 25), "ssim"),
    "defocus_1.5": (lambda im: _blur(im, 1.5), "ssim"),
    "defocus_2.5": (lambda im: _blur(im, 2.5), "ssim"),
    "lowres_x2": (lambda im: _lowres(im, 2), "ssim"),
    "lowres_x3": (lambda im: _lowres(im, 3), "ssim"),
    "dark+noise": (lambda im: _noise(u8(im * 0.5), 8), "ssim"),
    "cast+flat": (lambda im: u8(0.6 * u8(im * np.array([0.85, 1.0, 1.15])) + 50), "psnr"),
    "lowres+noise": (lambda im: _noise(_lowres(im, 2), 10), "ssim"),
    # More casts with a flat range: tungsten light under a daylight setting
    # (in linear light) through haze, and a fluorescent green with low contrast.
    "tungsten+haze": (lambda im: u8(0.7 * _linear_cast(im, [1.3, 1.0, 0.6]) + 45), "psnr"),
    "green+flat": (lambda im: u8(0.6 * u8(im * np.array([0.9, 1.08, 0.9])) + 45), "psnr"),
    # A print that faded, then yellowed (the tint scales both ends); a cast
    # then a flattening whose black sits at 40, below any fixed "lifted" level;
    # a light haze that keeps the range wide but lets no pixel reach black.
    "fade+warm": (lambda im: u8(u8(0.6 * im + 55) * np.array([1.1, 1.0, 0.82])), "psnr"),
    "cast+flat40": (lambda im: u8(0.6 * u8(im * np.array([0.85, 1.0, 1.15])) + 40), "psnr"),
    "haze": (lambda im: u8(0.75 * im + 25), "psnr"),
}
# Which mode addresses each degradation.
MODE_FOR = {"underexposed": "LIGHT_CORRECTION", "under_linear": "LIGHT_CORRECTION",
            "colour_cast": "LIGHT_CORRECTION", "low_contrast": "LIGHT_CORRECTION",
            "noise_15": "DENOISE", "noise_25": "DENOISE", "defocus_1.5": "SHARPEN",
            "defocus_2.5": "SHARPEN", "lowres_x2": "UPSCALE", "lowres_x3": "UPSCALE",
            "dark+noise": "AUTO", "cast+flat": "LIGHT_CORRECTION",
            "lowres+noise": "UPSCALE_DENOISE", "tungsten+haze": "LIGHT_CORRECTION",
            "green+flat": "LIGHT_CORRECTION", "fade+warm": "LIGHT_CORRECTION",
            "cast+flat40": "LIGHT_CORRECTION", "haze": "LIGHT_CORRECTION"}


def _pil(fn):
    return lambda im, size: np.asarray(fn(Image.fromarray(im)))


def _clahe(im, size):
    lab = cv2.cvtColor(im, cv2.COLOR_RGB2LAB)
    lab[..., 0] = cv2.createCLAHE(clipLimit=2.0, tileGridSize=(8, 8)).apply(lab[..., 0])
    return cv2.cvtColor(lab, cv2.COLOR_LAB2RGB)


def _lanczos(im, size):
    return np.asarray(Image.fromarray(im).resize(size, Image.Resampling.LANCZOS))


def _nlm_lanczos(im, size):
    return _lanczos(cv2.fastNlMeansDenoisingColored(im, None, 10, 10, 7, 21), size)


BASELINES = {
    "autocontrast": _pil(lambda p: ImageOps.autocontrast(p, cutoff=1)),
    "autocontrast0": _pil(ImageOps.autocontrast),
    "clahe": _clahe,
    "nlmeans": lambda im, size: cv2.fastNlMeansDenoisingColored(im, None, 10, 10, 7, 21),
    "unsharp": _pil(lambda p: p.filter(ImageFilter.UnsharpMask(radius=2, percent=150, threshold=3))),
    "lanczos": _lanczos,
    "nlm+lanczos": _nlm_lanczos,
}


def run_mode(im: np.ndarray, mode: str, size: tuple[int, int]) -> np.ndarray:
    buf = io.BytesIO()
    Image.fromarray(im).save(buf, "PNG")
    res = enhancer.enhance(buf.getvalue(), mode, output_format="PNG", upscale_target=max(size))
    out = decode(res.data).rgb
    if out.shape[1::-1] != size:  # a mode that does not resize: compare at the original size
        out = _lanczos(out, size)
    return out


def score(out: np.ndarray, ref: np.ndarray, metric: str) -> float:
    if metric == "psnr":
        return peak_signal_noise_ratio(ref, out, data_range=255)
    return structural_similarity(ref, out, channel_axis=2, data_range=255)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="two photos only")
    args = ap.parse_args(argv)
    photos = PHOTOS[:2] if args.quick else PHOTOS
    originals = {n: photo(n) for n in photos}
    failures = []
    print(f"{'problem':14} {'metric':6} {'mode':18} {'mode':>8} {'AUTO':>8} {'best baseline':>24}  ok")
    for deg, (fn, metric) in DEGRADATIONS.items():
        mode = MODE_FOR[deg]
        rows = {"mode": [], "AUTO": [], **{b: [] for b in BASELINES}}
        for name, ref in originals.items():
            bad = fn(ref)
            size = ref.shape[1::-1]
            rows["mode"].append(score(run_mode(bad, mode, size), ref, metric))
            rows["AUTO"].append(score(run_mode(bad, "AUTO", size), ref, metric))
            for b, bf in BASELINES.items():
                out = bf(bad, size)
                if out.shape[1::-1] != size:
                    out = _lanczos(out, size)
                rows[b].append(score(out, ref, metric))
        mean = {k: float(np.mean(v)) for k, v in rows.items()}
        best = max(BASELINES, key=lambda b: mean[b])
        tol = 0.5 if metric == "psnr" else 0.02
        ok = mean["mode"] > mean[best] and mean["AUTO"] >= mean["mode"] - tol
        if not ok:
            failures.append(deg)
        fmt = "{:8.2f}" if metric == "psnr" else "{:8.4f}"
        print(f"{deg:14} {metric:6} {mode:18} {fmt.format(mean['mode'])} {fmt.format(mean['AUTO'])} "
              f"{best:>14} {fmt.format(mean[best])}  {'yes' if ok else 'NO'}")

    print("\nAUTO on clean photos (SSIM vs input, must be >= 0.98)")
    for name, ref in originals.items():
        s = score(run_mode(ref, "AUTO", ref.shape[1::-1]), ref, "ssim")
        print(f"  {name:22} {s:.4f} {'ok' if s >= 0.98 else 'NO'}")
        if s < 0.98:
            failures.append(f"clean:{name}")

    print("\nBlur score vs added Gaussian blur sigma (must fall), and at 50 % scale (within 15 %)")
    sigmas = (0, 0.5, 1, 1.5, 2, 3, 4, 6)
    print(f"  {'photo':22} " + " ".join(f"{s:>5}" for s in sigmas) + "   50%  diff")
    for name, ref in originals.items():
        scores = [_blur_score(_blur(ref, s) if s else ref) for s in sigmas]
        half = _blur_score(_lowres(ref, 2))
        mono = all(a > b for a, b in zip(scores, scores[1:]))
        diff = abs(half - scores[0]) / max(scores[0], 1e-6) * 100
        print(f"  {name:22} " + " ".join(f"{s:5.1f}" for s in scores)
              + f" {half:5.1f} {diff:4.1f}% {'ok' if mono and diff <= 15 else 'NO'}")
        if not (mono and diff <= 15):
            failures.append(f"blur:{name}")
    print("\nFAILURES: " + (", ".join(failures) if failures else "none"))
    return 1 if failures else 0


def _blur_score(im: np.ndarray) -> float:
    buf = io.BytesIO()
    Image.fromarray(im).save(buf, "PNG")
    return enhancer.assess(buf.getvalue()).blur_score


if __name__ == "__main__":
    sys.exit(main())
