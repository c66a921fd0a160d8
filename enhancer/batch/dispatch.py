"""Feed the broker a bounded window of each batch's items, and sweep up what failures leave behind.

The broker never holds more than ``window`` messages of one batch (a
1,000,000-row manifest stays in the database), so pause takes effect within
seconds. Every finished item tops its batch up again; :func:`sweep` (each
worker runs it every few seconds, any number of them at once) is the safety
net: it starts queued batches, gives items of a vanished run back, re-sends
messages the broker lost, skips a cancelled batch's pending items and keeps
a running batch's heartbeat fresh while workers live.
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta

from sqlalchemy import and_, func, or_, select, update

from db import batch_repo as br
from db.batch_models import Batch, BatchItem, BatchStatus, ItemStatus
from db.models import utcnow

from ..service import Backends
from .items import gave_up
from .stage import STORE

log = logging.getLogger("enhancer.batch")
Publish = Callable[[str, list[str]], int]  # (batch id, item ids) -> messages sent
ACTIVE = (BatchStatus.QUEUED, BatchStatus.RUNNING)
RUNNER = "celery"  # Batch.runner of a batch on the workers (a local runner writes host:pid)


def top_up(b: Backends, batch_id: str, publish: Publish, *, window: int, resend_after_s: float,
           runner: str = RUNNER) -> int:
    """Queue the batch's next pending items until ``window`` are in flight; returns how many were sent.

    Items are marked dispatched before they are published (a lost publish is
    re-sent after ``resend_after_s``; a duplicate message is refused by the claim).
    """
    now = utcnow()
    cutoff = now - timedelta(seconds=resend_after_s)
    fresh = and_(BatchItem.status == ItemStatus.PENDING, BatchItem.dispatched_at.is_not(None),
                 BatchItem.dispatched_at >= cutoff)
    with b.session() as s, s.begin():
        # the row lock serialises concurrent top-ups of one batch (MariaDB; SQLite has one writer anyway)
        batch = s.scalar(select(Batch).where(Batch.id == batch_id).with_for_update())
        if batch is None or batch.status not in ACTIVE:
            return 0
        in_flight = s.scalar(select(func.count()).select_from(BatchItem).where(
            BatchItem.batch_id == batch_id, or_(BatchItem.status == ItemStatus.RUNNING, fresh)))
        need = window - in_flight
        if need <= 0:
            return 0
        due = or_(BatchItem.dispatched_at.is_(None), BatchItem.dispatched_at < cutoff)
        ids = list(s.scalars(
            select(BatchItem.id)
            .where(BatchItem.batch_id == batch_id, BatchItem.status == ItemStatus.PENDING, due)
            .order_by(BatchItem.position).limit(need)))
        if not ids:
            return 0
        s.execute(update(BatchItem).where(BatchItem.id.in_(ids)).values(dispatched_at=now))
        if batch.status == BatchStatus.QUEUED:
            batch.status, batch.finished_at, batch.error = BatchStatus.RUNNING, None, None
            batch.started_at = batch.started_at or now
        batch.runner, batch.heartbeat_at = runner, now
    try:
        return publish(batch_id, ids)
    except Exception:
        # not sent: make them dispatchable again at once (best effort; the resend delay covers a failure here)
        try:
            with b.session() as s, s.begin():
                s.execute(update(BatchItem)
                          .where(BatchItem.id.in_(ids), BatchItem.status == ItemStatus.PENDING,
                                 BatchItem.dispatched_at == now)
                          .values(dispatched_at=None))
        except Exception:
            log.warning("[DISPATCH] could not unmark %d item(s) of %s", len(ids), batch_id[:8], exc_info=True)
        raise


def release_stale(b: Backends, batch_id: str, *, older_than_s: float, max_attempts: int) -> int:
    """Items ``running`` longer than a task may run: their run ended without an outcome (hard time
    limit, lost worker). Back to pending, or failed once their attempts are used up."""
    cutoff = utcnow() - timedelta(seconds=older_than_s)
    stale = and_(BatchItem.batch_id == batch_id, BatchItem.status == ItemStatus.RUNNING,
                 BatchItem.started_at < cutoff)
    with b.session() as s, s.begin():
        spent = list(s.execute(select(BatchItem.id, BatchItem.attempts)
                               .where(stale, BatchItem.attempts >= max_attempts)))
        for row in spent:
            if s.execute(update(BatchItem)
                         .where(BatchItem.id == row.id, BatchItem.status == ItemStatus.RUNNING)
                         .values(status=ItemStatus.FAILED, finished_at=utcnow(), error=gave_up(row.attempts))
                         ).rowcount:
                s.execute(update(Batch).where(Batch.id == batch_id).values(failed=Batch.failed + 1))
        n = s.execute(update(BatchItem).where(stale).values(status=ItemStatus.PENDING, dispatched_at=None,
                                                             task_id=None, started_at=None)).rowcount
    if n or spent:
        log.warning("[DISPATCH] %s: %d stale item(s) pending again, %d failed after %d attempts",
                    batch_id[:8], n, len(spent), max_attempts)
    return n + len(spent)


def settle(b: Backends, batch_id: str) -> str | None:
    """Finish what is finished: a cancelled batch's pending items skipped, a drained batch completed."""
    with b.session() as s, s.begin():
        batch = br.get_batch(s, batch_id)
        if batch is None:
            return None
        if batch.status == BatchStatus.CANCELLED:
            # listed only while its counters fall short: skip what is left and recount (an item finishing
            # at the same moment may have been missed by the last recount)
            br.cancel_pending(s, batch_id)
            br.refresh_counts(s, batch_id)
        elif batch.status in ACTIVE:
            unfinished = BatchItem.status.in_((ItemStatus.PENDING, ItemStatus.RUNNING))
            left = s.scalar(select(BatchItem.id).where(BatchItem.batch_id == batch_id, unfinished).limit(1))
            if left is None:  # drained: recount (cheap once) and finish
                br.refresh_counts(s, batch_id)
                br.set_status(s, batch_id, BatchStatus.COMPLETED, only_from=ACTIVE)
            elif batch.status == BatchStatus.RUNNING:
                batch.heartbeat_at = utcnow()
        return batch.status.value


