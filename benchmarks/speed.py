"""Speed benchmark: every mode through :func:`enhancer.enhance` on a 12 MP photo.

Run from the repository root::

    python3 -m benchmarks.speed              # all modes, median of 3 runs
    python3 -m benchmarks.speed --runs 5 --mode AUTO
    python3 -m benchmarks.speed --degraded   # dark + noisy: every step works
    python3 -m benchmarks.speed --studio     # product on white: background removal works
    python3 -m benchmarks.speed --studio --mode BACKGROUND_REMOVE --format PNG  # the cut-out as PNG
    python3 -m benchmarks.speed --steps      # assess and each step alone
    python3 -m benchmarks.speed --fidelity   # 12 MP output vs the clean photo (SSIM)
    python3 -m benchmarks.speed --one-process --runs 1  # every mode in one process: its peak memory
    python3 -m benchmarks.speed --scenes 30  # BACKGROUND_REMOVE on 30 products on scenes, each once

The photo is ``skimage.data.astronaut`` resized to 4000x3000 with mild seeded
sensor noise, encoded as JPEG q90 (what a phone uploads). Each mode runs in
a fresh subprocess so its peak resident memory (``ru_maxrss``, whole process
including the interpreter and libraries) is its own; one untimed call warms
it up first (a long-running app pays thread pools and heap growth once). Also
times ``assess``.

The astronaut is the scene matte's costliest case: a portrait the frame
cuts, looked at four times by the network. ``--scenes N`` times
BACKGROUND_REMOVE instead on N products composited on busy scenes at 12 MP
(benchmarks/shots.py's fresh busy shots, ``--draw`` picks them), each once in
one process after a warm-up, with how many network passes each took: what a
catalog's uploads cost, their median and spread.

When a mode that removes backgrounds is timed, the background network's
passes alone are timed too (fresh process, the app's threads): the matte's
time follows them, and they differ threefold between the machines this ran
on, so they say how a figure here compares with one taken elsewhere.

The children start as the app's processes are meant to: with glibc's
allocator asking for transparent huge pages (:func:`enhancer._alloc.on_huge_pages`;
README, "Production: MySQL and S3"); ``GLIBC_TUNABLES=glibc.malloc.hugetlb=0``
before the command times them without. The first line says which.

Wall time is noisy on a shared machine, so CPU time (``time.process_time``,
all threads of the process) is reported too: with OpenCV's two threads it can
exceed wall time, and it is the figure to compare between runs.
"""
from __future__ import annotations

import argparse
import io
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from enhancer._alloc import on_huge_pages

NETWORK = "network"  # not a mode: the background network's passes alone, to tell how fast this machine is
MATTE_MODES = ("BACKGROUND_REMOVE", "STANDARDIZE", "FULL")  # the modes that run it
CHILD_ENV = on_huge_pages(dict(os.environ))  # the children start as the app's processes do
HUGE = "huge pages" if "hugetlb=1" in CHILD_ENV.get("GLIBC_TUNABLES", "") else "no huge pages"
LIMITS = {"AUTO": 400, "BACKGROUND_REMOVE": 600}  # ms (issue #18: BACKGROUND_REMOVE on 12 MP <= 600 ms)
DEFAULT_LIMIT = 1000
MODES = ("AUTO", "LIGHT_CORRECTION", "DENOISE", "SHARPEN", "UPSCALE", "UPSCALE_DENOISE",
         "BACKGROUND_REMOVE", "STANDARDIZE", "OPTIMIZE", "FULL")


def make_photo(*, noise: float = 2.0, gain: float = 1.0) -> bytes:
    import cv2
    import skimage.data
    from PIL import Image

    img = cv2.resize(skimage.data.astronaut(), (4000, 3000), interpolation=cv2.INTER_CUBIC)
    rng = np.random.default_rng(0)
    img = np.clip(img * np.float32(gain) + rng.normal(0, noise, img.shape).astype(np.float32), 0, 255)
    img = img.astype(np.uint8)
    buf = io.BytesIO()
    Image.fromarray(img).save(buf, "JPEG", quality=90)
    return buf.getvalue()


