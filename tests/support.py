"""Test helpers: seeded photos and image metrics. Never downloads anything."""
from __future__ import annotations

import io
import os
from functools import lru_cache

import numpy as np
from PIL import Image

ARTIFACTS = os.path.join(os.path.dirname(os.path.dirname(__file__)), "test-artifacts")


@lru_cache(maxsize=8)
def _photo_array(name: str) -> np.ndarray:
    from skimage import data

    arr = getattr(data, name)()
    if arr.ndim == 2:
        arr = np.stack([arr] * 3, axis=-1)
    return np.ascontiguousarray(arr[..., :3])


def photo(name: str = "astronaut", *, size: tuple[int, int] | None = None) -> np.ndarray:
    """A real photograph shipped by scikit-image, optionally resized to (width, height)."""
    arr = _photo_array(name)
    if size:
        arr = np.asarray(Image.fromarray(arr).resize(size, Image.Resampling.LANCZOS))
    return arr


def encode(arr: np.ndarray, fmt: str = "JPEG", **kw) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, fmt, **({"quality": 92} if fmt == "JPEG" and not kw else kw))
    return buf.getvalue()


def photo_bytes(name: str = "astronaut", *, size: tuple[int, int] | None = (640, 480), fmt: str = "JPEG",
                seed: int | None = None) -> bytes:
    """Encoded photo; ``seed`` adds faint seeded noise so each call gives distinct bytes."""
    arr = photo(name, size=size)
    if seed is not None:
        rng = np.random.default_rng(seed)
        arr = np.clip(arr.astype(np.int16) + rng.integers(-2, 3, arr.shape), 0, 255).astype(np.uint8)
    return encode(arr, fmt)


def decode(data: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))


def ssim(a: np.ndarray, b: np.ndarray) -> float:
    from skimage.metrics import structural_similarity

    return float(structural_similarity(a, b, channel_axis=-1, data_range=255))


def save_artifact(name: str, data: bytes | np.ndarray) -> str:
    """Keep the actual image of a failing test under test-artifacts/ (not committed)."""
    os.makedirs(ARTIFACTS, exist_ok=True)
    path = os.path.join(ARTIFACTS, name)
    if isinstance(data, np.ndarray):
        Image.fromarray(data).save(path)
    else:
        with open(path, "wb") as f:
            f.write(data)
    return path


def heic_bytes(name: str = "astronaut", *, size: tuple[int, int] = (320, 240), fmt: str = "HEIF") -> bytes:
    """An iPhone-style HEIC (or ``fmt="AVIF"``) photo, encoded here (pillow-heif / Pillow)."""
    import pillow_heif

    pillow_heif.register_heif_opener()
    return encode(photo(name, size=size), fmt, quality=90)


def up(b, data: bytes, filename: str, *, sku_id=None, force: bool = False, actor: str = "test", **opts):
    """``enhancer.service.upload`` with the options as keywords (tests only)."""
    from enhancer.service import EnhanceOptions, upload

    return upload(b, data, filename, EnhanceOptions.parse(**opts), sku_id=sku_id, force=force, actor=actor)


def reup(b, image_id: str, *, actor: str = "test", **opts):
    """``enhancer.service.reenhance`` with the options as keywords (tests only)."""
    from enhancer.service import EnhanceOptions, reenhance

    return reenhance(b, image_id, EnhanceOptions.parse(**opts), actor=actor)


def stored_keys(storage) -> set[str]:
    """Every object in a store, listed directly (S3: the bucket; local: the folder)."""
    if storage.kind == "s3":
        keys, token = set(), None
        while True:
            kw = {"Bucket": storage.bucket, **({"ContinuationToken": token} if token else {})}
            out = storage.client.list_objects_v2(**kw)
            keys |= {o["Key"] for o in out.get("Contents", [])}
            if not out.get("IsTruncated"):
                return keys
            token = out["NextContinuationToken"]
    return {p.relative_to(storage.root).as_posix() for p in storage.root.rglob("*")
            if p.is_file() and not p.name.startswith(".")}


def referenced_keys(engine) -> set[str]:
    """Every object key a row points at."""
    from sqlalchemy import text

    with engine.connect() as c:
        keys = set()
        for sql in ("SELECT original_key, enhanced_key, thumbnail_key FROM product_images",
                    "SELECT enhanced_key, thumbnail_key, NULL FROM enhancement_history"):
            for row in c.execute(text(sql)):
                keys |= {k for k in row if k}
    return keys


def at_once(*calls, timeout: float = 120) -> list:
    """Run the callables in threads released together; each one's result, or the exception it raised."""
    import threading

    out, threads = [None] * len(calls), []
    gate = threading.Barrier(len(calls))

    def run(i, fn):
        gate.wait()
        try:
            out[i] = fn()
        except Exception as exc:  # collected, asserted on by the test
            out[i] = exc

    for i, fn in enumerate(calls):
        threads.append(threading.Thread(target=run, args=(i, fn)))
        threads[-1].start()
    for t in threads:
        t.join(timeout)
    return out
