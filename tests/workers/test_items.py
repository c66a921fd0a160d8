"""Item claims and outcomes of one batch from many tasks at once, on MariaDB (no broker: the SQL alone).

Workers finish items of the same batch at the same moment all the time; each outcome moves the item and
bumps the batch's counter in one transaction, and none of them may be chosen as a deadlock victim (a
victim's item waited a second's backoff before its retry: 2 % of the items of a two-worker batch did).
"""
from __future__ import annotations

import time

from sqlalchemy import select

from db import make_engine
from db.batch_models import Batch, BatchItem, BatchStatus, ItemStatus
from enhancer.batch.items import Claimed, claim, record
from enhancer.service import Backends
from support import at_once

N = 24


def _batch(b: Backends, status: BatchStatus) -> tuple[str, list[str]]:
    with b.session() as s, s.begin():
        batch = Batch(name="race", source_kind="csv", fingerprint="f" * 64, total=N, status=status)
        s.add(batch)
        s.flush()
        items = [BatchItem(batch_id=batch.id, position=i, source=f"http://x/{i}.jpg") for i in range(N)]
        s.add_all(items)
        s.flush()
        return batch.id, [i.id for i in items]


def test_many_tasks_claim_and_finish_items_of_one_batch_at_once_without_a_deadlock(mysql_url):
    engine = make_engine(mysql_url, pool_size=N + 2)
    b = Backends(engine, None)
    try:
        batch_id, ids = _batch(b, BatchStatus.QUEUED)
        claims: dict[str, Claimed] = {}

        def take(item_id: str) -> None:
            c = claim(b, item_id, f"task-{item_id}", worker="w", max_attempts=3)
            assert isinstance(c, Claimed), c
            claims[item_id] = c

        # every claim at once, the first of them starting the queued batch
        assert at_once(*[lambda i=i: take(i) for i in ids]) == [None] * N
        t0 = time.perf_counter()
        statuses = [ItemStatus.COMPLETED, ItemStatus.FAILED, ItemStatus.SKIPPED]
        finish = lambda item_id, n: record(b, claims[item_id], f"task-{item_id}", statuses[n % 3],  # noqa: E731
                                           t0=t0, error="x" if n % 3 == 1 else None)
        assert at_once(*[lambda i=i, n=n: finish(i, n) for n, i in enumerate(ids)]) == [True] * N

        with b.session() as s:
            batch = s.get(Batch, batch_id)
            items = s.scalars(select(BatchItem).where(BatchItem.batch_id == batch_id)).all()
        assert (batch.completed, batch.failed, batch.skipped) == (N // 3, N // 3, N // 3)
        assert batch.status == BatchStatus.COMPLETED and batch.finished_at is not None
        assert sorted(i.status.value for i in items) == sorted(statuses[n % 3].value for n in range(N))
        assert all(i.attempts == 1 for i in items)
    finally:
        engine.dispose()


def test_a_lost_lock_race_is_tried_again_at_once_an_outage_after_a_backoff():
    from pymysql.err import OperationalError as MySQLError
    from sqlalchemy.exc import OperationalError

    from enhancer.batch.items import _pause

    deadlock = OperationalError("UPDATE batches", {}, MySQLError(1213, "Deadlock found"))
    gone = OperationalError("SELECT 1", {}, MySQLError(2013, "Lost connection"))
    assert all(_pause(deadlock, n, 1.0) < 0.1 for n in range(4))
    assert [_pause(gone, n, 1.0) for n in range(3)] == [1.0, 2.0, 4.0]
