"""Image formats in one place: what we accept, what we write, how to recognise each by its bytes.

Every way a photo enters (upload widget, CLI, bulk files, ZIPs, URLs, the API)
uses :data:`INPUT_EXTENSIONS` and :func:`sniff`; every name a user types goes
through :func:`normalize_output`.
"""
from __future__ import annotations

#: Formats a photo may arrive in (``sniff`` names), in the order we list them to users.
INPUT_FORMATS = ("JPEG", "PNG", "WEBP", "HEIF", "AVIF", "TIFF", "BMP", "GIF")
#: Formats a result may be written in.
OUTPUT_FORMATS = ("JPEG", "PNG", "WEBP")

MIME_TYPES = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp",
              "GIF": "image/gif", "TIFF": "image/tiff", "BMP": "image/bmp",
              "HEIF": "image/heif", "AVIF": "image/avif", "MPO": "image/jpeg"}
EXTENSIONS = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp", "GIF": "gif",
              "TIFF": "tif", "BMP": "bmp", "HEIF": "heic", "AVIF": "avif", "MPO": "jpg"}
#: File extensions (lower case, no dot) accepted wherever a photo is picked by name.
INPUT_EXTENSIONS = ("jpg", "jpeg", "jpe", "png", "webp", "heic", "heif", "avif", "tif", "tiff", "bmp", "gif")
ACCEPTED_TEXT = "JPEG, PNG, WEBP, HEIC, AVIF, TIFF, BMP or GIF"

_ALIASES = {"JPG": "JPEG", "JPE": "JPEG", "TIF": "TIFF", "HEIC": "HEIF"}
_MAGIC = ((b"\xff\xd8\xff", "JPEG"), (b"\x89PNG\r\n\x1a\n", "PNG"), (b"GIF87a", "GIF"), (b"GIF89a", "GIF"),
          (b"II*\x00", "TIFF"), (b"MM\x00*", "TIFF"), (b"BM", "BMP"))
# ISO-BMFF ``ftyp`` brands (bytes 8-12, and the compatible brands after them).
_HEIF_BRANDS = {b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1"}
_AVIF_BRANDS = {b"avif", b"avis"}


def normalize(name: str | None) -> str:
    """A format name as we spell it: ``"jpg"`` → ``"JPEG"``, ``"heic"`` → ``"HEIF"``."""
    key = str(name or "").strip().upper().lstrip(".")
    return _ALIASES.get(key, key)


def normalize_output(name: str | None, *, default: str = "JPEG") -> str:
    """A valid output format from what a user typed.

    Raises
    ------
    ValueError
        If it is not one of :data:`OUTPUT_FORMATS` (the message lists them).
    """
    fmt = normalize(name) or default
    if fmt not in OUTPUT_FORMATS:
        raise ValueError(f"output format must be one of {', '.join(OUTPUT_FORMATS)} (JPG is JPEG), got {name!r}")
    return fmt


def sniff(data: bytes) -> str | None:
    """The image format named by the leading bytes, or None. Extensions and Content-Type are ignored."""
    head = bytes(data[:64])
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "WEBP"
    if head[4:8] == b"ftyp":
        size = int.from_bytes(head[:4], "big")
        brands = {head[8:12]} | {head[i:i + 4] for i in range(16, min(size, len(head)) - 3, 4)}
        if brands & _AVIF_BRANDS:
            return "AVIF"
        if brands & _HEIF_BRANDS:
            return "HEIF"
        return None
    for magic, fmt in _MAGIC:
        if head.startswith(magic):
            return fmt
    return None


def mime_type(data_or_format: bytes | str) -> str:
    """The media type of a format name, or of bytes (sniffed); ``application/octet-stream`` if unknown."""
    fmt = sniff(data_or_format) if isinstance(data_or_format, (bytes, bytearray)) else normalize(data_or_format)
    return MIME_TYPES.get(fmt or "", "application/octet-stream")


def extension(fmt: str | None, *, default: str = "jpg") -> str:
    return EXTENSIONS.get(normalize(fmt), default)


def has_image_extension(name: str) -> bool:
    """Does a file name end in one of :data:`INPUT_EXTENSIONS`?"""
    _, dot, ext = str(name).rpartition(".")
    return bool(dot) and ext.lower() in INPUT_EXTENSIONS
