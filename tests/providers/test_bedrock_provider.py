"""BedrockProvider through real boto3 (SigV4, botocore retries) against the loopback stub."""
from __future__ import annotations

import base64
import io
import json

import numpy as np
import pytest
from PIL import Image

from enhancer.errors import ProviderError
from enhancer.providers import AIConfig, BedrockProvider
from enhancer.providers.base import VARIANTS
from tests.stubs import bedrock as b
from tests.stubs.server import Reply

from .conftest import AWS_KEY_ID, AWS_SECRET, make_photo


@pytest.fixture
def provider(bedrock_config) -> BedrockProvider:
    return BedrockProvider(bedrock_config)


def _body(req) -> dict:
    return json.loads(req.body)


def test_variation_success_with_provenance(provider, bedrock_stub, photo, edited_png):
    reply = b.images(edited_png)
    bedrock_stub.push(reply)
    result = provider.edit(photo, variant=1)
    assert result.data == edited_png
    assert result.provider == "bedrock"
    assert result.model_version == "amazon.titan-image-generator-v2:0"
    assert result.response_id == reply.headers["x-amzn-RequestId"]
    assert result.usage == {"images": 1}
    assert result.mime_type == "image/png"

    (req,) = bedrock_stub.calls()
    assert bedrock_stub.invoked_model(req) == "amazon.titan-image-generator-v2:0"
    assert req.headers["authorization"].startswith(f"AWS4-HMAC-SHA256 Credential={AWS_KEY_ID}/")
    assert AWS_SECRET not in req.headers["authorization"]
    body = _body(req)
    assert body["taskType"] == "IMAGE_VARIATION"
    params = body["imageVariationParams"]
    assert params["text"] == VARIANTS[1].prompt[:512]
    assert 0.2 <= params["similarityStrength"] <= 1.0
    sent = Image.open(io.BytesIO(base64.b64decode(params["images"][0])))
    assert sent.format == "PNG" and sent.mode == "RGB" and sent.size == (427, 320)  # upscaled to 320 min side
    cfg = body["imageGenerationConfig"]
    assert (cfg["width"], cfg["height"]) == (1152, 896)  # closest valid size to 4:3
    assert cfg["numberOfImages"] == 1


def test_white_background_variant_uses_background_removal(provider, bedrock_stub, photo):
    bedrock_stub.push(b.images(make_photo("PNG", alpha=True)))
    result = provider.edit(photo, variant=0)
    (req,) = bedrock_stub.calls()
    body = _body(req)
    assert body == {"taskType": "BACKGROUND_REMOVAL", "backgroundRemovalParams": {"image": body[
        "backgroundRemovalParams"]["image"]}}
    out = np.asarray(Image.open(io.BytesIO(result.data)))
    assert out.shape[2] == 3
    assert (out[0, 0] == 255).all()            # transparent corner flattened on white
    assert out[120, 160, 0] > 150              # the red product survives


def test_variants_send_different_prompts(provider, bedrock_stub, photo):
    for i in range(1, len(VARIANTS)):
        provider.edit(photo, variant=i)
    texts = [_body(r)["imageVariationParams"]["text"] for r in bedrock_stub.calls()]
    assert len(set(texts)) == len(VARIANTS) - 1


def test_nova_canvas_model_id(bedrock_stub, bedrock_config, photo):
    cfg = AIConfig(**{**bedrock_config.__dict__, "bedrock_model_id": "amazon.nova-canvas-v1:0"})
    result = BedrockProvider(cfg).edit(photo, prompt="Brighter, neutral light.")
    (req,) = bedrock_stub.calls()
    assert bedrock_stub.invoked_model(req) == "amazon.nova-canvas-v1:0"
    assert _body(req)["imageVariationParams"]["text"] == "Brighter, neutral light."
    assert result.model_version == "amazon.nova-canvas-v1:0"


@pytest.mark.parametrize("status", [429, 400])
def test_throttle_then_success_is_retried(provider, bedrock_stub, photo, edited_png, status):
    bedrock_stub.push(b.throttled(status))
    assert provider.edit(photo, variant=1).data == edited_png
    assert len(bedrock_stub.calls()) == 2


