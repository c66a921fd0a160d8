"""assess: field ranges, blur-score behaviour, noise estimate, warnings."""
import cv2
import numpy as np
import pytest

from enhancer import InvalidImageError, assess
from tests.enhancer._photos import add_noise, photo, png, product, u8


def test_report_fields_and_ranges():
    r = assess(png(photo("astronaut")))
    assert (r.width, r.height, r.format) == (512, 512, "PNG")
    assert r.size_bytes > 0
    for v in (r.blur_score, r.quality_score):
        assert 0 <= v <= 100
    assert 0 <= r.clipped_highlights <= 100 and 0 <= r.clipped_shadows <= 100
    assert 60 < r.brightness < 200 and r.contrast > 30
    assert isinstance(r.warnings, tuple)


@pytest.mark.parametrize("name", ["astronaut", "chelsea", "coffee", "rocket"])
def test_blur_score_falls_with_every_added_blur(name):
    img = photo(name)
    scores = [assess(png(cv2.GaussianBlur(img, (0, 0), s) if s else img)).blur_score
              for s in (0, 0.7, 1.5, 2.5, 4, 6)]
    assert all(a > b for a, b in zip(scores, scores[1:])), scores


@pytest.mark.parametrize("name", ["astronaut", "coffee", "hubble_deep_field"])
def test_blur_score_is_comparable_at_half_size(name):
    img = photo(name)
    half = cv2.resize(img, (img.shape[1] // 2, img.shape[0] // 2), interpolation=cv2.INTER_AREA)
    a, b = assess(png(img)).blur_score, assess(png(half)).blur_score
    assert abs(a - b) <= 0.15 * a, (a, b)


def test_plain_studio_background_does_not_lower_blur_score():
    obj = product(size=400)[100:300, 100:300]
    canvas = np.full((1200, 1200, 3), 255, np.uint8)
    canvas[500:700, 500:700] = obj
    a, b = assess(png(obj)).blur_score, assess(png(canvas)).blur_score
    assert abs(a - b) <= 0.15 * a, (a, b)


@pytest.mark.parametrize("sigma", [5, 10, 20])
def test_noise_estimate_tracks_added_noise(sigma):
    r = assess(png(add_noise(photo("astronaut"), sigma)))
    assert 0.8 * sigma <= r.noise <= 1.25 * sigma, r.noise


def test_clean_photo_measures_little_noise():
    assert assess(png(photo("rocket"))).noise < 3


def test_large_photo_noise_is_measured_at_native_resolution():
    big = cv2.resize(photo("astronaut"), (2400, 2400), interpolation=cv2.INTER_CUBIC)
    r = assess(png(add_noise(big, 8)))
    assert 6 <= r.noise <= 10, r.noise


def test_dark_and_flat_photos_are_warned_about():
    dark = assess(png(u8(photo("astronaut") * 0.3)))
    assert dark.brightness < 50
    assert any("underexposed" in w for w in dark.warnings)
    flat = assess(png(u8(photo("astronaut") * 0.3 + 90)))
    assert any("low contrast" in w for w in flat.warnings)


def test_blurry_photo_scores_lower_quality():
    img = photo("astronaut")
    sharp, blurry = assess(png(img)), assess(png(cv2.GaussianBlur(img, (0, 0), 4)))
    assert blurry.quality_score < sharp.quality_score
    assert any("blurry" in w for w in blurry.warnings)


def test_invalid_bytes_raise():
    with pytest.raises(InvalidImageError):
        assess(b"not an image")
