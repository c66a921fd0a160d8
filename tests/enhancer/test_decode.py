"""Decoding catalogue: each odd format normalises to sRGB RGB, each kind of garbage is refused.

Reference values: images are seeded skimage photos; thresholds (SSIM > 0.9 after
lossless round trips, > 0.8 after lossy ones) leave room for codec differences.
"""
from __future__ import annotations

import io
import zlib

import cv2
import numpy as np
import pytest
from PIL import Image, ImageCms

from enhancer import InvalidImageError, EnhancerError, enhance, make_thumbnail
from enhancer.imageio import decode, jpeg_without_metadata

from tests.enhancer.imaging_helpers import photo, ssim, to_bytes

REF = photo(160, 120)


def _decoded(data: bytes, **kw):
    return decode(data, **kw)


@pytest.mark.parametrize("fmt,kw", [
    ("JPEG", {"quality": 95}), ("PNG", {}), ("WEBP", {"quality": 95}), ("TIFF", {}),
    ("BMP", {}), ("GIF", {}), ("AVIF", {"quality": 95}), ("JPEG", {"progressive": True}),
])
def test_formats_decode_to_rgb(fmt, kw):
    dec = _decoded(to_bytes(REF, fmt, **kw))
    assert dec.rgb.shape == REF.shape and dec.rgb.dtype == np.uint8
    assert dec.alpha is None
    assert ssim(REF, dec.rgb) > (0.6 if fmt == "GIF" else 0.85)


def test_heic_decodes_when_plugin_present():
    pytest.importorskip("pillow_heif")
    dec = _decoded(to_bytes(REF, "HEIF", quality=95))
    assert dec.rgb.shape == REF.shape and ssim(REF, dec.rgb) > 0.85


@pytest.mark.parametrize("orientation,expect", [
    (1, lambda a: a), (3, lambda a: a[::-1, ::-1]),
    (6, lambda a: np.rot90(a, -1)), (8, lambda a: np.rot90(a, 1)),
    (2, lambda a: a[:, ::-1]),
])
@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP", "TIFF"])
def test_exif_orientation_applied(orientation, expect, fmt):
    exif = Image.Exif()
    exif[0x0112] = orientation
    data = to_bytes(REF, fmt, exif=exif, **({"quality": 95} if fmt in ("JPEG", "WEBP") else {}))
    dec = _decoded(data)
    want = np.ascontiguousarray(expect(REF))
    assert dec.rgb.shape == want.shape
    assert ssim(want, dec.rgb) > 0.85


def test_cmyk_jpeg_and_tiff():
    cmyk = Image.fromarray(REF).convert("CMYK")
    for fmt in ("JPEG", "TIFF"):
        dec = _decoded(to_bytes(cmyk, fmt, **({"quality": 95} if fmt == "JPEG" else {})))
        assert dec.rgb.shape == REF.shape
        assert ssim(REF, dec.rgb) > 0.85


def test_sixteen_bit_grey_keeps_tonal_range():
    grey = cv2.cvtColor(REF, cv2.COLOR_RGB2GRAY)
    g16 = grey.astype(np.uint16) * 257
    for ext in (".png", ".tiff"):
        ok, buf = cv2.imencode(ext, g16)
        dec = _decoded(buf.tobytes())
        assert np.abs(dec.rgb[..., 0].astype(int) - grey).max() <= 1
        assert (dec.rgb[..., 0] == dec.rgb[..., 2]).all()


def test_sixteen_bit_rgb():
    rgb16 = REF.astype(np.uint16) * 257
    for ext in (".png", ".tiff"):
        ok, buf = cv2.imencode(ext, cv2.cvtColor(rgb16, cv2.COLOR_RGB2BGR))
        dec = _decoded(buf.tobytes())
        assert np.abs(dec.rgb.astype(int) - REF).max() <= 1


def test_palette_grey_and_bilevel():
    pal = Image.fromarray(REF).convert("P", palette=Image.Palette.ADAPTIVE, colors=64)
    assert ssim(REF, _decoded(to_bytes(pal, "PNG")).rgb) > 0.7
    grey = Image.fromarray(REF).convert("L")
    dec = _decoded(to_bytes(grey, "PNG"))
    assert dec.rgb.shape == REF.shape and (dec.rgb[..., 0] == np.asarray(grey)).all()
    bilevel = _decoded(to_bytes(grey.convert("1"), "PNG"))
    assert set(np.unique(bilevel.rgb)) <= {0, 255}