def make_studio_photo() -> bytes:
    """A product on a plain white background (background removal and
    standardize do their full work): skimage's coffee cup, 12 MP."""
    import cv2
    import skimage.data
    from PIL import Image

    img = np.full((3000, 4000, 3), 250, np.uint8)
    cup = cv2.resize(skimage.data.coffee(), (2400, 1800), interpolation=cv2.INTER_CUBIC)
    img[600:2400, 800:3200] = cup
    rng = np.random.default_rng(0)
    img = np.clip(img + rng.normal(0, 2.0, img.shape).astype(np.float32), 0, 255).astype(np.uint8)
    buf = io.BytesIO()
    Image.fromarray(img).save(buf, "JPEG", quality=90)
    return buf.getvalue()


def _child(mode: str, runs: int, path: str, fmt: str = "JPEG") -> None:
    """Time one mode (its result encoded as ``fmt``) in this process and print a JSON line."""
    import enhancer

    with open(path, "rb") as f:
        data = f.read()
    if mode == NETWORK:
        _child_network(data, runs)
        return
    # one untimed call first: the app is a long-running process, and a fresh one's
    # first photo also pays one-time costs (thread pools, growing the heap)
    if mode == "assess":
        enhancer.assess(data)
    else:
        enhancer.enhance(data, mode, output_format=fmt)
    times, cpu, steps = [], [], ()
    for _ in range(runs):
        t0, c0 = time.perf_counter(), time.process_time()
        if mode == "assess":
            enhancer.assess(data)
        else:
            res = enhancer.enhance(data, mode, output_format=fmt)
            steps = res.steps
        times.append((time.perf_counter() - t0) * 1000)
        cpu.append((time.process_time() - c0) * 1000)
    peak = _peak_mib()
    print(json.dumps({"mode": mode, "median_ms": statistics.median(times), "min_ms": min(times),
                      "cpu_ms": statistics.median(cpu), "peak_mib": peak, "steps": list(steps)}))


def _child_network(data: bytes, runs: int) -> None:
    """Time the background network's passes alone, at both sizes the matte uses, with the app's threads."""
    from enhancer.imageio import decode
    from enhancer.steps._saliency import NET_SIDE, saliency
    from enhancer.steps.background import STUDIO_NET_SIDE, _working_copy

    small = _working_copy(decode(data).rgb)
    passes = {}
    for side in (NET_SIDE, STUDIO_NET_SIDE):
        saliency(small, side=side)  # warm-up (the first pass also loads the model)
        passes[side] = _median_ms(lambda: saliency(small, side=side), max(runs, 5))[0]
    print(json.dumps({"mode": NETWORK, "passes": passes}))


def _child_scenes(folder: str) -> None:
    """BACKGROUND_REMOVE on each photo in ``folder`` (its shots.json names them), once: a JSON line each."""
    import enhancer
    from enhancer.steps import background

    passes = []
    counted = background.saliency

    def saliency(rgb, **kw):  # the matte's network passes, counted where the matte calls them
        passes.append(kw.get("side"))
        return counted(rgb, **kw)

    background.saliency = saliency
    names = json.loads(Path(folder, "shots.json").read_text())
    photos = [Path(folder, f"{i}.jpg") for i in range(len(names))]
    enhancer.enhance(photos[0].read_bytes(), "BACKGROUND_REMOVE")  # warm-up: the model, thread pools, heap
    for name, photo in zip(names, photos):
        data = photo.read_bytes()
        passes.clear()
        t0, c0 = time.perf_counter(), time.process_time()
        enhancer.enhance(data, "BACKGROUND_REMOVE")
        print(json.dumps({"shot": name, "ms": (time.perf_counter() - t0) * 1000,
                          "cpu_ms": (time.process_time() - c0) * 1000, "passes": list(passes)}), flush=True)
    print(json.dumps({"peak_mib": _peak_mib()}))


