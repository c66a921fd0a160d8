"""Running batches end to end: every item once, reuse, pause/resume/cancel/retry, split, on both backends."""
from __future__ import annotations

import sys
import threading
from pathlib import Path

import pytest
from sqlalchemy import func, select

from db import batch_repo as br
from db.batch_models import BatchItem, BatchStatus, ItemStatus
from db.models import ProductImage
from enhancer.batch import BatchRunner, create_batches
from enhancer.batch.fetch import FetchPolicy, Fetcher
from enhancer.batch.control import request, summary
from enhancer.options import EnhanceOptions

from batch.photoserver import write_manifest

OPTS = EnhanceOptions.parse(mode="OPTIMIZE", target_size_kb=60)


def runner(service, **kw):
    fetch = Fetcher(FetchPolicy(allow_private=True, retries=1, backoff_s=0.01, read_timeout=0.5))
    return BatchRunner(service, workers=kw.pop("workers", 3), fetcher=fetch, poll_s=0.05, **kw)


def rows_for(server, n, *, start=0, prefix="SKU", route="img"):
    return [{"sku_id": f"{prefix}-{i}", "image_url": server.url(f"/{route}/{i}.jpg")} for i in range(start, start + n)]


def items_of(service, batch_id):
    with service.session() as s:
        return br.items(s, batch_id)


def image_count(service):
    with service.session() as s:
        return s.scalar(select(func.count()).select_from(ProductImage))


def test_manifest_batch_records_every_item_once(service, photo_server, tmp_path):
    """Core flow on SQLite+folder and MariaDB+S3."""
    rows = rows_for(photo_server, 5) + [
        {"sku_id": "MISSING", "image_url": photo_server.url("/404")},
        {"sku_id": "TEXT", "image_url": photo_server.url("/notimage")},
        {"sku_id": "", "image_url": photo_server.url("/img/99.jpg")},
    ]
    manifest = write_manifest(tmp_path / "m.csv", rows)
    (bid,) = create_batches(service, manifest, options=OPTS, name="Spring")
    sm = runner(service).run(bid)
    assert (sm.status, sm.total, sm.completed, sm.failed, sm.skipped) == ("completed", 8, 5, 3, 0)
    its = items_of(service, bid)
    assert [i.position for i in its] == list(range(8))
    done = [i for i in its if i.status is ItemStatus.COMPLETED]
    assert all(i.product_image_id and i.duration_ms is not None and i.attempts == 1 for i in done)
    failed = {i.sku_id: i.error for i in its if i.status is ItemStatus.FAILED}
    assert "HTTP 404" in failed["MISSING"] and "not an image" in failed["TEXT"]
    assert "sku_id is empty" in failed[None]
    assert image_count(service) == 5

    # The same manifest again: same batch, nothing new.
    assert create_batches(service, manifest, options=OPTS, name="Spring") == [bid]
    again = runner(service).run(bid)
    assert (again.completed, again.failed) == (5, 3) and image_count(service) == 5

    # Same photos in a new batch: reused, not enhanced again; --force enhances again.
    (bid2,) = create_batches(service, write_manifest(tmp_path / "m2.csv", rows[:5]), options=OPTS, name="Copy")
    sm2 = runner(service).run(bid2)
    assert (sm2.completed, sm2.skipped) == (0, 5)
    assert all(i.reused and i.product_image_id for i in items_of(service, bid2))
    (bid3,) = create_batches(service, write_manifest(tmp_path / "m3.csv", rows[:2]), options=OPTS, name="Forced")
    sm3 = runner(service, force=True).run(bid3)
    assert sm3.completed == 2 and image_count(service) == 5


def test_per_row_options_and_validation(sqlite_service, photo_server, tmp_path):
    rows = [
        {"sku_id": "A", "image_url": photo_server.url("/img/1.jpg"), "mode": "optimize", "target_size_kb": "80",
         "output_format": "webp", "profile": ""},
        {"sku_id": "B", "image_url": photo_server.url("/img/2.jpg"), "mode": "sparkle"},
        {"sku_id": "C", "image_url": photo_server.url("/img/3.jpg"), "target_size_kb": "5"},
        {"sku_id": "D", "image_url": "ftp://example.com/x.jpg"},
        {"sku_id": "E", "image_url": photo_server.url("/img/4.jpg"), "output_format": "gif"},
        {"sku_id": "F", "image_url": photo_server.url("/img/5.jpg"), "profile": "nowhere"},
    ]
    (bid,) = create_batches(sqlite_service, write_manifest(tmp_path / "m.csv", rows), options=OPTS)
    runner(sqlite_service).run(bid)
    its = {i.sku_id: i for i in items_of(sqlite_service, bid)}
    assert its["A"].status is ItemStatus.COMPLETED and its["A"].output_format == "WEBP", its["A"].error
    assert its["A"].target_size_kb == 80
    for sku, words in {"B": "unknown mode 'sparkle'", "C": "between 50 and 2000", "D": "not an http(s) URL",
                       "E": "output_format 'gif'", "F": "profile 'nowhere'"}.items():
        assert its[sku].status is ItemStatus.FAILED and words in its[sku].error and not its[sku].retryable, its[sku].error


