"""The whole flow on both backends: SQLite + local folder, MariaDB + S3 over HTTP.

Rows are counted and objects listed directly; every test ends with "no object
without a row, no row pointing at a missing object".
"""
from __future__ import annotations

import dataclasses

import pytest
from sqlalchemy import func, select

from db import EnhancementHistory, Product, ProductImage, repo
from db.models import AUTO_REVIEWER, ImageStatus, ProductStatus, ReviewStatus
from enhancer import InvalidImageError
from enhancer.errors import DatabaseError, StorageError
from enhancer.service import decide, delete_image, delete_product
from support import decode, heic_bytes, photo_bytes, referenced_keys, reup, ssim, stored_keys, up


def _rows(b):
    with b.session() as s:
        return (s.scalar(select(func.count()).select_from(ProductImage)),
                s.scalar(select(func.count()).select_from(EnhancementHistory)))


def _consistent(b) -> None:
    """No orphan object, no row pointing at a missing object."""
    assert stored_keys(b.storage) == referenced_keys(b.engine)


def test_upload_stores_both_files_and_records_both_rows(service):
    data = photo_bytes(size=(800, 600))
    res = up(service, data, "Red Shoe.jpg", mode="auto", target_size_kb=60)
    assert res.success and res.sku_id == "Red_Shoe" and res.enhancement_sequence == 1
    assert res.enhanced_size_kb <= 60 and res.position == 1
    assert res.original_key == f"uploads/original/{res.image_id}_Red_Shoe.jpg"
    assert res.enhanced_key == f"uploads/enhanced/{res.database_id}_Red_Shoe.jpg"
    assert stored_keys(service.storage) == {res.original_key, res.enhanced_key,
                                            f"uploads/thumbs/{res.database_id}.jpg"}
    assert service.storage.get(res.original_key) == data  # original kept byte for byte
    assert ssim(decode(service.storage.get(res.enhanced_key)), decode(data)) > 0.8

    with service.session() as s:
        img = s.get(ProductImage, res.image_id)
        assert img.status is ImageStatus.COMPLETED and img.sku_id == "Red_Shoe"
        assert (img.original_width, img.original_height) == (800, 600)
        assert img.original_size_bytes == len(data) and len(img.content_sha256) == 64
        # a single local result has nothing to choose: approved automatically, and it says so
        assert img.review_status is ReviewStatus.APPROVED and img.reviewed_by == AUTO_REVIEWER
        assert img.product.sku_id == "Red_Shoe" and img.product.status is ProductStatus.APPROVED
        assert img.is_main and res.product_id == img.product_id
        (h,) = img.history
        assert h.id == res.database_id and h.enhancement_sequence == 1 and h.enhancement_mode == "AUTO"
        assert h.enhanced_https_url == res.enhanced_url and h.provider == "local"
        assert h.size_metadata["reduction_percent"] == res.size_reduction_percent
        assert "blur_before" in h.quality_metadata and "improvement_percent" in h.quality_metadata
        assert h.options_key and h.content_sha256 == img.content_sha256
    if service.storage.kind == "s3":
        head = service.storage.client.head_object(Bucket=service.storage.bucket, Key=res.enhanced_key)
        assert head["ServerSideEncryption"] == "AES256" and head["ContentType"] == "image/jpeg"
        assert res.enhanced_url.endswith(res.enhanced_key)
    _consistent(service)


def test_reenhance_adds_history_row_and_keeps_original(service):
    data = photo_bytes("chelsea", size=(600, 400))
    first = up(service, data, "cat.png", mode="OPTIMIZE")
    second = reup(service, first.image_id, mode="LIGHT_CORRECTION", target_size_kb=50, output_format="WEBP")
    third = up(service, data, "cat.png", mode="SHARPEN")  # same photo, same SKU, other options
    assert (second.enhancement_sequence, third.enhancement_sequence) == (2, 3)
    assert second.enhanced_key.endswith("_cat.webp") and second.enhanced_size_kb <= 50
    assert service.storage.get(first.original_key) == data
    assert _rows(service) == (1, 3)
    with service.session() as s:
        img = s.get(ProductImage, first.image_id)
        assert [h.enhancement_sequence for h in img.history] == [1, 2, 3]
        # nobody approved anything by hand: the newest single local result is the current file
        assert img.enhanced_key == third.enhanced_key and img.enhancement_mode == "SHARPEN"
    _consistent(service)


