"""One recorded history row per AI scenario, against the loopback Gemini/Bedrock stubs.

Run by hand from the repository root (SQLite by default, or any database URL)::

    python benchmarks/ai_scenarios.py
    python benchmarks/ai_scenarios.py "mysql+pymysql://root@127.0.0.1/scratch?charset=utf8mb4"

Prints one JSON line per history row: provider, model_version, response_id,
processing status, review status, usage / fallback and the AI analysis.
"""
import json
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from db import make_engine, repo
from enhancer.service import Backends, EnhanceOptions, decide, upload
from enhancer.storage import LocalStorage
from enhancer.providers import AIConfig, GeminiProvider, BedrockProvider
from tests.stubs import gemini as g, bedrock as b
from tests.stubs.gemini import GeminiStub
from tests.stubs.bedrock import BedrockStub
from tests.providers.conftest import make_photo, API_KEY
from botocore.retries import standard
standard.ExponentialBackoff.delay_amount = lambda self, ctx: 0.01
import os  # noqa: E402
os.environ["AWS_EC2_METADATA_DISABLED"] = "true"
url = sys.argv[1] if len(sys.argv) > 1 else None
tmp = Path(tempfile.mkdtemp())
eng = make_engine(url or f"sqlite:///{tmp/'x.db'}")
svc = Backends(eng, LocalStorage(tmp / "s"))
edited = make_photo("PNG", background=(255, 255, 255))


def up(b, data, filename, *, sku_id=None, **opts):
    return upload(b, data, filename, EnhanceOptions.parse(**opts), sku_id=sku_id, actor="benchmark")


def show(label, res):
    with svc.session() as s:
        for h in repo.history(s, res.image_id):
            print(json.dumps({"scenario": label, "seq": h.enhancement_sequence, "provider": h.provider,
                              "model_version": h.model_version, "response_id": h.response_id,
                              "processing_status": h.processing_status, "review_status": h.review_status.value,
                              "provider_metadata": {k: v for k, v in (h.provider_metadata or {}).items() if k in ("usage", "fell_back", "status_code", "error", "requested_provider")},
                              "ai_analysis": (h.quality_metadata or {}).get("ai_analysis")}, default=str))
with GeminiStub(api_key=API_KEY, image=edited) as gs, BedrockStub() as bs:
    cfg = AIConfig(gemini_api_key=API_KEY, gemini_base_url=gs.url, max_retries=2, timeout_s=5, retry_base_delay_s=0.01,
                   bedrock_endpoint_url=bs.url, aws_access_key_id="AKIDEXAMPLE", aws_secret_access_key="x" * 40, bedrock_region="us-east-1")
    svc.providers["gemini"] = GeminiProvider(cfg); svc.providers["bedrock"] = BedrockProvider(cfg)
    n = iter(range(100))
    def photo(): return make_photo(product=(next(n) * 20 % 255, 30, 30))
    show("gemini success", up(svc, photo(), "a.jpg", ai="gemini"))
    gs.push(g.json_response('{"problems": []}'), g.error(429, "RESOURCE_EXHAUSTED", "Quota exceeded."))
    show("gemini 429 then success", up(svc, photo(), "b.jpg", ai="gemini"))
    gs.push(g.json_response('{"problems": []}'), *[g.error(500, "INTERNAL", "An internal error has occurred.")] * 5)
    show("gemini persistent 500 -> local fallback", up(svc, photo(), "c.jpg", ai="gemini"))
    gs.push(g.json_response('{"problems": []}'), g.blocked("SAFETY"))
    show("gemini blocked prompt -> fallback", up(svc, photo(), "d.jpg", ai="gemini"))
    gs.push(g.json_response('{"problems": []}'), g.response([{"text": "no image"}]))
    show("gemini malformed/no image -> fallback", up(svc, photo(), "e.jpg", ai="gemini"))
    r = up(svc, photo(), "f.jpg", ai="gemini", variants=3)
    with svc.session() as s:
        second = repo.history(s, r.image_id)[1].id
    decide(svc, second, "approved")
    show("gemini 3 variants, #2 approved", r)
    bs.push(b.images(edited))
    show("bedrock success", up(svc, photo(), "g.jpg", ai="bedrock"))
    bs.push(*[b.throttled()] * 10)
    show("bedrock throttled -> fallback", up(svc, photo(), "h.jpg", ai="bedrock"))


def up(b, data, filename, *, sku_id=None, **opts):
    return upload(b, data, filename, EnhanceOptions.parse(**opts), sku_id=sku_id, actor="benchmark")
