"""The background network's 8-bit convolutions: their ranges, and what they cost the map.

Run from the repository root::

    python3 -m benchmarks.saliency_int8              # agreement and speed, float against int8
    python3 -m benchmarks.saliency_int8 --calibrate  # measure the ranges for _saliency.INT8_CONVS
    python3 -m benchmarks.saliency_int8 --every      # every convolution in 8 bits: what it would cost

``--calibrate`` runs the float network on calibration shots (benchmarks/shots.py,
seeds 20000+, which no benchmark set uses: busy scenes and studio backdrops,
every silhouette and finish) at 320 and 224 px, the sizes the matte runs it at,
and prints, for each convolution named, the largest value of its input and of
the ReLU after it: the ranges their 8-bit grids span. Paste them into
``enhancer/steps/_saliency.py``.

The agreement table compares the float network with the one the scene matte
runs (``saliency(quick=True)``) on other shots (seeds 21000+) and on scikit-image's photos: the maps' mean
absolute difference, their largest, and the IoU of the masks they give at 0.5;
then the time of one pass at each size (median of 5, after a warm-up).

``--every`` asks whether more of the network should run in 8 bits: it
calibrates every convolution a ReLU follows (111 of 119; the first one's
input, the normalised image, goes below 0), takes each one's share of a
float pass from ONNX Runtime's profiler, measures how far each one alone in
8 bits moves the map, and prints the agreement table for INT8_CONVS and for
all of them but those that alone move it by over :data:`EVERY_DROP`.
Measured 2026-12-06 (2 Xeon cores with VNNI; 4 min): Conv_787 (2 % of a
pass) alone moves the map by 0.19 on average (0.11 with its ranges at the
99.99th percentile instead of the maximum); the 110 others in 8 bits make a
pass a fifth to a quarter faster than INT8_CONVS does (320 px 188 against
250 ms, 224 px 97 against 121) for a map several times further from the
float one (mean |d| 0.0022-0.0026 against 0.0003-0.0004, the masks' worst
IoU 0.76 against 0.99). The scene matte on such a network (each
convolution's ranges picked from the maximum and three percentiles by its
own error): held-out busy 0.856 -> 0.853 (4 shots better, 10 worse), busy
0.907 -> 0.910 (1 / 1). Not taken: it saves a quarter of a scene's network
time, short of bringing a scene photo to 600 ms, and loses more shots than
it gains. The ten costliest convolutions alone in 8 bits (62 % of a pass)
moved the map half as far (mean |d| 0.0006-0.0016), for a gain over
INT8_CONVS within this machine's noise.
"""
from __future__ import annotations

import argparse
import io
import json
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import onnx
from PIL import Image
from skimage import data as skdata

from benchmarks import shots
from enhancer.imageio import shrink
from enhancer.steps import _saliency
from enhancer.steps.background import WORK_SIDE

SIDES = (320, 224)
EVERY_DROP = 0.01  # --every: a convolution that alone in 8 bits moves the map by more (mean |d|) stays float
# the three convolutions that take most of a pass (ONNX Runtime's profiler, 320 px: 27 %, 6 % and 5 %)
CONVS = ("Conv_680", "Conv_810", "Conv_812")


def _working(data: bytes) -> np.ndarray:
    rgb = np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))
    h, w = rgb.shape[:2]
    f = min(1.0, WORK_SIDE / max(h, w))
    return shrink(rgb, (round(w * f), round(h * f))) if f < 1 else rgb


def shots_from(seed0: int, n: int) -> list[np.ndarray]:
    """``n`` busy and ``n`` studio shots' working copies, seeds from ``seed0``."""
    scenes, backdrops = list(shots.BUSY), list(shots.BACKGROUNDS)
    out = []
    for k in range(n):
        data, _ = shots.compose_busy(scenes[k % len(scenes)], shots.SHAPES[k % len(shots.SHAPES)],
                                     finish=shots.FINISHES[k % len(shots.FINISHES)], side=1200,
                                     texture=shots.PRODUCT_TEXTURES[k % len(shots.PRODUCT_TEXTURES)],
                                     seed=seed0 + k, defocus=k % 3 == 0)
        out.append(_working(data))
        data, _ = shots.compose(shots.PRODUCT_TEXTURES[(k * 7) % len(shots.PRODUCT_TEXTURES)],
                                backdrops[k % len(backdrops)], shots.SHAPES[(k * 3) % len(shots.SHAPES)],
                                side=1200, seed=seed0 + 500 + k, finish=("texture", "white", "two_tone")[k % 3])
        out.append(_working(data))
    return out