def active_batches(b: Backends, *, limit: int = 200) -> list[str]:
    """Batches a worker should look after: running, queued (staged), and cancelled ones with items left."""
    with b.session() as s:
        short = Batch.completed + Batch.failed + Batch.skipped < Batch.total
        # a queued batch only once its source is staged: one still being created or staged is not ready
        ready = and_(Batch.status == BatchStatus.QUEUED, Batch.source_path.like(f"{STORE}%"))
        q = (select(Batch.id)
             .where(or_(and_(Batch.status == BatchStatus.RUNNING, Batch.runner == RUNNER), ready,
                        and_(Batch.status == BatchStatus.CANCELLED, short)))
             .order_by(Batch.created_at).limit(limit))
        return list(s.scalars(q))


def sweep(b: Backends, publish: Publish, *, window: int, resend_after_s: float, stale_after_s: float,
          max_attempts: int, runner: str = RUNNER) -> dict[str, int]:
    """One pass over the active batches (safe to run from many workers at once)."""
    sent = released = 0
    for bid in active_batches(b):
        released += release_stale(b, bid, older_than_s=stale_after_s, max_attempts=max_attempts)
        sent += top_up(b, bid, publish, window=window, resend_after_s=resend_after_s, runner=runner)
        settle(b, bid)
    return {"sent": sent, "released": released}


def prepare_start(b: Backends, batch_id: str) -> None:
    """Before an explicit start, resume or retry: every pending item may be sent again, attempts renewed."""
    with b.session() as s, s.begin():
        s.execute(update(BatchItem)
                  .where(BatchItem.batch_id == batch_id, BatchItem.status == ItemStatus.PENDING)
                  .values(dispatched_at=None, attempts=0, task_id=None))
