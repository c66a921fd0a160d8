"""enhance(): every mode end to end, size targets, formats, validation, no second decode."""
from __future__ import annotations

import io
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from enhancer import EnhancementResult, Mode, enhance
import enhancer.pipeline as pipeline

from tests.enhancer._photos import product
from tests.enhancer.imaging_helpers import check, photo, ssim, to_bytes

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
from background import compose  # noqa: E402

PHOTO = photo(1200, 900, seed=4)
PHOTO_JPEG = to_bytes(PHOTO, "JPEG", quality=95)
SHOT, _ = compose("chelsea", "white", "bag", side=1000, seed=6)


@pytest.mark.parametrize("mode", list(Mode))
@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP"])
def test_every_mode_and_format_produces_a_valid_image(mode, fmt):
    res = enhance(SHOT, mode, output_format=fmt, target_size_kb=400)
    assert isinstance(res, EnhancementResult) and res.mode is mode
    assert res.size_bytes == len(res.data) <= 400 * 1024
    img = Image.open(io.BytesIO(res.data))
    assert img.format == fmt and img.size == (res.width, res.height)
    assert res.quality_after.width == res.width and res.quality_after.size_bytes == res.size_bytes


def test_optimize_is_visually_unchanged():
    res = enhance(PHOTO_JPEG, "OPTIMIZE")
    out = np.asarray(Image.open(io.BytesIO(res.data)).convert("RGB"))
    score = ssim(PHOTO, out)
    check(score > 0.95, "optimize", out, f"SSIM {score:.3f}")
    assert res.steps == () and res.encode_quality >= 90


def test_a_photo_with_nothing_to_fix_keeps_its_own_jpeg_data():
    img = np.ascontiguousarray(product(size=600)[:, 100:500])  # 400 wide, 600 tall
    exif = Image.Exif()
    exif[0x010F] = "SecretCam"
    data = to_bytes(img, "JPEG", quality=88, exif=exif, comment=b"SecretNote") + b"SecretTail"
    res = enhance(data, "AUTO")
    assert res.steps == () and res.encode_quality == 88 and res.size_bytes < len(data)
    for secret in (b"SecretCam", b"SecretNote", b"SecretTail"):
        assert secret not in res.data
    # no second lossy encode: the very pixels of the upload
    assert np.array_equal(np.asarray(Image.open(io.BytesIO(res.data))), np.asarray(Image.open(io.BytesIO(data))))
    assert any("kept" in n for n in res.notes)
    # a budget the upload does not fit is still met by encoding again
    small = enhance(data, "AUTO", target_size_kb=res.size_bytes // 2048)
    assert small.size_bytes <= res.size_bytes // 2048 * 1024 and small.encode_quality < 88
    # and a turn to apply rules it out
    exif[0x0112] = 6
    turned = Image.open(io.BytesIO(enhance(to_bytes(img, "JPEG", quality=88, exif=exif), "AUTO").data))
    assert turned.size == (600, 400) and not turned.getexif()


@pytest.mark.parametrize("kb", [30, 80, 200])
def test_optimize_to_target_never_over_and_fills(kb):
    res = enhance(PHOTO_JPEG, "OPTIMIZE", target_size_kb=kb)
    assert res.size_bytes <= kb * 1024 and res.target_met
    assert res.size_bytes >= 0.9 * kb * 1024


def test_background_remove_same_size_as_input():
    res = enhance(SHOT, "BACKGROUND_REMOVE", output_format="PNG")
    assert (res.width, res.height) == (1000, 750)
    assert "remove_background" in res.steps


def test_full_uses_generic_profile_by_default():
    res = enhance(SHOT, "FULL")
    assert res.compliance is not None and res.compliance.profile == "generic"
    assert (res.width, res.height) == (2000, 2000)
    assert "standardize" in res.steps and "remove_background" in res.steps
    out = np.asarray(Image.open(io.BytesIO(res.data)).convert("RGB"))
    assert (out[:30] >= 250).all()  # white canvas
    res = enhance(SHOT, "FULL", profile="amazon", target_size_kb=300)
    assert res.compliance.profile == "amazon" and res.size_bytes <= 300 * 1024


def test_after_report_does_not_decode_the_output_again(monkeypatch):
    calls = []
    real = pipeline.decode
    monkeypatch.setattr(pipeline, "decode", lambda *a, **k: calls.append(1) or real(*a, **k))
    enhance(PHOTO_JPEG, "OPTIMIZE", target_size_kb=100)
    assert len(calls) == 1


@pytest.mark.parametrize("kwargs,match", [
    ({"mode": "SUPER"}, "valid modes"),
    ({"output_format": "GIF"}, "must be one of JPEG"),
    ({"target_size_kb": 0}, "between 1 and"),
    ({"profile": "walmart"}, "valid profiles"),
    ({"upscale_target": 10}, "between 64 and 10000"),
])
def test_bad_arguments_say_how_to_fix(kwargs, match):
    with pytest.raises(ValueError, match=match):
        enhance(PHOTO_JPEG, **kwargs)


def test_modes_accept_any_case_and_jpg_alias():
    res = enhance(PHOTO_JPEG, "optimize", output_format="jpg")
    assert res.mode is Mode.OPTIMIZE and res.format == "JPEG" and res.mime_type == "image/jpeg"


def test_optimize_never_grows_the_upload():
    data = to_bytes(PHOTO, "JPEG", quality=80)
    res = enhance(data, "OPTIMIZE")
    assert res.size_bytes <= len(data)
    out = np.asarray(Image.open(io.BytesIO(res.data)).convert("RGB"))
    assert ssim(PHOTO, out) > 0.9