def _float_model():
    return _saliency._any_size(onnx.load_from_string(_saliency.model_path().read_bytes()))


def relu_convs() -> list[str]:
    """The convolutions a ReLU follows: those :func:`_saliency._in_int8` can run in 8 bits."""
    nodes = _float_model().graph.node
    relu_in = {n.input[0] for n in nodes if n.op_type == "Relu"}
    return [n.name for n in nodes if n.op_type == "Conv" and n.output[0] in relu_in]


def calibrate(images: list[np.ndarray], convs=CONVS) -> dict[str, tuple[float, float]]:
    """Each of ``convs``' (input, ReLU output) largest value on ``images``; one whose input goes below 0
    (the first convolution's: the normalised image) is left out, its grid could not start at 0."""
    model = _float_model()
    relu_of = {n.input[0]: n.output[0] for n in model.graph.node if n.op_type == "Relu"}
    conv = {n.name: n for n in model.graph.node}
    watch = {name: (conv[name].input[0], relu_of[conv[name].output[0]]) for name in convs}
    names = sorted({t for pair in watch.values() for t in pair})
    model.graph.output.extend(onnx.helper.make_empty_tensor_value_info(t) for t in names)
    net = _saliency._session(model)
    top, low = dict.fromkeys(names, 0.0), dict.fromkeys(names, 0.0)
    for rgb in images:
        for side in SIDES:
            for t, v in zip(names, net.run(names, {net.get_inputs()[0].name: _saliency._blob(rgb, side)})):
                top[t], low[t] = max(top[t], float(v.max())), min(low[t], float(v.min()))
    return {name: (round(top[x], 3), round(top[y], 3)) for name, (x, y) in watch.items() if low[x] >= 0}


def _map(net, rgb: np.ndarray, side: int) -> np.ndarray:
    blob = {net.get_inputs()[0].name: _saliency._blob(rgb, side)}
    return np.clip(net.run([_saliency._OUTPUT], blob)[0][0, 0], 0, 1)


def alone(images: list[np.ndarray], ranges: dict[str, tuple[float, float]],
          side: int = 224) -> dict[str, float]:
    """How far each convolution of ``ranges``, alone in 8 bits, moves the map: mean |d| at ``side``, the
    largest over ``images``."""
    plain = _saliency._session(_float_model())
    ref = [_map(plain, rgb, side) for rgb in images]
    out = {}
    for name, rng in ranges.items():
        net = _saliency._session(_saliency._in_int8(_float_model(), {name: rng}))
        out[name] = max(float(np.abs(_map(net, rgb, side) - r).mean()) for rgb, r in zip(images, ref))
    return out


def pass_shares(rgb: np.ndarray, side: int = 320) -> dict[str, float]:
    """Each node's share of a float pass at ``side`` (ONNX Runtime's profiler, four passes)."""
    import onnxruntime as ort  # noqa: PLC0415

    with tempfile.TemporaryDirectory() as tmp:
        opts = _saliency._options()
        opts.enable_profiling, opts.profile_file_prefix = True, str(Path(tmp) / "pass")
        net = ort.InferenceSession(_float_model().SerializeToString(), opts,
                                   providers=["CPUExecutionProvider"])
        for _ in range(4):
            _map(net, rgb, side)
        events = json.loads(Path(net.end_profiling()).read_text())
    spent: dict[str, float] = {}
    for e in events:
        if e.get("cat") == "Node" and e["name"].endswith("_kernel_time"):
            node = e["name"].removesuffix("_kernel_time")
            spent[node] = spent.get(node, 0) + e["dur"]
    total = sum(spent.values())
    return {k: v / total for k, v in spent.items()}


