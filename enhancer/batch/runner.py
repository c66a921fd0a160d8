"""Create batches from a source and run them on a bounded pool, state in the database.

Memory stays flat whatever the batch size: items are inserted in chunks while
the source is streamed, then read back a page at a time into a bounded queue;
only the photos in flight are in memory. Each worker thread does fetch → hash
→ :func:`enhancer.service.upload` (which applies the one reuse rule) → record. The batch's
status is polled between items, so pause/cancel from another process (CLI or
dashboard) takes effect after the photos in flight finish.
"""
from __future__ import annotations

import hashlib
import json
import logging
import math
import multiprocessing
import os
import queue
import sys
import threading
import time
import uuid
import zipfile
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from db import batch_repo as br
from db.batch_models import Batch, BatchItem, BatchStatus, ItemStatus
from db.models import utcnow

from .._alloc import on_huge_pages
from ..errors import EnhancerError, InvalidImageError
from ..formats import ACCEPTED_TEXT, EXTENSIONS, sniff
from ..options import EnhanceOptions
from ..service import Backends, upload
from .control import RunSummary, summarize, summary
from .errors import BatchError, FetchError, IntakeError
from .fetch import FetchPolicy, Fetcher
from .retry import DELAYS_S, MAX_ITEM_ATTEMPTS, reason, transient, with_retry
from .intake import ZipLimits, detect_kind, fingerprint, iter_items, read_folder_member, read_zip_member

log = logging.getLogger("enhancer.batch")
PAGE = 200


# -- creation ------------------------------------------------------------------------------

def create_batches(b: Backends, source: str | Path, *, options: EnhanceOptions = EnhanceOptions(),
                   name: str | None = None, kind: str | None = None, max_batch_size: int = 5000,
                   zip_limits: ZipLimits | None = None) -> list[str]:
    """Record the batch(es) for a source and return their ids, in order.

    A source with more items than ``max_batch_size`` becomes ``Name_Part1ofN`` …
    sharing ``parent_batch_id`` (the first part's id). The same name, source
    bytes and options give back the existing batches, so re-running a manifest
    resumes it instead of duplicating it.

    Raises
    ------
    IntakeError
        The source is unusable as a whole or has no items.
    """
    path = Path(source).resolve()
    kind = kind or detect_kind(path)
    limits = zip_limits or ZipLimits(max_entry_bytes=b.limits.max_upload_bytes)
    name = (name or path.stem or "batch").strip()[:200]
    opts = options.to_dict()
    fp = hashlib.sha256(json.dumps([name, kind, fingerprint(kind, path), opts], sort_keys=True).encode()).hexdigest()
    with b.session() as s:
        existing = br.find_by_fingerprint(s, fp)
        if existing:
            log.info("[BATCH] %s: same source and options as batch %s; resuming it", name, existing[0].id)
            return [b.id for b in existing]
    count = sum(1 for _ in iter_items(kind, path, zip_limits=limits))
    if count == 0:
        raise IntakeError(f"{path.name}: no items found; add photos or manifest rows")
    parts = math.ceil(count / max_batch_size)
    with b.session() as s, s.begin():
        ids: list[str] = []
        for i in range(parts):
            batch = Batch(name=f"{name}_Part{i + 1}of{parts}" if parts > 1 else name, batch_sequence=i + 1,
                      total_split_batches=parts, status=BatchStatus.QUEUED, options=opts, source_kind=kind,
                      source_path=str(path)[:1024], fingerprint=fp,
                      total=min(max_batch_size, count - i * max_batch_size))
            s.add(batch)
            s.flush()
            ids.append(batch.id)
        if parts > 1:
            for bid in ids:
                s.get(Batch, bid).parent_batch_id = ids[0]
        s.flush()
        chunk: list[dict] = []
        current = 0
        for it in iter_items(kind, path, zip_limits=limits):
            part, pos = divmod(it.position, max_batch_size)
            if part != current or len(chunk) >= br.ITEM_CHUNK:
                br.add_items(s, ids[current], chunk)
                chunk, current = [], part
            chunk.append(_item_row(it, pos, options))
        br.add_items(s, ids[current], chunk)
        for bid in ids:
            br.refresh_counts(s, bid)
    log.info("[BATCH] %s: %d items in %d batch(es)", name, count, parts)
    return ids


