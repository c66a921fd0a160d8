"""Run batches on background threads owned by this process (the dashboard's runner).

State lives in the database, so a page reload (or another process) sees the
same progress; this registry only knows which batches *this* process runs.
"""
from __future__ import annotations

import logging
import threading
import uuid
from pathlib import Path, PurePosixPath

from ..service import Backends
from .fetch import FetchPolicy
from .runner import BatchRunner

log = logging.getLogger("enhancer.batch")
MANIFEST_EXTS = {".csv", ".xlsx", ".xlsm", ".zip"}


def stage_uploads(files: list[tuple[str, bytes]], root: str | Path) -> Path:
    """Write uploaded files under a new folder in ``root`` and return the batch source.

    One CSV/XLSX/ZIP is the source itself; several photos become a folder.
    Names are reduced to safe base names, so an upload cannot write outside it.

    Raises
    ------
    ValueError
        Nothing uploaded, or a manifest/archive mixed with other files.
    """
    from ..storage.keys import safe_name

    if not files:
        raise ValueError("upload a CSV/XLSX manifest, a ZIP, or some photos")
    exts = {PurePosixPath(n).suffix.lower() for n, _ in files}
    folder = Path(root) / uuid.uuid4().hex[:12]
    if exts & MANIFEST_EXTS:
        if len(files) != 1:
            raise ValueError("upload one manifest or ZIP at a time (or only photos)")
        folder.mkdir(parents=True)
        name, data = files[0]
        path = folder / safe_name(name)
        path.write_bytes(data)
        return path
    photos = folder / "photos"
    photos.mkdir(parents=True)
    seen: set[str] = set()
    for name, data in files:
        safe = safe_name(name)
        stem, dot, ext = safe.rpartition(".")
        n, candidate = 1, safe
        while candidate in seen:
            n += 1
            candidate = f"{stem}_{n}.{ext}" if dot else f"{safe}_{n}"
        seen.add(candidate)
        (photos / candidate).write_bytes(data)
    return photos


class BackgroundRuns:
    """Start batches on daemon threads; ``running(batch_id)`` says whether this process runs it."""

    def __init__(self, service: Backends, *, allow_private_urls: bool = False):
        self.service = service
        self.allow_private_urls = allow_private_urls
        self._threads: dict[str, threading.Thread] = {}
        self._lock = threading.Lock()

    def running(self, batch_id: str) -> bool:
        with self._lock:
            t = self._threads.get(batch_id)
            return t is not None and t.is_alive()

    def start(self, batch_ids: list[str], *, workers: int | None = None, force: bool = False) -> bool:
        """Run the batches one after another on a new thread; False if one of them already runs here
        (that thread then also runs what was queued again before it stops)."""
        with self._lock:
            if any(self._threads.get(b) and self._threads[b].is_alive() for b in batch_ids):
                return False
            t = threading.Thread(target=self._run, args=(list(batch_ids), workers, force), daemon=True,
                                 name=f"bulk-{batch_ids[0][:8]}")
            for b in batch_ids:
                self._threads[b] = t
            t.start()
            return True

    def _run(self, batch_ids: list[str], workers: int | None, force: bool) -> None:
        policy = FetchPolicy(max_bytes=self.service.limits.max_upload_bytes, allow_private=self.allow_private_urls)
        runner = BatchRunner(self.service, workers=workers, fetch_policy=policy, force=force)
        try:
            while True:
                for bid in batch_ids:
                    if runner.run(bid).status in ("paused", "cancelled"):
                        break
                # A resume or retry while this thread was stopping found it alive (start() said False):
                # the batch is queued again, so this thread runs it before it lets go of the ids.
                with self._lock:
                    if not self._queued(batch_ids):
                        for bid in batch_ids:
                            if self._threads.get(bid) is threading.current_thread():
                                del self._threads[bid]
                        return
        except Exception:
            log.exception("[BATCH] background run of %s failed", batch_ids[0])
        finally:
            runner.close()

    def _queued(self, batch_ids: list[str]) -> bool:
        from db.batch_models import Batch, BatchStatus
        from sqlalchemy import func, select

        with self.service.session() as s:
            n = s.scalar(select(func.count()).select_from(Batch)
                         .where(Batch.id.in_(batch_ids), Batch.status == BatchStatus.QUEUED))
        return bool(n)


