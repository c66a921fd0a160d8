"""Batches on real Celery workers (``celery worker`` subprocesses, never eager mode) over MariaDB + S3.

Each worker has its own name and working directory and shares only the configuration with the
others (database, object store, broker), as on separate machines. Photos are small (320x240) and
batches a few items, so the suite stays within minutes.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import zipfile

import pytest

from db.batch_models import ItemStatus
from enhancer.batch.control import request
from enhancer.batch.intake import manifest_bytes
from enhancer.batch.stage import source_key
from enhancer.batch.start import start_batches, submit
from enhancer.config import settings_from_mapping
from enhancer.options import EnhanceOptions

from tests.workers.harness import REPO, CutProxy, batch_row, image_count, item_rows, settled, wait_for

OPTS = EnhanceOptions.parse(mode="OPTIMIZE", target_size_kb=60)
DONE = ("completed", "cancelled", "failed")


def photo_zip(path, n: int, *, start: int = 0):
    from support import photo_bytes

    with zipfile.ZipFile(path, "w") as z:
        for i in range(start, start + n):
            z.writestr(f"p{i}.jpg", photo_bytes("astronaut" if i % 2 else "chelsea", size=(320, 240), seed=i))
    return path


def manifest(path, rows):
    path.write_bytes(manifest_bytes(rows))
    return path


def exactly_once(b, bid, n):
    """Every item completed once, each its own image, counters equal to the rows."""
    items = item_rows(b, bid)
    assert [i.status for i in items] == [ItemStatus.COMPLETED] * n, [(i.status, i.error) for i in items]
    assert len({i.product_image_id for i in items}) == n
    row = batch_row(b, bid)
    assert (row.status.value, row.total, row.completed, row.failed, row.skipped) == ("completed", n, n, 0, 0)
    return items


def test_two_workers_share_a_batch_exactly_once(stack, broker_env, start_worker, tmp_path):
    env, b = stack
    full = {**env, **broker_env}
    settings = settings_from_mapping(full)
    workers = [start_worker(full, name, wait=False) for name in ("alpha", "beta")]
    for w in workers:
        w.ready()
    out = submit(b, settings, photo_zip(tmp_path / "eight.zip", 8), options=OPTS, name="Two machines")
    (bid,) = out["batch_ids"]
    assert out["mode"] == "broker"
    # the ZIP's photos were staged in the object store: the workers have no access to this disk
    assert b.storage.exists(source_key(bid, 0)) and b.storage.exists(source_key(bid, 7))
    wait_for(lambda: settled(b, bid, DONE), timeout=120, what="the batch to finish")
    items = exactly_once(b, bid, 8)
    assert all(i.attempts == 1 for i in items)
    assert image_count(b) == 8
    assert {i.worker.split("@")[0] for i in items} == {"alpha", "beta"}  # both machines did some

    from enhancer.app import run_checks
    from enhancer.batch.workers import live_workers

    def counted():  # one reading: two could straddle a heartbeat's age and disagree on who is live
        live = live_workers(b)
        return live if sum(w["tasks_done"] for w in live) >= 8 else None

    live = wait_for(counted, timeout=15, what="the workers' heartbeats to count the tasks")
    assert sorted(w["name"].split("@")[0] for w in live) == ["alpha", "beta"]
    assert all(w["concurrency"] == 1 for w in live)
    checks = {c.name: c for c in run_checks(settings, b)}
    assert checks["broker"].ok and "0 message(s) waiting" in checks["broker"].detail
    assert checks["workers"].ok and checks["workers"].detail.startswith("2 worker(s) alive")


def test_killed_pool_process_mid_task_is_redelivered_and_done_once(stack, broker_env, start_worker, photos,
                                                                   tmp_path):
    env, b = stack
    full = {**env, **broker_env}
    settings = settings_from_mapping(full)
    start_worker(full, "solo")
    rows = [{"sku_id": "SLOW-0", "image_url": photos.url("/slow/10.jpg")}] + \
        [{"sku_id": f"FAST-{i}", "image_url": photos.url(f"/img/{i}.jpg")} for i in range(11, 14)]
    (bid,) = submit(b, settings, manifest(tmp_path / "m.csv", rows), options=OPTS, name="Kill")["batch_ids"]

    def slow_running():
        item = next(i for i in item_rows(b, bid) if i.sku_id == "SLOW-0")
        return item if item.status == ItemStatus.RUNNING and item.worker else None

    victim = wait_for(slow_running, timeout=60, what="the slow item to start")
    pid = int(victim.worker.rsplit(":", 1)[1])
    os.kill(pid, signal.SIGKILL)  # the pool process enhancing it, mid-fetch
    wait_for(lambda: settled(b, bid, DONE), timeout=120, what="the batch to finish")
    items = exactly_once(b, bid, 4)
    slow = next(i for i in items if i.sku_id == "SLOW-0")
    assert slow.attempts == 2 and int(slow.worker.rsplit(":", 1)[1]) != pid
    assert image_count(b) == 4


def test_a_photo_that_kills_its_worker_every_time_fails_after_the_cap(stack, broker_env, start_worker, photos,
                                                                       tmp_path):
    env, b = stack
    full = {**env, **broker_env}
    settings = settings_from_mapping(full)
    start_worker(full, "crashy", app="crashing_worker")
    rows = [{"sku_id": "CRASH-1", "image_url": photos.url("/img/20.jpg")},
            {"sku_id": "OK-1", "image_url": photos.url("/img/21.jpg")},
            {"sku_id": "OK-2", "image_url": photos.url("/img/22.jpg")}]
    (bid,) = submit(b, settings, manifest(tmp_path / "m.csv", rows), options=OPTS, name="Crash")["batch_ids"]
    row = wait_for(lambda: settled(b, bid, DONE), timeout=150, what="the batch to finish")
    assert (row.status.value, row.completed, row.failed, row.skipped) == ("completed", 2, 1, 0)
    crash = next(i for i in item_rows(b, bid) if i.sku_id == "CRASH-1")
    assert crash.status == ItemStatus.FAILED and crash.attempts == 3
    assert "gave up after 3 attempt(s)" in crash.error
    assert image_count(b) == 2


def test_pause_resume_and_cancel_with_items_in_flight(stack, rabbit_env, start_worker, photos, tmp_path):
    env, b = stack
    full = {**env, **rabbit_env}
    settings = settings_from_mapping(full)
    start_worker(full, "steady", concurrency=2)
    rows = [{"sku_id": f"P-{i}", "image_url": photos.url(f"/slow/{30 + i}.jpg")} for i in range(8)]
    (bid,) = submit(b, settings, manifest(tmp_path / "p.csv", rows), options=OPTS, name="Pause")["batch_ids"]
    wait_for(lambda: batch_row(b, bid).completed >= 1, timeout=60, what="a first item")
    request(b, bid, "pause")
    # the photos in flight finish; nothing new starts
    wait_for(lambda: not any(i.status == ItemStatus.RUNNING for i in item_rows(b, bid)), timeout=30,
             what="the items in flight to finish")
    done = batch_row(b, bid).completed
    time.sleep(4)
    row = batch_row(b, bid)
    assert row.status.value == "paused" and row.completed == done < 8
    assert all(i.status in (ItemStatus.COMPLETED, ItemStatus.PENDING) for i in item_rows(b, bid))

    request(b, bid, "resume")
    start_batches(b, settings, [bid])
    wait_for(lambda: settled(b, bid, DONE), timeout=120, what="the resumed batch to finish")
    exactly_once(b, bid, 8)

    rows = [{"sku_id": f"C-{i}", "image_url": photos.url(f"/slow/{50 + i}.jpg")} for i in range(8)]
    (cid,) = submit(b, settings, manifest(tmp_path / "c.csv", rows), options=OPTS, name="Cancel")["batch_ids"]
    wait_for(lambda: any(i.status == ItemStatus.RUNNING for i in item_rows(b, cid)), timeout=60,
             what="items in flight")
    request(b, cid, "cancel")
    row = wait_for(lambda: (r := batch_row(b, cid)).done == r.total and r, timeout=60, what="the cancel to settle")
    items = item_rows(b, cid)
    assert row.status.value == "cancelled" and row.failed == 0 and row.completed + row.skipped == 8
    assert row.completed == sum(i.status == ItemStatus.COMPLETED for i in items) >= 1, \
        [(i.status, i.error, i.attempts) for i in items]  # in flight: finished
    assert all(i.status in (ItemStatus.COMPLETED, ItemStatus.SKIPPED) for i in items)
    assert image_count(b) == 8 + row.completed


@pytest.mark.parametrize("url", ["amqp://guest:guest@127.0.0.1:1//", "redis://127.0.0.1:1/0"])
def test_broker_unreachable_at_submit_leaves_nothing(stack, tmp_path, url):
    env, b = stack
    full = {**env, "BROKER_URL": url, "BROKER_QUEUE": "unreachable"}
    proc = subprocess.run([sys.executable, "-m", "enhancer", "batch", str(photo_zip(tmp_path / "z.zip", 2))],
                          env={**os.environ, **full}, cwd=REPO, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1, proc.stderr
    assert "unreachable" in proc.stderr and "BROKER_URL" in proc.stderr and "Traceback" not in proc.stderr
    assert proc.stdout == ""
    from sqlalchemy import func, select

    from db.batch_models import Batch

    with b.session() as s:
        assert s.scalar(select(func.count()).select_from(Batch)) == 0


def test_database_down_mid_batch_items_are_retried_none_lost(stack, mysql_url, rabbit_env, start_worker, photos,
                                                               tmp_path):
    env, b = stack
    proxy = CutProxy(("127.0.0.1", int(os.environ.get("TEST_MYSQL_PORT", "3306"))))
    try:
        through = mysql_url.replace(f"127.0.0.1:{os.environ.get('TEST_MYSQL_PORT', '3306')}",
                                    f"127.0.0.1:{proxy.port}")
        worker_env = {**env, **rabbit_env, "DATABASE_URL": through}
        settings = settings_from_mapping({**env, **rabbit_env})
        start_worker(worker_env, "flaky-db", concurrency=2)
        rows = [{"sku_id": f"D-{i}", "image_url": photos.url(f"/slow/{70 + i}.jpg")} for i in range(6)]
        (bid,) = submit(b, settings, manifest(tmp_path / "d.csv", rows), options=OPTS, name="DB")["batch_ids"]
        wait_for(lambda: batch_row(b, bid).completed >= 1 and any(
            i.status == ItemStatus.RUNNING for i in item_rows(b, bid)), timeout=60, what="work in flight")
        proxy.cut()  # every connection reset, new ones refused: the database is down
        time.sleep(4)
        proxy.heal()
        wait_for(lambda: settled(b, bid, DONE), timeout=150, what="the batch to finish after the outage")
        exactly_once(b, bid, 6)
        assert image_count(b) == 6
    finally:
        proxy.close()


def test_cli_with_a_broker_follows_to_the_same_json_or_detaches(stack, rabbit_env, start_worker, tmp_path):
    import json

    env, b = stack
    full = {**env, **rabbit_env}
    start_worker(full, "cli")
    run = lambda *a: subprocess.run([sys.executable, "-m", "enhancer", *a], env={**os.environ, **full}, cwd=REPO,
                                    capture_output=True, text=True, timeout=180)
    proc = run("batch", str(photo_zip(tmp_path / "a.zip", 3)), "--mode", "OPTIMIZE", "--target-kb", "60")
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert (out["total"], out["completed"], out["failed"], out["skipped"]) == (3, 3, 0, 0)
    assert set(out) >= {"batch_id", "batch_ids", "elapsed_s", "images_per_minute"}
    assert "3/3" in proc.stderr  # progress went to stderr

    proc = run("batch", str(photo_zip(tmp_path / "b.zip", 2, start=10)), "--detach")
    assert proc.returncode == 0, proc.stderr
    (bid,) = json.loads(proc.stdout)["batch_ids"]
    wait_for(lambda: settled(b, bid, DONE), timeout=90, what="the detached batch")
    status = json.loads(run("batch-status", bid).stdout)
    assert (status["status"], status["completed"]) == ("completed", 2)
