"""The learned matte: packaged model, loaded offline, checked, and fused to beat each part.

The fused-vs-parts check runs on a few seeded shots from benchmarks/shots.py
at a small size (the network works at 320 px whatever the input); the full
tables are in benchmarks/background.py.
"""
from __future__ import annotations

import io
import socket
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from skimage import data as skdata

from enhancer import ModelError
from enhancer.imageio import shrink
from enhancer.steps import _saliency
from enhancer.steps._studio import Backdrop, backdrop_model, studio_mask
from enhancer.steps.background import WORK_SIDE, _saliency_at, _salient_mask, on_backdrop, product_matte

from tests.enhancer.imaging_helpers import iou, photo

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
from shots import compose, compose_busy  # noqa: E402


@pytest.fixture
def fresh_model(monkeypatch):
    """Forget the process's loaded network so the test loads it again."""
    monkeypatch.setattr(_saliency, "_net", None)
    monkeypatch.setattr(_saliency, "_quick_net", None)


def test_model_is_package_data_with_its_licence():
    where = _saliency.model_path()
    assert where.is_file() and where.name == "u2netp.onnx"
    notice = (where.parent / "NOTICE").read_text()
    assert "Apache" in notice and _saliency.MODEL_SHA256 in notice
    assert (where.parent / "LICENSE-U2NET").is_file()


def test_model_loads_without_network(fresh_model, monkeypatch):
    def no_network(*a, **k):
        raise AssertionError("the model must not touch the network")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    monkeypatch.setattr(socket, "create_connection", no_network)
    monkeypatch.setattr(socket, "getaddrinfo", no_network)
    sal = _saliency.saliency(photo(160, 120, name="coffee"))
    assert sal.shape == (_saliency.NET_SIDE, _saliency.NET_SIDE) and sal.dtype == np.float32
    assert np.isfinite(sal).all() and 0 <= sal.min() and sal.max() <= 1 and sal.max() > 0.5


def test_corrupt_weights_name_the_file(fresh_model, monkeypatch, tmp_path):
    bad = tmp_path / "u2netp.onnx"
    bad.write_bytes(_saliency.model_path().read_bytes()[:100_000])  # a truncated copy
    monkeypatch.setattr(_saliency, "model_path", lambda: bad)
    with pytest.raises(ModelError, match=r"u2netp\.onnx.*corrupt"):
        _saliency.saliency(photo(64, 48))
    with pytest.raises(ModelError, match=str(bad)):
        product_matte(photo(64, 48))


def test_missing_weights_name_the_file(fresh_model, monkeypatch, tmp_path):
    monkeypatch.setattr(_saliency, "model_path", lambda: tmp_path / "u2netp.onnx")
    with pytest.raises(ModelError, match="u2netp.onnx"):
        _saliency.saliency(photo(64, 48))


def test_the_network_runs_its_heaviest_convolutions_in_int8_and_keeps_its_map(fresh_model):
    import onnx

    float_graph = _saliency._any_size(onnx.load_from_string(_saliency.model_path().read_bytes()))
    plain = _saliency._session(float_graph)
    int8 = _saliency._in_int8(float_graph, _saliency.INT8_CONVS)
    ops = [n.op_type for n in int8.graph.node]
    # quantized: the parts of the concatenations two convs take (two each), the three ReLUs; dequantized:
    # the two concatenations, the ReLUs, 3 kernels
    assert ops.count("QuantizeLinear") == 7 and ops.count("DequantizeLinear") == 8
    producer = {o: n for n in int8.graph.node for o in n.output}
    for name in ("Conv_680", "Conv_810"):  # the first convs of the last two decoder stages
        dq = producer[next(n for n in int8.graph.node if n.name == name).input[0]]
        concat = producer[dq.input[0]]
        # joined in 8 bits: the float concatenation (128 channels at the input's full resolution, the pass's
        # largest tensor) is never made
        assert dq.op_type == "DequantizeLinear" and concat.op_type == "Concat"
        assert {producer[p].op_type for p in concat.input} == {"QuantizeLinear"}, name
    kernels = {n.input[1] for n in float_graph.graph.node if n.name in _saliency.INT8_CONVS}
    assert len(kernels) == 3
    assert not kernels & {t.name for t in int8.graph.initializer}  # int8 only: the float ones were dropped
    for name, side in (("astronaut", 320), ("coffee", 224), ("rocket", 320)):
        rgb = photo(480, 360, name=name)
        blob = {plain.get_inputs()[0].name: _saliency._blob(rgb, side)}
        want = np.clip(plain.run(None, blob)[0][0, 0], 0, 1)
        got = _saliency.saliency(rgb, side=side, quick=True)
        assert np.array_equal(_saliency.saliency(rgb, side=side), want)  # the studio matte's: as shipped
        assert np.abs(got - want).mean() < 0.003, name
        a, b = got > 0.5, want > 0.5
        assert (a & b).sum() > 0.97 * (a | b).sum(), name
        assert not np.array_equal(got, want)  # the scene matte's: quantized


