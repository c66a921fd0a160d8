"""Objects stored before a commit that never comes are reclaimed by the reconciler.

Two ways to leave them: the process is killed (-9) between PUT and COMMIT, and
the database fails the write while S3 is down, so the service's own cleanup
cannot run. Rows and objects are counted directly (no fault on those paths).
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

from sqlalchemy import text

from db import make_engine
from enhancer.errors import DatabaseError
from enhancer.gc import reconcile
from support import photo_bytes, up

ROOT = Path(__file__).resolve().parents[2]
LATER = timedelta(hours=2)
CHILD = """
import sys
from db import make_engine
from enhancer.service import Backends, EnhanceOptions, upload
from enhancer.storage import S3Storage
url, bucket, endpoint, photo = sys.argv[1:5]
svc = Backends(make_engine(url, migrate=False, read_timeout_s=600),
               S3Storage(bucket, endpoint_url=endpoint, access_key_id="testing", secret_access_key="testing"))
upload(svc, open(photo, "rb").read(), "shoe.jpg", EnhanceOptions.parse("OPTIMIZE"), sku_id="KILLED-1")
print("finished", flush=True)
"""


def _rows(engine) -> int:
    with engine.connect() as c:
        return c.scalar(text("SELECT COUNT(*) FROM product_images"))


def test_kill_between_put_and_commit_then_gc(mysql_url, proxied_mysql_url, db_proxy, s3_storage, tmp_path):
    direct = make_engine(mysql_url)  # migrated here, so the child only uploads
    photo = tmp_path / "shoe.jpg"
    photo.write_bytes(photo_bytes(size=(320, 240)))
    # the child stalls at the INSERT of its results: the image row (PROCESSING) and the original are
    # committed, the result and thumbnail objects are stored, their rows never commit
    db_proxy.after(b"INSERT INTO enhancement_history", "blackhole")
    child = subprocess.Popen([sys.executable, "-c", CHILD, proxied_mysql_url, s3_storage.bucket,
                              s3_storage.endpoint_url, str(photo)], cwd=ROOT,
                             env={**os.environ, "PYTHONPATH": str(ROOT)}, stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while db_proxy.dropped == 0 and child.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert db_proxy.dropped > 0, child.communicate(timeout=5)[0] if child.poll() is not None else "no INSERT seen"
    os.kill(child.pid, signal.SIGKILL)
    child.wait(10)
    time.sleep(0.3)  # the proxy drops the dead client's link; MariaDB rolls the transaction back

    stored = [o.key for o in s3_storage.list()]
    original = [k for k in stored if k.startswith("uploads/original/")]
    assert len(stored) == 3 and len(original) == 1 and _rows(direct) == 1  # results stored, never recorded
    assert reconcile(direct, s3_storage).orphans_deleted == []  # within the grace: maybe an upload in flight
    r = reconcile(direct, s3_storage, now=datetime.now(timezone.utc) + LATER)
    assert sorted(r.orphans_deleted) == sorted(set(stored) - set(original))
    assert len(r.images_interrupted) == 1  # the killed upload's row: FAILED, its original kept for a retry
    assert [o.key for o in s3_storage.list()] == original
    with direct.connect() as c:
        assert c.scalar(text("SELECT status FROM product_images")) == "FAILED"
    direct.dispose()


def test_database_fails_while_s3_is_down_then_gc(proxied_mysql_url, db_proxy, proxied_s3, s3_proxy, s3_storage):
    from enhancer.service import Backends

    engine = make_engine(proxied_mysql_url, read_timeout_s=2)
    svc = Backends(engine, proxied_s3)

    def both_down(link):  # the INSERT's connection drops and, at the same moment, S3 goes away
        s3_proxy.refuse()  # (not blackhole: a black-holed DELETE still reaches the server and deletes)
        s3_proxy.cut()
        link.reset()

    db_proxy.after(b"INSERT INTO enhancement_history", both_down)
    try:
        up(svc, photo_bytes(size=(320, 240)), "shoe.jpg", sku_id="OUTAGE-1", mode="OPTIMIZE")
        raised = None
    except DatabaseError as exc:
        raised = exc
    assert raised is not None
    s3_proxy.heal()
    stored = {o.key for o in s3_storage.list()}
    assert _rows(engine) == 1  # the upload's row, with its original: kept
    results = {k for k in stored if not k.startswith("uploads/original/")}
    assert results  # cleanup could not reach S3: the results are orphans
    r = reconcile(engine, s3_storage, now=datetime.now(timezone.utc) + LATER)
    assert set(r.orphans_deleted) == results
    assert {o.key for o in s3_storage.list()} == stored - results
    engine.dispose()
