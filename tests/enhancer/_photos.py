"""Shared test images and checks for the enhancement-step tests.

Photos come from ``skimage.data`` (bundled); synthetic images are seeded.
A failing image check saves the image under ``test-artifacts/`` (gitignored).
"""
from __future__ import annotations

import io
from pathlib import Path

import cv2
import numpy as np
import skimage.data
from PIL import Image
from skimage.metrics import peak_signal_noise_ratio, structural_similarity

from enhancer.context import Context, Options
from enhancer.imageio import Decoded
from enhancer.quality import assess_decoded

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


def photo(name: str = "astronaut", *, side: int | None = None) -> np.ndarray:
    img = getattr(skimage.data, name)()
    img = np.dstack([img] * 3) if img.ndim == 2 else img[..., :3]
    if side:
        h, w = img.shape[:2]
        f = side / max(h, w)
        img = cv2.resize(img, (round(w * f), round(h * f)), interpolation=cv2.INTER_AREA)
    return np.ascontiguousarray(img)


def product(*, size: int = 400, seed: int = 0) -> np.ndarray:
    """A textured object on a plain white studio background."""
    rng = np.random.default_rng(seed)
    img = np.full((size, size, 3), 255, np.uint8)
    obj = photo("coffee", side=size // 2)
    y, x = (size - obj.shape[0]) // 2, (size - obj.shape[1]) // 2
    img[y:y + obj.shape[0], x:x + obj.shape[1]] = obj
    noise = rng.normal(0, 1.0, img.shape)
    return np.clip(img + noise, 0, 255).astype(np.uint8)


def u8(x) -> np.ndarray:
    return np.clip(np.asarray(x, np.float32) + 0.5, 0, 255).astype(np.uint8)


def add_noise(img: np.ndarray, sigma: float, *, seed: int = 0) -> np.ndarray:
    return u8(img.astype(np.float32) + np.random.default_rng(seed).normal(0, sigma, img.shape))


def png(img: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(img).save(buf, "PNG")
    return buf.getvalue()


def ctx_for(img: np.ndarray, **options) -> Context:
    report = assess_decoded(Decoded(img, None, "PNG"), size_bytes=img.size)
    return Context(report=report, options=Options(**options))


def ssim(a: np.ndarray, b: np.ndarray) -> float:
    return float(structural_similarity(a, b, channel_axis=2, data_range=255))


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    return float(peak_signal_noise_ratio(a, b, data_range=255))


def check(ok: bool, img: np.ndarray, name: str, message: str = "") -> None:
    """Assert ``ok``; on failure save ``img`` as test-artifacts/<name>.png first."""
    if not ok:
        ARTIFACTS.mkdir(exist_ok=True)
        Image.fromarray(img).save(ARTIFACTS / f"{name}.png")
        raise AssertionError(f"{message} (image saved to test-artifacts/{name}.png)")