def scenes(count: int, draw: int) -> None:
    """:func:`_child_scenes` in a fresh process on ``count`` shots made here (so its peak memory is the
    matte's): each shot's time and passes, then their spread."""
    from benchmarks.shots import fresh_busy_set

    with tempfile.TemporaryDirectory() as folder:
        names = []
        for i, (name, data, _) in enumerate(fresh_busy_set(side=4000, draw=draw, count=count)):
            Path(folder, f"{i}.jpg").write_bytes(data)
            names.append(name)
        Path(folder, "shots.json").write_text(json.dumps(names))
        out = subprocess.run([sys.executable, "-m", "benchmarks.speed", "--child-scenes", folder],
                             capture_output=True, text=True, check=True, env=CHILD_ENV)
    rows = [json.loads(line) for line in out.stdout.splitlines() if line.startswith("{")]
    peak, rows = rows[-1]["peak_mib"], rows[:-1]
    limit = LIMITS["BACKGROUND_REMOVE"]
    print(f"BACKGROUND_REMOVE on {len(rows)} products on scenes (12 MP JPEG, fresh busy draw {draw}) "
          f"to JPEG, each once after a warm-up, one process ({HUGE})")
    print(f"{'ms':>6} {'CPU ms':>7}  network passes (px)  shot")
    for r in rows:
        print(f"{r['ms']:6.0f} {r['cpu_ms']:7.0f}  {'+'.join(map(str, r['passes'])) or '-':19}  {r['shot']}")
    ms = np.array([r["ms"] for r in rows])
    by_passes: dict[int, list[float]] = {}
    for r in rows:
        by_passes.setdefault(len(r["passes"]), []).append(r["ms"])
    print(f"median {np.median(ms):.0f} ms, mean {ms.mean():.0f}, "
          f"90th percentile {np.percentile(ms, 90):.0f}, worst {ms.max():.0f}; "
          f"within {limit} ms: {np.mean(ms <= limit):.0%}; peak {peak:.0f} MiB")
    print("by network passes: " + ", ".join(f"{n}: {len(v)} shots, median {np.median(v):.0f} ms"
                                            for n, v in sorted(by_passes.items())))
    print(f"load average at the end: {os.getloadavg()[0]:.2f} (wall times are only meaningful when low)")


def _run_child(mode: str, runs: int, path: str, fmt: str = "JPEG") -> dict:
    """:func:`_child` in a fresh process; its JSON line."""
    out = subprocess.run([sys.executable, "-m", "benchmarks.speed", "--child", mode, "--runs", str(runs),
                          "--photo", path, "--format", fmt], capture_output=True, text=True, check=True,
                         env=CHILD_ENV)
    return json.loads(out.stdout.strip().splitlines()[-1])


def one_process(runs: int) -> None:
    """Every mode on three photos, one after the other, in one child process (what a
    long-running worker does); the photos are made here so their making does not count."""
    paths = []
    for kind, data in (("clean", make_photo()), ("studio", make_studio_photo()),
                       ("dark+noisy", make_photo(noise=12.0, gain=0.5))):
        with tempfile.NamedTemporaryFile(suffix=f"-{kind}.jpg", delete=False) as f:
            f.write(data)
            paths.append(f.name)
    try:
        subprocess.run([sys.executable, "-m", "benchmarks.speed", "--child-all", ",".join(paths),
                        "--runs", str(runs)], check=True, env=CHILD_ENV)
    finally:
        for p in paths:
            os.unlink(p)


def _child_all(paths: list[str], runs: int) -> None:
    import enhancer

    print(f"12 MP JPEGs, every mode in one process ({HUGE}), {runs} round(s); peak = VmHWM so far")
    print(f"{'photo':12} {'mode':18} {'ms':>6} {'RSS MiB':>8} {'peak MiB':>9}")
    for _ in range(runs):
        for path in paths:
            with open(path, "rb") as f:
                data = f.read()
            kind = path.rsplit("-", 1)[-1][:-4]
            for mode in MODES:
                t0 = time.perf_counter()
                enhancer.enhance(data, mode)
                ms = (time.perf_counter() - t0) * 1000
                print(f"{kind:12} {mode:18} {ms:6.0f} {_rss_mib():8.0f} {_peak_mib():9.0f}", flush=True)
    print(f"peak resident memory of the process: {_peak_mib():.0f} MiB (goal <= 500)")


