"""Batch state from any process: summaries (counts, rate, ETA) and control (pause, resume, cancel, retry).

Control only writes the batch's state; a running :class:`~enhancer.batch.runner.BatchRunner`
polls it between items, so the CLI, the dashboard or another process can steer a batch.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from db import batch_repo as br
from db.batch_models import FINISHED_BATCH, Batch, BatchItem, BatchStatus
from db.models import EnhancementHistory, utcnow

from ..service import Backends
from ..service.access import Actor, require
from ..service.audit import note, note_after
from ..views import usage_totals
from .errors import BatchError, UnknownBatchError


@dataclass
class RunSummary:
    """Where a batch stands (the CLI prints it as its final JSON line)."""

    batch_id: str
    name: str
    status: str
    total: int
    completed: int
    failed: int
    skipped: int
    elapsed_s: float
    images_per_minute: float  # completed images per minute of active time (see :func:`active_seconds`)
    eta_s: float | None = None
    active_s: float = 0.0  # time some item was being processed: no queue wait, pause or idle gap
    recent_failures: list[dict] = field(default_factory=list)
    stalled: bool = False  # 'running' but its runner is gone (killed): resume it
    ai_usage: dict = field(default_factory=dict)  # per provider: tokens/images, calls, fallbacks

    @property
    def done(self) -> int:
        return self.completed + self.failed + self.skipped

    def to_dict(self) -> dict:
        return asdict(self)


def request(service: Backends, batch_id: str, action: str, *, actor: str | Actor = "system") -> str:
    """Pause, cancel, resume or retry a batch and every other part of its split upload.

    Writes the state only (a running runner polls it) and one audit row; returns the
    named batch's new status. An :class:`Actor` needs the operator role.
    """
    who = require(actor, "operator", action=f"{action} batches")
    if action not in ACTIONS:
        raise ValueError(f"unknown action {action!r}; valid: {', '.join(ACTIONS)}")
    with service.session() as s, s.begin():
        b = br.get_batch(s, batch_id)
        if b is None:
            raise UnknownBatchError(f"No batch with id {batch_id}")
        parts = br.family(s, b)
        if action == "pause" and not any(p.status in (BatchStatus.QUEUED, BatchStatus.RUNNING) for p in parts):
            raise BatchError(f"batch {batch_id} is {b.status.value}; only queued or running batches pause")
        if action == "cancel" and all(p.status in FINISHED_BATCH for p in parts):
            raise BatchError(f"batch {batch_id} is already {b.status.value}")
        if action == "resume" and b.status == BatchStatus.CANCELLED:
            raise BatchError(f"batch {batch_id} was cancelled; start a new batch instead")
        for p in parts:
            _apply(s, p, action)
        note(s, who, action, "batch", batch_id, name=b.name, parts=len(parts))
        s.flush()
        s.refresh(b)
        return b.status.value


ACTIONS = ("pause", "cancel", "retry", "resume")


def start(service: Backends, source, *, actor: str | Actor = "system", **kw) -> list[str]:
    """:func:`create_batches` for ``actor`` (operator or above), recorded as one ``start`` audit row.

    ``kw`` goes to :func:`enhancer.batch.runner.create_batches` (options, name, max_batch_size…).
    """
    from .runner import create_batches

    who = require(actor, "operator", action="start batches")
    ids = create_batches(service, source, **kw)
    if ids:
        note_after(service, who, "start", "batch", ids[0], parts=len(ids), name=kw.get("name"))
    return ids


def _apply(s: Session, b: Batch, action: str) -> None:
    if action == "pause":
        br.set_status(s, b.id, BatchStatus.PAUSED, only_from=(BatchStatus.QUEUED, BatchStatus.RUNNING))
    elif action == "cancel":
        if b.status in FINISHED_BATCH:
            return
        alive = br.runner_alive(b)  # before the update, which sets b.status in this session too
        br.set_status(s, b.id, BatchStatus.CANCELLED)
        if not alive:
            br.reset_running(s, b.id)
            br.cancel_pending(s, b.id)
            br.refresh_counts(s, b.id)
    elif action == "retry":
        if br.retry_failed(s, b.id):
            br.set_status(s, b.id, BatchStatus.QUEUED, only_from=FINISHED_BATCH + (BatchStatus.PAUSED,))
        br.refresh_counts(s, b.id)
    elif action == "resume" and b.status == BatchStatus.PAUSED:
        br.set_status(s, b.id, BatchStatus.QUEUED)


def family_ids(service: Backends, batch_id: str) -> list[str]:
    """Every part of the split upload ``batch_id`` belongs to, in order (BatchError if unknown)."""
    with service.session() as s:
        b = br.get_batch(s, batch_id)
        if b is None:
            raise UnknownBatchError(f"No batch with id {batch_id}")
        return [p.id for p in br.family(s, b)]


_PRECEDENCE = ("running", "queued", "paused", "failed", "cancelled", "completed")


def family_status(service: Backends, batch_id: str) -> dict:
    """The aggregated status of a split upload (by any part's id or the parent id) and each part's summary."""
    with service.session() as s:
        b = br.get_batch(s, batch_id)
        if b is None:
            raise UnknownBatchError(f"No batch with id {batch_id}")
        parts = [summarize(s, p, failures=0) for p in br.family(s, b)]
    states = {p.status for p in parts}
    status = next((st for st in _PRECEDENCE if st in states), "completed")
    total = sum(p.total for p in parts)
    done = {k: sum(getattr(p, k) for p in parts) for k in ("completed", "failed", "skipped")}
    rate = sum(p.images_per_minute for p in parts if p.status == "running")
    left = total - sum(done.values())
    return {"parent_batch_id": b.parent_batch_id or b.id, "status": status, "total": total, **done,
            "pending": left, "images_per_minute": round(rate, 1),
            "eta_s": round(left / (rate / 60), 1) if rate and left > 0 else (0.0 if left <= 0 else None),
            "batches": [p.to_dict() for p in parts]}


def summary(service: Backends, batch_id: str, *, failures: int = 5) -> RunSummary:
    with service.session() as s:
        b = br.get_batch(s, batch_id)
        if b is None:
            raise UnknownBatchError(f"No batch with id {batch_id}")
        return summarize(s, b, failures=failures)


def summarize(s: Session, b: Batch, *, failures: int = 5) -> RunSummary:
    start = b.started_at or b.created_at
    end = b.finished_at if b.status in FINISHED_BATCH + (BatchStatus.PAUSED,) and b.finished_at else utcnow()
    elapsed = max((end - start).total_seconds(), 1e-6) if b.started_at else 0.0
    active = active_seconds(s, b.id, now=end)
    # Only completed images count: a batch whose every item failed in a millisecond processed nothing.
    rate = b.completed / active * 60 if active > 0 else 0.0
    left = b.total - b.completed - b.failed - b.skipped
    # the ETA needs the pace items leave the queue at, failures included
    pace = (b.completed + b.failed) / active if active > 0 else 0.0
    eta = left / pace if pace and left > 0 else (0.0 if left <= 0 else None)
    recent = [{"position": i.position, "sku_id": i.sku_id, "source": i.source, "error": i.error}
              for i in br.recent_failures(s, b.id, limit=failures)] if failures else []
    return RunSummary(batch_id=b.id, name=b.name, status=b.status.value, total=b.total, completed=b.completed,
                      failed=b.failed, skipped=b.skipped, elapsed_s=round(elapsed, 2),
                      images_per_minute=round(rate, 1), eta_s=None if eta is None else round(eta, 1),
                      active_s=round(active, 2), recent_failures=recent,
                      stalled=b.status == BatchStatus.RUNNING and not br.runner_alive(b),
                      ai_usage=ai_usage(s, b) if (b.options or {}).get("ai") not in (None, "local") else {})


def active_seconds(s: Session, batch_id: str, *, now=None) -> float:
    """Seconds during which at least one item of the batch was being processed.

    The union of the items' [started, finished] intervals (a running item
    runs until ``now``): workers running side by side are not counted
    twice, and time with nothing in flight (queued, paused, a runner that
    was killed and resumed later) is not counted at all.
    """
    rows = s.execute(select(BatchItem.started_at, BatchItem.finished_at)
                     .where(BatchItem.batch_id == batch_id, BatchItem.started_at.is_not(None))
                     .order_by(BatchItem.started_at)).all()
    now = now or utcnow()
    total, cur_start, cur_end = 0.0, None, None
    for started, finished in rows:
        finished = finished if finished is not None and finished >= started else max(now, started)
        if cur_end is None or started > cur_end:
            if cur_end is not None:
                total += (cur_end - cur_start).total_seconds()
            cur_start, cur_end = started, finished
        elif finished > cur_end:
            cur_end = finished
    if cur_end is not None:
        total += (cur_end - cur_start).total_seconds()
    return total


def ai_usage(s: Session, b: Batch) -> dict:
    """What this batch's AI calls used (operators pay per token / image), by provider."""
    images = select(BatchItem.product_image_id).where(BatchItem.batch_id == b.id,
                                                     BatchItem.product_image_id.is_not(None))
    rows = s.scalars(select(EnhancementHistory).where(EnhancementHistory.product_image_id.in_(images),
                                                      EnhancementHistory.created_at >= b.created_at))
    return usage_totals(list(rows))
