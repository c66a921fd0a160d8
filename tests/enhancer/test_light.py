"""light_correction: exposure, contrast, white balance; leaves good photos alone."""
import numpy as np
import pytest
from PIL import Image, ImageOps

from enhancer.steps.light import light_correction
from tests.enhancer._photos import add_noise, check, ctx_for, photo, product, psnr, ssim, u8


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


def _autocontrast(img):
    """Pillow's per-channel autocontrast: the best classic baseline on casts with a flat range."""
    return np.asarray(ImageOps.autocontrast(Image.fromarray(img)))


def _chroma_error(img, ref):
    """Largest per-channel error of the mean colour, as a centred log ratio."""
    c = np.log(img.reshape(-1, 3).mean(0) / ref.reshape(-1, 3).mean(0))
    return float(np.abs(c - c.mean()).max())


# Reference values (skimage.data photos, measured when per-channel levels came
# in): astronaut 31.7 dB vs autocontrast 28.1, rocket 32.8 vs 30.8,
# immunohistochemistry 29.4 vs 22.0.
@pytest.mark.parametrize("name", ["astronaut", "rocket", "immunohistochemistry"])
def test_cast_with_flat_range_beats_autocontrast(name):
    ref = photo(name)
    bad = u8(0.6 * u8(ref * np.array([0.85, 1.0, 1.15])) + 50)  # cast, then low contrast
    out = _run(bad)
    check(psnr(out, ref) > psnr(_autocontrast(bad), ref) + 1.0, out, f"light_cast_flat_{name}",
          f"{psnr(out, ref):.1f} dB vs autocontrast {psnr(_autocontrast(bad), ref):.1f} dB")
    assert _chroma_error(out, ref) < _chroma_error(_autocontrast(bad), ref)


def test_tinted_fade_is_undone():
    # A print that faded (flat, lifted blacks), then yellowed: the tint lifts
    # both ends, so each channel needs its own black and white point.
    ref = photo("astronaut")
    bad = u8(u8(0.6 * ref + 55) * np.array([1.1, 1.0, 0.82]))
    out = _run(bad)
    check(psnr(out, ref) > 45, out, "light_fade", f"fade not undone: {psnr(out, ref):.1f} dB")  # was 19 dB


def test_subjects_coloured_blacks_are_kept():
    # A stained slide's darkest tissue is red under neutral whites: the
    # subject's colour, not a tinted haze (per-channel blacks would give ~24 dB).
    ref = photo("immunohistochemistry")
    out = _run(u8(0.55 * ref + 70))
    check(psnr(out, ref) > 38, out, "light_flat_slide", f"slide colours moved: {psnr(out, ref):.1f} dB")


def test_warm_scene_whites_are_kept_when_stretching():
    # A ginger cat has no neutral white; per-channel autocontrast cools it.
    ref = photo("chelsea")
    out = _run(u8(0.55 * ref + 70))
    check(_chroma_error(out, ref) < 0.02, out, "light_flat_cat", "the cat's colour was moved")


def test_clean_noisy_photo_is_left_alone_by_white_balance():
    img = add_noise(photo("coffee"), 3, seed=1)
    out = _run(img)
    check(out is img or ssim(out, img) >= 0.98, out, "light_clean_noisy", "clean photo was changed")