def test_alpha_kept_for_rgba_la_and_palette_transparency():
    alpha = np.zeros(REF.shape[:2], np.uint8)
    alpha[20:100, 30:130] = 255
    rgba = Image.fromarray(np.dstack([REF, alpha]), "RGBA")
    for fmt in ("PNG", "WEBP", "TIFF"):
        dec = _decoded(to_bytes(rgba, fmt, **({"lossless": True} if fmt == "WEBP" else {})))
        assert dec.alpha is not None and np.abs(dec.alpha.astype(int) - alpha).max() <= 1
    la = Image.fromarray(np.dstack([REF[..., 0], alpha]), "LA")
    assert _decoded(to_bytes(la, "PNG")).alpha is not None
    pal = rgba.convert("P", palette=Image.Palette.ADAPTIVE)
    pal.info["transparency"] = 0
    dec = _decoded(to_bytes(rgba.quantize(16), "PNG", transparency=0))
    assert dec.alpha is not None and dec.rgb.shape == REF.shape
    # an opaque alpha channel is dropped: nothing to keep
    assert _decoded(to_bytes(Image.fromarray(REF).convert("RGBA"), "PNG")).alpha is None


@pytest.mark.parametrize("fmt", ["GIF", "WEBP", "PNG"])
def test_animated_uses_first_frame(fmt):
    frames = [Image.fromarray(REF), Image.fromarray(255 - REF), Image.fromarray(REF[::-1].copy())]
    buf = io.BytesIO()
    frames[0].save(buf, fmt, save_all=True, append_images=frames[1:], duration=100, loop=0,
                   **({"lossless": True} if fmt == "WEBP" else {}))
    dec = _decoded(buf.getvalue())
    assert ssim(REF, dec.rgb) > 0.6
    assert any("first frame" in n for n in dec.notes)


def _swapped_primaries_profile() -> bytes:
    """A non-sRGB RGB profile: sRGB with red and blue primaries swapped and renamed.

    No wide-gamut profile ships with the test environment, so one is derived by
    swapping the rXYZ/bXYZ tag offsets of Pillow's built-in sRGB profile.
    """
    icc = bytearray(ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes())
    count = int.from_bytes(icc[128:132], "big")
    entries = {bytes(icc[132 + 12 * i: 136 + 12 * i]): 132 + 12 * i for i in range(count)}
    r, b = entries[b"rXYZ"], entries[b"bXYZ"]
    icc[r + 4: r + 12], icc[b + 4: b + 12] = icc[b + 4: b + 12], icc[r + 4: r + 12]
    return bytes(icc).replace(b"sRGB", b"Swap").replace("sRGB".encode("utf-16-be"), "Swap".encode("utf-16-be"))


def test_icc_profile_converted_to_srgb():
    img = Image.fromarray(REF)
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    same = _decoded(to_bytes(img, "PNG", icc_profile=srgb)).rgb
    assert (same == REF).all()  # sRGB-tagged: untouched
    foreign = _swapped_primaries_profile()
    conv = _decoded(to_bytes(img, "PNG", icc_profile=foreign)).rgb
    assert np.abs(conv.astype(int) - REF).mean() > 5  # pixels were re-interpreted
    conv_jpeg = _decoded(to_bytes(img, "JPEG", quality=95, icc_profile=foreign)).rgb
    assert ssim(conv, conv_jpeg) > 0.8  # JPEG takes the same (slow) colour-managed path


def test_broken_icc_profile_is_ignored():
    dec = _decoded(to_bytes(REF, "PNG", icc_profile=b"not a real profile" * 10))
    assert (dec.rgb == REF).all()


def test_pixel_limit_refuses_bomb_before_decoding():
    data = to_bytes(Image.new("RGB", (2000, 2000)), "PNG")  # 4 MP of zeros: a few KB
    with pytest.raises(InvalidImageError, match="MP"):
        decode(data, max_pixels=1_000_000)
    # header of a huge image: refused without allocating it
    head = bytearray(to_bytes(Image.new("RGB", (8, 8)), "PNG"))
    head[16:24] = (60000).to_bytes(4, "big") + (60000).to_bytes(4, "big")
    head[29:33] = zlib.crc32(bytes(head[12:29])).to_bytes(4, "big")  # keep IHDR's CRC valid
    with pytest.raises(InvalidImageError, match="limit|too large"):
        decode(bytes(head))
    with pytest.raises(InvalidImageError):
        enhance(data, "OPTIMIZE", max_pixels=1_000_000)


def test_pixel_limit_is_configurable():
    data = to_bytes(REF, "PNG")
    assert decode(data, max_pixels=REF.shape[0] * REF.shape[1]).rgb.shape == REF.shape
    with pytest.raises(InvalidImageError):
        decode(data, max_pixels=REF.shape[0] * REF.shape[1] - 1)


