"""Speed benchmark: every mode through :func:`enhancer.enhance` on a 12 MP photo.

Run from the repository root::

    python3 -m benchmarks.speed              # all modes, median of 3 runs
    python3 -m benchmarks.speed --runs 5 --mode AUTO
    python3 -m benchmarks.speed --degraded   # dark + noisy: every step works
    python3 -m benchmarks.speed --steps      # assess and each step alone

The photo is ``skimage.data.astronaut`` resized to 4000x3000 with mild seeded
sensor noise, encoded as JPEG q90 (what a phone uploads). Each mode runs in
a fresh subprocess so its peak resident memory (``ru_maxrss``, whole process
including the interpreter and libraries) is its own. Also times ``assess``.
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

import numpy as np

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


def _child(mode: str, runs: int, path: str) -> None:
    """Time one mode in this process and print a JSON line."""
    import enhancer

    with open(path, "rb") as f:
        data = f.read()
    times, steps = [], ()
    for _ in range(runs):
        t0 = time.perf_counter()
        if mode == "assess":
            enhancer.assess(data)
        else:
            res = enhancer.enhance(data, mode)
            steps = res.steps
        times.append((time.perf_counter() - t0) * 1000)
    peak = _peak_mib()
    print(json.dumps({"mode": mode, "median_ms": statistics.median(times), "min_ms": min(times),
                      "peak_mib": peak, "steps": list(steps)}))


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

    print(f"steps alone on 12 MP, median of {runs} (ms; '-' = step returned early)")
    print(f"{'photo':12} {'assess':>7} {'denoise':>8} {'light':>7} {'sharpen':>8} {'upscale':>8}")
    for kind, data in (("clean, soft", make_photo()), ("dark+noisy", make_photo(noise=12.0, gain=0.5))):
        rgb = decode(data).rgb
        rep = assess_decoded(Decoded(rgb, None, "JPEG"), size_bytes=len(data))
        ctx = Context(report=rep, options=Options(upscale_target=6000))
        cells = [_median_ms(lambda: assess_decoded(Decoded(rgb, None, "JPEG"), size_bytes=1), runs)]
        for step in (denoise, light_correction, sharpen, upscale):
            ms = _median_ms(lambda: step(rgb, ctx), runs)
            cells.append(f"{ms:.0f}" if step(rgb, ctx) is not rgb else f"{ms:.0f}-")
        print(f"{kind:12} {cells[0]:7.0f} " + " ".join(f"{c:>8}" for c in cells[1:]))


def _median_ms(fn, runs: int) -> float:
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


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
    ap.add_argument("--steps", action="store_true", help="time assess and each step alone")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    ap.add_argument("--photo", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        _child(args.child, args.runs, args.photo)
        return 0
    if args.steps:
        time_steps(args.runs)
        return 0
    modes = args.mode or ["assess", *MODES]
    # Made here, not in the children, so their peak memory is enhance()'s own.
    with tempfile.NamedTemporaryFile(suffix=".jpg", delete=False) as f:
        f.write(make_photo(noise=12.0, gain=0.5) if args.degraded else make_photo())
        path = f.name
    kind = "dark+noisy" if args.degraded else "clean, soft"
    print(f"12 MP JPEG (4000x3000, {kind}), median of {args.runs} runs, fresh process per mode")
    print(f"{'mode':18} {'median ms':>10} {'min ms':>8} {'peak MiB':>9}  steps applied")
    over = []
    for m in modes:
        out = subprocess.run([sys.executable, "-m", "benchmarks.speed", "--child", m, "--runs", str(args.runs),
                              "--photo", path],
                             capture_output=True, text=True, check=True)
        r = json.loads(out.stdout.strip().splitlines()[-1])
        limit = 400 if m == "AUTO" else 1000
        flag = "" if r["median_ms"] <= limit and r["peak_mib"] <= 600 else "  OVER"
        if flag:
            over.append(m)
        print(f"{m:18} {r['median_ms']:10.0f} {r['min_ms']:8.0f} {r['peak_mib']:9.0f}  "
              f"{','.join(r['steps']) or '-'}{flag}")
    os.unlink(path)
    print("limits: AUTO <= 400 ms, other modes <= 1000 ms, peak <= 600 MiB; over: " + (", ".join(over) or "none"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
