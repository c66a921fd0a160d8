"""The registry, the shared contract, and the local provider (no stubs needed)."""
from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from enhancer.errors import ConfigError, InvalidImageError
from enhancer.providers import (PROVIDERS, VARIANTS, AIConfig, BedrockProvider, GeminiProvider,
                                LocalProvider, Provider, ProviderResult, get_provider)

from .conftest import make_photo


def test_registry_names():
    assert set(PROVIDERS) == {"local", "gemini", "bedrock"}


@pytest.mark.parametrize("name, cls", [("local", LocalProvider), ("Gemini", GeminiProvider),
                                       (" BEDROCK ", BedrockProvider)])
def test_get_provider_builds_each(name, cls):
    provider = get_provider(name, AIConfig())
    assert isinstance(provider, cls)
    assert isinstance(provider, Provider)
    assert provider.name == name.strip().lower()
    assert provider.variants == tuple(v.name for v in VARIANTS)


def test_unknown_provider_lists_valid_names():
    with pytest.raises(ValueError, match="unknown provider 'openai'; valid providers: local, gemini, bedrock"):
        get_provider("openai", AIConfig())


@pytest.mark.parametrize("kw", [{"max_retries": -1}, {"timeout_s": 0}, {"retry_base_delay_s": -0.1}])
def test_config_rejects_bad_values(kw):
    with pytest.raises(ValueError, match=next(iter(kw))):
        AIConfig(**kw)


def test_config_defaults():
    cfg = AIConfig()
    assert cfg.gemini_model == "gemini-2.5-flash"
    assert cfg.gemini_image_model == "gemini-2.5-flash-image"
    assert cfg.bedrock_model_id == "amazon.titan-image-generator-v2:0"
    assert cfg.bedrock_region == "us-east-1"
    assert cfg.max_retries == 3


def test_config_from_mapping():
    cfg = AIConfig.from_mapping({"GEMINI_API_KEY": "k", "GEMINI_IMAGE_MODEL": "gemini-3-pro-image-preview",
                                 "AWS_REGION": "eu-west-1", "AI_MAX_RETRIES": "5", "TIMEOUT_S": "12.5",
                                 "BEDROCK_ENDPOINT_URL": "", "UNRELATED": "x"})
    assert cfg.gemini_api_key == "k"
    assert cfg.gemini_image_model == "gemini-3-pro-image-preview"
    assert cfg.bedrock_region == "eu-west-1"
    assert (cfg.max_retries, cfg.timeout_s) == (5, 12.5)
    assert cfg.bedrock_endpoint_url is None


@pytest.mark.parametrize("env, name", [({"AI_MAX_RETRIES": "lots"}, "AI_MAX_RETRIES"),
                                       ({"TIMEOUT_S": "-1"}, "TIMEOUT_S")])
def test_config_from_mapping_names_bad_variable(env, name):
    with pytest.raises(ConfigError, match=name):
        AIConfig.from_mapping(env)


def test_variant_prompts_are_distinct_and_fit_titan():
    prompts = [v.prompt for v in VARIANTS]
    assert len(set(prompts)) == len(prompts) >= 4
    assert all(len(p) <= 512 for p in prompts)  # Titan's text limit; no silent truncation


def test_local_is_always_available():
    provider = get_provider("local")
    assert provider.available() == (True, "")
    provider.check()


def test_local_edit_returns_png_per_variant():
    photo = make_photo("JPEG")
    prompts = set()
    for i in range(len(VARIANTS)):
        result = get_provider("local").edit(photo, variant=i)
        assert isinstance(result, ProviderResult)
        assert result.provider == "local" and result.mime_type == "image/png"
        assert Image.open(io.BytesIO(result.data)).format == "PNG"
        prompts.add(result.prompt)
    assert len(prompts) == len(VARIANTS)  # each variant runs a different mode


def test_local_analyze_several_problems_suggests_auto():
    dark = make_photo("JPEG", product=(30, 20, 20), background=(15, 15, 15))
    findings = get_provider("local").analyze(dark).findings
    assert any("underexposed" in p for p in findings["problems"])
    assert findings["suggested_mode"] == "AUTO"


def test_local_analyze_single_problem_suggests_its_mode():
    # A smooth grey ramp: well exposed, contrasty, but no edges at all -> only "blurry".
    ramp = np.tile(np.linspace(0, 255, 1200, dtype=np.uint8), (900, 1))
    buf = io.BytesIO()
    Image.fromarray(np.dstack([ramp] * 3), "RGB").save(buf, "PNG")
    findings = get_provider("local").analyze(buf.getvalue()).findings
    assert len(findings["problems"]) == 1 and "blurry" in findings["problems"][0]
    assert findings["suggested_mode"] == "SHARPEN"


def test_local_rejects_non_images():
    with pytest.raises(InvalidImageError):
        get_provider("local").analyze(b"nope")
