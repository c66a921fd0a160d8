"""A few seconds without the database (or S3) mid-batch: the batch still completes, nothing is left running.

The outage is the proxy refusing new connections and resetting open ones for
4 s, then healing; rows and objects are counted directly afterwards.
"""
from __future__ import annotations

import logging
import threading
import time

from sqlalchemy import func, select, text

from db import batch_repo as br
from db import make_engine
from db.batch_models import ItemStatus
from db.models import ProductImage
from enhancer.batch import BatchRunner, create_batches
from enhancer.options import EnhanceOptions
from enhancer.service import Backends

from faults.test_batch_takeover import photo_folder

N = 16
OUTAGE_S = 4.0


def _completed(engine, bid) -> int:
    with engine.connect() as c:
        return c.scalar(text("SELECT COUNT(*) FROM batch_items WHERE batch_id = :b AND status = 'completed'"),
                        {"b": bid})


def _run_through_outage(svc, direct, bid, proxy, caplog):
    box = {}
    runner = BatchRunner(svc, workers=3, poll_s=0.1)
    t = threading.Thread(target=lambda: box.update(sm=runner.run(bid)), daemon=True)
    with caplog.at_level(logging.INFO):
        t.start()
        deadline = time.monotonic() + 120
        while _completed(direct, bid) < 3 and time.monotonic() < deadline:
            time.sleep(0.05)
        proxy.refuse()
        proxy.cut()
        time.sleep(OUTAGE_S)
        proxy.heal()
        t.join(300)
    assert not t.is_alive(), "the batch hung after the outage"
    return box.get("sm")


def _check(svc, bid, sm, caplog):
    # an item whose attempt landed just as the blip hit is found again by the reuse rule on its retry
    # ("skipped", reused): done once either way, which the image count checks
    assert sm is not None and (sm.status, sm.completed + sm.skipped, sm.failed) == ("completed", N, 0), sm
    with svc.session() as s:
        items = br.items(s, bid)
        images = s.scalar(select(func.count()).select_from(ProductImage))
    assert {i.status for i in items} <= {ItemStatus.COMPLETED, ItemStatus.SKIPPED}
    assert images == N and all(1 <= i.attempts <= 3 for i in items)
    runner_tracebacks = [r for r in caplog.records if r.exc_info and r.name == "enhancer.batch"
                         and "could not record" in r.getMessage()]
    assert runner_tracebacks == []
    traced = [f"{r.name}: {r.getMessage()[:80]}" for r in caplog.records if r.exc_info]
    return traced, sum(i.attempts for i in items)


def test_database_blip_mid_batch(proxied_mysql_url, mysql_url, db_proxy, local_storage, tmp_path, caplog):
    engine = make_engine(proxied_mysql_url, connect_timeout_s=1, read_timeout_s=2, write_timeout_s=2)
    direct = make_engine(mysql_url, migrate=False)
    svc = Backends(engine, local_storage)
    (bid,) = create_batches(svc, photo_folder(tmp_path, N), options=EnhanceOptions.parse("OPTIMIZE"), name="Blip")
    sm = _run_through_outage(svc, direct, bid, db_proxy, caplog)
    tracebacks, attempts = _check(svc, bid, sm, caplog)
    print(f"database blip: {len(tracebacks)} traceback(s) logged {tracebacks}, {attempts} attempts for {N} items")
    engine.dispose()
    direct.dispose()


def test_storage_blip_mid_batch(mysql_url, proxied_s3, s3_proxy, s3_storage, tmp_path, caplog):
    engine = make_engine(mysql_url)
    svc = Backends(engine, proxied_s3)
    (bid,) = create_batches(svc, photo_folder(tmp_path, N), options=EnhanceOptions.parse("OPTIMIZE"), name="S3Blip")
    sm = _run_through_outage(svc, engine, bid, s3_proxy, caplog)
    tracebacks, attempts = _check(svc, bid, sm, caplog)
    print(f"storage blip: {len(tracebacks)} traceback(s) logged {tracebacks}, {attempts} attempts for {N} items")
    engine.dispose()
