"""Shared helpers for enhancer image tests (a plain module, not a conftest, so parallel branches do not collide)."""
from __future__ import annotations

import io
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image
from skimage import data as skdata
from skimage.metrics import structural_similarity

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


def save_artifact(name: str, img) -> Path:
    """Save an image (array or encoded bytes) under test-artifacts/ for a failing test."""
    ARTIFACTS.mkdir(exist_ok=True)
    if isinstance(img, (bytes, bytearray)):
        path = ARTIFACTS / name
        path.write_bytes(img)
    else:
        path = ARTIFACTS / (name if name.endswith(".png") else name + ".png")
        Image.fromarray(np.asarray(img)).save(path)
    return path


def check(cond: bool, name: str, img, msg: str) -> None:
    """Assert ``cond``; on failure keep the image so the failure can be looked at."""
    if not cond:
        path = save_artifact(name, img)
        pytest.fail(f"{msg} (actual image saved to {path})")


def ssim(a: np.ndarray, b: np.ndarray) -> float:
    if a.shape != b.shape:
        b = cv2.resize(b, (a.shape[1], a.shape[0]), interpolation=cv2.INTER_AREA)
    ga = cv2.cvtColor(a, cv2.COLOR_RGB2GRAY) if a.ndim == 3 else a
    gb = cv2.cvtColor(b, cv2.COLOR_RGB2GRAY) if b.ndim == 3 else b
    return float(structural_similarity(ga, gb, data_range=255))


def iou(a: np.ndarray, b: np.ndarray) -> float:
    a, b = a > 127, b > 127
    return float((a & b).sum() / max(1, (a | b).sum()))


def photo(width: int = 640, height: int = 480, *, name: str = "astronaut", seed: int = 0) -> np.ndarray:
    """A natural photo (skimage.data) resized, with a little seeded sensor noise."""
    src = getattr(skdata, name)()
    if src.ndim == 2:
        src = np.stack([src] * 3, -1)
    img = cv2.resize(src[..., :3], (width, height), interpolation=cv2.INTER_CUBIC)
    rng = np.random.default_rng(seed)
    noisy = img.astype(np.int16) + rng.normal(0, 2, img.shape).astype(np.int16)
    return np.clip(noisy, 0, 255).astype(np.uint8)


def to_bytes(img, fmt: str = "PNG", **kw) -> bytes:
    if isinstance(img, np.ndarray):
        img = Image.fromarray(img)
    buf = io.BytesIO()
    img.save(buf, fmt, **kw)
    return buf.getvalue()


def studio_shot(width: int = 800, height: int = 600, *, bg=(250, 250, 250), seed: int = 0,
                shadow: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """A product (textured ellipse + box) on a studio background; returns (rgb, mask)."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    img = np.empty((height, width, 3), np.float32)
    img[:] = bg
    # vignette: corners a little darker, as studio lights fall off
    r = np.hypot((xx - width / 2) / width, (yy - height / 2) / height)
    img *= (1 - 0.08 * r ** 2)[..., None]
    mask = np.zeros((height, width), np.uint8)
    cx, cy = width // 2, height // 2
    cv2.ellipse(mask, (cx, cy), (width // 5, height // 4), 15, 0, 360, 255, -1)
    cv2.rectangle(mask, (cx - width // 10, cy), (cx + width // 8, cy + height // 3), 255, -1)
    if shadow:
        sh = np.zeros((height, width), np.float32)
        cv2.ellipse(sh, (cx + width // 25, cy + height // 3), (width // 5, height // 30), 0, 0, 360, 1.0, -1)
        sh = cv2.GaussianBlur(sh, (0, 0), width / 60)
        img *= (1 - 0.35 * sh)[..., None]
    tex = cv2.resize(skdata.chelsea(), (width, height), interpolation=cv2.INTER_LINEAR).astype(np.float32)
    m = mask[..., None] > 0
    img = np.where(m, tex * 0.8, img)
    img += rng.normal(0, 1.5, img.shape)
    return np.clip(img + 0.5, 0, 255).astype(np.uint8), mask