def test_a_product_has_many_photos(service):
    first = up(service, photo_bytes(seed=1), "front.jpg", sku_id="SHOE-9", mode="OPTIMIZE")
    back = up(service, photo_bytes("chelsea", seed=2), "back.jpg", sku_id="SHOE-9", mode="OPTIMIZE")
    side = up(service, photo_bytes("coffee", seed=3), "side.jpg", sku_id="SHOE-9", mode="OPTIMIZE")
    again = up(service, photo_bytes(seed=1), "front copy.jpg", sku_id="SHOE-9", mode="AUTO")
    assert first.product_id == back.product_id == side.product_id == again.product_id
    assert [first.position, back.position, side.position] == [1, 2, 3]
    assert again.image_id == first.image_id and again.enhancement_sequence == 2  # same bytes: same image
    with service.session() as s:
        product = repo.product_by_sku(s, "SHOE-9")
        images = repo.product_images(s, product.id)
        assert [i.original_filename for i in images] == ["front.jpg", "back.jpg", "side.jpg"]
        assert [i.is_main for i in images] == [True, False, False]
        assert s.scalar(select(func.count()).select_from(Product)) == 1
        total, page = repo.list_images(s, repo.ImageFilter(sku_id="SHOE-9"))
        assert total == 3
    _consistent(service)


def test_an_approval_holds_when_a_later_run_adds_results(service):
    """An operator approved variant #1; a later run on the same SKU adds #4…: #1 stays current and approved."""
    data = photo_bytes(seed=4)
    res = up(service, data, "bag.jpg", sku_id="BAG-1", mode="AUTO", variants=3)
    decide(service, res.database_id, "approve", actor="ann@example.com")
    later = up(service, data, "bag.jpg", sku_id="BAG-1", mode="LIGHT_CORRECTION")
    assert later.enhancement_sequence == 4 and later.review_status == "pending_review"
    with service.session() as s:
        img = s.get(ProductImage, res.image_id)
        assert img.enhanced_key == res.enhanced_key  # the approved file is still the one shipped
        assert img.review_status is ReviewStatus.APPROVED and img.reviewed_by == "ann@example.com"
        assert img.product.status is ProductStatus.PENDING_REVIEW  # a person has a new choice to make
        total, approved = repo.list_images(s, repo.ImageFilter(review_status="approved"))
        assert [i.id for i in approved] == [res.image_id]
        queued, _ = repo.review_queue(s)
        assert queued == 1
    # rejecting the newcomer is recorded and changes nothing else
    d = decide(service, later.database_id, "reject", actor="bob")
    assert d.image_review_status == "approved"
    with service.session() as s:
        h = s.get(EnhancementHistory, later.database_id)
        assert (h.review_status, h.reviewed_by) == (ReviewStatus.REJECTED, "bob") and h.reviewed_at
        img = s.get(ProductImage, res.image_id)
        assert img.enhanced_key == res.enhanced_key and img.product.status is ProductStatus.APPROVED


def test_review_approve_makes_variant_current(service):
    first = up(service, photo_bytes(), "p.jpg", mode="OPTIMIZE")
    second = reup(service, first.image_id, mode="AUTO", output_format="PNG")
    decide(service, first.database_id, "approve", actor="ann")
    with service.session() as s:
        img = s.get(ProductImage, first.image_id)
        assert img.review_status is ReviewStatus.APPROVED and img.enhanced_key == first.enhanced_key
        states = {h.enhancement_sequence: h.review_status for h in img.history}
        assert states == {1: ReviewStatus.APPROVED, 2: ReviewStatus.REJECTED}
    with pytest.raises(ValueError):
        decide(service, second.database_id, "maybe")


def test_local_variants_wait_for_review(service):
    res = up(service, photo_bytes(), "v.jpg", mode="AUTO", variants=3)
    assert len(res.variants) == 2 and res.enhancement_sequence == 1 and res.review_status == "pending_review"
    with service.session() as s:
        img = s.get(ProductImage, res.image_id)
        assert img.review_status is ReviewStatus.PENDING_REVIEW
        assert img.product.status is ProductStatus.PENDING_REVIEW
        assert [h.enhancement_mode for h in img.history] == ["AUTO", "LIGHT_CORRECTION", "FULL"]
        assert {h.review_status for h in img.history} == {ReviewStatus.PENDING_REVIEW}
    decide(service, res.variants[1]["database_id"], "approved", actor="ann")
    with service.session() as s:
        img = s.get(ProductImage, res.image_id)
        assert img.review_status is ReviewStatus.APPROVED
        assert img.enhanced_key == res.variants[1]["enhanced_key"] and img.enhancement_mode == "FULL"
        assert img.product.status is ProductStatus.APPROVED


def test_review_all_sends_single_results_to_review(service):
    b = dataclasses.replace(service, review_all=True)
    res = up(b, photo_bytes(), "x.jpg", mode="OPTIMIZE")
    assert res.review_status == "pending_review"