def _parts_and_fused(data: bytes, truth: np.ndarray) -> tuple[float, float, float]:
    rgb = np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))
    h, w = rgb.shape[:2]
    f = min(1.0, WORK_SIDE / max(h, w))
    small = shrink(rgb, (round(w * f), round(h * f))) if f < 1 else rgb
    t = (np.asarray(Image.fromarray(truth).resize(small.shape[1::-1], Image.BILINEAR)) > 127)
    model = backdrop_model(small)
    classic = (studio_mask(Backdrop.of(small, model), np.zeros(small.shape[:2], np.float32))
               if model is not None else None)
    learned = _salient_mask(_saliency_at(small, _saliency.NET_SIDE))
    everything = np.ones_like(t)  # a matte that finds nothing keeps the whole photo, as the step does
    scores = [iou((everything if m is None else m).astype(np.uint8) * 255, t.astype(np.uint8) * 255)
              for m in (classic, learned)]
    fused = product_matte(rgb)
    return scores[0], scores[1], iou(fused, truth)


def test_fused_matte_beats_each_part():
    # Seeded shots where each part fails somewhere: the backdrop model on white-on-white
    # and on busy scenes, the network on studio edges and a shoe's sole. Measured when
    # written (GrabCut seeded, so the same in any process), per shot (classic / learned / fused):
    # white bottle 0.98 / 0.97 / 0.99, bag 0.20 / 0.89 / 0.89, shoe 0.00 / 0.97 / 0.99,
    # mug 0.15 / 0.89 / 0.88; mug 0.96 / 0.98 / 0.97, shoe 0.99 / 0.87 / 0.99, bag 0.99 / 0.93 / 0.99;
    # busy 0.9-0.98 fused and learned, the backdrop model finding no backdrop (whole photo kept).
    studio = [compose("coffee", "white_sweep", shape, side=800, seed=seed, finish="white")
              for shape, seed in (("bottle", 1), ("bag", 2), ("shoe", 3), ("mug", 4))]
    studio += [compose("hubble_deep_field", "white", "mug", side=800, seed=2),
               compose("camera", "offwhite_vignette", "shoe", side=800, seed=3),
               compose("chelsea", "grey_sweep", "bag", side=800, seed=4)]
    busy = [compose_busy("brick", "bottle", finish="solid", side=480, seed=5),
            compose_busy("gravel", "mug", finish="label", side=480, seed=6),
            compose_busy("grass", "box", finish="texture", texture="chelsea", side=480, seed=7)]
    for name, shots in (("studio", studio), ("busy", busy)):
        scores = np.array([_parts_and_fused(d, t) for d, t in shots])
        classic, learned, fused = scores.mean(axis=0)
        assert fused >= classic + 0.02 and fused >= learned - 0.005, (name, scores.round(3).tolist())
        assert fused >= (0.95 if name == "studio" else 0.9), (name, scores.round(3).tolist())


def test_colour_refinement_trims_what_the_network_took_in_beside_the_product():
    """On a busy scene GrabCut, seeded with the learned matte, hands back the coins, the street and
    the saucer the network took in with the product: a seeded grid (every seed kept, regressions too)."""
    learned_scores, fused_scores = [], []
    for scene, shape, finish in (("coins", "lamp", "solid"), ("street", "mug", "label"),
                                 ("cafe_table", "mug", "solid")):
        for seed in (1, 2, 3):
            data, truth = compose_busy(scene, shape, finish=finish, side=800, seed=seed)
            _, learned, fused = _parts_and_fused(data, truth)
            learned_scores.append(learned)
            fused_scores.append(fused)
            assert fused >= learned - 0.05, (scene, seed, learned, fused)
    # measured when written: learned 0.564, fused 0.619 (mean of 9)
    assert np.mean(fused_scores) >= np.mean(learned_scores) + 0.03, (learned_scores, fused_scores)


