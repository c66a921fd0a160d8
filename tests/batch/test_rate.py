"""Batch rate: completed images over the time something was being processed (issue 14, item 6)."""
from __future__ import annotations

from datetime import timedelta

from db.batch_models import Batch, BatchItem, BatchStatus, ItemStatus
from db.models import utcnow
from enhancer.batch.control import summary


def _batch(svc, items, *, span_s: float) -> str:
    """A finished batch whose items ran over the given (status, start s, end s) intervals."""
    t0 = utcnow() - timedelta(hours=3)
    done = [st for st, _, _ in items]
    with svc.session() as s, s.begin():
        b = Batch(name="rate", source_kind="manifest", fingerprint="f" * 64, status=BatchStatus.COMPLETED,
                  total=len(items), completed=done.count(ItemStatus.COMPLETED),
                  failed=done.count(ItemStatus.FAILED), skipped=done.count(ItemStatus.SKIPPED),
                  started_at=t0, finished_at=t0 + timedelta(seconds=span_s))
        s.add(b)
        s.flush()
        for i, (st, a, z) in enumerate(items):
            s.add(BatchItem(batch_id=b.id, position=i, source=f"img{i}.jpg", status=st,
                            started_at=None if a is None else t0 + timedelta(seconds=a),
                            finished_at=t0 + timedelta(seconds=z)))
        return b.id


def test_a_batch_where_every_item_failed_has_no_rate(sqlite_service):
    items = [(ItemStatus.FAILED, None, 0.01)] * 5 + [(ItemStatus.FAILED, 0.02, 0.03)] * 5
    sm = summary(sqlite_service, _batch(sqlite_service, items, span_s=0.2))
    assert sm.failed == 10 and sm.images_per_minute == 0.0


def test_idle_time_between_runs_is_not_counted(sqlite_service):
    # 10 photos of 6 s each: five, a 30-minute pause, five more
    items = [(ItemStatus.COMPLETED, 6 * i, 6 * i + 6) for i in range(5)]
    items += [(ItemStatus.COMPLETED, 1830 + 6 * i, 1836 + 6 * i) for i in range(5)]
    sm = summary(sqlite_service, _batch(sqlite_service, items, span_s=1900))
    assert sm.active_s == 60.0 and sm.images_per_minute == 10.0  # not 10 per 31 minutes
    assert sm.elapsed_s == 1900.0


def test_parallel_workers_are_not_counted_twice_and_failures_add_nothing(sqlite_service):
    items = [(ItemStatus.COMPLETED, 0, 10)] * 4 + [(ItemStatus.FAILED, 2, 3)] * 4
    items += [(ItemStatus.SKIPPED, None, 5)]
    sm = summary(sqlite_service, _batch(sqlite_service, items, span_s=12))
    assert sm.active_s == 10.0 and sm.images_per_minute == 24.0
