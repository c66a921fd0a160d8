"""Batch queries. Each takes the session first; the caller owns the transaction."""
from __future__ import annotations

import os
import socket
import uuid
from datetime import timedelta

from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import Session

from .batch_models import FINISHED_BATCH, Batch, BatchItem, BatchStatus, ItemStatus
from .models import utcnow

ITEM_CHUNK = 500


def get_batch(s: Session, batch_id: str) -> Batch | None:
    return s.get(Batch, batch_id)


def find_by_fingerprint(s: Session, fingerprint: str) -> list[Batch]:
    q = select(Batch).where(Batch.fingerprint == fingerprint).order_by(Batch.created_at, Batch.batch_sequence)
    rows = list(s.scalars(q))
    if not rows:
        return []
    # The newest family only (an older identical run may have been exported and left alone).
    head = rows[-1].parent_batch_id or rows[-1].id
    return [b for b in rows if (b.parent_batch_id or b.id) == head]


def list_batches(s: Session, *, limit: int = 50, offset: int = 0) -> list[Batch]:
    q = select(Batch).order_by(Batch.created_at.desc(), Batch.batch_sequence).limit(limit).offset(offset)
    return list(s.scalars(q))


def family(s: Session, batch: Batch) -> list[Batch]:
    """All parts of a split manifest (just ``batch`` when it was not split)."""
    if not batch.parent_batch_id:
        return [batch]
    q = select(Batch).where(Batch.parent_batch_id == batch.parent_batch_id).order_by(Batch.batch_sequence)
    return list(s.scalars(q))


def add_items(s: Session, batch_id: str, rows: list[dict]) -> None:
    """Insert item rows (Core executemany: no identity map, so memory stays flat)."""
    from .models import new_id

    if rows:
        s.execute(insert(BatchItem), [{"id": new_id(), "batch_id": batch_id, **r} for r in rows])


def pending_items(s: Session, batch_id: str, *, after: int = -1, limit: int = 200) -> list[BatchItem]:
    q = (select(BatchItem).where(BatchItem.batch_id == batch_id, BatchItem.status == ItemStatus.PENDING,
                                 BatchItem.position > after)
         .order_by(BatchItem.position).limit(limit))
    return list(s.scalars(q))


def items(s: Session, batch_id: str, *, status: str | None = None, limit: int | None = None,
          offset: int = 0) -> list[BatchItem]:
    q = select(BatchItem).where(BatchItem.batch_id == batch_id)
    if status:
        q = q.where(BatchItem.status == ItemStatus(status))
    q = q.order_by(BatchItem.position).offset(offset)
    if limit:
        q = q.limit(limit)
    return list(s.scalars(q))


def recent_failures(s: Session, batch_id: str, *, limit: int = 10) -> list[BatchItem]:
    q = (select(BatchItem).where(BatchItem.batch_id == batch_id, BatchItem.status == ItemStatus.FAILED)
         .order_by(BatchItem.finished_at.desc()).limit(limit))
    return list(s.scalars(q))


def item_counts(s: Session, batch_id: str) -> dict[str, int]:
    rows = s.execute(select(BatchItem.status, func.count()).where(BatchItem.batch_id == batch_id)
                     .group_by(BatchItem.status)).all()
    out = {st.value: 0 for st in ItemStatus}
    out.update({st.value: n for st, n in rows})
    out["total"] = sum(n for _, n in rows)
    return out


def refresh_counts(s: Session, batch_id: str, *, heartbeat: bool = False) -> dict[str, int]:
    """Recount the batch's items into its row (counts are derived, so resume/retry cannot skew them)."""
    c = item_counts(s, batch_id)
    values = dict(total=c["total"], completed=c["completed"], failed=c["failed"], skipped=c["skipped"],
                  updated_at=utcnow())
    if heartbeat:
        values["heartbeat_at"] = utcnow()
    s.execute(update(Batch).where(Batch.id == batch_id).values(**values))
    return c


def set_status(s: Session, batch_id: str, status: BatchStatus, *,
               only_from: tuple[BatchStatus, ...] | None = None) -> bool:
    """Set a batch's status (optionally only from given states); True when a row changed."""
    q = update(Batch).where(Batch.id == batch_id)
    if only_from:
        q = q.where(Batch.status.in_(only_from))
    values: dict = {"status": status, "updated_at": utcnow()}
    if status in FINISHED_BATCH:
        values["finished_at"] = utcnow()
    return s.execute(q.values(**values)).rowcount > 0


