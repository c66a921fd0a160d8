"""Full-resolution helpers: banded passes equal whole-image ones; fast area downscale."""
import cv2
import numpy as np

from enhancer.steps import _fullres, denoise as denoise_mod
from enhancer.imageio import shrink
from enhancer.steps._fullres import for_each_band
from tests.enhancer._photos import add_noise, photo


def test_bands_cover_every_row_once():
    seen = np.zeros(1000, int)

    def mark(r0, r1):
        seen[r0:r1] += 1

    for_each_band(1000, mark, rows=64)
    assert (seen == 1).all()


def test_banded_denoise_equals_one_band(monkeypatch):
    ref = cv2.resize(photo("astronaut"), (1400, 1000), interpolation=cv2.INTER_CUBIC)
    bad = add_noise(ref, 12)
    banded = denoise_mod.denoise_rgb(bad, sigma=12.0)
    monkeypatch.setattr(denoise_mod, "for_each_band",
                        lambda h, fn: _fullres.for_each_band(h, fn, rows=h))
    whole = denoise_mod.denoise_rgb(bad, sigma=12.0)
    assert np.array_equal(banded, whole)


def test_shrink_is_close_to_one_area_resize():
    img = photo("coffee")
    size = (img.shape[1] // 5, img.shape[0] // 5)
    fast = shrink(img, size).astype(np.float32)
    direct = cv2.resize(img, size, interpolation=cv2.INTER_AREA).astype(np.float32)
    assert fast.shape == direct.shape
    assert np.abs(fast - direct).mean() < 2.0