def test_colour_refinement_does_not_hinge_on_its_random_start(monkeypatch):
    """GrabCut's colour models start from a k-means clustering, drawn at random. From one start, the two
    coins the network took in with this bottle stayed in for two of these four RNG seeds (IoU 0.68
    against 0.96-0.98); from the most compact of several, for none."""
    from enhancer.steps import _studio
    from enhancer.steps.background import NET_SIDE, _refined

    data, truth = compose_busy("coins", "bottle", finish="label", texture="camera", seed=1029)
    rgb = np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))
    small = shrink(rgb, (WORK_SIDE, WORK_SIDE * rgb.shape[0] // rgb.shape[1]))
    t = np.asarray(Image.fromarray(truth).resize(small.shape[1::-1], Image.BILINEAR)) > 127
    mask = _salient_mask(_saliency_at(small, NET_SIDE))
    assert (mask & ~t).sum() > 0.4 * t.sum()  # the coins: the network's matte takes them in
    for seed in (0x5EED, 1, 2, 3):
        monkeypatch.setattr(_studio, "GRABCUT_SEED", seed)
        out = _refined(small, mask)
        assert (out & t).sum() > 0.95 * (out | t).sum(), seed


def test_a_scene_the_network_merges_with_the_product_is_looked_at_again_at_the_centre():
    """The network took the café's cup, the cat or the astronaut in with the product, out to the
    frame; seen again on the frame's centre, the product alone is found. Measured when written
    (IoU before -> after): 0.30 -> 0.91, 0.31 -> 0.99, 0.60 -> 0.96, 0.17 -> 0.97."""
    for scene, shape, finish, seed in (("cafe_table", "mug", "solid", 3), ("portrait", "box", "label", 1),
                                       ("portrait", "box", "label", 0), ("cat_photo", "bottle", "solid", 0)):
        data, truth = compose_busy(scene, shape, finish=finish, side=800, seed=seed)
        rgb = np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))
        assert iou(product_matte(rgb), truth) >= 0.85, (scene, shape, seed)


def test_a_sitter_the_frame_cuts_keeps_the_part_beyond_the_centre():
    """The astronaut's suit runs into the frame's bottom: the second look at the centre sees the same
    sitter, so the matte still reaches the frame (taking the centre's matte would cut her at the chest)."""
    rgb = np.ascontiguousarray(skdata.astronaut()[..., :3])
    bottom = (product_matte(rgb)[-40:] > 127).mean()
    assert bottom > 0.9, bottom  # measured when written: 0.997 (0.0 if the centre's matte is taken)


def test_a_rackets_head_on_a_scene_is_opened_and_a_label_is_not():
    """The network fills a racket's head; where the product round a region the scene's colours fill is a
    thin frame, the region is opened. A text label on a bottle, just as scene-coloured on gravel or a
    page, is inside a body and stays. Measured when written (IoU): rackets 0.40 -> 0.71 and
    0.39 -> 0.84; labels 0.97 and 0.99 (0.83 and 0.86 with the frame test loosened to half the band).
    With the colour test at e^0.5 instead of e^2 (gravel's many greys are only somewhat likelier in the
    scene than on a green frame): rackets 0.71 -> 0.91, 0.84 -> 0.90, on gravel 0.39 -> 0.82; labels
    unchanged."""
    for scene, shape, finish, seed, least in (("page", "racket", "solid", 1, 0.85),
                                              ("page", "racket", "solid", 3, 0.8),
                                              ("gravel", "racket", "solid", 1, 0.75),
                                              ("gravel", "bottle", "label", 1, 0.93),
                                              ("page", "bottle", "label", 1, 0.93)):
        data, truth = compose_busy(scene, shape, finish=finish, side=800, seed=seed)
        rgb = np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))
        assert iou(product_matte(rgb), truth) >= least, (scene, shape, seed)


def test_a_scene_out_of_focus_is_no_backdrop_though_its_colour_is_smooth():
    """Coins or a street out of focus pass the backdrop's tests (a smooth surface fits the border, no
    fine detail): taken for a backdrop, every coin the network sees was kept as product. Blurred, a
    backdrop's border lies on its surface and such a scene's does not. Measured when written (IoU):
    0.54 -> 0.995, 0.69 -> 0.93, 0.69 -> 0.997, 0.80 -> 0.999."""
    for scene, shape, finish, seed in (("coins", "box", "label", 1), ("coins", "bottle", "solid", 1),
                                       ("coins", "box", "label", 10), ("street", "bag", "solid", 4)):
        data, truth = compose_busy(scene, shape, finish=finish, side=800, seed=seed, defocus=True)
        rgb = np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))
        assert not on_backdrop(rgb), (scene, shape, seed)  # compliance: not on a plain background either
        assert iou(product_matte(rgb), truth) >= 0.9, (scene, shape, seed)