def test_persistent_throttle_gives_up(provider, bedrock_stub, photo):
    bedrock_stub.push(*[b.throttled()] * 10)
    with pytest.raises(ProviderError, match="throttled") as info:
        provider.edit(photo, variant=1)
    assert info.value.status_code == 429
    assert info.value.provider == "bedrock"
    assert len(bedrock_stub.calls()) == 3  # max_retries=2


def test_persistent_500_gives_up(provider, bedrock_stub, photo):
    bedrock_stub.push(*[b.error(500, "InternalServerException", "Internal failure")] * 10)
    with pytest.raises(ProviderError, match="HTTP 500") as info:
        provider.edit(photo, variant=1)
    assert info.value.status_code == 500
    assert len(bedrock_stub.calls()) == 3
    assert AWS_SECRET not in str(info.value)


def test_access_denied_is_explained_and_not_retried(provider, bedrock_stub, photo):
    bedrock_stub.push(b.error(403, "AccessDeniedException",
                              "You don't have access to the model with the specified model ID."))
    with pytest.raises(ProviderError, match="Enable model access") as info:
        provider.edit(photo, variant=1)
    assert info.value.status_code == 403
    assert len(bedrock_stub.calls()) == 1


def test_content_filter_block(provider, bedrock_stub, photo):
    bedrock_stub.push(b.error(400, "ValidationException",
                              "This request has been blocked by our content filters."))
    with pytest.raises(ProviderError, match="blocked the request") as info:
        provider.edit(photo, variant=1)
    assert info.value.status_code == 400


@pytest.mark.parametrize("reply, message", [
    (Reply(200, {"images": [], "error": "An error occurred while generating"}), "returned an error"),
    (Reply(200, {"images": []}), "no image"),
    (Reply(200, b"{truncated"), "malformed"),
    (Reply(200, {"images": ["%%%not-base64%%%"]}), "not valid base64"),
    (Reply(200, {"images": [base64.b64encode(b"text, not pixels").decode()]}), "not an image"),
])
def test_bad_payloads(provider, bedrock_stub, photo, reply, message):
    bedrock_stub.push(reply)
    with pytest.raises(ProviderError, match=message):
        provider.edit(photo, variant=1)


def test_check_ok(provider, bedrock_stub):
    provider.check()
    (req,) = bedrock_stub.calls("GET")
    assert req.path == "/foundation-models/amazon.titan-image-generator-v2%3A0"


def test_check_bad_credentials(provider, bedrock_stub):
    bedrock_stub.push(b.error(403, "UnrecognizedClientException",
                              "The security token included in the request is invalid."))
    with pytest.raises(ProviderError, match="AWS rejected the credentials") as info:
        provider.check()
    assert info.value.status_code == 403


def test_unreachable_endpoint(photo, fast_botocore_backoff):
    cfg = AIConfig(bedrock_endpoint_url="http://127.0.0.1:9", aws_access_key_id=AWS_KEY_ID,
                   aws_secret_access_key=AWS_SECRET, max_retries=0, timeout_s=2)
    with pytest.raises(ProviderError, match="Could not reach Bedrock"):
        BedrockProvider(cfg).edit(photo, variant=1)


def test_unavailable_without_credentials(photo):
    provider = BedrockProvider(AIConfig())
    ok, reason = provider.available()
    assert not ok and "AWS_ACCESS_KEY_ID" in reason
    with pytest.raises(ProviderError, match="Bedrock is not configured"):
        provider.edit(photo)


def test_half_credentials_are_reported():
    ok, reason = BedrockProvider(AIConfig(aws_access_key_id=AWS_KEY_ID)).available()
    assert not ok and "both" in reason


def test_analyze_is_local_and_says_so(provider, bedrock_stub, photo):
    result = provider.analyze(photo)
    assert result.provider == "local"
    assert "suggested_mode" in result.findings and "note" in result.findings
    assert bedrock_stub.calls() == []
