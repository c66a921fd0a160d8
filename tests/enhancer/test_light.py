"""light_correction: exposure, contrast, white balance; leaves good photos alone."""
import numpy as np
import pytest

from enhancer.steps.light import light_correction
from tests.enhancer._photos import check, ctx_for, photo, product, psnr, ssim, u8


def _run(img):
    return light_correction(img, ctx_for(img))


@pytest.mark.parametrize("name", ["astronaut", "chelsea", "coffee", "rocket", "hubble_deep_field"])
def test_well_exposed_photos_are_left_alone(name):
    img = photo(name)
    out = _run(img)
    check(out is img or ssim(out, img) >= 0.98, out, f"light_clean_{name}", "clean photo was changed")


def test_studio_product_is_left_alone():
    img = product()
    out = _run(img)
    check(out is img or ssim(out, img) >= 0.98, out, "light_clean_product", "product photo was changed")


@pytest.mark.parametrize("gain", [0.35, 0.6])
def test_underexposure_is_lifted(gain):
    ref = photo("astronaut")
    bad = u8(ref * gain)
    out = _run(bad)
    check(psnr(out, ref) > psnr(bad, ref) + 8, out, f"light_under_{gain}", "exposure not restored")
    assert out.shape == ref.shape and out.dtype == np.uint8


def test_low_contrast_is_recovered():
    ref = photo("coffee")
    bad = u8(0.5 * ref + 70)
    out = _run(bad)
    check(psnr(out, ref) > 30, out, "light_flat", f"contrast not recovered: {psnr(out, ref):.1f} dB")


def test_colour_cast_is_removed():
    ref = photo("astronaut")
    bad = u8(ref * np.array([1.15, 1.0, 0.8]))
    out = _run(bad)
    cast = lambda im: np.log(im.reshape(-1, 3).mean(0) / ref.reshape(-1, 3).mean(0))
    check(np.abs(cast(out)).max() < 0.5 * np.abs(cast(bad)).max(), out, "light_cast", "cast remains")


def test_highlights_are_kept():
    ref = photo("astronaut")
    out = _run(u8(ref * 0.5))
    assert (out >= 255).mean() <= (ref >= 255).mean() + 0.01


def test_scene_colour_is_not_taken_for_a_cast():
    img = photo("chelsea")  # a ginger cat: warm by nature
    assert _run(img) is img
