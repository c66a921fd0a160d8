"""Size targeting: never over, fills the target when it binds, few encodes, honours floors."""
from __future__ import annotations

import io
import zlib

import cv2
import numpy as np
import pytest
from PIL import Image

from enhancer import enhance
from enhancer.fit import FILL, fit_to_size
from enhancer.imageio import encode

from tests.enhancer.imaging_helpers import photo, ssim, to_bytes

KB = 1024
SMALL = photo(1000, 750, seed=1)          # encoded whole for prediction
LARGE = photo(2400, 1800, name="coffee", seed=2)  # predicted from a tile mosaic


def _unconstrained(img, fmt):
    return len(fit_to_size(img, None, fmt=fmt).data)


@pytest.mark.parametrize("fmt", ["JPEG", "WEBP"])
@pytest.mark.parametrize("kb", [3, 10, 25, 60, 120, 250, 400, 800])
def test_lossy_never_over_and_fills_when_binding(fmt, kb):
    fitted = fit_to_size(SMALL, None, fmt=fmt, target_bytes=kb * KB)
    size = len(fitted.data)
    assert size <= kb * KB, f"{size} > {kb * KB}"
    assert fitted.target_met
    if _unconstrained(SMALL, fmt) > kb * KB:
        assert size >= FILL * kb * KB, f"fill {size / (kb * KB):.3f}"
    assert fitted.encodes <= 8
    img = Image.open(io.BytesIO(fitted.data))
    assert img.format == fmt and img.size == (fitted.width, fitted.height)


@pytest.mark.parametrize("kb", [40, 150, 300, 600, 1000])
def test_large_image_predicted_from_tiles(kb):
    fitted = fit_to_size(LARGE, None, fmt="JPEG", target_bytes=kb * KB)
    size = len(fitted.data)
    assert FILL * kb * KB <= size <= kb * KB or (size <= kb * KB and
                                                _unconstrained(LARGE, "JPEG") <= kb * KB)
    assert fitted.encodes <= 3, "size prediction should need only a few full encodes"


def test_jpeg_is_progressive_except_a_large_image_with_no_byte_budget():
    def progressive(fitted):
        return bool(Image.open(io.BytesIO(fitted.data)).info.get("progressive"))

    assert progressive(fit_to_size(SMALL, None, fmt="JPEG"))
    assert progressive(fit_to_size(LARGE, None, fmt="JPEG", target_bytes=300 * KB))
    # 4.3 MP with no budget: baseline with optimised Huffman tables, 4:2:0
    plain = fit_to_size(LARGE, None, fmt="JPEG")
    assert not progressive(plain) and plain.quality == 92
    assert Image.open(io.BytesIO(plain.data)).layer[0][1:3] == (2, 2)  # 4:2:0: luma sampled 2x chroma


def test_calibrated_prediction_lands_in_about_one_full_encode():
    # the bulk case: 2 MP photos to 200 KB. The mosaic prediction is calibrated
    # (whole-image fast probe + progressive mosaic) before any full encode.
    target = 200 * KB
    encodes = 0
    for i, name in enumerate(("astronaut", "chelsea", "coffee")):
        img = photo(1732, 1155, name=name, seed=10 + i)
        fitted = fit_to_size(img, None, fmt="JPEG", target_bytes=target)
        assert FILL * target <= len(fitted.data) <= target, f"{name}: fill {len(fitted.data) / target:.3f}"
        assert fitted.encodes <= 2, name
        encodes += fitted.encodes
    assert encodes <= 4


@pytest.mark.parametrize("share", [0.6, 0.8, 0.95])
def test_webp_fills_between_its_size_jumps(share):
    # libwebp's size jumps between close qualities (near 85-90 here); the
    # result must still fill the target, with and without alpha
    alpha = np.zeros(SMALL.shape[:2], np.uint8)
    alpha[50:700, 100:900] = 255
    for a in (None, alpha):
        target = int(share * len(fit_to_size(SMALL, a, fmt="WEBP").data))
        fitted = fit_to_size(SMALL, a, fmt="WEBP", target_bytes=target)
        assert FILL * target <= len(fitted.data) <= target, f"fill {len(fitted.data) / target:.3f}"