def reset_running(s: Session, batch_id: str) -> int:
    """Items left 'running' by a killed process go back to pending."""
    q = (update(BatchItem).where(BatchItem.batch_id == batch_id, BatchItem.status == ItemStatus.RUNNING)
         .values(status=ItemStatus.PENDING, started_at=None))
    return s.execute(q).rowcount


def retry_failed(s: Session, batch_id: str) -> int:
    q = (update(BatchItem).where(BatchItem.batch_id == batch_id, BatchItem.status == ItemStatus.FAILED,
                                 BatchItem.retryable.is_(True))
         .values(status=ItemStatus.PENDING, error=None, finished_at=None, duration_ms=None))
    return s.execute(q).rowcount


def cancel_pending(s: Session, batch_id: str) -> int:
    q = (update(BatchItem).where(BatchItem.batch_id == batch_id, BatchItem.status == ItemStatus.PENDING)
         .values(status=ItemStatus.SKIPPED, error="cancelled before it was processed", finished_at=utcnow()))
    return s.execute(q).rowcount


def claim_batch(s: Session, batch_id: str, runner: str, *, seen: Batch) -> bool:
    """Take the batch for ``runner`` if it is still as ``seen`` (compare-and-set); True when this call won.

    The caller reads the batch, decides its last runner is gone (:func:`runner_alive`),
    then claims it with the values it read: of several resumers racing, the first
    UPDATE changes ``heartbeat_at`` and every later one matches no row.
    """
    now = utcnow()
    q = (update(Batch)
         .where(Batch.id == batch_id, Batch.status == seen.status, _eq(Batch.runner, seen.runner),
                _eq(Batch.heartbeat_at, seen.heartbeat_at))
         .values(status=BatchStatus.RUNNING, runner=runner, heartbeat_at=now, error=None, finished_at=None,
                 started_at=func.coalesce(Batch.started_at, now), updated_at=now))
    return s.execute(q, execution_options={"synchronize_session": False}).rowcount == 1


def heartbeat(s: Session, batch_id: str, runner: str) -> bool:
    """Refresh the batch's heartbeat if ``runner`` still owns it; False when another runner took it over."""
    q = update(Batch).where(Batch.id == batch_id, Batch.runner == runner).values(heartbeat_at=utcnow())
    return s.execute(q, execution_options={"synchronize_session": False}).rowcount == 1


def claim_item(s: Session, item_id: str, token: str | None = None) -> bool:
    """pending -> running for one item (counting the attempt); False when someone else has it or it is done.

    With ``token`` (new for each claim, the same on its retries) a retry whose first try committed but
    lost its reply finds the item running under that token: still this claim's, so True.
    """
    q = (update(BatchItem).where(BatchItem.id == item_id, BatchItem.status == ItemStatus.PENDING)
         .values(status=ItemStatus.RUNNING, started_at=utcnow(), attempts=BatchItem.attempts + 1, task_id=token))
    if s.execute(q, execution_options={"synchronize_session": False}).rowcount == 1:
        return True
    return token is not None and s.scalar(select(BatchItem.id).where(
        BatchItem.id == item_id, BatchItem.status == ItemStatus.RUNNING, BatchItem.task_id == token)) is not None


def runner_tag(*, unique: bool = False) -> str:
    """``host:pid`` of this process; ``unique`` adds ``/token`` so two runs in one process differ."""
    tag = f"{socket.gethostname()[:100]}:{os.getpid()}"
    return f"{tag}/{uuid.uuid4().hex[:8]}" if unique else tag


def runner_name(tag: str | None) -> str:
    """The ``host:pid`` part of a runner tag (what messages show)."""
    return (tag or "").split("/", 1)[0]


def runner_alive(batch: Batch, *, within_s: float = 15.0) -> bool:
    """Is a live process running this batch? A fresh heartbeat, unless its pid on this host is gone."""
    if batch.status != BatchStatus.RUNNING or batch.heartbeat_at is None:
        return False
    host, _, pid = runner_name(batch.runner).rpartition(":")
    if host == socket.gethostname()[:100] and pid.isdigit():
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            pass
    return utcnow() - batch.heartbeat_at < timedelta(seconds=within_s)


def _eq(col, value):
    return col.is_(None) if value is None else col == value
