"""The background network's 8-bit convolutions: their ranges, and what they cost the map.

Run from the repository root::

    python3 -m benchmarks.saliency_int8              # agreement and speed, float against int8
    python3 -m benchmarks.saliency_int8 --calibrate  # measure the ranges for _saliency.INT8_CONVS

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
"""
from __future__ import annotations

import argparse
import io
import statistics
import time

import numpy as np
import onnx
from PIL import Image
from skimage import data as skdata

from benchmarks import shots
from enhancer.imageio import shrink
from enhancer.steps import _saliency
from enhancer.steps.background import WORK_SIDE

SIDES = (320, 224)
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


def calibrate(images: list[np.ndarray]) -> dict[str, tuple[float, float]]:
    model = _float_model()
    relu_of = {n.input[0]: n.output[0] for n in model.graph.node if n.op_type == "Relu"}
    conv = {n.name: n for n in model.graph.node}
    watch = {name: (conv[name].input[0], relu_of[conv[name].output[0]]) for name in CONVS}
    names = sorted({t for pair in watch.values() for t in pair})
    model.graph.output.extend(onnx.helper.make_empty_tensor_value_info(t) for t in names)
    net = _saliency._session(model)
    top = dict.fromkeys(names, 0.0)
    for rgb in images:
        for side in SIDES:
            for t, v in zip(names, net.run(names, {net.get_inputs()[0].name: _saliency._blob(rgb, side)})):
                assert v.min() >= 0, f"{t} is not a ReLU's: the ranges here start at 0"
                top[t] = max(top[t], float(v.max()))
    return {name: (round(top[x], 3), round(top[y], 3)) for name, (x, y) in watch.items()}


def agreement(images: list[tuple[str, np.ndarray]]) -> None:
    plain = _saliency._session(_float_model())
    fast = _saliency._session(_saliency._in_int8(_float_model(), _saliency.INT8_CONVS))
    out = plain.get_outputs()[0].name
    print(f"{'size':>4}  {'shots':>5}  {'mean |d|':>8}  {'worst mean |d|':>14}  {'max |d|':>7}  "
          f"{'mean IoU':>8}  {'worst IoU':>9}  {'float ms':>8}  {'int8 ms':>7}")
    for side in SIDES:
        d, dmax, ious, worst = [], 0.0, [], ("", 1.0)
        for name, rgb in images:
            blob = {plain.get_inputs()[0].name: _saliency._blob(rgb, side)}
            a = np.clip(plain.run([out], blob)[0][0, 0], 0, 1)
            b = np.clip(fast.run([out], blob)[0][0, 0], 0, 1)
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
    ap.add_argument("--shots", type=int, default=24, help="busy and studio shots each (default 24)")
    args = ap.parse_args()
    if args.calibrate:
        for name, rng in calibrate(shots_from(20000, args.shots)).items():
            print(f'    "{name}": {rng},')
        return
    photos = [(n, getattr(skdata, n)()) for n in ("astronaut", "coffee", "chelsea", "rocket", "hubble_deep_field")]
    made = [(f"shot {21000 + k}", rgb) for k, rgb in enumerate(shots_from(21000, args.shots))]
    agreement(photos + made)


if __name__ == "__main__":
    main()