def _item_row(it, pos: int, o: EnhanceOptions) -> dict:
    failed = it.error is not None
    return dict(position=pos, source=it.source, sku_id=it.sku_id, mode=it.mode or o.mode.value,
                target_size_kb=it.target_size_kb if it.target_size_kb is not None else o.target_size_kb,
                output_format=it.output_format or o.output_format, profile=it.profile or o.profile,
                status=ItemStatus.FAILED if failed else ItemStatus.PENDING, error=it.error,
                retryable=not failed, attempts=0, reused=False, finished_at=utcnow() if failed else None)


# -- execution -----------------------------------------------------------------------------

_PROC_BACKENDS: Backends | None = None
_PROC_BUSY = threading.Lock()  # held while a photo is enhanced and recorded


def _proc_init(settings, setup, parent: int) -> None:
    global _PROC_BACKENDS
    import cv2

    from ..app import build_backends, engine_from_settings

    # the processes are the parallelism: OpenCV's own thread pool on top would
    # only oversubscribe the cores (about 15 % more CPU per resize or filter)
    cv2.setNumThreads(1)
    if setup is not None:
        setup()
    # the runner migrated the database before starting its pool: no migration check (alembic) per process
    _PROC_BACKENDS = build_backends(settings, engine=engine_from_settings(settings, migrate=False))
    threading.Thread(target=_exit_with_parent, args=(parent,), daemon=True, name="parent-watch").start()


def _exit_with_parent(parent: int) -> None:
    # A killed runner cannot tell its pool to stop (the children hold the queue's
    # pipe open themselves), so each child leaves on its own once its parent is
    # gone, after the photo in flight is recorded: a resume picks up the rest.
    while os.getppid() == parent:
        time.sleep(0.5)
    with _PROC_BUSY:
        os._exit(0)


def _proc_upload(data: bytes, filename: str, opts: EnhanceOptions, kw: dict):
    with _PROC_BUSY:
        return upload(_PROC_BACKENDS, data, filename, opts, **kw)


@dataclass(frozen=True)
class _Work:
    id: str
    position: int
    source: str
    sku_id: str | None
    mode: str
    target_size_kb: int | None
    output_format: str
    profile: str | None


