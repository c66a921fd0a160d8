"""GeminiProvider through the real google-genai client against the loopback Gemini stub."""
from __future__ import annotations

import json

import pytest

from enhancer.errors import InvalidImageError, ProviderError
from enhancer.providers import AIConfig, GeminiProvider
from enhancer.providers.base import VARIANTS
from tests.stubs import gemini as g
from tests.stubs.server import Reply

from .conftest import API_KEY, make_photo


@pytest.fixture
def provider(gemini_config) -> GeminiProvider:
    return GeminiProvider(gemini_config)


def _assert_no_key(exc: Exception) -> None:
    assert API_KEY not in str(exc)


# -- editing -------------------------------------------------------------------------------
def test_edit_returns_image_with_provenance(provider, gemini_stub, photo, edited_png):
    gemini_stub.push(g.image_response(edited_png, response_id="resp-123",
                                      usage_metadata=g.usage(prompt=1290, output=1300)))
    result = provider.edit(photo)
    assert result.data == edited_png
    assert result.mime_type == "image/png"
    assert result.provider == "gemini"
    assert result.model_version == "gemini-2.5-flash-image"
    assert result.response_id == "resp-123"
    assert result.usage == {"input_tokens": 1290, "output_tokens": 1300, "total_tokens": 2590}
    assert result.prompt == VARIANTS[0].prompt
    assert result.findings == {"model_text": "Here is the edited photo."}

    (req,) = gemini_stub.calls()
    assert req.path.endswith("/models/gemini-2.5-flash-image:generateContent")
    assert req.headers["x-goog-api-key"] == API_KEY
    assert gemini_stub.sent_blobs(req) == [("image/jpeg", photo)]
    assert gemini_stub.sent_text(req) == VARIANTS[0].prompt
    assert "IMAGE" in req.json()["generationConfig"]["responseModalities"]


def test_variants_send_different_prompts(provider, gemini_stub, photo):
    for i in range(len(VARIANTS)):
        assert provider.edit(photo, variant=i).prompt == VARIANTS[i].prompt
    sent = [gemini_stub.sent_text(r) for r in gemini_stub.calls()]
    assert sent == [v.prompt for v in VARIANTS]
    assert len(set(sent)) == len(VARIANTS)


def test_custom_prompt_overrides_variant(provider, gemini_stub, photo):
    result = provider.edit(photo, prompt="Make the background light blue.", variant=2)
    assert result.prompt == "Make the background light blue."
    assert gemini_stub.sent_text(gemini_stub.calls()[-1]) == "Make the background light blue."


@pytest.mark.parametrize("variant", [-1, len(VARIANTS)])
def test_variant_out_of_range_is_a_value_error(provider, gemini_stub, photo, variant):
    with pytest.raises(ValueError, match="variant must be between 0 and"):
        provider.edit(photo, variant=variant)
    assert gemini_stub.calls() == []


def test_not_an_image_is_rejected_before_calling(provider, gemini_stub):
    with pytest.raises(InvalidImageError):
        provider.edit(b"definitely not an image")
    assert gemini_stub.calls() == []


def test_unsupported_format_is_sent_as_png(provider, gemini_stub):
    tiff = make_photo("TIFF")
    provider.edit(tiff)
    ((mime, sent),) = gemini_stub.sent_blobs(gemini_stub.calls()[-1])
    assert mime == "image/png" and sent.startswith(b"\x89PNG")


def test_thought_images_are_skipped(provider, gemini_stub, photo, edited_png):
    draft = dict(g.image_part(photo), thought=True)
    gemini_stub.push(g.response([draft, g.image_part(edited_png)]))
    assert provider.edit(photo).data == edited_png


# -- retries (the SDK's HttpRetryOptions) ----------------------------------------------------
@pytest.mark.parametrize("first", [
    g.error(429, "RESOURCE_EXHAUSTED", "Resource has been exhausted (e.g. check quota)."),
    g.error(503, "UNAVAILABLE", "The model is overloaded. Please try again later."),
])
def test_transient_error_then_success_is_retried(provider, gemini_stub, photo, edited_png, first):
    gemini_stub.push(first)
    assert provider.edit(photo).data == edited_png
    assert len(gemini_stub.calls()) == 2


