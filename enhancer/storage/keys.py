"""Object keys and safe file names."""
from __future__ import annotations

import re
import unicodedata
from pathlib import PurePosixPath, PureWindowsPath

MAX_NAME = 100


def safe_name(name: str, *, default: str = "image") -> str:
    """A file name safe for keys, URLs and disks: ASCII, no path parts, bounded length.

    >>> safe_name("../../etc/pass wd.JPG")
    'pass_wd.jpg'
    """
    base = PureWindowsPath(PurePosixPath(str(name or "")).name).name
    base = unicodedata.normalize("NFKD", base).encode("ascii", "ignore").decode("ascii")
    stem, dot, ext = base.rpartition(".")
    if not dot:
        stem, ext = base, ""
    stem = re.sub(r"[^A-Za-z0-9._-]+", "_", stem).strip("._-")[:MAX_NAME] or default
    ext = re.sub(r"[^A-Za-z0-9]+", "", ext).lower()[:8]
    return f"{stem}.{ext}" if ext else stem


def stem(name: str) -> str:
    return safe_name(name).rsplit(".", 1)[0] if "." in safe_name(name) else safe_name(name)


def original_key(image_id: str, filename: str) -> str:
    return f"uploads/original/{image_id[:8]}_{safe_name(filename)}"


def enhanced_key(image_id: str, seq: int, filename: str, ext: str) -> str:
    return f"uploads/enhanced/{image_id[:8]}_{seq}_{stem(filename)}.{ext}"


def thumbnail_key(image_id: str, seq: int) -> str:
    return f"uploads/thumbs/{image_id[:8]}_{seq}.jpg"