def test_a_product_in_focus_is_cut_from_the_blurred_scene_the_network_took_in():
    """The network takes a blurred scene's subject (a cat, a sitter, a cup) in with the product; the
    matte's outline then runs far from any crisp edge, and what lies near it is seeded as the scene.
    Measured when written (IoU): 0.09 -> 0.91, 0.44 -> 0.75, 0.31 -> 0.63."""
    for scene, shape, finish, seed, least in (("cat_photo", "box", "solid", 7, 0.85),
                                              ("portrait", "bottle", "label", 1, 0.7),
                                              ("cafe_table", "bottle", "solid", 0, 0.55)):
        data, truth = compose_busy(scene, shape, finish=finish, side=800, seed=seed, defocus=True)
        rgb = np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))
        assert iou(product_matte(rgb), truth) >= least, (scene, shape, seed)


@pytest.mark.parametrize("scene,shape,finish,seed", [("cafe_table", "shoe", "solid", 0),
                                                     ("portrait", "shoe", "label", 1),
                                                     ("cafe_table", "lamp", "label", 1)])
def test_a_large_blurred_region_the_network_took_in_is_trimmed_round_after_round(scene, shape, finish, seed):
    """Seeds reach only a few percent of the side into the matte from its soft outline, so a cup or a
    sitter the network took in with the product lost only its rim; the trimmed matte is judged again
    (before: IoU 0.34, 0.63, 0.27; after 0.96-1.00)."""
    data, truth = compose_busy(scene, shape, finish=finish, side=800, seed=seed, defocus=True)
    rgb = np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))
    assert iou(product_matte(rgb), truth) >= 0.93


def test_a_round_that_would_cut_away_the_crisp_product_is_not_taken():
    """A purple lamp over a blurred sitter: a second round's GrabCut kept the sitter's collar and gave
    away the lamp's shade, whose outline is crisp all round; a round that loses much of the matte's
    crisp outline is not taken (share of the lamp's pixels kept: 0.00 without the check, 0.57 with it)."""
    data, truth = compose_busy("portrait", "lamp", finish="label", side=800, seed=1, defocus=True)
    rgb = np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))
    alpha, product = product_matte(rgb) > 127, truth > 127
    assert (alpha & product).sum() >= 0.5 * product.sum()


@pytest.mark.parametrize("scene,shape,seed", [("street", "mug", 0), ("coins", "mug", 0), ("gravel", "mug", 1),
                                              ("street", "lamp", 0)])
def test_a_product_printed_with_a_photo_is_cut_whole_along_its_crisp_outline(scene, shape, seed):
    """A mug printed with the astronaut on a blurred scene: the network sees the printed sitter, not the
    mug, and the matte kept her alone. The product's outline is the one crisp line round it; what it
    encloses, less the handle's hole (the blurred scene seen through it), is the mug (before: IoU 0.80,
    0.70, 0.72, 0.73)."""
    data, truth = compose_busy(scene, shape, finish="texture", texture="astronaut", side=800, seed=seed,
                               defocus=True)
    rgb = np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))
    assert iou(product_matte(rgb), truth) >= 0.95


@pytest.mark.skipif(not Path("/proc/self/smaps").exists(), reason="reads the process's mappings in /proc")
def test_a_scene_pass_hands_its_memory_back():
    """The quick network's layer buffers are laid out in one block per pass and handed back when it ends,
    at a size it has not run at before too (its first pass there allocates them one by one); its map is
    written to the caller's array, which would otherwise keep the block. Checked in a fresh process: no
    large anonymous mapping stays resident after passes at 320 and 448 px."""
    import subprocess

    script = """
import numpy as np
from enhancer.steps import _saliency
rgb = np.random.default_rng(0).integers(0, 256, (480, 640, 3), dtype=np.uint8)
for side in (320, 448):
    assert _saliency.saliency(rgb, side=side, quick=True).shape == (side, side)
big, rss = [], 0
for line in open("/proc/self/smaps"):
    head = line.split()
    if "-" in head[0] and not head[0].endswith(":"):
        start, end = (int(x, 16) for x in head[0].split("-"))
        anon = len(head) < 6
    elif head[0] == "Rss:" and anon and int(head[1]) > 48 * 1024:
        big.append((end - start) >> 20)
print(big)
"""
    root = Path(__file__).resolve().parents[2]
    out = subprocess.run([sys.executable, "-c", script], cwd=root, capture_output=True, text=True,
                         timeout=300)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]", f"anonymous mappings of {out.stdout.strip()} MiB stay resident"
