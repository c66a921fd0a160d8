"""One batch item on a worker: claim it in the database, make it, record the outcome with the counters.

The broker delivers at least once (a requeued or duplicated message, a second
worker); the database makes it once in effect:

- **claim**: one conditional UPDATE moves the item from ``pending`` to
  ``running`` and counts the attempt. A redelivered message carries the same
  task id as the one whose worker died, so it may take over a ``running``
  item it held; any other task finds it taken and drops its message.
- **cap**: an item whose attempts reached ``max_attempts`` ends ``failed``
  with the reason (a photo that kills its worker every time cannot loop).
- **record**: the outcome is written only while this task still holds the
  claim, in the same transaction as the batch's counter and, for the last
  item, the batch's ``completed`` status.
- pause and cancel are the batch's status, read at the claim: a paused
  batch's item goes back to ``pending`` (dispatched again on resume), a
  cancelled one's is skipped.
"""
from __future__ import annotations

import hashlib
import logging
import random
import time
from dataclasses import dataclass
from pathlib import PurePosixPath

from sqlalchemy import and_, case, or_, select, update

from db.batch_models import FINISHED_BATCH, Batch, BatchItem, BatchStatus, ItemStatus
from db.models import EnhancementHistory, utcnow
from db.session import LOCK_CONFLICT, error_code

from ..errors import ConflictError, InvalidImageError
from ..formats import ACCEPTED_TEXT, EXTENSIONS, sniff
from ..options import EnhanceOptions
from ..service import Backends, upload
from .errors import BatchError, FetchError, IntakeError
from .fetch import Fetcher
from .intake import ZipLimits, read_folder_member, read_zip_member
from .stage import is_staged, read_staged

log = logging.getLogger("enhancer.batch")
_COUNTER = {ItemStatus.COMPLETED: Batch.completed, ItemStatus.FAILED: Batch.failed,
            ItemStatus.SKIPPED: Batch.skipped}
FINISHED_ITEM = (ItemStatus.COMPLETED, ItemStatus.FAILED, ItemStatus.SKIPPED)


@dataclass(frozen=True)
class Claimed:
    """What a worker needs to make one item (read in the claim's transaction)."""

    id: str
    batch_id: str
    position: int
    source: str
    sku_id: str | None
    mode: str | None
    target_size_kb: int | None
    output_format: str | None
    profile: str | None
    attempts: int
    kind: str
    source_path: str | None
    options: dict
    batch_started_at: object


def gave_up(attempts: int) -> str:
    return (f"gave up after {attempts} attempt(s): each one ended without an outcome (the worker process "
            f"died, ran out of memory or passed TASK_TIME_LIMIT); retry the batch's failed items to try "
            f"again")


def claim(b: Backends, item_id: str, task_id: str, *, worker: str, max_attempts: int) -> Claimed | str:
    """Take the item for this task, or say why not (a string: the message is then dropped)."""
    with b.session() as s, s.begin():
        item = s.get(BatchItem, item_id)
        if item is None:
            return "gone"
        if item.status in FINISHED_ITEM:
            return f"already {item.status.value}"
        mine = item.status == ItemStatus.RUNNING and item.task_id == task_id
        if item.status == ItemStatus.RUNNING and not mine:
            return "held by another task"
        batch = s.get(Batch, item.batch_id)
        if batch.status == BatchStatus.CANCELLED:
            _finish(s, item.id, item.batch_id, ItemStatus.SKIPPED, task_id=task_id if mine else None,
                    values={"error": "cancelled before it was processed"})
            return "batch cancelled"
        if batch.status not in (BatchStatus.QUEUED, BatchStatus.RUNNING):
            # paused (or stopped): back to pending, not dispatched, so a resume sends it again
            s.execute(update(BatchItem)
                      .where(BatchItem.id == item.id,
                             BatchItem.status.in_((ItemStatus.PENDING, ItemStatus.RUNNING)))
                      .values(status=ItemStatus.PENDING, dispatched_at=None, task_id=None))
            return f"batch {batch.status.value}"
        if item.attempts >= max_attempts:
            _finish(s, item.id, item.batch_id, ItemStatus.FAILED, task_id=task_id if mine else None,
                    values={"error": gave_up(item.attempts)})
            return "attempts exhausted"
        if batch.status == BatchStatus.QUEUED:  # the batch's row before the item's: see _finish
            s.execute(update(Batch).where(Batch.id == batch.id, Batch.status == BatchStatus.QUEUED)
                      .values(status=BatchStatus.RUNNING, started_at=batch.started_at or utcnow(),
                              finished_at=None, heartbeat_at=utcnow()))
        took = s.execute(
            update(BatchItem)
            .where(BatchItem.id == item.id, BatchItem.attempts < max_attempts,
                   or_(BatchItem.status == ItemStatus.PENDING,
                       and_(BatchItem.status == ItemStatus.RUNNING, BatchItem.task_id == task_id)))
            .values(status=ItemStatus.RUNNING, attempts=BatchItem.attempts + 1, started_at=utcnow(),
                    task_id=task_id, worker=worker[:255], error=None)).rowcount
        if not took:
            return "taken by another task"
        return Claimed(item.id, item.batch_id, item.position, item.source, item.sku_id, item.mode,
                       item.target_size_kb, item.output_format, item.profile, item.attempts + 1,
                       batch.source_kind, batch.source_path, dict(batch.options or {}),
                       batch.started_at or utcnow())


