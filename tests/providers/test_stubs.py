"""The stubs themselves: they accept what the real APIs accept (both API versions, both casings)."""
from __future__ import annotations

import base64
import json
import logging
import urllib.request

import pytest
from google import genai
from google.genai import types

from enhancer.errors import ProviderError
from enhancer.providers import AIConfig, GeminiProvider

from .conftest import API_KEY


def _post(url: str, body: dict, headers: dict) -> tuple[int, dict]:
    req = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST",
                                 headers={"Content-Type": "application/json", **headers})
    try:
        with urllib.request.urlopen(req, timeout=5) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())


@pytest.mark.parametrize("version", ["v1", "v1beta"])
@pytest.mark.parametrize("casing", ["inlineData", "inline_data"])
def test_gemini_stub_accepts_versions_and_casings(gemini_stub, photo, version, casing):
    body = {"contents": [{"parts": [{casing: {"mimeType": "image/jpeg",
                                              "data": base64.b64encode(photo).decode()}},
                                    {"text": "hi"}]}]}
    status, answer = _post(f"{gemini_stub.url}/{version}/models/gemini-2.5-flash-image:generateContent",
                           body, {"x-goog-api-key": API_KEY})
    assert status == 200
    assert answer["candidates"][0]["content"]["parts"][1]["inlineData"]["mimeType"] == "image/png"
    assert gemini_stub.sent_images(gemini_stub.calls()[-1]) == [photo]


def test_gemini_stub_refuses_wrong_key_and_unknown_paths(gemini_stub):
    status, answer = _post(f"{gemini_stub.url}/v1beta/models/x:generateContent", {}, {"x-goog-api-key": "no"})
    assert (status, answer["error"]["status"]) == (400, "INVALID_ARGUMENT")
    status, answer = _post(f"{gemini_stub.url}/v1beta/nope", {}, {"x-goog-api-key": API_KEY})
    assert status == 404


def test_provider_works_with_v1_client(gemini_stub, gemini_config, photo, edited_png):
    client = genai.Client(api_key=API_KEY, vertexai=False, http_options=types.HttpOptions(
        base_url=gemini_stub.url, api_version="v1"))
    result = GeminiProvider(gemini_config, client=client).edit(photo)
    assert result.data == edited_png
    assert gemini_stub.calls()[-1].path.startswith("/v1/models/")


def test_key_never_logged(gemini_stub, photo, caplog):
    """Retries and failures log at INFO/DEBUG; none of it may carry the key."""
    from tests.stubs import gemini as g
    cfg = AIConfig(gemini_api_key=API_KEY, gemini_base_url=gemini_stub.url, max_retries=1,
                   retry_base_delay_s=0.01)
    gemini_stub.push(g.error(503, "UNAVAILABLE", "overloaded"), g.error(503, "UNAVAILABLE", "overloaded"))
    with caplog.at_level(logging.DEBUG):
        with pytest.raises(ProviderError) as info:
            GeminiProvider(cfg).edit(photo)
    assert caplog.records  # the retry was logged ...
    assert API_KEY not in caplog.text  # ... without the key
    assert API_KEY not in str(info.value)
