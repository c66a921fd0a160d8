"""Taking over a batch is atomic: of four simultaneous resumers one runs it, each item is attempted once.

The resumers are separate processes (as four `batch-resume` commands would be),
released together from a gate file; rows are counted directly afterwards.
"""
from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import func, select

from db import batch_repo as br
from db import make_engine
from db.batch_models import ItemStatus
from db.models import ProductImage
from enhancer.batch import create_batches
from enhancer.options import EnhanceOptions
from enhancer.service import Backends
from support import at_once, photo_bytes

ROOT = Path(__file__).resolve().parents[2]
N_ITEMS = 12
RESUMERS = 4
CHILD = """
import os, sys, time
from db import make_engine
from enhancer.batch import BatchRunner
from enhancer.batch.errors import BatchError
from enhancer.service import Backends
from enhancer.storage import LocalStorage, S3Storage
url, kind, where, bucket_endpoint, bid, gate = sys.argv[1:7]
storage = LocalStorage(where) if kind == "local" else S3Storage(
    where, endpoint_url=bucket_endpoint, access_key_id="testing", secret_access_key="testing")
svc = Backends(make_engine(url, migrate=False), storage)
runner = BatchRunner(svc, workers=2, poll_s=0.1)
while not os.path.exists(gate):
    time.sleep(0.005)
try:
    sm = runner.run(bid)
    print("RAN", sm.status, sm.completed, sm.skipped, sm.failed, flush=True)
except BatchError as exc:
    print("REFUSED", exc, flush=True)
"""


def storage_args(storage) -> list[str]:
    if storage.kind == "local":
        return ["local", str(storage.root), "-"]
    return ["s3", storage.bucket, storage.endpoint_url]


def start_resumers(url, storage, bid, tmp_path, n=RESUMERS):
    gate = tmp_path / f"go-{time.monotonic_ns()}"
    procs = [subprocess.Popen([sys.executable, "-c", CHILD, url, *storage_args(storage), bid, str(gate)], cwd=ROOT,
                              env={**os.environ, "PYTHONPATH": str(ROOT)}, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for _ in range(n)]
    time.sleep(3)  # imports done, all waiting at the gate
    gate.touch()
    return procs


def photo_folder(tmp_path, n=N_ITEMS) -> Path:
    folder = tmp_path / "photos"
    folder.mkdir()
    for i in range(n):
        (folder / f"item{i:02d}.jpg").write_bytes(photo_bytes(size=(320, 240), seed=100 + i))
    return folder


def test_four_simultaneous_resumers_attempt_each_item_once(backend, tmp_path):
    url, storage = backend
    engine = make_engine(url)
    svc = Backends(engine, storage)
    (bid,) = create_batches(svc, photo_folder(tmp_path), options=EnhanceOptions.parse("OPTIMIZE"), name="Race")
    outs = [p.communicate(timeout=300) for p in start_resumers(url, storage, bid, tmp_path)]
    lines = [o.strip().splitlines()[-1] if o.strip() else f"(no output) {e.strip()[-300:]}" for o, e in outs]
    ran = [x for x in lines if x.startswith("RAN")]
    refused = [x for x in lines if x.startswith("REFUSED")]
    print("resumers:", lines)
    assert len(ran) + len(refused) == RESUMERS and ran, lines
    assert all("is being run by " in x for x in refused), refused

    with svc.session() as s:
        items = br.items(s, bid)
        images = s.scalar(select(func.count()).select_from(ProductImage))
    assert [i.status for i in items] == [ItemStatus.COMPLETED] * N_ITEMS, [(i.status, i.error) for i in items]
    assert [i.attempts for i in items] == [1] * N_ITEMS
    assert images == N_ITEMS and not any(i.reused for i in items)
    stderr = "".join(e for _o, e in outs)
    assert "Traceback" not in stderr, stderr[-2000:]
    engine.dispose()


def test_four_resumer_threads_in_one_process(tmp_path):
    """Same host:pid for all four: the per-run token in the runner tag still tells them apart."""
    from enhancer.batch import BatchRunner
    from enhancer.batch.errors import BatchError
    from enhancer.storage import LocalStorage

    engine = make_engine(f"sqlite:///{tmp_path / 'pl.db'}")
    svc = Backends(engine, LocalStorage(tmp_path / "storage"))
    (bid,) = create_batches(svc, photo_folder(tmp_path), options=EnhanceOptions.parse("OPTIMIZE"), name="Threads")

    def resume():
        try:
            return "ran", BatchRunner(svc, workers=2, poll_s=0.1).run(bid).completed
        except BatchError as exc:
            return "refused", str(exc)

    outcomes = at_once(*[resume] * RESUMERS, timeout=300)
    assert len(outcomes) == RESUMERS and any(o[0] == "ran" for o in outcomes), outcomes
    assert all("is being run by " in o[1] for o in outcomes if o[0] == "refused")
    with svc.session() as s:
        items = br.items(s, bid)
    assert [(i.status, i.attempts) for i in items] == [(ItemStatus.COMPLETED, 1)] * N_ITEMS
    engine.dispose()