def test_pause_then_resume_finishes_without_duplicates(sqlite_service, photo_server, tmp_path):
    rows = rows_for(photo_server, 8, start=20, route="lag")  # 150 ms each: room to pause mid-batch
    (bid,) = create_batches(sqlite_service, write_manifest(tmp_path / "m.csv", rows), options=OPTS)

    def pause_after_first(sm):
        if sm.completed >= 1 and sm.status == "running":
            request(sqlite_service, bid, "pause")

    sm = runner(sqlite_service, workers=1, on_progress=pause_after_first).run(bid)
    assert sm.status == "paused" and sm.completed < 8
    assert request(sqlite_service, bid, "resume") == "queued"
    sm = runner(sqlite_service).run(bid)
    assert (sm.status, sm.completed, sm.failed) == ("completed", 8, 0)
    assert image_count(sqlite_service) == 8


def test_cancel_skips_pending_items(sqlite_service, photo_server, tmp_path):
    (bid,) = create_batches(sqlite_service, write_manifest(tmp_path / "m.csv", rows_for(photo_server, 4, start=40)),
                            options=OPTS)
    assert request(sqlite_service, bid, "cancel") == "cancelled"
    sm = runner(sqlite_service).run(bid)
    assert (sm.status, sm.skipped, sm.completed) == ("cancelled", 4, 0)
    assert all(i.error.startswith("cancelled") for i in items_of(sqlite_service, bid))
    with pytest.raises(Exception, match="already cancelled"):
        request(sqlite_service, bid, "cancel")


def test_retry_failed_items(sqlite_service, photo_server, tmp_path):
    rows = [{"sku_id": f"G{i}", "image_url": photo_server.url(f"/gone/{60 + i}.jpg")} for i in range(3)]
    (bid,) = create_batches(sqlite_service, write_manifest(tmp_path / "m.csv", rows), options=OPTS)
    assert runner(sqlite_service).run(bid).failed == 3
    photo_server.revive()
    assert request(sqlite_service, bid, "retry") == "queued"
    sm = runner(sqlite_service).run(bid)
    assert (sm.completed, sm.failed) == (3, 0)
    assert all(i.attempts == 2 for i in items_of(sqlite_service, bid))


def test_items_left_running_are_reset_on_resume(sqlite_service, photo_server, tmp_path):
    (bid,) = create_batches(sqlite_service, write_manifest(tmp_path / "m.csv", rows_for(photo_server, 3, start=70)),
                            options=OPTS)
    with sqlite_service.session() as s, s.begin():  # as a killed process leaves it (stale heartbeat)
        s.get(BatchItem, br.items(s, bid)[0].id).status = ItemStatus.RUNNING
        br.set_status(s, bid, BatchStatus.RUNNING)
    sm = runner(sqlite_service).run(bid)
    assert (sm.completed, image_count(sqlite_service)) == (3, 3)


def test_split_over_max_batch_size(sqlite_service, photo_server, tmp_path):
    ids = create_batches(sqlite_service, write_manifest(tmp_path / "big.csv", rows_for(photo_server, 5, start=80)),
                         options=OPTS, name="Big", max_batch_size=2)
    assert len(ids) == 3
    with sqlite_service.session() as s:
        parts = [br.get_batch(s, i) for i in ids]
        assert [p.name for p in parts] == ["Big_Part1of3", "Big_Part2of3", "Big_Part3of3"]
        assert {p.parent_batch_id for p in parts} == {ids[0]}
        assert [p.total for p in parts] == [2, 2, 1] and [p.total_split_batches for p in parts] == [3, 3, 3]
        assert [[i.position for i in br.items(s, p.id)] for p in parts] == [[0, 1], [0, 1], [0]]
    r = runner(sqlite_service)
    assert sum(r.run(i).completed for i in ids) == 5 and summary(sqlite_service, ids[2]).status == "completed"


def test_only_workers_photos_in_memory_at_once(sqlite_service, photo_server, tmp_path, monkeypatch):
    """Bytes are held only between load and record, so at most ``workers`` photos at a time."""
    (bid,) = create_batches(sqlite_service, write_manifest(tmp_path / "m.csv", rows_for(photo_server, 30, start=100)),
                            options=OPTS)
    r = runner(sqlite_service, workers=2)
    held, peak, lock = [0], [0], threading.Lock()
    load, record = r._load, r._record

    def counting_load(*a):
        data = load(*a)
        with lock:
            held[0] += 1
            peak[0] = max(peak[0], held[0])
        return data

    def counting_record(*a, **kw):
        with lock:
            held[0] -= 1
        return record(*a, **kw)

    monkeypatch.setattr(r, "_load", counting_load)
    monkeypatch.setattr(r, "_record", counting_record)
    assert r.run(bid).completed == 30
    assert 1 <= peak[0] <= 2