class BatchRunner:
    """Run batches with ``workers`` threads sharing one :class:`~enhancer.service.Backends`.

    Parameters
    ----------
    service : Backends
    workers : int, optional
        Photos in flight at once (default ``os.cpu_count()``).
    fetcher : Fetcher, optional
        For URL items; by default one built from ``fetch_policy``.
    processes : int, optional
        Run enhancement in this many worker processes (each with its own
        backends built from ``settings``; ``process_setup`` runs first in each);
        threads still fetch, hash and record. Threads alone share one
        interpreter lock: on 2 cores they keep about 1.3 cores busy, processes
        about 2 (see benchmarks/bulk.py).
    on_progress : callable, optional
        Called with a :class:`RunSummary` about every ``poll_s`` seconds.
    """

    def __init__(self, service: Backends, *, workers: int | None = None, fetcher: Fetcher | None = None,
                 fetch_policy: FetchPolicy | None = None, zip_limits: ZipLimits | None = None,
                 force: bool = False, processes: int = 0, settings=None, process_setup=None,
                 on_progress: Callable[[RunSummary], None] | None = None, poll_s: float = 0.5):
        self.service = service
        self.workers = max(1, workers or os.cpu_count() or 2)
        self.fetcher = fetcher or Fetcher(fetch_policy or FetchPolicy(max_bytes=service.limits.max_upload_bytes),
                                          pool_size=self.workers)
        self.zip_limits = zip_limits or ZipLimits(max_entry_bytes=service.limits.max_upload_bytes)
        self.force = force
        self.on_progress = on_progress
        self.poll_s = poll_s
        self._procs = None
        if processes and settings is not None:
            # They start with this process's environment (spawned as work comes), with their allocator on
            # huge pages: set here, so every process started from this one after it has it too.
            os.environ.update(on_huge_pages(dict(os.environ)))
            # spawn, not fork: the parent has threads and open database connections by the time it starts them
            self._procs = ProcessPoolExecutor(processes, mp_context=multiprocessing.get_context("spawn"),
                                              initializer=_proc_init,
                                              initargs=(settings, process_setup, os.getpid()))
        self._local = threading.local()  # per worker thread: the open ZIP archive
        self._sha_locks: dict[str, threading.Lock] = {}
        self._locks_guard = threading.Lock()

    def close(self) -> None:
        if self._procs:
            self._procs.shutdown(cancel_futures=True)

    def run(self, batch_id: str) -> RunSummary:
        """Process every pending item of the batch; returns when done, paused or cancelled.

        The batch is claimed atomically (compare-and-set on its runner and
        heartbeat), so of several resumers started at once exactly one runs it;
        each item is claimed pending -> running the same way before it is worked.
        Database blips are retried with backoff (see :mod:`.retry`) and never
        end the batch.

        Raises
        ------
        BatchError
            Unknown id, or another live runner holds it ("batch <id> is being run by host:pid").
        """
        self._tag = br.runner_tag(unique=True)
        self._lost = False
        claimed = with_retry(f"claiming batch {batch_id[:8]}", lambda: self._claim(batch_id),
                             engine=self.service.engine)
        if isinstance(claimed, RunSummary):  # cancelled: nothing to run
            return claimed
        self._inflight = 0
        self._requeued = 0
        self._count_lock = threading.Lock()
        q: queue.Queue = queue.Queue(maxsize=self.workers * 2)
        stop = threading.Event()
        producer = threading.Thread(target=self._produce, args=(batch_id, q, stop), daemon=True,
                                    name=f"batch-feed-{batch_id[:8]}")
        threads = [threading.Thread(target=self._work, args=(batch_id, q, stop), daemon=True,
                                    name=f"batch-worker-{i}") for i in range(self.workers)]
        producer.start()
        for t in threads:
            t.start()
        status = BatchStatus.RUNNING
        try:
            while any(t.is_alive() for t in threads):
                for t in threads:
                    t.join(self.poll_s / max(1, len(threads)))
                try:
                    status = self._tick(batch_id)
                except Exception as exc:  # a database blip: keep working, the next tick tries again
                    if not transient(exc):
                        raise
                    log.warning("[BATCH] %s: progress update failed (%s)", batch_id[:8],
                                reason(exc, self.service.engine))
                    continue
                if status != BatchStatus.RUNNING or self._lost:
                    stop.set()
        except BaseException as exc:
            stop.set()
            # Interrupted (Ctrl-C): paused, resumable. A runner bug: failed, with the reason recorded.
            status = BatchStatus.PAUSED if isinstance(exc, KeyboardInterrupt) else BatchStatus.FAILED
            try:
                with self.service.session() as s, s.begin():
                    br.set_status(s, batch_id, status, only_from=(BatchStatus.RUNNING,))
                    if status is BatchStatus.FAILED:
                        br.get_batch(s, batch_id).error = f"{exc.__class__.__name__}: {exc}"[:2000]
            except Exception as inner:  # the database is down too: a resume finds the batch stalled
                log.warning("[BATCH] %s: could not record the stop (%s)", batch_id[:8],
                            reason(inner, self.service.engine))
            raise
        finally:
            producer.join(5)
        if self._lost:  # another runner took the batch over (ours looked dead): leave its state alone
            log.warning("[BATCH] %s: taken over by another runner; stopping here", batch_id[:8])
            return summary(self.service, batch_id)
        return with_retry(f"finishing batch {batch_id[:8]}", lambda: self._finish(batch_id),
                          engine=self.service.engine)

    def _claim(self, batch_id: str) -> RunSummary | None:
        with self.service.session() as s, s.begin():
            b = br.get_batch(s, batch_id)
            if b is None:
                raise BatchError(f"No batch with id {batch_id}")
            if b.status == BatchStatus.CANCELLED:
                return summarize(s, b)
            # Ours already when the claim committed but its reply was lost (this is a retry).
            mine = b.runner == self._tag and b.status == BatchStatus.RUNNING
            if not mine and br.runner_alive(b):
                raise BatchError(_busy(batch_id, b))
            if mine or br.claim_batch(s, batch_id, self._tag, seen=b):
                n = br.reset_running(s, batch_id)
                if n:
                    log.info("[BATCH] %s: %d item(s) left running by a stopped process are pending again",
                             b.name, n)
                br.refresh_counts(s, batch_id)
                self._batch_opts = EnhanceOptions.from_dict(b.options or {}, default_ai=self.service.default_ai)
                return None
        with self.service.session() as s:  # lost the race: name the winner
            raise BatchError(_busy(batch_id, br.get_batch(s, batch_id)))

    def _tick(self, batch_id: str) -> BatchStatus:
        with self.service.session() as s, s.begin():
            br.refresh_counts(s, batch_id)
            if not br.heartbeat(s, batch_id, self._tag):
                self._lost = True
            b = br.get_batch(s, batch_id)
            status = b.status
            progress = summarize(s, b) if self.on_progress else None
        if progress is not None:  # outside the transaction: the callback may write (e.g. pause)
            self._report(progress)
        return status

    def _finish(self, batch_id: str) -> RunSummary:
        with self.service.session() as s, s.begin():
            b = br.get_batch(s, batch_id)
            if b.status == BatchStatus.CANCELLED:
                br.cancel_pending(s, batch_id)
            c = br.refresh_counts(s, batch_id)
            if b.status == BatchStatus.RUNNING and c["pending"] == 0 and c["running"] == 0:
                br.set_status(s, batch_id, BatchStatus.COMPLETED)
            elif b.status == BatchStatus.PAUSED:
                b.finished_at = utcnow()
            s.flush()
            s.refresh(b)
            out = summarize(s, b)
        if self.on_progress:
            self._report(out)
        log.info("[BATCH] %s: %s, %d completed, %d failed, %d skipped", out.name, out.status, out.completed,
                 out.failed, out.skipped)
        return out

    def _report(self, progress: RunSummary) -> None:
        try:
            self.on_progress(progress)
        except Exception:  # a display problem must not stop the batch
            log.exception("[BATCH] progress callback failed")

    def _produce(self, batch_id: str, q: queue.Queue, stop: threading.Event) -> None:
        # Sweeps the pending items in position order. Items that went back to pending on a blip
        # (see _record) are picked up by another sweep once the in-flight ones are done; each
        # requeue counts an attempt, so the sweeps end.
        after, requeued_before, sweeps = -1, 0, 0
        try:
            while not stop.is_set():
                page = with_retry("reading pending items", lambda: self._page(batch_id, after),
                                  engine=self.service.engine, stop=stop)
                if page:
                    for w in page:
                        while not stop.is_set():
                            try:
                                q.put(w, timeout=0.2)
                                with self._count_lock:
                                    self._inflight += 1
                                break
                            except queue.Full:
                                continue
                        if stop.is_set():
                            break
                    after = page[-1].position
                    continue
                while self._inflight and not stop.is_set():  # the sweep's last items are still in flight
                    time.sleep(0.05)
                if self._requeued == requeued_before:
                    break
                requeued_before, after, sweeps = self._requeued, -1, sweeps + 1
                stop.wait(DELAYS_S[min(sweeps, len(DELAYS_S) - 1)])
        except Exception as exc:  # the database stayed down past the retries: stop feeding, resume later
            log.warning("[BATCH] %s: stopped reading items (%s); resume the batch to finish it", batch_id[:8],
                        reason(exc, self.service.engine))
        finally:
            for _ in range(self.workers):
                q.put(None)

    def _page(self, batch_id: str, after: int) -> list[_Work]:
        with self.service.session() as s:
            return [_Work(i.id, i.position, i.source, i.sku_id, i.mode or "AUTO", i.target_size_kb,
                          i.output_format or "JPEG", i.profile)
                    for i in br.pending_items(s, batch_id, after=after, limit=PAGE)]

    def _work(self, batch_id: str, q: queue.Queue, stop: threading.Event) -> None:
        def source():
            with self.service.session() as s:
                b = br.get_batch(s, batch_id)
                return b.source_kind, b.source_path

        kind, root = with_retry("reading the batch", source, engine=self.service.engine)
        while True:
            w = q.get()
            if w is None:
                if getattr(self._local, "zip", None) is not None:
                    self._local.zip.close()
                    self._local.zip = None
                return
            try:
                if stop.is_set():  # paused or cancelled: leave queued items pending
                    continue
                token = f"local:{uuid.uuid4().hex}"  # this claim's, the same on each of its retries
                if not with_retry(f"claiming item {w.position}", lambda: self._claim_item(w, token),
                                  engine=self.service.engine, stop=stop):
                    continue  # done or taken by another runner meanwhile
                self._one(kind, root, w)
            except Exception as exc:  # the outcome could not be recorded: the item stays running; a resume retries it
                log.warning("[BATCH] item %d: could not record the outcome (%s)", w.position,
                            reason(exc, self.service.engine))
            finally:
                with self._count_lock:
                    self._inflight -= 1

    def _claim_item(self, w: _Work, token: str) -> bool:
        with self.service.session() as s, s.begin():
            return br.claim_item(s, w.id, token)

    # -- one item ----------------------------------------------------------------------------
    def _one(self, kind: str, root: str | None, w: _Work) -> None:
        t0 = time.perf_counter()  # the item was claimed (pending -> running) by _work
        sha = None
        try:
            data = self._load(kind, root, w)
            fmt = sniff(data)
            if fmt is None:
                raise InvalidImageError(f"{w.source}: not an image ({ACCEPTED_TEXT} expected)")
            sha = hashlib.sha256(data).hexdigest()
            filename = PurePosixPath(w.source).name if kind not in ("csv", "xlsx") \
                else f"{w.sku_id}.{EXTENSIONS.get(fmt, 'jpg')}"
            # The service's one reuse rule decides "already done" (same bytes + same options key);
            # two items with the same bytes in flight at once: the second waits, then reuses.
            with self._sha_lock(sha):
                res = self._upload(data, filename, w)
            if not res.success:
                return self._record(w, t0, ItemStatus.FAILED, sha=sha, image_id=res.image_id, error=res.error)
            if res.reused and not res.copied_from:  # this SKU already had it: nothing new was made
                return self._record(w, t0, ItemStatus.SKIPPED, sha=sha, image_id=res.image_id,
                                    hid=res.database_id, reused=True)
            return self._record(w, t0, ItemStatus.COMPLETED, sha=sha, image_id=res.image_id, hid=res.database_id)
        except (FetchError, IntakeError, InvalidImageError, ValueError, OSError) as exc:
            self._record(w, t0, ItemStatus.FAILED, sha=sha, error=str(exc))
        except EnhancerError as exc:
            self._record(w, t0, ItemStatus.FAILED, sha=sha, error=f"{exc.__class__.__name__}: {exc}")
        except Exception as exc:  # one bad photo must not stop the batch
            log.exception("[BATCH] item %d failed unexpectedly", w.position)
            self._record(w, t0, ItemStatus.FAILED, sha=sha, error=f"unexpected {exc.__class__.__name__}: {exc}")

    def _load(self, kind: str, root: str | None, w: _Work) -> bytes:
        if kind in ("csv", "xlsx"):
            return self.fetcher.fetch(w.source)
        if kind == "zip":
            return read_zip_member(self._archive(root), w.source, limits=self.zip_limits)
        if kind == "folder":
            return read_folder_member(root, w.source, max_bytes=self.service.limits.max_upload_bytes)
        raise BatchError(f"unknown source kind {kind!r}")

    def _archive(self, path: str) -> zipfile.ZipFile:
        held = getattr(self._local, "zip", None)
        if held is None or held.filename != path:
            if held is not None:
                held.close()
            held = self._local.zip = zipfile.ZipFile(path)
        return held

    def _upload(self, data: bytes, filename: str, w: _Work):
        opts = self._batch_opts.merged(mode=w.mode, target_size_kb=w.target_size_kb,
                                       output_format=w.output_format, profile=w.profile)
        kw = dict(sku_id=w.sku_id, force=self.force, actor=f"batch:{w.id[:8]}")
        if self._procs:
            return self._procs.submit(_proc_upload, data, filename, opts, kw).result()
        return upload(self.service, data, filename, opts, **kw)

    def _sha_lock(self, sha: str) -> threading.Lock:
        # Two items with the same bytes in flight at once would both enhance; the second waits and reuses.
        with self._locks_guard:
            if len(self._sha_locks) > 4 * self.workers:
                self._sha_locks = {k: v for k, v in self._sha_locks.items() if v.locked()}
            return self._sha_locks.setdefault(sha, threading.Lock())

    def _record(self, w: _Work, t0: float, status: ItemStatus, *, sha=None, image_id=None, hid=None,
                reused=False, error=None) -> None:
        # Called from _one's handlers: a failure caused by a database or storage blip sends the
        # item back to pending for a later sweep (bounded by MAX_ITEM_ATTEMPTS) instead of failing it.
        cause = sys.exception() if status is ItemStatus.FAILED else None
        vals = {BatchItem.status: status, BatchItem.finished_at: utcnow(),
                BatchItem.duration_ms: round((time.perf_counter() - t0) * 1000, 1),
                BatchItem.content_sha256: sha, BatchItem.product_image_id: image_id,
                BatchItem.enhancement_id: hid, BatchItem.reused: reused,
                BatchItem.error: (error or None) and str(error)[:2000]}
        again = {BatchItem.status: ItemStatus.PENDING, BatchItem.started_at: None,
                 BatchItem.error: f"will retry: {error}"[:2000]}

        def write() -> None:
            with self.service.session() as s, s.begin():
                mine = s.query(BatchItem).filter(BatchItem.id == w.id, BatchItem.status == ItemStatus.RUNNING)
                if transient(cause) and mine.filter(BatchItem.attempts < MAX_ITEM_ATTEMPTS).update(
                        again, synchronize_session=False):
                    with self._count_lock:
                        self._requeued += 1
                    log.warning("[BATCH] item %d: %s; back to pending for another try", w.position,
                                reason(cause, self.service.engine))
                    return
                mine.update(vals, synchronize_session=False)

        with_retry(f"recording item {w.position}", write, engine=self.service.engine)


def _busy(batch_id: str, b: Batch | None) -> str:
    who = br.runner_name(b.runner) if b is not None and b.runner else "another process"
    beat = f", heartbeat {b.heartbeat_at:%H:%M:%S} UTC" if b is not None and b.heartbeat_at else ""
    return f"batch {batch_id} is being run by {who}{beat}; pause or cancel it there, or wait"