def test_same_bytes_and_options_are_reused(service):
    data = photo_bytes(seed=5)
    first = up(service, data, "r.jpg", mode="OPTIMIZE", target_size_kb=80)
    again = up(service, data, "r.jpg", mode="OPTIMIZE", target_size_kb=80)
    other = up(service, data, "r.jpg", mode="OPTIMIZE", target_size_kb=60)
    forced = up(service, data, "r.jpg", mode="OPTIMIZE", target_size_kb=80, force=True)
    assert again.reused and again.database_id == first.database_id
    assert not other.reused and other.enhancement_sequence == 2
    assert not forced.reused and forced.enhancement_sequence == 3
    assert _rows(service) == (1, 3)


def test_same_bytes_under_another_sku_get_their_own_record(service):
    data = photo_bytes(seed=6)
    a = up(service, data, "a.jpg", sku_id="SKU-A", mode="OPTIMIZE", target_size_kb=80)
    b = up(service, data, "a.jpg", sku_id="SKU-B", mode="OPTIMIZE", target_size_kb=80)
    assert b.reused and b.copied_from == a.database_id and b.sku_id == "SKU-B"
    assert b.image_id != a.image_id and b.enhanced_key != a.enhanced_key
    assert service.storage.get(b.enhanced_key) == service.storage.get(a.enhanced_key)
    assert _rows(service) == (2, 2)
    delete_product(service, "SKU-A")  # nothing of SKU-B is lost
    assert service.storage.get(b.enhanced_key) and service.storage.get(b.original_key) == data
    _consistent(service)


@pytest.mark.parametrize("fmt", ["HEIF", "AVIF"])
def test_heic_and_avif_uploads(service, fmt):
    res = up(service, heic_bytes(fmt=fmt), f"iphone.{fmt.lower()}", mode="OPTIMIZE")
    assert res.success and res.format == "JPEG" and (res.original_width, res.original_height) == (320, 240)
    with service.session() as s:
        assert s.get(ProductImage, res.image_id).original_format == fmt


@pytest.mark.parametrize("bad", [b"", b"hello world", b"<html><body>x</body></html>",
                                 b"<svg xmlns='http://www.w3.org/2000/svg'/>", bytes(range(256)) * 40])
def test_bad_input_writes_nothing(service, bad):
    with pytest.raises(InvalidImageError):
        up(service, bad, "broken.jpg")
    assert _rows(service) == (0, 0) and stored_keys(service.storage) == set()


def test_truncated_jpeg_is_rejected_cleanly(service):
    data = photo_bytes(size=(400, 300))
    with pytest.raises(InvalidImageError):
        up(service, data[:200], "cut.jpg")
    assert _rows(service) == (0, 0) and stored_keys(service.storage) == set()
    with service.session() as s:
        assert s.scalar(select(func.count()).select_from(Product)) == 0


@pytest.mark.parametrize("sku", ["x" * 129, "bad\x00sku", "tab\tsku"])
def test_bad_skus_are_refused_not_cut(service, sku):
    with pytest.raises(ValueError, match="SKU"):
        up(service, photo_bytes(), "x.jpg", sku_id=sku)
    assert _rows(service) == (0, 0)


def test_storage_failure_on_enhanced_put_keeps_the_upload_as_failed(service, monkeypatch):
    real_put = service.storage.put

    def put(key, data, *, content_type):
        if key.startswith("uploads/enhanced/"):
            raise StorageError("disk full")
        return real_put(key, data, content_type=content_type)

    monkeypatch.setattr(service.storage, "put", put)
    with pytest.raises(StorageError, match="disk full"):
        up(service, photo_bytes(), "x.jpg")
    with service.session() as s:
        (img,) = s.scalars(select(ProductImage))
        assert img.status is ImageStatus.FAILED and "disk full" in img.error_message and not img.history
    _consistent(service)  # the original stays (re-enhance retries it); no result object is left


def test_database_failure_on_commit_removes_objects(service):
    from sqlalchemy import event
    from sqlalchemy.exc import OperationalError

    def boom(conn):  # fires as the real COMMIT is about to go to the server
        raise OperationalError("COMMIT", {}, Exception("server has gone away"))

    event.listen(service.engine, "commit", boom)
    try:
        with pytest.raises(DatabaseError, match="gone away"):
            up(service, photo_bytes(), "x.jpg")
    finally:
        event.remove(service.engine, "commit", boom)
    assert _rows(service) == (0, 0) and stored_keys(service.storage) == set()