def _rss_mib() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def time_steps(runs: int) -> None:
    """Time assess and each enhancement step alone (no decode/encode), in-process.

    Separates the steps' cost from the pipeline's fixed decode/encode cost.
    """
    from enhancer.context import Context, Options
    from enhancer.imageio import Decoded, decode
    from enhancer.quality import assess_decoded
    from enhancer.steps.denoise import denoise
    from enhancer.steps.light import light_correction
    from enhancer.steps.sharpen import sharpen
    from enhancer.steps.upscale import upscale

    print(f"steps alone on 12 MP, median of {runs}: wall ms / CPU ms ('-' = step returned early)")
    print(f"{'photo':12} {'assess':>11} {'denoise':>11} {'light':>11} {'sharpen':>11} {'upscale':>11}")
    for kind, data in (("clean, soft", make_photo()), ("dark+noisy", make_photo(noise=12.0, gain=0.5))):
        rgb = decode(data).rgb
        rep = assess_decoded(Decoded(rgb, None, "JPEG"), size_bytes=len(data))
        ctx = Context(report=rep, options=Options(upscale_target=6000))
        wall, cpu = _median_ms(lambda: assess_decoded(Decoded(rgb, None, "JPEG"), size_bytes=1), runs)
        cells = [f"{wall:.0f}/{cpu:.0f}"]
        for step in (denoise, light_correction, sharpen, upscale):
            wall, cpu = _median_ms(lambda: step(rgb, ctx), runs)
            cells.append(f"{wall:.0f}/{cpu:.0f}" + ("" if step(rgb, ctx) is not rgb else "-"))
        print(f"{kind:12} " + " ".join(f"{c:>11}" for c in cells))


def fidelity() -> None:
    """SSIM / PSNR against the clean 12 MP photo after each mode's steps (no encode).

    The quality benchmark works on ~0.3 MP photos, where the steps take their
    full-resolution paths; this checks the paths taken at 12 MP.
    """
    import cv2
    import skimage.data

    from enhancer.context import Context, Options
    from enhancer.imageio import Decoded, decode
    from enhancer.modes import MODES as TABLE
    from enhancer.quality import assess_decoded
    from enhancer.types import Mode

    clean = cv2.resize(skimage.data.astronaut(), (4000, 3000), interpolation=cv2.INTER_CUBIC)
    blurred = cv2.GaussianBlur(clean, (0, 0), 4.0)
    cases = (("noisy (sigma 12)", make_photo(noise=12.0), ("DENOISE", "AUTO")),
             ("dark+noisy", make_photo(noise=12.0, gain=0.5), ("DENOISE", "AUTO")),
             ("defocus 4 px", _jpeg(blurred), ("SHARPEN", "AUTO")))
    print("12 MP output vs the clean photo: SSIM (mean over RGB, Gaussian window) / PSNR dB")
    print(f"{'photo':18} {'mode':10} {'input':>15} {'output':>15}  steps")
    for kind, data, modes in cases:
        rgb = decode(data).rgb
        rep = assess_decoded(Decoded(rgb, None, "JPEG"), size_bytes=len(data))
        for mode in modes:
            img, applied = rgb, []
            ctx = Context(report=rep, options=Options())
            for step in TABLE[Mode.parse(mode)]:
                out = step(img, ctx)
                if out is not img:
                    applied.append(step.__name__)
                    img = out
            print(f"{kind:18} {mode:10} {_ssim(rgb, clean):8.4f}/{_psnr(rgb, clean):5.2f} "
                  f"{_ssim(img, clean):8.4f}/{_psnr(img, clean):5.2f}  {','.join(applied) or '-'}")


def _jpeg(img: np.ndarray) -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(img).save(buf, "JPEG", quality=90)
    return buf.getvalue()


def _ssim(a: np.ndarray, b: np.ndarray) -> float:
    """Wang et al.'s SSIM (Gaussian sigma 1.5), float32 per channel: fast at 12 MP."""
    import cv2

    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2
    vals = []
    for ch in range(3):
        x, y = a[..., ch].astype(np.float32), b[..., ch].astype(np.float32)
        blur = lambda z: cv2.GaussianBlur(z, (0, 0), 1.5)  # noqa: E731
        mx, my = blur(x), blur(y)
        sxx, syy, sxy = blur(x * x) - mx * mx, blur(y * y) - my * my, blur(x * y) - mx * my
        s = ((2 * mx * my + c1) * (2 * sxy + c2)) / ((mx * mx + my * my + c1) * (sxx + syy + c2))
        vals.append(float(s.mean()))
    return float(np.mean(vals))


def _psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(np.mean((a.astype(np.float32) - b.astype(np.float32)) ** 2))
    return 10 * np.log10(255 ** 2 / max(mse, 1e-10))