def test_persistent_500_gives_up_after_bounded_attempts(provider, gemini_stub, photo):
    gemini_stub.push(*[g.error(500, "INTERNAL", "An internal error has occurred.")] * 10)
    with pytest.raises(ProviderError) as info:
        provider.edit(photo)
    assert info.value.status_code == 500
    assert info.value.provider == "gemini"
    assert "after 3 attempts" in str(info.value)
    assert len(gemini_stub.calls()) == 3  # max_retries=2 -> 3 attempts
    _assert_no_key(info.value)


def test_persistent_429_reports_quota(provider, gemini_stub, photo):
    gemini_stub.push(*[g.error(429, "RESOURCE_EXHAUSTED", "Quota exceeded.")] * 10)
    with pytest.raises(ProviderError, match="rate limit or quota") as info:
        provider.edit(photo)
    assert info.value.status_code == 429
    assert len(gemini_stub.calls()) == 3


def test_timeout_becomes_provider_error(gemini_stub, photo):
    cfg = AIConfig(gemini_api_key=API_KEY, gemini_base_url=gemini_stub.url, max_retries=0,
                   timeout_s=0.3, retry_base_delay_s=0.01)
    gemini_stub.push(Reply(200, {}, delay_s=1.0))
    with pytest.raises(ProviderError, match="did not answer within 0.3 s"):
        GeminiProvider(cfg).edit(photo)


def test_unreachable_server(photo):
    cfg = AIConfig(gemini_api_key=API_KEY, gemini_base_url="http://127.0.0.1:9", max_retries=0,
                   timeout_s=2, retry_base_delay_s=0.01)
    with pytest.raises(ProviderError, match="Could not reach Gemini at 127.0.0.1:9") as info:
        GeminiProvider(cfg).edit(photo)
    _assert_no_key(info.value)


# -- refusals and bad answers --------------------------------------------------------------
def test_blocked_prompt(provider, gemini_stub, photo):
    gemini_stub.push(g.blocked("SAFETY"))
    with pytest.raises(ProviderError, match=r"blocked the request \(SAFETY\)") as info:
        provider.edit(photo)
    assert info.value.provider == "gemini"
    assert len(gemini_stub.calls()) == 1  # a refusal is not retried


@pytest.mark.parametrize("reason", ["IMAGE_SAFETY", "PROHIBITED_CONTENT", "NO_IMAGE"])
def test_unsafe_finish_reason(provider, gemini_stub, photo, reason):
    gemini_stub.push(g.response([{"text": "I can't help with that."}], finish=reason))
    with pytest.raises(ProviderError, match=f"finish reason {reason}"):
        provider.edit(photo)


def test_text_only_answer_has_no_image(provider, gemini_stub, photo):
    gemini_stub.push(g.response([{"text": "I cannot edit people."}]))
    with pytest.raises(ProviderError, match="no image.*I cannot edit people"):
        provider.edit(photo)


def test_no_candidates_is_empty_response(provider, gemini_stub, photo):
    gemini_stub.push(Reply(200, {"usageMetadata": g.usage(), "modelVersion": "x", "responseId": "r"}))
    with pytest.raises(ProviderError, match="empty response"):
        provider.edit(photo)


@pytest.mark.parametrize("reply", [
    Reply(200, "{not json", headers={"Content-Type": "application/json"}),
    Reply(200, "<html><body>502 Bad Gateway</body></html>", headers={"Content-Type": "text/html"}),
])
def test_malformed_response(provider, gemini_stub, photo, reply):
    gemini_stub.push(reply)
    with pytest.raises(ProviderError, match="malformed"):
        provider.edit(photo)


# -- keys ----------------------------------------------------------------------------------
def test_invalid_key_400_is_explained(gemini_stub, photo):
    cfg = AIConfig(gemini_api_key="AIza-wrong-key", gemini_base_url=gemini_stub.url,
                   max_retries=2, retry_base_delay_s=0.01)
    with pytest.raises(ProviderError, match="rejected the GEMINI_API_KEY") as info:
        GeminiProvider(cfg).edit(photo)
    assert info.value.status_code == 400
    assert "AIza-wrong-key" not in str(info.value)
    assert len(gemini_stub.calls()) == 1  # 400 is not retried


def test_permission_denied_403_is_explained(provider, gemini_stub, photo):
    gemini_stub.push(g.error(403, "PERMISSION_DENIED", "Method doesn't allow unregistered callers."))
    with pytest.raises(ProviderError, match="rejected the GEMINI_API_KEY") as info:
        provider.edit(photo)
    assert info.value.status_code == 403
    assert len(gemini_stub.calls()) == 1