def test_enhancement_crash_records_failed_row_with_original(service, monkeypatch):
    import enhancer.service.produce as produce_mod

    def crash(*a, **k):
        raise RuntimeError("out of cheese")

    monkeypatch.setattr(produce_mod, "enhance", crash)
    res = up(service, photo_bytes(), "x.jpg")
    assert not res.success and "out of cheese" in res.error
    with service.session() as s:
        img = s.get(ProductImage, res.image_id)
        assert img.status is ImageStatus.FAILED and "out of cheese" in img.error_message
        assert img.history == [] and img.product.status is ProductStatus.FAILED
    assert stored_keys(service.storage) == {res.original_key}


def test_delete_image_and_product_leave_no_orphans(service):
    a = up(service, photo_bytes(seed=1), "a.jpg", sku_id="P-1", mode="AUTO", variants=2)
    b = up(service, photo_bytes(seed=2), "b.jpg", sku_id="P-1", mode="OPTIMIZE")
    c = up(service, photo_bytes(seed=3), "c.jpg", sku_id="P-2", mode="OPTIMIZE")
    gone = delete_image(service, a.image_id)
    assert gone.images == 1 and gone.objects == 5  # original + 2 results + 2 thumbnails
    with service.session() as s:
        (left,) = repo.product_images(s, b.product_id)
        assert left.id == b.image_id and left.is_main  # the next image becomes the main one
    _consistent(service)
    delete_product(service, "P-1")
    assert _rows(service) == (1, 1)
    assert stored_keys(service.storage) == {c.original_key, c.enhanced_key, f"uploads/thumbs/{c.database_id}.jpg"}
    _consistent(service)
    with pytest.raises(Exception, match="No image"):
        delete_image(service, a.image_id)


class _FakeProvider:
    """In-process provider for unit tests (the stub-server tests cover the real wire formats)."""

    name = "gemini"

    def __init__(self, fail_with=None):
        self.fail_with = fail_with

    def analyze(self, data):
        from types import SimpleNamespace
        return SimpleNamespace(findings={"suggested_mode": "LIGHT_CORRECTION"}, usage={"total_tokens": 10})

    def edit(self, data, *, prompt=None, variant=0):
        from types import SimpleNamespace
        if self.fail_with:
            raise self.fail_with
        return SimpleNamespace(data=photo_bytes("coffee", size=(500, 400)), provider="gemini", model_version="m-1",
                               response_id=f"resp-{variant}", usage={"total_tokens": 100}, prompt="p")


def test_ai_result_is_traceable_and_goes_to_review(service):
    b = dataclasses.replace(service, providers={"gemini": _FakeProvider()})
    res = up(b, photo_bytes(), "ai.jpg", ai="gemini", target_size_kb=100)
    assert res.success and res.provider == "gemini" and not res.fell_back
    assert res.review_status == "pending_review"  # an AI result is a person's decision
    with b.session() as s:
        (h,) = s.get(ProductImage, res.image_id).history
        assert (h.provider, h.model_version, h.response_id) == ("gemini", "m-1", "resp-0")
        assert h.provider_metadata["usage"] == {"total_tokens": 100}
        assert h.provider_metadata["findings"]["suggested_mode"] == "LIGHT_CORRECTION"
        assert h.enhanced_size_bytes <= 100 * 1024


def test_an_ai_batch_never_reuses_a_local_result(service):
    data = photo_bytes(seed=8)
    b = dataclasses.replace(service, providers={"gemini": _FakeProvider()})
    local = up(b, data, "x.jpg", mode="AUTO")
    ai = up(b, data, "x.jpg", mode="AUTO", ai="gemini", variants=3)
    assert not ai.reused and ai.enhancement_sequence == 2 and len(ai.variants) == 2
    assert ai.database_id != local.database_id


def test_ai_failure_falls_back_to_local_and_is_recorded(service):
    from enhancer.errors import ProviderError

    b = dataclasses.replace(service, providers={
        "gemini": _FakeProvider(ProviderError("503 unavailable", status_code=503, provider="gemini"))})
    res = up(b, photo_bytes(), "fb.jpg", ai="gemini")
    assert res.success and res.fell_back and res.provider == "local"
    with b.session() as s:
        (h,) = s.get(ProductImage, res.image_id).history
        assert h.processing_status == "fallback" and h.provider_metadata["status_code"] == 503
        assert h.provider_metadata["requested_provider"] == "gemini"


def test_unknown_ai_provider_is_a_clear_error(service):
    with pytest.raises(ValueError, match="not configured"):
        up(service, photo_bytes(), "x.jpg", ai="bedrock")
    with pytest.raises(ValueError, match="AI provider must be one of"):
        up(service, photo_bytes(), "x.jpg", ai="nope")
    assert _rows(service) == (0, 0) and stored_keys(service.storage) == set()