def _median_ms(fn, runs: int) -> tuple[float, float]:
    """Median wall and CPU milliseconds of ``fn()``."""
    wall, cpu = [], []
    for _ in range(runs):
        t0, c0 = time.perf_counter(), time.process_time()
        fn()
        wall.append((time.perf_counter() - t0) * 1000)
        cpu.append((time.process_time() - c0) * 1000)
    return statistics.median(wall), statistics.median(cpu)


def _peak_mib() -> float:
    """Peak resident memory of this process image (VmHWM; unlike ru_maxrss it
    does not include the parent's memory at fork)."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--mode", action="append", help="mode(s) to time (default: all)")
    ap.add_argument("--degraded", action="store_true",
                    help="dark (x0.5) and noisy (sigma 12) photo, so every step does its work")
    ap.add_argument("--studio", action="store_true",
                    help="product on a plain white background, so background removal does its work")
    ap.add_argument("--steps", action="store_true", help="time assess and each step alone")
    ap.add_argument("--fidelity", action="store_true", help="12 MP outputs vs the clean photo (SSIM)")
    ap.add_argument("--one-process", action="store_true",
                    help="every mode on three photos in one process: the peak a long-running worker reaches")
    ap.add_argument("--format", default="JPEG", choices=("JPEG", "PNG", "WEBP"),
                    help="the results' format (a cut-out keeps its transparency as PNG or WEBP)")
    ap.add_argument("--scenes", type=int, metavar="N",
                    help="BACKGROUND_REMOVE on N products on busy scenes, each once (see --draw)")
    ap.add_argument("--draw", type=int, default=4, help="with --scenes: which random sample of shots")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    ap.add_argument("--child-scenes", help=argparse.SUPPRESS)
    ap.add_argument("--child-all", help=argparse.SUPPRESS)
    ap.add_argument("--photo", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child_all:
        _child_all(args.child_all.split(","), args.runs)
        return 0
    if args.child_scenes:
        _child_scenes(args.child_scenes)
        return 0
    if args.scenes:
        scenes(args.scenes, args.draw)
        return 0
    if args.child:
        _child(args.child, args.runs, args.photo, args.format)
        return 0
    if args.steps:
        time_steps(args.runs)
        return 0
    if args.one_process:
        one_process(args.runs)
        return 0
    if args.fidelity:
        fidelity()
        return 0
    modes = args.mode or ["assess", *MODES]
    # Made here, not in the children, so their peak memory is enhance()'s own.
    with tempfile.NamedTemporaryFile(suffix=".jpg", delete=False) as f:
        f.write(make_photo(noise=12.0, gain=0.5) if args.degraded else make_studio_photo() if args.studio
                else make_photo())
        path = f.name
    kind = "dark+noisy" if args.degraded else "studio product" if args.studio else "clean, soft"
    print(f"12 MP JPEG (4000x3000, {kind}) to {args.format}, median of {args.runs} runs after a warm-up, "
          f"fresh process per mode ({HUGE})")
    print(f"{'mode':18} {'median ms':>10} {'min ms':>8} {'CPU ms':>8} {'peak MiB':>9}  steps applied")
    over = []
    for m in modes:
        r = _run_child(m, args.runs, path, args.format)
        limit = LIMITS.get(m, DEFAULT_LIMIT)
        flag = "" if r["median_ms"] <= limit and r["peak_mib"] <= 600 else "  OVER"
        if flag:
            over.append(m)
        print(f"{m:18} {r['median_ms']:10.0f} {r['min_ms']:8.0f} {r['cpu_ms']:8.0f} {r['peak_mib']:9.0f}  "
              f"{','.join(r['steps']) or '-'}{flag}")
    if any(m in MATTE_MODES for m in modes):
        passes = _run_child(NETWORK, args.runs, path)["passes"]
        print("the background network alone on this machine (what the matte's time follows): one pass at "
              + ", at ".join(f"{side} px {ms:.0f} ms" for side, ms in passes.items()))
    os.unlink(path)
    print(f"load average at the end: {os.getloadavg()[0]:.2f} (wall times are only meaningful when low)")
    limits = ", ".join(f"{m} <= {ms} ms" for m, ms in LIMITS.items())
    print(f"limits: {limits}, other modes <= {DEFAULT_LIMIT} ms, peak <= 600 MiB; over: "
          + (", ".join(over) or "none"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