def agreement(images: list[tuple[str, np.ndarray]], convs=None) -> None:
    """The float network against one with ``convs`` (default :data:`_saliency.INT8_CONVS`) in 8 bits."""
    plain = _saliency._session(_float_model())
    fast = _saliency._session(_saliency._in_int8(_float_model(), convs or _saliency.INT8_CONVS))
    out = plain.get_outputs()[0].name
    print(f"{'size':>4}  {'shots':>5}  {'mean |d|':>8}  {'worst mean |d|':>14}  {'max |d|':>7}  "
          f"{'mean IoU':>8}  {'worst IoU':>9}  {'float ms':>8}  {'int8 ms':>7}")
    for side in SIDES:
        d, dmax, ious, worst = [], 0.0, [], ("", 1.0)
        for name, rgb in images:
            a, b = _map(plain, rgb, side), _map(fast, rgb, side)
            d.append(float(np.abs(a - b).mean()))
            dmax = max(dmax, float(np.abs(a - b).max()))
            ma, mb = a > 0.5, b > 0.5
            ious.append(float((ma & mb).sum() / (ma | mb).sum()) if (ma | mb).any() else 1.0)
            worst = min(worst, (name, ious[-1]), key=lambda t: t[1])
        blob = {plain.get_inputs()[0].name: _saliency._blob(images[0][1], side)}
        times = []
        for net in (plain, fast):
            net.run([out], blob)
            ts = []
            for _ in range(5):
                t0 = time.perf_counter()
                net.run([out], blob)
                ts.append(1000 * (time.perf_counter() - t0))
            times.append(statistics.median(ts))
        print(f"{side:>4}  {len(images):>5}  {np.mean(d):>8.4f}  {max(d):>14.4f}  {dmax:>7.3f}  "
              f"{np.mean(ious):>8.4f}  {min(ious):>9.4f}  {times[0]:>8.0f}  {times[1]:>7.0f}   worst: {worst[0]}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--calibrate", action="store_true", help="measure the ranges on the calibration shots")
    ap.add_argument("--every", action="store_true", help="every convolution a ReLU follows in 8 bits")
    ap.add_argument("--shots", type=int, default=24, help="busy and studio shots each (default 24)")
    args = ap.parse_args()
    if args.calibrate:
        for name, rng in calibrate(shots_from(20000, args.shots)).items():
            print(f'    "{name}": {rng},')
        return
    photos = [(n, getattr(skdata, n)()) for n in ("astronaut", "coffee", "chelsea", "rocket", "hubble_deep_field")]
    made = [(f"shot {21000 + k}", rgb) for k, rgb in enumerate(shots_from(21000, args.shots))]
    if args.every:
        every(photos, made, args.shots)
        return
    agreement(photos + made)


def every(photos: list[tuple[str, np.ndarray]], made: list[tuple[str, np.ndarray]], n: int) -> None:
    """--every: the agreement table of INT8_CONVS, then of every convolution that can be, but the ones that
    alone move the map by over EVERY_DROP."""
    ranges = calibrate(shots_from(20000, n), relu_convs())
    shares = pass_shares(photos[0][1])
    moved = alone([photos[0][1], photos[1][1], made[0][1], made[1][1]], ranges)
    def share(convs) -> str:
        return f"{sum(shares.get(k, 0) for k in convs):.0%}"

    print(f"{len(ranges)} convolutions calibrated, {share(ranges)} of a float pass; "
          "those that alone move the map most (mean |d| at 224 px, share of a pass):")
    for name in sorted(moved, key=moved.get, reverse=True)[:5]:
        print(f"  {name:<10} {moved[name]:.4f}  {shares.get(name, 0):.1%}")
    kept = {k: v for k, v in ranges.items() if moved[k] <= EVERY_DROP}
    print(f"\nINT8_CONVS ({len(_saliency.INT8_CONVS)}, {share(_saliency.INT8_CONVS)} of a pass):")
    agreement(photos + made)
    print(f"\nevery convolution but {len(ranges) - len(kept)} ({len(kept)}, {share(kept)} of a pass):")
    agreement(photos + made, kept)


if __name__ == "__main__":
    main()