def test_other_400_is_passed_on(provider, gemini_stub, photo):
    gemini_stub.push(g.error(400, "INVALID_ARGUMENT", "Unable to process input image."))
    with pytest.raises(ProviderError, match="rejected the request.*Unable to process input image") as info:
        provider.edit(photo)
    assert info.value.status_code == 400


def test_unknown_model_404(gemini_stub, photo):
    cfg = AIConfig(gemini_api_key=API_KEY, gemini_base_url=gemini_stub.url,
                   gemini_image_model="gemini-nope", retry_base_delay_s=0.01)
    gemini_stub.push(g.error(404, "NOT_FOUND", "models/gemini-nope is not found."))
    with pytest.raises(ProviderError, match="'gemini-nope' was not found") as info:
        GeminiProvider(cfg).edit(photo)
    assert info.value.status_code == 404


def test_missing_key_is_unavailable(photo):
    provider = GeminiProvider(AIConfig())
    assert provider.available() == (False, "GEMINI_API_KEY is not set")
    with pytest.raises(ProviderError, match="GEMINI_API_KEY is not set"):
        provider.edit(photo)


def test_config_repr_hides_key(gemini_config):
    assert API_KEY not in repr(gemini_config)


# -- check ---------------------------------------------------------------------------------
def test_check_ok(provider, gemini_stub):
    provider.check()
    (req,) = gemini_stub.calls("GET")
    assert req.path.endswith("/models/gemini-2.5-flash")
    assert req.headers["x-goog-api-key"] == API_KEY


def test_check_bad_key(gemini_stub):
    cfg = AIConfig(gemini_api_key="AIza-wrong-key", gemini_base_url=gemini_stub.url)
    with pytest.raises(ProviderError, match="rejected the GEMINI_API_KEY") as info:
        GeminiProvider(cfg).check()
    assert "Traceback" not in str(info.value) and "AIza-wrong-key" not in str(info.value)


def test_check_unreachable():
    cfg = AIConfig(gemini_api_key=API_KEY, gemini_base_url="http://127.0.0.1:9", max_retries=0)
    with pytest.raises(ProviderError, match="Could not reach Gemini"):
        GeminiProvider(cfg).check()


# -- analysis ------------------------------------------------------------------------------
def test_analyze_parses_json_findings(provider, gemini_stub, photo):
    gemini_stub.push(g.json_response(json.dumps({
        "problems": ["cluttered background", "underexposed"], "suggested_mode": "light_correction",
        "product_category": "sneakers", "alt_text": "A red sneaker on a grey floor."}),
        response_id="an-1"))
    result = provider.analyze(photo)
    assert result.data is None
    assert result.findings == {"problems": ["cluttered background", "underexposed"],
                               "suggested_mode": "LIGHT_CORRECTION", "product_category": "sneakers",
                               "alt_text": "A red sneaker on a grey floor."}
    assert result.model_version == "gemini-2.5-flash"
    assert result.response_id == "an-1"
    assert result.usage["total_tokens"] == 2590

    (req,) = gemini_stub.calls()
    assert req.path.endswith("/models/gemini-2.5-flash:generateContent")
    gen = req.json()["generationConfig"]
    assert gen["responseMimeType"] == "application/json"
    assert set(gen["responseSchema"]["properties"]) == {"problems", "suggested_mode",
                                                        "product_category", "alt_text"}
    assert gemini_stub.sent_images(req) == [photo]


def test_analyze_unknown_mode_falls_back_to_auto(provider, gemini_stub, photo):
    gemini_stub.push(g.json_response('{"problems": "blurry", "suggested_mode": "MAGIC", '
                                     '"product_category": "", "alt_text": "x"}'))
    findings = provider.analyze(photo).findings
    assert findings["suggested_mode"] == "AUTO"
    assert findings["problems"] == ["blurry"]
    assert findings["product_category"] is None


@pytest.mark.parametrize("text", ["Sorry, here is prose.", "[1, 2]", ""])
def test_analyze_non_json_answer(provider, gemini_stub, photo, text):
    parts = [{"text": text}] if text else []
    gemini_stub.push(g.response(parts, model="gemini-2.5-flash"))
    with pytest.raises(ProviderError, match="JSON object|empty response"):
        provider.analyze(photo)
