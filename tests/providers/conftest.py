"""Fixtures: loopback stubs of Gemini and Bedrock, configs pointing at them, test photos."""
from __future__ import annotations

import io

import numpy as np
import pytest
from botocore.retries import standard as botocore_standard
from PIL import Image

from enhancer.providers import AIConfig
from tests.stubs.bedrock import BedrockStub
from tests.stubs.gemini import GeminiStub

API_KEY = "AIzaSy-TEST-not-a-real-key-0123456789"
AWS_KEY_ID, AWS_SECRET = "AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"


def make_photo(fmt: str = "JPEG", *, size: tuple[int, int] = (320, 240),
               product=(200, 30, 30), background=(120, 120, 120), alpha: bool = False) -> bytes:
    """A product-like photo: a coloured block on a plain background (seeded noise)."""
    w, h = size
    rng = np.random.default_rng(7)
    img = np.empty((h, w, 3), np.uint8)
    img[:] = background
    img[h // 4: 3 * h // 4, w // 4: 3 * w // 4] = product
    img = np.clip(img.astype(int) + rng.integers(-4, 5, img.shape), 0, 255).astype(np.uint8)
    pil = Image.fromarray(img, "RGB")
    if alpha:  # transparent background, opaque product (a cut-out)
        a = np.zeros((h, w), np.uint8)
        a[h // 4: 3 * h // 4, w // 4: 3 * w // 4] = 255
        pil.putalpha(Image.fromarray(a, "L"))
    buf = io.BytesIO()
    pil.save(buf, fmt)
    return buf.getvalue()


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch, tmp_path):
    """Loopback only, and no stray AWS/Google settings from the machine running the tests."""
    for var in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy",
                "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE",
                "AWS_DEFAULT_PROFILE", "AWS_ENDPOINT_URL", "AWS_WEB_IDENTITY_TOKEN_FILE",
                "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_CONTAINER_CREDENTIALS_FULL_URI", "GOOGLE_API_KEY", "GEMINI_API_KEY",
                "GOOGLE_GENAI_USE_VERTEXAI", "GOOGLE_GEMINI_BASE_URL"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "aws-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")  # no slow IMDS probe


@pytest.fixture
def photo() -> bytes:
    return make_photo("JPEG")


@pytest.fixture
def edited_png() -> bytes:
    return make_photo("PNG", background=(255, 255, 255))


@pytest.fixture
def gemini_stub(edited_png):
    with GeminiStub(api_key=API_KEY, image=edited_png) as stub:
        yield stub


@pytest.fixture
def gemini_config(gemini_stub) -> AIConfig:
    return AIConfig(gemini_api_key=API_KEY, gemini_base_url=gemini_stub.url,
                    max_retries=2, timeout_s=5, retry_base_delay_s=0.01)


@pytest.fixture
def fast_botocore_backoff(monkeypatch):
    """botocore's standard back-off sleeps up to 1-2 s per retry; tests only count attempts."""
    monkeypatch.setattr(botocore_standard.ExponentialBackoff, "delay_amount", lambda self, ctx: 0.01)


@pytest.fixture
def bedrock_stub(edited_png):
    with BedrockStub(image=edited_png) as stub:
        yield stub


@pytest.fixture
def bedrock_config(bedrock_stub, fast_botocore_backoff) -> AIConfig:
    return AIConfig(bedrock_endpoint_url=bedrock_stub.url, aws_access_key_id=AWS_KEY_ID,
                    aws_secret_access_key=AWS_SECRET, max_retries=2, timeout_s=5)
