"""Size targeting vs ImageMagick's ``jpeg:extent``, its cost on 2 MP photos, and per-mode cost on a 12 MP photo.

Run by hand from the repository root (ImageMagick: ``apt-get update &&
apt-get install -y imagemagick``)::

    python3 benchmarks/fit.py              # all tables
    python3 benchmarks/fit.py --only fit   # size targeting vs ImageMagick only
    python3 benchmarks/fit.py --small      # CPU per fit on 2 MP photos only
    python3 benchmarks/fit.py --only modes # mode timing / peak memory only

Photo: ``skimage.data.coffee`` upscaled to 4000x3000 with added fine
texture (grain and a faint fabric pattern) so it has real 12 MP detail.
Both tools start from the same PPM file. Ours is timed as ``fit_to_size``
on the array (what the pipeline's last step costs) and once as ``enhance(...,
"OPTIMIZE")`` end to end (decode + assess + fit); ImageMagick as the
``convert`` process (``/usr/bin/convert`` or ``magick``: a ``convert``
earlier on PATH may be something else). SSIM is on luminance at full size (a
downscaled result is upscaled back, so downscaling is penalised). Targets:
never over, SSIM >= ImageMagick's, time <= 0.7x ImageMagick's.

Time is compared as CPU time (medians of ``--runs`` runs), which other jobs
on a shared machine move far less than wall time: ours is this process's
``time.process_time`` around the call, ImageMagick's is the child's user +
system time (``RUSAGE_CHILDREN``), so its OpenMP threads all count and none
are limited. Wall times are printed too. ImageMagick's time includes reading
the 36 MB PPM, which ours (an array in memory) does not.

2 MP table (``--small``): OPTIMIZE's last step for the bulk case, a 2 MP
(1732x1155) photo to 200 KB: ten distinct photos (skimage.data with seeded
noise, JPEG q92, the recipe of ``benchmarks/bulk.py``), decoded once; CPU ms
per ``fit_to_size``.

Mode timing: each mode runs in a fresh process (second, warm run timed);
peak memory is the process's peak RSS (VmHWM from /proc) minus the peak
right after imports and reading the input, i.e. what the call added.
"""
from __future__ import annotations

import argparse
import io
import json
import os
import resource
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

TARGETS_KB = [50, 100, 150, 200, 300, 400, 500, 700, 1000, 1300, 1600, 2000]


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


def _cpu_of(fn, runs: int) -> tuple[float, float, object]:
    """Median CPU ms and median wall ms of ``fn()`` in this process, and its last result."""
    cpu, wall, out = [], [], None
    for _ in range(runs):
        c, w = time.process_time(), time.perf_counter()
        out = fn()
        cpu.append((time.process_time() - c) * 1000)
        wall.append((time.perf_counter() - w) * 1000)
    return float(np.median(cpu)), float(np.median(wall)), out


def _child_cpu_of(cmd: list[str], runs: int) -> tuple[float, float]:
    """Median CPU ms (user + system of the child and its threads) and median wall ms of a command."""
    cpu, wall = [], []
    for _ in range(runs):
        r0, w = resource.getrusage(resource.RUSAGE_CHILDREN), time.perf_counter()
        subprocess.run(cmd, check=True)
        r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        wall.append((time.perf_counter() - w) * 1000)
        cpu.append((r1.ru_utime - r0.ru_utime + r1.ru_stime - r0.ru_stime) * 1000)
    return float(np.median(cpu)), float(np.median(wall))