def test_downscales_only_as_much_as_needed():
    fitted = fit_to_size(LARGE, None, fmt="JPEG", target_bytes=60 * KB)
    assert fitted.scaled < 1.0 and fitted.width < LARGE.shape[1]
    assert len(fitted.data) >= FILL * 60 * KB
    assert fitted.width >= 0.3 * LARGE.shape[1]  # "just enough", not a thumbnail
    dec = np.asarray(Image.open(io.BytesIO(fitted.data)).convert("RGB"))
    assert ssim(LARGE, dec) > 0.5


def test_unreachable_target_is_reported_not_raised():
    fitted = fit_to_size(LARGE, None, fmt="JPEG", target_bytes=200)
    assert len(fitted.data) > 200 and not fitted.target_met
    res = enhance(to_bytes(SMALL, "JPEG", quality=95), "OPTIMIZE", target_size_kb=1)
    assert res.size_bytes <= 1024 or not res.target_met


@pytest.mark.parametrize("kb", [20, 100, 400, 3000])
def test_png_lossless_then_palette_then_downscale(kb):
    fitted = fit_to_size(SMALL, None, fmt="PNG", target_bytes=kb * KB)
    assert len(fitted.data) <= kb * KB and fitted.target_met
    img = Image.open(io.BytesIO(fitted.data))
    if kb == 3000:  # lossless fits: pixels untouched
        assert (np.asarray(img.convert("RGB")) == SMALL).all()
    if kb == 400:  # palette fits at full size
        assert img.size == (SMALL.shape[1], SMALL.shape[0])


def test_alpha_kept_for_png_and_webp_and_flattened_for_jpeg():
    alpha = np.zeros(SMALL.shape[:2], np.uint8)
    alpha[100:600, 200:800] = 255
    for fmt in ("PNG", "WEBP"):
        out = Image.open(io.BytesIO(fit_to_size(SMALL, alpha, fmt=fmt, target_bytes=300 * KB).data))
        assert out.mode in ("RGBA", "P", "PA")
        a = np.asarray(out.convert("RGBA"))[..., 3]
        assert abs(int(a[0, 0])) < 10 and a[300, 500] > 245
    jpg = np.asarray(Image.open(io.BytesIO(fit_to_size(SMALL, alpha, fmt="JPEG", target_bytes=300 * KB).data)))
    assert jpg[5, 5].min() > 245  # transparent -> white



def test_a_png_cut_outs_clear_pixels_keep_no_trace_of_the_background():
    """Clear pixels hold no colour (the scene they were cut from is not in the file), pixels with any
    opacity keep theirs exactly, and the file is smaller for it."""
    alpha = np.zeros(SMALL.shape[:2], np.uint8)
    alpha[100:600, 200:800] = 255
    alpha[100:600, 195:200] = 100  # the edge's blend
    data = fit_to_size(SMALL, alpha, fmt="PNG").data
    rgba = np.asarray(Image.open(io.BytesIO(data)).convert("RGBA"))
    assert np.array_equal(rgba[..., 3], alpha)
    assert not rgba[alpha == 0][:, :3].any()
    assert np.array_equal(rgba[alpha > 0][:, :3], SMALL[alpha > 0])
    kept = io.BytesIO()
    Image.fromarray(np.dstack([SMALL, alpha]), "RGBA").save(kept, "PNG", compress_level=6)
    assert len(data) < 0.6 * len(kept.getvalue()), (len(data), len(kept.getvalue()))