def _finish(s, item_id: str, batch_id: str, status: ItemStatus, *, task_id: str | None, values: dict) -> bool:
    """Move an unfinished item to a final status and count it, in the caller's transaction."""
    # Lock the batch's row first. Changing an item's status rewrites an index that holds its batch_id, so
    # InnoDB's foreign-key check share-locks the batch's row; two workers finishing items at once would
    # then both wait to upgrade that lock for the counter, a deadlock (seen: 2 % of items, 1 s each).
    s.execute(select(Batch.id).where(Batch.id == batch_id).with_for_update())
    q = update(BatchItem).where(BatchItem.id == item_id)
    if task_id is None:
        q = q.where(BatchItem.status == ItemStatus.PENDING)
    else:  # only while this task still holds the claim
        q = q.where(BatchItem.status == ItemStatus.RUNNING, BatchItem.task_id == task_id)
    if not s.execute(q.values(status=status, finished_at=utcnow(), **values)).rowcount:
        return False
    # Count it and, for the last item, finish the batch (counters are exact: each item is counted once,
    # above). One statement; MySQL assigns left to right with the new values, SQLite with the old ones, so
    # the finish is decided on the old counters (+ this item) before the counter moves.
    counter, now = _COUNTER[status], utcnow()
    last = and_(Batch.status == BatchStatus.RUNNING,
                Batch.completed + Batch.failed + Batch.skipped + 1 >= Batch.total)
    s.execute(update(Batch).where(Batch.id == batch_id).ordered_values(
        (Batch.finished_at, case((last, now), else_=Batch.finished_at)),
        (Batch.status, case((last, BatchStatus.COMPLETED), else_=Batch.status)),
        (counter, counter + 1), (Batch.heartbeat_at, now), (Batch.updated_at, now)))
    return True


def record(b: Backends, c: Claimed, task_id: str, status: ItemStatus, *, t0: float, sha=None, image_id=None,
           hid=None, reused=False, error=None) -> bool:
    """Write the outcome and the batch's counter together; False when this task no longer holds the item."""
    values = dict(duration_ms=round((time.perf_counter() - t0) * 1000, 1), content_sha256=sha,
                  product_image_id=image_id, enhancement_id=hid, reused=reused,
                  error=(error or None) and str(error)[:2000])
    with b.session() as s, s.begin():
        return _finish(s, c.id, c.batch_id, status, task_id=task_id, values=values)


class Loader:
    """Reads an item's bytes: staged objects, URLs, or (same machine, unstaged) the local source."""

    def __init__(self, b: Backends, fetcher: Fetcher):
        self.b, self.fetcher = b, fetcher
        self.zip_limits = ZipLimits(max_entry_bytes=b.limits.max_upload_bytes)

    def load(self, c: Claimed) -> bytes:
        if c.kind in ("csv", "xlsx"):
            return self.fetcher.fetch(c.source)
        if is_staged(c.source_path):
            return read_staged(self.b, c.batch_id, c.position)
        if c.kind == "zip":
            return read_zip_member(c.source_path, c.source, limits=self.zip_limits)
        if c.kind == "folder":
            return read_folder_member(c.source_path, c.source, max_bytes=self.b.limits.max_upload_bytes)
        raise BatchError(f"unknown source kind {c.kind!r}")


