"""Decoding to a normalised RGB(+alpha) array and encoding back to bytes."""
from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageCms, ImageOps, UnidentifiedImageError

from .errors import InvalidImageError

DEFAULT_MAX_PIXELS = 60_000_000


@dataclass
class Decoded:
    """A decoded image: RGB uint8 array, optional alpha (H, W) uint8, source format."""

    rgb: np.ndarray
    alpha: np.ndarray | None
    format: str

    @property
    def width(self) -> int:
        return self.rgb.shape[1]

    @property
    def height(self) -> int:
        return self.rgb.shape[0]


def _open(data: bytes, max_pixels: int) -> Image.Image:
    if not data:
        raise InvalidImageError("The file is empty. Upload a JPEG, PNG, WEBP, TIFF, BMP or GIF photo.")
    try:
        img = Image.open(io.BytesIO(data))
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as exc:
        raise InvalidImageError(
            "This file is not an image Pixel Lab can read. Upload a JPEG, PNG, WEBP, TIFF, BMP or GIF photo."
        ) from exc
    w, h = img.size
    if w * h > max_pixels:
        raise InvalidImageError(
            f"The image is {w}x{h} ({w * h / 1e6:.0f} MP), above the {max_pixels / 1e6:.0f} MP limit. "
            "Resize it before uploading."
        )
    return img


def decode(data: bytes, *, max_pixels: int = DEFAULT_MAX_PIXELS) -> Decoded:
    """Decode bytes to an sRGB array with EXIF orientation applied.

    Raises
    ------
    InvalidImageError
        For empty, unreadable, truncated or over-large images.
    """
    img = _open(data, max_pixels)
    fmt = (img.format or "UNKNOWN").upper()
    try:
        img.seek(0)
        img.load()
        img = ImageOps.exif_transpose(img)
        img = _to_srgb(img)
    except InvalidImageError:
        raise
    except Exception as exc:  # Pillow raises many kinds on broken data
        raise InvalidImageError(
            "The image file is damaged or truncated and cannot be decoded. Re-export it and upload again."
        ) from exc
    alpha = None
    if img.mode in ("RGBA", "LA") or (img.mode == "P" and "transparency" in img.info):
        img = img.convert("RGBA")
        a = np.asarray(img.getchannel("A"))
        if a.min() < 255:
            alpha = a.copy()
        img = img.convert("RGB")
    elif img.mode != "RGB":
        img = _flatten_mode(img)
    rgb = np.ascontiguousarray(np.asarray(img, dtype=np.uint8))
    if rgb.ndim != 3 or rgb.shape[0] < 1 or rgb.shape[1] < 1:
        raise InvalidImageError("The image has no pixels.")
    return Decoded(rgb=rgb, alpha=alpha, format=fmt)


def _flatten_mode(img: Image.Image) -> Image.Image:
    if img.mode in ("I;16", "I;16B", "I;16L", "I"):
        arr = np.asarray(img, dtype=np.float32)
        hi = 65535.0 if arr.max() > 255 else 255.0
        arr = np.clip(arr / hi * 255.0 + 0.5, 0, 255).astype(np.uint8)
        return Image.fromarray(arr, "L").convert("RGB")
    if img.mode == "F":
        arr = np.asarray(img, dtype=np.float32)
        arr = np.clip(arr * (255.0 if arr.max() <= 1.0 else 1.0), 0, 255).astype(np.uint8)
        return Image.fromarray(arr, "L").convert("RGB")
    return img.convert("RGB")


_SRGB = ImageCms.createProfile("sRGB")


def _to_srgb(img: Image.Image) -> Image.Image:
    icc = img.info.get("icc_profile")
    if not icc:
        return img
    try:
        src = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        if img.mode == "CMYK":
            return ImageCms.profileToProfile(img, src, _SRGB, outputMode="RGB")
        if img.mode not in ("RGB", "RGBA"):
            return img
        return ImageCms.profileToProfile(img, src, _SRGB, outputMode=img.mode)
    except (ImageCms.PyCMSError, OSError, ValueError):
        return img  # a broken profile is ignored, not fatal


def to_pil(rgb: np.ndarray, alpha: np.ndarray | None = None) -> Image.Image:
    img = Image.fromarray(rgb, "RGB")
    if alpha is not None:
        img.putalpha(Image.fromarray(alpha, "L"))
    return img


def encode(rgb: np.ndarray, alpha: np.ndarray | None = None, *, fmt: str = "JPEG",
           quality: int = 90) -> bytes:
    """Encode without metadata. JPEG flattens alpha onto white."""
    fmt = fmt.upper()
    if fmt == "JPEG" and alpha is not None:
        rgb = composite_on(rgb, alpha, (255, 255, 255))
        alpha = None
    img = to_pil(rgb, alpha)
    buf = io.BytesIO()
    if fmt == "JPEG":
        img.save(buf, "JPEG", quality=int(quality), optimize=True, progressive=True, subsampling=2 if quality < 90 else 0)
    elif fmt == "WEBP":
        img.save(buf, "WEBP", quality=int(quality), method=4)
    elif fmt == "PNG":
        img.save(buf, "PNG", optimize=False, compress_level=6)
    else:
        raise ValueError(f"unsupported output format {fmt!r}; use JPEG, PNG or WEBP")
    return buf.getvalue()


def composite_on(rgb: np.ndarray, alpha: np.ndarray, color: tuple[int, int, int]) -> np.ndarray:
    a = alpha.astype(np.float32)[..., None] / 255.0
    bg = np.array(color, dtype=np.float32)
    return np.clip(rgb.astype(np.float32) * a + bg * (1.0 - a) + 0.5, 0, 255).astype(np.uint8)


def make_thumbnail(data: bytes, *, max_side: int = 320, max_pixels: int = DEFAULT_MAX_PIXELS) -> bytes:
    """A small JPEG for galleries. Uses JPEG draft decoding so big photos stay cheap."""
    img = _open(data, max_pixels)
    try:
        img.draft("RGB", (max_side * 2, max_side * 2))
        img = ImageOps.exif_transpose(img)
        if img.mode in ("RGBA", "LA", "P"):
            img = img.convert("RGBA")
            bg = Image.new("RGB", img.size, (255, 255, 255))
            bg.paste(img, mask=img.getchannel("A"))
            img = bg
        else:
            img = img.convert("RGB")
        img.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
    except Exception as exc:
        raise InvalidImageError("The image could not be decoded for a thumbnail.") from exc
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=82, optimize=True)
    return buf.getvalue()
