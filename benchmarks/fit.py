"""Size targeting vs ImageMagick's ``jpeg:extent``, and per-mode cost on a 12 MP photo.

Run by hand from the repository root (ImageMagick: ``apt-get update &&
apt-get install -y imagemagick``)::

    python3 benchmarks/fit.py              # both tables
    python3 benchmarks/fit.py --only fit   # size targeting only
    python3 benchmarks/fit.py --only modes # mode timing / peak memory only

Photo: ``skimage.data.coffee`` upscaled to 4000x3000 with added fine
texture (grain and a faint fabric pattern) so it has real 12 MP detail.
Both tools start from the same PPM file. Ours is timed as ``fit_to_size``
on the array (what the pipeline's last step costs) and as ``enhance(...,
"OPTIMIZE")`` end to end (decode + assess + fit); ImageMagick as the
``convert`` process. SSIM is on luminance at full size (a downscaled
result is upscaled back, so downscaling is penalised). Targets: never over,
SSIM >= ImageMagick's, time <= 0.7x ImageMagick's.

Mode timing: each mode runs in a fresh process (second, warm run timed);
peak memory is the process's peak RSS (VmHWM from /proc) minus the peak
right after imports and reading the input, i.e. what the call added.
"""
from __future__ import annotations

import argparse
import io
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np
from PIL import Image
from skimage import data as skdata
from skimage.metrics import structural_similarity

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from enhancer import enhance  # noqa: E402
from enhancer.fit import fit_to_size  # noqa: E402

TARGETS_KB = [50, 150, 300, 500, 1000, 2000]


def photo_12mp(seed: int = 0) -> np.ndarray:
    src = skdata.coffee()
    img = cv2.resize(src, (4000, 3000), interpolation=cv2.INTER_CUBIC).astype(np.float32)
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:3000, 0:4000].astype(np.float32)
    fabric = 3.0 * np.sin(xx * 0.9) * np.sin(yy * 0.7)
    img += fabric[..., None] + rng.normal(0, 3.0, img.shape)
    return np.clip(img + 0.5, 0, 255).astype(np.uint8)


def _ssim(ref_grey: np.ndarray, data: bytes) -> float:
    out = np.asarray(Image.open(io.BytesIO(data)).convert("L"))
    if out.shape != ref_grey.shape:
        out = cv2.resize(out, (ref_grey.shape[1], ref_grey.shape[0]), interpolation=cv2.INTER_CUBIC)
    return float(structural_similarity(ref_grey, out, data_range=255))


def _imagemagick() -> str | None:
    """The real ImageMagick (a PATH entry named convert may be something else)."""
    for cand in (shutil.which("magick"), "/usr/bin/convert", shutil.which("convert")):
        if cand and os.path.exists(cand):
            out = subprocess.run([cand, "-version"], capture_output=True, text=True)
            if "ImageMagick" in out.stdout:
                return cand
    return None


def bench_fit() -> None:
    img = photo_12mp()
    grey = cv2.cvtColor(img, cv2.COLOR_RGB2GRAY)
    tmp = Path(tempfile.mkdtemp())
    ppm = tmp / "in.ppm"
    Image.fromarray(img).save(ppm)
    ppm_bytes = ppm.read_bytes()
    convert = _imagemagick()
    print(f"photo 4000x3000; ImageMagick: {convert or 'not installed'}")
    print(f"{'target':>7} | {'ours KB':>8} {'q':>4} {'enc':>3} {'fit ms':>7} {'e2e ms':>7} {'SSIM':>6} | "
          f"{'IM KB':>7} {'IM ms':>6} {'SSIM':>6} | {'over?':>5} {'time ratio':>10}")
    for kb in TARGETS_KB:
        t = time.perf_counter()
        fitted = fit_to_size(img, None, fmt="JPEG", target_bytes=kb * 1024)
        fit_ms = (time.perf_counter() - t) * 1000
        t = time.perf_counter()
        res = enhance(ppm_bytes, "OPTIMIZE", target_size_kb=kb)
        e2e_ms = (time.perf_counter() - t) * 1000
        ours_ssim = _ssim(grey, fitted.data)
        im_kb = im_ms = im_ssim = float("nan")
        if convert:
            out = tmp / f"im_{kb}.jpg"
            t = time.perf_counter()
            subprocess.run([convert, str(ppm), "-strip", "-define", f"jpeg:extent={kb}KB", str(out)], check=True)
            im_ms = (time.perf_counter() - t) * 1000
            im_data = out.read_bytes()
            im_kb, im_ssim = len(im_data) / 1024, _ssim(grey, im_data)
        over = "OVER" if max(len(fitted.data), res.size_bytes) > kb * 1024 else "no"
        print(f"{kb:>7} | {len(fitted.data) / 1024:8.1f} {fitted.quality:>4} {fitted.encodes:>3} {fit_ms:7.0f} "
              f"{e2e_ms:7.0f} {ours_ssim:6.4f} | {im_kb:7.1f} {im_ms:6.0f} {im_ssim:6.4f} | {over:>5} "
              f"{fit_ms / im_ms:10.2f}")
    shutil.rmtree(tmp, ignore_errors=True)


_CHILD = r"""
import json, resource, sys, time
sys.path.insert(0, {root!r})
from enhancer import enhance
data = open({path!r}, "rb").read()
def rss():  # VmHWM: this process image's peak; ru_maxrss would carry the parent's over fork+exec
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
base = rss()
enhance(data, {mode!r}, output_format={fmt!r})
peak1 = rss()
t = time.perf_counter(); res = enhance(data, {mode!r}, output_format={fmt!r}); ms = (time.perf_counter() - t) * 1000
print(json.dumps(dict(ms=ms, peak=max(peak1, rss()) - base, kb=res.size_bytes / 1024, steps=res.steps,
                      size=f"{{res.width}}x{{res.height}}")))
"""


def bench_modes() -> None:
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from background import compose
    shot, _ = compose("coffee", "offwhite_vignette", "box", side=4000, seed=1, jpeg_quality=92)
    tmp = Path(tempfile.mkdtemp())
    inputs = {"photo": tmp / "photo.jpg", "studio": tmp / "studio.jpg"}
    Image.fromarray(photo_12mp()).save(inputs["photo"], quality=92)
    inputs["studio"].write_bytes(shot)
    print(f"cpus: {os.cpu_count()}; 12 MP JPEG input; peak = RSS added by the call")
    print(f"{'mode':<18} {'input':<7} {'format':<6} {'ms':>6} {'peak MiB':>8} {'out KB':>7} {'out size':>10}  steps")
    runs = [("AUTO", "photo", "JPEG"), ("OPTIMIZE", "photo", "JPEG"), ("BACKGROUND_REMOVE", "studio", "JPEG"),
            ("BACKGROUND_REMOVE", "studio", "PNG"), ("STANDARDIZE", "studio", "JPEG"), ("FULL", "studio", "JPEG")]
    for mode, name, fmt in runs:
        code = _CHILD.format(root=str(ROOT), path=str(inputs[name]), mode=mode, fmt=fmt)
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
        r = json.loads(out.stdout.strip().splitlines()[-1])
        print(f"{mode:<18} {name:<7} {fmt:<6} {r['ms']:6.0f} {r['peak']:8.0f} {r['kb']:7.0f} {r['size']:>10}  "
              f"{','.join(r['steps'])}")
    shutil.rmtree(tmp, ignore_errors=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", choices=["fit", "modes"])
    args = ap.parse_args()
    if args.only in (None, "fit"):
        bench_fit()
        print()
    if args.only in (None, "modes"):
        bench_modes()


if __name__ == "__main__":
    main()
