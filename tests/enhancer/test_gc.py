"""The reconciler on both backends: orphans older than the grace go, young ones stay, lost files fail their rows."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import text

from db import make_engine
from enhancer.gc import reconcile
from enhancer.service import Backends
from support import photo_bytes, up

LATER = timedelta(hours=2)  # "now" for a pass run two hours after the uploads: everything is past a 1 h grace


@pytest.fixture
def world(backend):
    url, storage = backend
    engine = make_engine(url)
    svc = Backends(engine, storage)
    ids = [up(svc, photo_bytes(size=(320, 240), seed=i), f"p{i}.jpg", sku_id=f"GC-{i}",
              mode="OPTIMIZE").image_id for i in range(2)]
    yield engine, storage, ids
    engine.dispose()


def _keys(engine, image_id):
    with engine.connect() as c:
        return c.execute(text("SELECT original_key, enhanced_key, thumbnail_key, status, error_message "
                              "FROM product_images WHERE id = :i"), {"i": image_id}).one()


def _objects(storage):
    return {o.key for o in storage.list()}


def test_a_clean_store_is_left_alone(world):
    engine, storage, ids = world
    before = _objects(storage)
    r = reconcile(engine, storage, now=datetime.now(timezone.utc) + LATER)
    assert (r.orphans_deleted, r.images_failed, r.images_interrupted, r.history_missing) == ([], [], [], [])
    assert r.objects_seen == len(before) >= 6 and _objects(storage) == before


def test_old_orphans_go_young_ones_and_foreign_objects_stay(world):
    engine, storage, ids = world
    referenced = _objects(storage)
    orphans = ["uploads/original/deadbeef_shoe.jpg", "uploads/enhanced/deadbeef_1_shoe.jpg",
               "uploads/thumbs/deadbeef_1.jpg", "uploads/original/.tmp-abc.jpg"]
    for k in orphans + ["other/not-ours.txt"]:
        storage.put(k, b"x", content_type="image/jpeg")

    young = reconcile(engine, storage)  # right now: every orphan is inside the grace period
    assert young.orphans_deleted == [] and young.kept_young == len(orphans)

    dry = reconcile(engine, storage, now=datetime.now(timezone.utc) + LATER, dry_run=True)
    assert sorted(dry.orphans_deleted) == sorted(orphans) and _objects(storage) >= set(orphans)
    assert any("would delete orphan uploads/thumbs/deadbeef_1.jpg" in line for line in dry.lines())

    done = reconcile(engine, storage, now=datetime.now(timezone.utc) + LATER)
    assert sorted(done.orphans_deleted) == sorted(orphans)
    assert _objects(storage) == referenced | {"other/not-ours.txt"}  # rows' objects and other prefixes stay
    assert reconcile(engine, storage, now=datetime.now(timezone.utc) + LATER).orphans_deleted == []


def test_a_commit_landing_during_the_pass_keeps_its_objects(world):
    engine, storage, ids = world
    key = "uploads/original/cafef00d_late.jpg"
    storage.put(key, b"x", content_type="image/jpeg")

    class LateCommit:  # the listing sees the object; the row commits right after the listing
        def __getattr__(self, name):
            return getattr(storage, name)

        def list(self, prefix=""):
            yield from storage.list(prefix)
            with engine.begin() as c:
                c.execute(text("UPDATE product_images SET original_key = :k WHERE id = :i"), {"k": key, "i": ids[1]})

    r = reconcile(engine, LateCommit(), now=datetime.now(timezone.utc) + LATER)
    assert key not in r.orphans_deleted and storage.exists(key)


def test_rows_whose_objects_are_missing_are_marked_failed(world):
    engine, storage, ids = world
    lost = _keys(engine, ids[0]).enhanced_key
    storage.delete(lost)

    dry = reconcile(engine, storage, dry_run=True)
    assert dry.images_failed == [(ids[0], lost)] and _keys(engine, ids[0]).status == "COMPLETED"

    r = reconcile(engine, storage)
    assert r.images_failed == [(ids[0], lost)]
    row = _keys(engine, ids[0])
    assert row.status == "FAILED" and lost in row.error_message
    assert _keys(engine, ids[1]).status == "COMPLETED"
    assert [k for _h, k in r.history_missing] == [lost]  # its history row names the same file
    # The failed row still names its other objects, so they are not collected as orphans.
    again = reconcile(engine, storage, now=datetime.now(timezone.utc) + LATER)
    assert again.images_failed == [] and again.orphans_deleted == []
    assert storage.exists(row.original_key) and storage.exists(row.thumbnail_key)


def test_processing_rows_fail_only_after_the_grace(world):
    engine, storage, ids = world
    with engine.begin() as c:
        c.execute(text("UPDATE product_images SET status = 'PROCESSING' WHERE id = :i"), {"i": ids[1]})
    assert reconcile(engine, storage).images_interrupted == []  # young: maybe still running
    assert _keys(engine, ids[1]).status == "PROCESSING"
    r = reconcile(engine, storage, now=datetime.now(timezone.utc) + LATER)
    assert r.images_interrupted == [ids[1]]
    row = _keys(engine, ids[1])
    assert row.status == "FAILED" and "interrupted" in row.error_message


def test_history_rows_with_missing_files_are_reported(world):
    engine, storage, ids = world
    with engine.connect() as c:
        hid, thumb = c.execute(text("SELECT id, thumbnail_key FROM enhancement_history "
                                    "WHERE product_image_id = :i"), {"i": ids[1]}).first()
    storage.delete(thumb)
    r = reconcile(engine, storage)
    assert (hid, thumb) in r.history_missing


def test_bad_grace_is_refused(world):
    engine, storage, _ = world
    with pytest.raises(ValueError, match="grace_s"):
        reconcile(engine, storage, grace_s=-1)


def test_periodic_passes_run_until_stopped(world):
    import threading
    import time

    from enhancer.gc import start_periodic

    engine, storage, _ = world
    stop = threading.Event()
    storage.put("uploads/original/0ddba11_x.jpg", b"x", content_type="image/jpeg")
    t = start_periodic(engine, storage, stop=stop, every_s=0.05, grace_s=0)
    deadline = time.monotonic() + 20
    while storage.exists("uploads/original/0ddba11_x.jpg") and time.monotonic() < deadline:
        time.sleep(0.05)
    stop.set()
    t.join(10)
    assert not storage.exists("uploads/original/0ddba11_x.jpg") and not t.is_alive()


def test_staged_batch_sources_go_with_their_batch_and_strays_are_reclaimed(world, tmp_path):
    """Photos staged for workers are deleted with their batch; those of a batch that no longer exists
    (a submit that died after staging, a failed delete) go at the next pass past the grace."""
    from enhancer.batch import create_batches
    from enhancer.batch.stage import prefix, stage_batches
    from enhancer.options import EnhanceOptions
    from enhancer.service import delete_batch

    engine, storage, _ = world
    svc = Backends(engine, storage)
    folder = tmp_path / "shoot"
    folder.mkdir()
    for i in range(3):
        (folder / f"SRC-{i}.jpg").write_bytes(photo_bytes(size=(64, 48), seed=10 + i))
    (bid,) = create_batches(svc, folder, options=EnhanceOptions.parse(mode="OPTIMIZE"), name="staged")
    assert stage_batches(svc, [bid]) == 3
    staged = {o.key for o in storage.list(prefix(bid))}
    assert len(staged) == 3
    strays = [f"batch-sources/0000dead-gone/{i:08d}" for i in range(2)]
    for k in strays:
        storage.put(k, b"x", content_type="application/octet-stream")

    assert reconcile(engine, storage).orphans_deleted == []  # young: a submit may still be staging
    r = reconcile(engine, storage, now=datetime.now(timezone.utc) + LATER)
    assert sorted(r.orphans_deleted) == strays
    assert {o.key for o in storage.list("batch-sources/")} == staged  # the live batch's are kept

    delete_batch(svc, bid, actor="system")
    assert list(storage.list("batch-sources/")) == []
