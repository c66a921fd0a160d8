"""AI through the whole service, on both backends, against the loopback Gemini/Bedrock stubs.

Each scenario ends in a recorded history row; the assertions read the row.
"""
from __future__ import annotations

import json

import pytest

from db.models import ProductImage, ReviewStatus
from enhancer.providers import BedrockProvider, GeminiProvider
from tests.stubs import bedrock as b
from tests.stubs import gemini as g
from support import up
from enhancer.options import EnhanceOptions
from enhancer.service import decide


def _history(service, image_id):
    with service.session() as s:
        img = s.get(ProductImage, image_id)
        return img, list(img.history)


@pytest.fixture
def gemini_service(service, gemini_config):
    service.providers["gemini"] = GeminiProvider(gemini_config)
    return service


def test_success_records_provenance_usage_and_analysis(gemini_service, gemini_stub, photo, edited_png):
    gemini_stub.push(g.json_response('{"problems": ["dim light"], "suggested_mode": "LIGHT_CORRECTION", '
                                     '"product_category": "toy", "alt_text": "A red block."}'),
                     g.image_response(edited_png, response_id="resp-abc", model="gemini-img-001"))
    res = up(gemini_service, photo, "toy.jpg", ai="gemini", target_size_kb=50)
    assert res.success and res.provider == "gemini" and not res.fell_back
    _, (h,) = _history(gemini_service, res.image_id)
    assert (h.provider, h.response_id, h.model_version) == ("gemini", "resp-abc", "gemini-img-001")
    assert h.processing_status == "completed" and h.enhanced_size_bytes <= 50 * 1024
    assert h.quality_metadata["ai_analysis"]["suggested_mode"] == "LIGHT_CORRECTION"
    assert h.provider_metadata["usage"]["total_tokens"] > 0
    assert gemini_stub.sent_images(gemini_stub.calls()[-1])  # the photo went out


def test_rate_limited_then_success(gemini_service, gemini_stub, photo, edited_png):
    gemini_stub.push(g.json_response('{"problems": []}'),
                     g.error(429, "RESOURCE_EXHAUSTED", "Quota exceeded."), g.image_response(edited_png))
    res = up(gemini_service, photo, "p.jpg", ai="gemini")
    assert res.provider == "gemini" and not res.fell_back
    assert len(gemini_stub.calls()) == 3  # analysis, 429, retry


@pytest.mark.parametrize("failure,code", [
    ([g.error(500, "INTERNAL", "An internal error has occurred.")] * 10, 500),
    ([g.blocked("SAFETY")], None),
    ([g.response([{"text": "no image here"}])], None),
])
def test_provider_failure_falls_back_to_local(gemini_service, gemini_stub, photo, failure, code):
    gemini_stub.push(g.json_response('{"problems": []}'), *failure)
    res = up(gemini_service, photo, "p.jpg", ai="gemini", mode="AUTO")
    assert res.success and res.fell_back and res.provider == "local"
    _, (h,) = _history(gemini_service, res.image_id)
    assert h.provider == "local" and h.processing_status == "fallback"
    assert h.provider_metadata["requested_provider"] == "gemini" and h.provider_metadata["fell_back"]
    assert h.provider_metadata["status_code"] == code and h.provider_metadata["error"]


def test_variants_pending_review_then_approve_one(gemini_service, gemini_stub, photo):
    res = up(gemini_service, photo, "v.jpg", ai="gemini", variants=3)
    img, rows = _history(gemini_service, res.image_id)
    assert img.review_status is ReviewStatus.PENDING_REVIEW and len(rows) == 3
    assert {h.review_status for h in rows} == {ReviewStatus.PENDING_REVIEW} and {h.provider for h in rows} == {"gemini"}
    prompts = {h.provider_metadata["prompt"] for h in rows}
    assert len(prompts) == 3  # each variant asked for something different
    decide(gemini_service, rows[2].id, "approved")
    img, rows = _history(gemini_service, res.image_id)
    assert img.review_status is ReviewStatus.APPROVED and img.enhanced_key == rows[2].enhanced_key
    assert [h.review_status for h in rows] == [ReviewStatus.REJECTED, ReviewStatus.REJECTED, ReviewStatus.APPROVED]