GARBAGE = {
    "empty": b"",
    "text": b"Hello, this is a product description, not a photo.\n" * 20,
    "html": b"<!DOCTYPE html><html><head><title>404</title></head><body>Not found</body></html>",
    "svg": b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">'
           b'<rect width="10" height="10"/></svg>',
    "random": np.random.default_rng(7).integers(0, 256, 50_000, dtype=np.uint8).tobytes(),
    "jpeg_header_only": to_bytes(REF, "JPEG")[:200],
    "png_header_only": to_bytes(REF, "PNG")[:60],
    "jpeg_half": (lambda d: d[: len(d) // 2])(to_bytes(REF, "JPEG")),
    "png_half": (lambda d: d[: len(d) // 2])(to_bytes(REF, "PNG")),
    "webp_cut": (lambda d: d[: len(d) * 3 // 4])(to_bytes(REF, "WEBP")),
    "gif_cut": (lambda d: d[: len(d) // 3])(to_bytes(REF, "GIF")),
    "tiff_cut": (lambda d: d[: len(d) // 2])(to_bytes(REF, "TIFF")),
    "jpeg_magic_then_noise": b"\xff\xd8\xff\xe0" + bytes(range(256)) * 20,
    "png_corrupt_idat": (lambda d: d[:80] + bytes(len(d) - 80))(to_bytes(REF, "PNG")),
}


@pytest.mark.parametrize("name", sorted(GARBAGE))
def test_garbage_is_refused_with_a_friendly_message(name):
    with pytest.raises(InvalidImageError) as info:
        decode(GARBAGE[name])
    err = info.value
    assert isinstance(err, ValueError) and isinstance(err, EnhancerError)
    msg = str(err)
    assert len(msg) > 30 and "Traceback" not in msg
    assert any(w in msg for w in ("Upload", "upload", "Re-export", "Export", "Download", "Resize"))
    with pytest.raises(InvalidImageError):
        enhance(GARBAGE[name], "OPTIMIZE")
    with pytest.raises(InvalidImageError):
        make_thumbnail(GARBAGE[name])


def test_garbage_messages_name_the_kind():
    assert "SVG" in str(pytest.raises(InvalidImageError, decode, GARBAGE["svg"]).value)
    assert "HTML" in str(pytest.raises(InvalidImageError, decode, GARBAGE["html"]).value)
    assert "text" in str(pytest.raises(InvalidImageError, decode, GARBAGE["text"]).value)
    assert "empty" in str(pytest.raises(InvalidImageError, decode, GARBAGE["empty"]).value)


def test_jpeg_missing_only_its_end_marker_is_repaired():
    data = to_bytes(REF, "JPEG", quality=90)[:-2]
    dec = decode(data)
    assert ssim(REF, dec.rgb) > 0.8


def test_not_bytes_is_a_type_error():
    with pytest.raises(TypeError, match="bytes"):
        decode("photo.jpg")


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP"])
def test_outputs_carry_no_metadata(fmt):
    exif = Image.Exif()
    exif[0x0112] = 6
    exif[0x010F] = "SecretCam"
    data = to_bytes(REF, "JPEG", exif=exif, quality=95)
    res = enhance(data, "OPTIMIZE", output_format=fmt)
    out = Image.open(io.BytesIO(res.data))
    assert out.size == (REF.shape[0], REF.shape[1])  # rotated once, by us
    assert not out.getexif() and "exif" not in out.info and "icc_profile" not in out.info
    assert b"SecretCam" not in res.data


def _tagged_jpeg(**kw) -> bytes:
    exif = Image.Exif()
    exif[0x0112] = 1
    exif[0x010F] = "SecretCam"
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    return to_bytes(REF, "JPEG", exif=exif, icc_profile=icc, comment=b"SecretNote", **kw) + b"SecretTail"


@pytest.mark.parametrize("kw", [{"quality": 90}, {"quality": 75, "progressive": True, "optimize": True}])
def test_jpeg_without_metadata_keeps_the_stream_bit_for_bit(kw):
    data = _tagged_jpeg(**kw)
    out = jpeg_without_metadata(data)
    img = Image.open(io.BytesIO(out))
    assert not img.getexif() and "icc_profile" not in img.info and "comment" not in img.info
    for secret in (b"SecretCam", b"SecretNote", b"SecretTail"):
        assert secret not in out
    assert img.info.get("progressive", 0) == kw.get("progressive", 0)
    assert np.array_equal(decode(out).rgb, decode(data).rgb)
    assert len(out) < len(data) - 400


def test_jpeg_without_metadata_copes_with_restart_markers_and_refuses_odd_files():
    ok, buf = cv2.imencode(".jpg", REF, [cv2.IMWRITE_JPEG_RST_INTERVAL, 4])
    data = buf.tobytes()
    assert b"\xff\xd0" in data and b"\xff\xdd" in data  # restarts inside the scan, and their DRI
    assert jpeg_without_metadata(data) == data  # nothing to remove: same bytes
    assert jpeg_without_metadata(data[:-2]) is None  # no end marker
    assert jpeg_without_metadata(data[: len(data) // 2]) is None
    assert jpeg_without_metadata(to_bytes(REF, "PNG")) is None


def test_thumbnail_of_odd_formats():
    for data in (to_bytes(Image.fromarray(REF).convert("CMYK"), "JPEG"),
                 to_bytes(Image.fromarray(np.dstack([REF, REF[..., 0]]), "RGBA"), "PNG")):
        th = Image.open(io.BytesIO(make_thumbnail(data, max_side=64)))
        assert th.format == "JPEG" and max(th.size) == 64
