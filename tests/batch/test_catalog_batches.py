"""Bulk runs over the catalog rules, on both backends: products, approvals that hold, one reuse rule, HEIC, delete."""
from __future__ import annotations

import zipfile

from sqlalchemy import func, select

from batch.photoserver import image, write_manifest
from db import batch_repo as br
from db import repo
from db.batch_models import ItemStatus
from db.models import EnhancementHistory, ProductImage, ReviewStatus
from enhancer.batch import BatchRunner, create_batches
from enhancer.batch.control import family_status, request
from enhancer.batch.fetch import FetchPolicy, Fetcher
from enhancer.options import EnhanceOptions
from enhancer.service import decide, delete_batch
from support import heic_bytes, photo_bytes, referenced_keys, stored_keys, up


def runner(b, **kw):
    fetch = Fetcher(FetchPolicy(allow_private=True, retries=1, backoff_s=0.01, read_timeout=2))
    return BatchRunner(b, workers=2, fetcher=fetch, poll_s=0.05, **kw)


def _items(b, bid):
    with b.session() as s:
        return br.items(s, bid)


def test_an_approval_holds_through_a_later_bulk_run(service, tmp_path):
    """Approved variant #1; a bulk run with the same SKU adds results; #1 stays current and approved."""
    data = photo_bytes(seed=11)
    first = up(service, data, "TEE-1.jpg", sku_id="TEE-1", mode="AUTO", variants=3)
    decide(service, first.database_id, "approve", actor="ann")
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "TEE-1.jpg").write_bytes(data)
    (folder / "TEE-2.jpg").write_bytes(photo_bytes("chelsea", seed=12))
    (bid,) = create_batches(service, folder, options=EnhanceOptions.parse("LIGHT_CORRECTION"))
    sm = runner(service).run(bid)
    assert (sm.completed, sm.failed) == (2, 0)
    with service.session() as s:
        img = s.get(ProductImage, first.image_id)
        assert img.enhanced_key == first.enhanced_key and img.review_status is ReviewStatus.APPROVED
        assert img.reviewed_by == "ann" and len(img.history) == 4
        assert img.history[-1].review_status is ReviewStatus.PENDING_REVIEW  # waits for a person
        _, approved = repo.list_images(s, repo.ImageFilter(review_status="approved"))
        assert first.image_id in {i.id for i in approved}


def test_same_bytes_under_two_skus_in_one_batch_each_get_a_record(service, photo_server, tmp_path):
    url = photo_server.url("/img/41.jpg")
    manifest = write_manifest(tmp_path / "m.csv", [{"sku_id": "A-1", "image_url": url},
                                                   {"sku_id": "B-1", "image_url": url}])
    (bid,) = create_batches(service, manifest, options=EnhanceOptions.parse("OPTIMIZE", 80))
    sm = runner(service).run(bid)
    assert (sm.completed, sm.failed, sm.skipped) == (2, 0, 0)
    with service.session() as s:
        a, b = (repo.product_by_sku(s, k) for k in ("A-1", "B-1"))
        assert len(a.images) == 1 and len(b.images) == 1 and a.images[0].id != b.images[0].id
    items = {i.sku_id: i for i in _items(service, bid)}
    assert items["A-1"].product_image_id != items["B-1"].product_image_id
    assert stored_keys(service.storage) == referenced_keys(service.engine)


def test_heic_through_zip_and_url(service, photo_server, tmp_path):
    z = tmp_path / "phones.zip"
    with zipfile.ZipFile(z, "w") as zf:
        zf.writestr("IMG_0001.HEIC", heic_bytes("astronaut"))
        zf.writestr("IMG_0002.avif", heic_bytes("chelsea", fmt="AVIF"))
    (bid,) = create_batches(service, z, options=EnhanceOptions.parse("OPTIMIZE"))
    sm = runner(service).run(bid)
    assert (sm.completed, sm.failed) == (2, 0), [i.error for i in _items(service, bid)]
    manifest = write_manifest(tmp_path / "m.csv", [{"sku_id": "PHONE", "image_url": photo_server.url("/heic/1.heic")}])
    (bid,) = create_batches(service, manifest, options=EnhanceOptions.parse("OPTIMIZE"))
    assert runner(service).run(bid).completed == 1
    with service.session() as s:
        formats = set(s.scalars(select(ProductImage.original_format)))
    assert formats == {"HEIF", "AVIF"}