def test_worker_processes(photo_server, tmp_path, monkeypatch):
    """``processes``: enhancement in spawned worker processes, each with a service built from settings,
    their allocator on huge pages (:func:`enhancer._alloc.on_huge_pages`)."""
    import os

    from enhancer._alloc import on_huge_pages
    from enhancer.app import build_backends
    from enhancer.config import settings_from_mapping

    settings = settings_from_mapping({"DATABASE_URL": f"sqlite:///{tmp_path / 'pl.db'}",
                                      "STORAGE_DIR": str(tmp_path / "st"), "PIXEL_LAB_DATA_DIR": str(tmp_path)})
    svc = build_backends(settings)
    (bid,) = create_batches(svc, write_manifest(tmp_path / "m.csv", rows_for(photo_server, 4, start=120)),
                            options=OPTS)
    monkeypatch.delenv("GLIBC_TUNABLES", raising=False)
    r = runner(svc, workers=2, processes=2, settings=settings)
    try:
        sm = r.run(bid)
        assert r._procs.submit(os.getenv, "GLIBC_TUNABLES").result() == \
            on_huge_pages({}).get("GLIBC_TUNABLES")
    finally:
        r.close()
    assert (sm.completed, sm.failed) == (4, 0) and image_count(svc) == 4
    svc.engine.dispose()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt: the tuning applies on Linux only")
def test_worker_processes_reuse_freed_photo_memory(tmp_path):
    """A worker process keeps the memory one photo freed for the next.

    Untuned, each 2 MP photo's arrays were fresh pages from the kernel in a
    pool worker: ~3 600-4 300 page faults per photo (measured), 8-11 ms of
    system time, about a seventh of the worker's CPU.
    """
    import io
    import multiprocessing
    import os
    import resource
    from concurrent.futures import ProcessPoolExecutor

    import numpy as np
    from PIL import Image

    from enhancer.app import build_backends
    from enhancer.batch.runner import _proc_init, _proc_upload
    from enhancer.config import settings_from_mapping

    rng = np.random.default_rng(5)
    yy, xx = np.mgrid[0:1155, 0:1732]
    base = (xx[..., None] * [1, 2, 3] // 13 + yy[..., None] // 7) % 256
    photos = []
    for _ in range(6):
        buf = io.BytesIO()
        Image.fromarray(np.clip(base + rng.integers(-20, 21, base.shape), 0, 255).astype(np.uint8)).save(
            buf, "JPEG", quality=92)
        photos.append(buf.getvalue())
    settings = settings_from_mapping({"PIXEL_LAB_DATA_DIR": str(tmp_path)})
    build_backends(settings).engine.dispose()  # migrates, as the runner does before starting its pool
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"), initializer=_proc_init,
                             initargs=(settings, None, os.getpid())) as pool:
        opts = EnhanceOptions.parse("OPTIMIZE", 200)
        for i in range(2):  # the first photos' arrays are new pages either way
            pool.submit(_proc_upload, photos[i], f"w{i}.jpg", opts, {"sku_id": f"W{i}"}).result()
        before = pool.submit(resource.getrusage, resource.RUSAGE_SELF).result().ru_minflt
        for i in range(2, 6):
            pool.submit(_proc_upload, photos[i], f"p{i}.jpg", opts, {"sku_id": f"P{i}"}).result()
        faults = (pool.submit(resource.getrusage, resource.RUSAGE_SELF).result().ru_minflt - before) / 4
    assert faults < 300, faults


def test_a_claim_retried_after_its_lost_reply_is_still_this_claims(service, photo_server, tmp_path):
    """The claim's UPDATE committed but the reply never came (a database blip): its retry finds the item
    running under the claim's own token and goes on, instead of leaving it running with nobody on it
    (seen in CI: a batch ended 'running', 15 of 16)."""
    (bid,) = create_batches(service, write_manifest(tmp_path / "m.csv", rows_for(photo_server, 1)), options=OPTS)
    (item,) = items_of(service, bid)
    with service.session() as s, s.begin():
        assert br.claim_item(s, item.id, "local:first")
    with service.session() as s, s.begin():
        assert br.claim_item(s, item.id, "local:first")       # the retry of that same claim
        assert not br.claim_item(s, item.id, "local:other")   # anyone else: taken
        assert not br.claim_item(s, item.id)
    (item,) = items_of(service, bid)
    assert (item.status, item.attempts, item.task_id) == (ItemStatus.RUNNING, 1, "local:first")