@pytest.mark.parametrize("channels", [3, 4])
def test_a_fast_png_made_in_bands_on_several_cores_is_one_valid_stream(channels):
    """The fastest PNG is deflated in as many bands as OpenCV has threads: whatever their number, the
    file decodes (its zlib checksum and chunk CRCs checked) to every pixel, and more bands make other bytes
    (the bands were made apart)."""
    rng = np.random.default_rng(7)
    img = np.clip(cv2.resize(rng.integers(0, 256, (40, 12, channels), np.uint8), (300, 1100))
                  .astype(np.int16) + rng.integers(-3, 4, (1100, 300, channels)), 0, 255).astype(np.uint8)
    if channels == 4:
        img[..., 3] |= 1  # no clear pixel (their colour is cleared)
    rgb, alpha = img[..., :3].copy(), img[..., 3].copy() if channels == 4 else None
    before, files = cv2.getNumThreads(), []
    try:
        for threads in (1, 2, 3, 8):
            cv2.setNumThreads(threads)
            files.append(encode(rgb, alpha, fmt="PNG", fast=True))
    finally:
        cv2.setNumThreads(before)
    for data in files:
        pos, idat = 8, b""
        while pos < len(data):  # each chunk's CRC, and the IDAT data
            n, kind = int.from_bytes(data[pos:pos + 4], "big"), data[pos + 4:pos + 8]
            assert zlib.crc32(data[pos + 4:pos + 8 + n]) == int.from_bytes(data[pos + 8 + n:pos + 12 + n], "big")
            idat += data[pos + 8:pos + 8 + n] if kind == b"IDAT" else b""
            pos += 12 + n
        assert len(zlib.decompress(idat)) == 1100 * (300 * channels + 1)  # raises on a wrong Adler-32
        back = np.asarray(Image.open(io.BytesIO(data)))
        assert back.shape == img.shape and np.array_equal(back, img)
        cv = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
        assert np.array_equal(cv[..., 2::-1], img[..., :3])
    assert files[1] != files[0] and files[2] != files[1]


def test_floor_raises_quality_but_never_passes_the_ceiling():
    flat = np.full((800, 800, 3), 200, np.uint8)
    flat[200:600, 200:600] = photo(400, 400)
    plain = fit_to_size(flat, None, fmt="JPEG")
    floored = fit_to_size(flat, None, fmt="JPEG", target_bytes=2000 * KB, floor_bytes=len(plain.data) + 5000)
    assert len(floored.data) > len(plain.data) and len(floored.data) <= 2000 * KB
    impossible = fit_to_size(flat, None, fmt="JPEG", floor_bytes=50_000 * KB)
    assert not impossible.floor_met


def test_bad_arguments_say_how_to_fix():
    with pytest.raises(ValueError, match="JPEG, PNG or WEBP"):
        fit_to_size(SMALL, None, fmt="GIF")
    with pytest.raises(ValueError, match="positive"):
        fit_to_size(SMALL, None, fmt="JPEG", target_bytes=0)


@pytest.mark.parametrize("name", ["coffee", "astronaut"])
def test_more_bytes_never_give_a_worse_picture(name):
    # SSIM against the source must not fall as the target grows: from a target that
    # forces a downscale up to one above the default quality's size (where stopping at
    # the default quality, or shaving pixels to fill a quality jump, used to lose).
    img = photo(1600, 1200, name=name, seed=7)
    default = _unconstrained(img, "JPEG")
    targets = sorted({*np.geomspace(15 * KB, 1.6 * default, 14).astype(int)})
    scores = []
    for t in targets:
        fitted = fit_to_size(img, None, fmt="JPEG", target_bytes=int(t))
        assert len(fitted.data) <= t
        dec = np.asarray(Image.open(io.BytesIO(fitted.data)).convert("RGB"))
        if dec.shape != img.shape:
            dec = cv2.resize(dec, (img.shape[1], img.shape[0]), interpolation=cv2.INTER_CUBIC)
        scores.append(ssim(img, dec))
    drops = [(targets[i] // KB, targets[i + 1] // KB, round(scores[i] - scores[i + 1], 4))
             for i in range(len(scores) - 1) if scores[i + 1] < scores[i] - 1e-3]
    assert not drops, f"SSIM fell between targets (KB from, KB to, drop): {drops}; all {np.round(scores, 4)}"
    assert scores[-1] > ssim(img, np.asarray(Image.open(io.BytesIO(fit_to_size(img, None, fmt="JPEG").data))))
