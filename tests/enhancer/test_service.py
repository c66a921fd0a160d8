"""The whole flow on both backends: SQLite + local folder, MariaDB + S3 over HTTP."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from db import EnhancementHistory, ProductImage
from db.models import ImageStatus, ReviewStatus
from enhancer import InvalidImageError
from enhancer.errors import DatabaseError, DuplicateSkuError, StorageError
from support import decode, photo_bytes, ssim


def _rows(service):
    with service.session() as s:
        return (s.scalar(select(func.count()).select_from(ProductImage)),
                s.scalar(select(func.count()).select_from(EnhancementHistory)))


def _stored_keys(storage) -> set[str]:
    if storage.kind == "s3":
        out = storage.client.list_objects_v2(Bucket=storage.bucket)
        return {o["Key"] for o in out.get("Contents", [])}
    return {p.relative_to(storage.root).as_posix() for p in storage.root.rglob("*") if p.is_file()}


def test_upload_stores_both_files_and_records_both_rows(service):
    data = photo_bytes(size=(800, 600))
    res = service.upload_and_enhance(data, "Red Shoe.jpg", mode="auto", target_size_kb=60)
    assert res.success and res.sku_id == "Red_Shoe" and res.enhancement_sequence == 1
    assert res.enhanced_size_kb <= 60
    assert res.original_key.startswith(f"uploads/original/{res.image_id[:8]}_")
    assert res.enhanced_key == f"uploads/enhanced/{res.image_id[:8]}_1_Red_Shoe.jpg"
    assert _stored_keys(service.storage) == {res.original_key, res.enhanced_key,
                                             f"uploads/thumbs/{res.image_id[:8]}_1.jpg"}
    assert service.read(res.original_key) == data  # original kept byte for byte
    enhanced = decode(service.read(res.enhanced_key))
    assert ssim(enhanced, decode(data)) > 0.8

    with service.session() as s:
        img = s.get(ProductImage, res.image_id)
        assert img.status is ImageStatus.COMPLETED and img.sku_id == "Red_Shoe"
        assert (img.original_width, img.original_height) == (800, 600)
        assert img.original_size_bytes == len(data) and len(img.content_sha256) == 64
        assert img.enhanced_size_bytes == round(res.enhanced_size_kb * 1024) or img.enhanced_size_bytes > 0
        assert img.review_status is ReviewStatus.PENDING
        (h,) = img.history
        assert h.id == res.database_id and h.enhancement_sequence == 1 and h.enhancement_mode == "AUTO"
        assert h.enhanced_https_url == res.enhanced_url and h.provider == "local"
        assert h.size_metadata["reduction_percent"] == res.size_reduction_percent
        assert "blur_before" in h.quality_metadata and "improvement_percent" in h.quality_metadata
        assert h.created_at.microsecond or True  # DATETIME(6) keeps microseconds on MariaDB
    if service.storage.kind == "s3":
        head = service.storage.client.head_object(Bucket=service.storage.bucket, Key=res.enhanced_key)
        assert head["ServerSideEncryption"] == "AES256" and head["ContentType"] == "image/jpeg"
        assert res.enhanced_url.endswith(res.enhanced_key)


def test_reenhance_adds_history_row_and_keeps_original(service):
    data = photo_bytes("chelsea", size=(600, 400))
    first = service.upload_and_enhance(data, "cat.png", mode="OPTIMIZE")
    second = service.reenhance(first.image_id, mode="LIGHT_CORRECTION", target_size_kb=50, output_format="WEBP")
    third = service.upload_and_enhance(data, "cat.png", mode="SHARPEN")  # same photo, same SKU
    assert (second.enhancement_sequence, third.enhancement_sequence) == (2, 3)
    assert second.enhanced_key.endswith("_2_cat.webp") and second.enhanced_size_kb <= 50
    assert service.read(first.original_key) == data
    assert _rows(service) == (1, 3)
    with service.session() as s:
        img = s.get(ProductImage, first.image_id)
        assert [h.enhancement_sequence for h in img.history] == [1, 2, 3]
        assert img.enhanced_key == third.enhanced_key and img.enhancement_mode == "SHARPEN"


@pytest.mark.parametrize("bad", [b"", b"hello world", b"<html><body>x</body></html>",
                                 b"<svg xmlns='http://www.w3.org/2000/svg'/>", bytes(range(256)) * 40])
def test_bad_input_writes_nothing(service, bad):
    with pytest.raises(InvalidImageError):
        service.upload_and_enhance(bad, "broken.jpg")
    assert _rows(service) == (0, 0) and _stored_keys(service.storage) == set()


def test_truncated_jpeg_is_rejected_cleanly(service):
    data = photo_bytes(size=(400, 300))
    with pytest.raises(InvalidImageError):
        service.upload_and_enhance(data[:200], "cut.jpg")
    assert _rows(service) == (0, 0)


def test_sku_taken_by_another_photo_is_refused(service):
    service.upload_and_enhance(photo_bytes(seed=1), "a.jpg", sku_id="SKU-1")
    with pytest.raises(DuplicateSkuError, match="SKU-1"):
        service.upload_and_enhance(photo_bytes(seed=2), "b.jpg", sku_id="SKU-1")
    assert _rows(service) == (1, 1)


def test_storage_failure_on_enhanced_put_leaves_nothing(service, monkeypatch):
    real_put = service.storage.put

    def put(key, data, *, content_type):
        if key.startswith("uploads/enhanced/"):
            raise StorageError("disk full")
        return real_put(key, data, content_type=content_type)

    monkeypatch.setattr(service.storage, "put", put)
    with pytest.raises(StorageError, match="disk full"):
        service.upload_and_enhance(photo_bytes(), "x.jpg")
    assert _rows(service) == (0, 0) and _stored_keys(service.storage) == set()


def test_database_failure_on_commit_removes_objects(service):
    from sqlalchemy import event
    from sqlalchemy.exc import OperationalError

    def boom(conn):  # fires as the real COMMIT is about to go to the server
        raise OperationalError("COMMIT", {}, Exception("server has gone away"))

    event.listen(service.engine, "commit", boom)
    try:
        with pytest.raises(DatabaseError, match="gone away"):
            service.upload_and_enhance(photo_bytes(), "x.jpg")
    finally:
        event.remove(service.engine, "commit", boom)
    assert _rows(service) == (0, 0) and _stored_keys(service.storage) == set()


def test_enhancement_crash_records_failed_row_with_original(service, monkeypatch):
    import enhancer.service as svc_mod

    def crash(*a, **k):
        raise RuntimeError("out of cheese")

    monkeypatch.setattr(svc_mod, "enhance", crash)
    res = service.upload_and_enhance(photo_bytes(), "x.jpg")
    assert not res.success and "out of cheese" in res.error
    with service.session() as s:
        img = s.get(ProductImage, res.image_id)
        assert img.status is ImageStatus.FAILED and "out of cheese" in img.error_message
        assert img.history == []
    assert _stored_keys(service.storage) == {res.original_key}


def test_review_approve_makes_variant_current(service):
    first = service.upload_and_enhance(photo_bytes(), "p.jpg", mode="OPTIMIZE")
    second = service.reenhance(first.image_id, mode="AUTO", output_format="PNG")
    service.set_review(first.database_id, "approve")
    with service.session() as s:
        img = s.get(ProductImage, first.image_id)
        assert img.review_status is ReviewStatus.APPROVED and img.enhanced_key == first.enhanced_key
        states = {h.enhancement_sequence: h.review_status for h in img.history}
        assert states == {1: ReviewStatus.APPROVED, 2: ReviewStatus.REJECTED}
    with pytest.raises(ValueError):
        service.set_review(second.database_id, "maybe")


def test_local_variants_wait_for_review(service):
    res = service.upload_and_enhance(photo_bytes(), "v.jpg", mode="AUTO", variants=3)
    assert len(res.variants) == 2 and res.enhancement_sequence == 1
    with service.session() as s:
        img = s.get(ProductImage, res.image_id)
        assert img.review_status is ReviewStatus.PENDING_REVIEW
        assert [h.enhancement_mode for h in img.history] == ["AUTO", "LIGHT_CORRECTION", "FULL"]
        assert {h.review_status for h in img.history} == {ReviewStatus.PENDING}
    service.set_review(res.variants[1]["database_id"], "approved")
    with service.session() as s:
        img = s.get(ProductImage, res.image_id)
        assert img.review_status is ReviewStatus.APPROVED
        assert img.enhanced_key == res.variants[1]["enhanced_key"] and img.enhancement_mode == "FULL"


def test_reuse_existing_returns_earlier_result(service):
    data = photo_bytes(seed=5)
    first = service.upload_and_enhance(data, "r.jpg", mode="OPTIMIZE", target_size_kb=80)
    again = service.upload_and_enhance(data, "r.jpg", mode="OPTIMIZE", target_size_kb=80, reuse_existing=True)
    other = service.upload_and_enhance(data, "r.jpg", mode="OPTIMIZE", target_size_kb=60, reuse_existing=True)
    assert again.reused and again.database_id == first.database_id
    assert not other.reused and other.enhancement_sequence == 2
    assert _rows(service) == (1, 2)


class _FakeProvider:
    """In-process provider for unit tests (the stub-server tests cover the real wire formats)."""

    name = "fake"

    def __init__(self, fail_with=None):
        self.fail_with = fail_with

    def analyze(self, data):
        from types import SimpleNamespace
        return SimpleNamespace(findings={"suggested_mode": "LIGHT_CORRECTION"}, usage={"total_tokens": 10})

    def edit(self, data, *, prompt=None, variant=0):
        from types import SimpleNamespace
        if self.fail_with:
            raise self.fail_with
        return SimpleNamespace(data=photo_bytes("coffee", size=(500, 400)), provider="fake", model_version="m-1",
                               response_id=f"resp-{variant}", usage={"total_tokens": 100}, prompt="p")


def test_ai_result_is_traceable(service):
    service.providers["fake"] = _FakeProvider()
    res = service.upload_and_enhance(photo_bytes(), "ai.jpg", ai="fake", target_size_kb=100)
    assert res.success and res.provider == "fake" and not res.fell_back
    with service.session() as s:
        (h,) = s.get(ProductImage, res.image_id).history
        assert (h.provider, h.model_version, h.response_id) == ("fake", "m-1", "resp-0")
        assert h.provider_metadata["usage"] == {"total_tokens": 100}
        assert h.provider_metadata["findings"]["suggested_mode"] == "LIGHT_CORRECTION"
        assert h.enhanced_size_bytes <= 100 * 1024


def test_ai_failure_falls_back_to_local_and_is_recorded(service):
    from enhancer.errors import ProviderError

    service.providers["fake"] = _FakeProvider(ProviderError("503 unavailable", status_code=503, provider="fake"))
    res = service.upload_and_enhance(photo_bytes(), "fb.jpg", ai="fake")
    assert res.success and res.fell_back and res.provider == "local"
    with service.session() as s:
        (h,) = s.get(ProductImage, res.image_id).history
        assert h.processing_status == "fallback" and h.provider_metadata["status_code"] == 503
        assert h.provider_metadata["requested_provider"] == "fake"


def test_unknown_ai_provider_is_a_clear_error(service):
    with pytest.raises(ValueError, match="not configured"):
        service.upload_and_enhance(photo_bytes(), "x.jpg", ai="nope")
    assert _rows(service) == (0, 0)