def test_ai_variants_batch_after_a_local_run_does_not_reuse(service, tmp_path):
    from types import SimpleNamespace
    import dataclasses

    class Fake:
        name, variants = "gemini", ("a", "b", "c")

        def analyze(self, data):
            return SimpleNamespace(findings={}, usage={})

        def edit(self, data, *, prompt=None, variant=0):
            return SimpleNamespace(data=photo_bytes("coffee", size=(400, 300), seed=variant), provider="gemini",
                                   model_version="m", response_id=f"r{variant}", usage={}, prompt=str(variant))

    b = dataclasses.replace(service, providers={"gemini": Fake()})
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "CUP.jpg").write_bytes(photo_bytes(seed=21))
    (local,) = create_batches(b, folder, options=EnhanceOptions.parse("AUTO"), name="local")
    assert runner(b).run(local).completed == 1
    (ai,) = create_batches(b, folder, options=EnhanceOptions.parse("AUTO", ai="gemini", variants=3), name="ai")
    sm = runner(b).run(ai)
    assert (sm.completed, sm.skipped) == (1, 0)
    with b.session() as s:
        rows = list(s.scalars(select(EnhancementHistory).order_by(EnhancementHistory.enhancement_sequence)))
        assert [r.provider for r in rows] == ["local", "gemini", "gemini", "gemini"]
        assert {r.review_status for r in rows[1:]} == {ReviewStatus.PENDING_REVIEW}


def test_rerunning_a_batch_reuses_and_delete_batch_leaves_no_orphans(service, tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    for i in range(3):
        (folder / f"S-{i}.jpg").write_bytes(photo_bytes(seed=30 + i))
    keep = up(service, photo_bytes(seed=99), "keep.jpg", sku_id="KEEP", mode="OPTIMIZE")
    (bid,) = create_batches(service, folder, options=EnhanceOptions.parse("OPTIMIZE", 80), name="one")
    assert runner(service).run(bid).completed == 3
    (again,) = create_batches(service, folder, options=EnhanceOptions.parse("OPTIMIZE", 80), name="two")
    sm = runner(service).run(again)
    assert (sm.completed, sm.skipped) == (0, 3)  # same bytes, same options: reused, nothing new
    gone = delete_batch(service, bid)
    assert gone.images == 3 and gone.batches == 1
    with service.session() as s:
        assert s.scalar(select(func.count()).select_from(ProductImage)) == 1
        assert br.get_batch(s, bid) is None
        assert all(i.product_image_id is None for i in br.items(s, again))  # no item points at a deleted image
    assert stored_keys(service.storage) == referenced_keys(service.engine)
    assert service.storage.get(keep.enhanced_key)


def test_split_upload_is_steered_as_one(service, tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    for i in range(5):
        (folder / f"P-{i}.jpg").write_bytes(image(i + 200))
    ids = create_batches(service, folder, options=EnhanceOptions.parse("OPTIMIZE"), max_batch_size=2, name="Big")
    assert len(ids) == 3
    request(service, ids[1], "pause")  # any part steers the whole upload
    fam = family_status(service, ids[2])
    assert fam["status"] == "paused" and fam["total"] == 5 and fam["parent_batch_id"] == ids[0]
    assert [p["name"] for p in fam["batches"]] == ["Big_Part1of3", "Big_Part2of3", "Big_Part3of3"]
    request(service, ids[0], "resume")
    for bid in ids:
        runner(service).run(bid)
    fam = family_status(service, ids[0])
    assert fam["status"] == "completed" and fam["completed"] == 5 and fam["pending"] == 0
    assert {i.status for bid in ids for i in _items(service, bid)} == {ItemStatus.COMPLETED}