def test_bedrock_success_and_throttle_fallback(service, bedrock_config, bedrock_stub, photo, edited_png,
                                               fast_botocore_backoff):
    service.providers["bedrock"] = BedrockProvider(bedrock_config)
    bedrock_stub.push(b.images(edited_png))
    ok = up(service, photo, "b1.jpg", ai="bedrock")
    _, (h,) = _history(service, ok.image_id)
    assert h.provider == "bedrock" and h.model_version == bedrock_config.bedrock_model_id and h.response_id
    bedrock_stub.push(*[b.throttled()] * 10)
    fb = up(service, photo, "b2.jpg", sku_id="b2", ai="bedrock", force=True)  # not the reuse of b1
    _, (h,) = _history(service, fb.image_id)
    assert fb.fell_back and h.processing_status == "fallback" and h.provider_metadata["status_code"] == 429


def test_cli_enhance_with_gemini_variants(tmp_path, gemini_stub, sqlite_url):
    import os
    import subprocess
    import sys
    from pathlib import Path

    from tests.providers.conftest import API_KEY, make_photo

    root = Path(__file__).resolve().parents[2]
    f = tmp_path / "shoe.jpg"
    f.write_bytes(make_photo())
    env = {**os.environ, "PYTHONPATH": str(root), "DATABASE_URL": sqlite_url, "STORAGE_DIR": str(tmp_path / "s"),
           "GEMINI_API_KEY": API_KEY, "GEMINI_BASE_URL": gemini_stub.url}
    p = subprocess.run([sys.executable, "-m", "enhancer", "enhance", str(f), "--ai", "gemini", "--variants", "2"],
                       capture_output=True, text=True, env=env, timeout=120)
    assert p.returncode == 0, p.stderr
    out = json.loads(p.stdout)
    assert out["provider"] == "gemini" and len(out["variants"]) == 1
    assert API_KEY not in p.stdout + p.stderr
    gemini_stub.push(*[g.error(500, "INTERNAL", "boom")] * 20)
    f2 = tmp_path / "bag.jpg"
    f2.write_bytes(make_photo(product=(20, 200, 20)))
    p = subprocess.run([sys.executable, "-m", "enhancer", "enhance", str(f2), "--ai", "gemini"],
                       capture_output=True, text=True, env=env, timeout=120)
    assert p.returncode == 0 and json.loads(p.stdout)["fell_back"] and "local pipeline" in p.stderr
    p = subprocess.run([sys.executable, "-m", "enhancer", "check"], capture_output=True, text=True, env=env,
                       timeout=60)
    assert "ai: gemini" in p.stderr and API_KEY not in p.stderr + p.stdout


def test_usage_is_added_up_per_image(gemini_service, gemini_stub, photo):
    from db import repo
    from enhancer.views import usage_totals

    res = up(gemini_service, photo, "u.jpg", ai="gemini", variants=2)
    with gemini_service.session() as s:
        totals = usage_totals(repo.history(s, res.image_id))
    # stub: every call reports 1290 prompt + 1300 output tokens; 2 edits + 1 analysis recorded per row
    assert totals["gemini"]["calls"] == 2 and totals["gemini"]["fallbacks"] == 0
    assert totals["gemini"]["total_tokens"] > 0


def test_batch_with_ai_counts_usage(service, gemini_config, gemini_stub, tmp_path):
    """A folder batch with --ai gemini: every item edited by Gemini, usage added up per batch."""
    from enhancer.batch import BatchRunner, create_batches
    from enhancer.batch.control import summarize
    from db import batch_repo as br
    from tests.providers.conftest import make_photo

    service.providers["gemini"] = GeminiProvider(gemini_config)
    folder = tmp_path / "in"
    folder.mkdir()
    for i in range(3):
        (folder / f"sku{i}.jpg").write_bytes(make_photo(product=(40 * i + 60, 30, 30)))
    (bid,) = create_batches(service, folder, options=EnhanceOptions.parse(mode="AUTO", ai="gemini"), name="ai-batch")
    BatchRunner(service, workers=2).run(bid)
    with service.session() as s:
        summary = summarize(s, br.get_batch(s, bid))
    assert summary.completed == 3 and summary.failed == 0
    usage = summary.ai_usage["gemini"]
    assert usage["calls"] == 3 and usage["fallbacks"] == 0
    assert usage["total_tokens"] == 3 * 2 * 2590  # stub: 2590 tokens per call, analysis + edit per photo