def make(b: Backends, c: Claimed, loader: Loader, *, default_ai: str | None = None):
    """Fetch and enhance one claimed item; returns (status, fields for :func:`record`).

    Item-level failures (not an image, HTTP 404, bad options) are outcomes;
    infrastructure failures (database, storage) raise, so the task retries.
    """
    sha = None
    try:
        data = loader.load(c)
        fmt = sniff(data)
        if fmt is None:
            raise InvalidImageError(f"{c.source}: not an image ({ACCEPTED_TEXT} expected)")
        sha = hashlib.sha256(data).hexdigest()
        filename = f"{c.sku_id}.{EXTENSIONS.get(fmt, 'jpg')}" if c.kind in ("csv", "xlsx") \
            else PurePosixPath(c.source).name
        opts = EnhanceOptions.from_dict(c.options, default_ai=default_ai).merged(
            mode=c.mode, target_size_kb=c.target_size_kb, output_format=c.output_format, profile=c.profile)
        res = upload(b, data, filename, opts, sku_id=c.sku_id, force=bool(c.options.get("force")),
                     actor=f"batch:{c.id[:8]}")
    except ConflictError:  # a race with another writer of the same photo: try again, it reuses
        raise
    except (FetchError, IntakeError, InvalidImageError, ValueError) as exc:
        return ItemStatus.FAILED, dict(sha=sha, error=str(exc))
    except Exception as exc:
        if transient(exc):
            raise
        if exc.__class__.__name__ == "SoftTimeLimitExceeded":
            return ItemStatus.FAILED, dict(sha=sha, error="took longer than TASK_TIME_LIMIT allows; stopped")
        log.exception("[WORKER] item %d failed unexpectedly", c.position)
        return ItemStatus.FAILED, dict(sha=sha, error=f"{exc.__class__.__name__}: {exc}")
    if not res.success:
        return ItemStatus.FAILED, dict(sha=sha, image_id=res.image_id, error=res.error)
    if res.reused and not res.copied_from and not _made_by_earlier_attempt(b, c, res.database_id):
        return ItemStatus.SKIPPED, dict(sha=sha, image_id=res.image_id, hid=res.database_id, reused=True)
    return ItemStatus.COMPLETED, dict(sha=sha, image_id=res.image_id, hid=res.database_id)


def _made_by_earlier_attempt(b: Backends, c: Claimed, history_id: str | None) -> bool:
    # A worker that died after the service recorded the result, before the item's outcome: the retry
    # finds "its own" result as a reuse. Made since the batch started, by a retried item: this item's.
    if c.attempts < 2 or not history_id:
        return False
    with b.session() as s:
        made = s.scalar(select(EnhancementHistory.created_at).where(EnhancementHistory.id == history_id))
    return made is not None and made >= c.batch_started_at


def run_item(b: Backends, item_id: str, task_id: str, *, worker: str, max_attempts: int, loader: Loader,
             transient_retries: int = 4, backoff_s: float = 1.0) -> str:
    """Claim, make and record one item; returns what happened (for the worker's log).

    A database or storage failure is retried here with backoff (a short outage
    costs no attempt); past that it raises so the task is retried later.
    """
    for n in range(transient_retries + 1):
        try:
            c = claim(b, item_id, task_id, worker=worker, max_attempts=max_attempts)
            break
        except Exception as exc:
            if not transient(exc) or n == transient_retries:
                raise
            time.sleep(_pause(exc, n, backoff_s))
    if isinstance(c, str):
        return c
    t0 = time.perf_counter()
    for n in range(transient_retries + 1):
        try:
            status, out = make(b, c, loader, default_ai=b.default_ai)
            break
        except Exception as exc:
            if not transient(exc) or n == transient_retries:
                raise
            log.warning("[WORKER] item %s: %s; trying again", item_id[:8], exc)
            time.sleep(_pause(exc, n, backoff_s))
    for n in range(transient_retries + 1):
        try:
            kept = record(b, c, task_id, status, t0=t0, **out)
            return status.value if kept else "outcome dropped: another task took the item over"
        except Exception as exc:
            if not transient(exc) or n == transient_retries:
                raise
            time.sleep(_pause(exc, n, backoff_s))
    raise AssertionError("unreachable")


def _pause(exc: BaseException, n: int, backoff_s: float) -> float:
    """How long to wait before try ``n + 1``: a lost lock race at once (jittered), an outage with backoff."""
    if error_code(exc) in LOCK_CONFLICT:  # the other side of the race is done by now
        return random.uniform(0.005, 0.05)
    return backoff_s * 2 ** n


def transient(exc: BaseException) -> bool:
    """Worth trying again: the database or the object store failed, not the item."""
    from sqlalchemy.exc import DBAPIError, OperationalError

    from ..errors import DatabaseError, StorageError

    if isinstance(exc, (OperationalError, DatabaseError, StorageError, ConnectionError, TimeoutError)):
        return True
    return isinstance(exc, DBAPIError) and exc.connection_invalidated


def finished(status: BatchStatus) -> bool:
    return status in FINISHED_BATCH