def bench_fit(runs: int = 3) -> None:
    img = photo_12mp()
    grey = cv2.cvtColor(img, cv2.COLOR_RGB2GRAY)
    tmp = Path(tempfile.mkdtemp())
    ppm = tmp / "in.ppm"
    Image.fromarray(img).save(ppm)
    ppm_bytes = ppm.read_bytes()
    convert = _imagemagick()
    print(f"photo 4000x3000; ImageMagick: {convert or 'not installed'}; cpus: {os.cpu_count()}; "
          f"median of {runs} runs; ms = CPU ms (wall ms in brackets)")
    print(f"{'target':>6} | {'ours KB':>7} {'fill':>5} {'q':>3} {'enc':>3} {'fit ms':>12} {'e2e ms':>6} {'SSIM':>6} | "
          f"{'IM KB':>7} {'IM ms':>12} {'SSIM':>6} | {'over?':>5} {'SSIM>=':>6} {'cpu ratio':>9}")
    rows = []
    for kb in TARGETS_KB:
        fit_ms, fit_wall, fitted = _cpu_of(lambda: fit_to_size(img, None, fmt="JPEG", target_bytes=kb * 1024), runs)
        e2e_ms, _, res = _cpu_of(lambda: enhance(ppm_bytes, "OPTIMIZE", target_size_kb=kb), 1)
        ours_ssim = _ssim(grey, fitted.data)
        im_kb = im_ms = im_wall = im_ssim = float("nan")
        if convert:
            out = tmp / f"im_{kb}.jpg"
            im_ms, im_wall = _child_cpu_of([convert, str(ppm), "-strip", "-define", f"jpeg:extent={kb}KB", str(out)],
                                           runs)
            im_data = out.read_bytes()
            im_kb, im_ssim = len(im_data) / 1024, _ssim(grey, im_data)
        over = "OVER" if max(len(fitted.data), res.size_bytes) > kb * 1024 else "no"
        better = "yes" if ours_ssim >= im_ssim else "NO" if convert else "-"
        print(f"{kb:>6} | {len(fitted.data) / 1024:7.1f} {len(fitted.data) / (kb * 1024):5.3f} {fitted.quality:>3} "
              f"{fitted.encodes:>3} {fit_ms:5.0f} ({fit_wall:4.0f}) {e2e_ms:6.0f} {ours_ssim:6.4f} | "
              f"{im_kb:7.1f} {im_ms:5.0f} ({im_wall:4.0f}) {im_ssim:6.4f} | {over:>5} {better:>6} "
              f"{fit_ms / im_ms:9.2f}")
        rows.append((kb, ours_ssim, im_ssim))
    shutil.rmtree(tmp, ignore_errors=True)
    drops = [f"{a[0]}->{b[0]} KB" for a, b in zip(rows, rows[1:]) if b[1] < a[1]]
    behind = [f"{kb} KB" for kb, ours, im in rows if ours < im]
    print("SSIM non-decreasing with the target: " + ("yes" if not drops else "NO, drops at " + ", ".join(drops)))
    print("SSIM >= ImageMagick's at every target: " + ("yes" if not behind else "NO at " + ", ".join(behind)))


def photos_2mp(n: int = 10) -> list[np.ndarray]:
    """The bulk benchmark's distinct 2 MP photos (JPEG q92), decoded to RGB."""
    from benchmarks.bulk import make_photos

    return [np.asarray(Image.open(io.BytesIO(b)).convert("RGB")) for b in make_photos(n)]


def bench_small(runs: int = 3, kb: int = 200) -> None:
    photos = photos_2mp()
    for p in photos[:2]:  # warm up (imports, allocator)
        fit_to_size(p, None, fmt="JPEG", target_bytes=kb * 1024)
    cpu, wall, fits = _cpu_of(lambda: [fit_to_size(p, None, fmt="JPEG", target_bytes=kb * 1024) for p in photos],
                              runs)
    sizes = [len(f.data) for f in fits]
    over = sum(s > kb * 1024 for s in sizes)
    print(f"2 MP ({photos[0].shape[1]}x{photos[0].shape[0]}) JPEG to {kb} KB, {len(photos)} photos, median of {runs} runs")
    print(f"{'cpu ms/fit':>10} {'wall ms/fit':>11} {'encodes/fit':>11} {'fill min':>8} {'fill mean':>9} "
          f"{'q mean':>6} {'over':>4}")
    print(f"{cpu / len(photos):10.1f} {wall / len(photos):11.1f} {np.mean([f.encodes for f in fits]):11.1f} "
          f"{min(sizes) / (kb * 1024):8.3f} {np.mean(sizes) / (kb * 1024):9.3f} "
          f"{np.mean([f.quality for f in fits]):6.1f} {over:>4}")


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
    ap.add_argument("--only", choices=["fit", "small", "modes"])
    ap.add_argument("--small", action="store_true", help="only the 2 MP CPU-per-fit table (same as --only small)")
    ap.add_argument("--runs", type=int, default=3, help="timed runs per row (the median is shown)")
    args = ap.parse_args()
    only = "small" if args.small else args.only
    if only in (None, "fit"):
        bench_fit(args.runs)
        print()
    if only in (None, "small"):
        bench_small(args.runs)
        print()
    if only in (None, "modes"):
        bench_modes()


if __name__ == "__main__":
    main()
