"""Stage a batch's source in the object store, so a worker on any machine can read it (no shared disk).

A ZIP's or a folder's photos go one object per item, under a key made of the
batch id and the item's position (``batch-sources/<batch>/<position>``): a
worker reads only the photo it processes, and staging twice writes the same
keys. A CSV/XLSX manifest is kept beside them for the record (its items are
URLs, fetched by the workers). The batch's ``source_path`` then reads
``store:batch-sources/<batch>/``.
"""
from __future__ import annotations

import logging
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from sqlalchemy import select, update

from db import batch_repo as br
from db.batch_models import Batch, BatchItem, ItemStatus
from db.models import utcnow

from ..service import Backends
from ..service.keys import staged_prefix
from .errors import IntakeError
from .intake import ZipLimits, read_folder_member, read_zip_member

log = logging.getLogger("enhancer.batch")
STORE = "store:"
PAGE = 200


def prefix(batch_id: str) -> str:
    return staged_prefix(batch_id)


def source_key(batch_id: str, position: int) -> str:
    return f"{prefix(batch_id)}{position:08d}"


def is_staged(source_path: str | None) -> bool:
    return bool(source_path and source_path.startswith(STORE))


def stage_batches(b: Backends, batch_ids: list[str], *, zip_limits: ZipLimits | None = None,
                  threads: int = 8) -> int:
    """Copy what the batches read into the object store; returns the objects written.

    Members that cannot be read (too large, corrupt) fail their item here, as
    the runner would. A batch already staged is left alone.
    """
    limits = zip_limits or ZipLimits(max_entry_bytes=b.limits.max_upload_bytes)
    written = 0
    for bid in batch_ids:
        with b.session() as s:
            batch = br.get_batch(s, bid)
            if batch is None or is_staged(batch.source_path):
                continue
            kind, path = batch.source_kind, batch.source_path
        if kind in ("csv", "xlsx"):
            src = Path(path)
            b.storage.put(f"{prefix(bid)}manifest{src.suffix.lower()}", src.read_bytes(),
                          content_type="application/octet-stream")
            written += 1
        else:
            written += _stage_members(b, bid, kind, path, limits, threads)
        with b.session() as s, s.begin():
            s.execute(update(Batch).where(Batch.id == bid).values(source_path=STORE + prefix(bid)))
    return written


def _stage_members(b: Backends, bid: str, kind: str, root: str, limits: ZipLimits, threads: int) -> int:
    archive = zipfile.ZipFile(root) if kind == "zip" else None
    written = 0
    try:
        after = -1
        with ThreadPoolExecutor(threads) as pool:
            while True:
                with b.session() as s:
                    page = list(s.execute(
                        select(BatchItem.id, BatchItem.position, BatchItem.source)
                        .where(BatchItem.batch_id == bid, BatchItem.position > after,
                               BatchItem.status == ItemStatus.PENDING)
                        .order_by(BatchItem.position).limit(PAGE)))
                if not page:
                    break
                after = page[-1].position
                blobs, failures = [], []
                for row in page:  # ZipFile reads are not thread-safe: read here, write on the pool
                    try:
                        data = read_zip_member(archive, row.source, limits=limits) if archive \
                            else read_folder_member(root, row.source, max_bytes=b.limits.max_upload_bytes)
                        blobs.append((source_key(bid, row.position), data))
                    except (IntakeError, OSError, ValueError, zipfile.BadZipFile) as exc:
                        failures.append((row.id, str(exc)))
                list(pool.map(lambda kv: b.storage.put(kv[0], kv[1], content_type="application/octet-stream"),
                              blobs))
                written += len(blobs)
                if failures:
                    with b.session() as s, s.begin():
                        for item_id, error in failures:
                            s.execute(update(BatchItem).where(BatchItem.id == item_id).values(
                                status=ItemStatus.FAILED, error=error[:2000], retryable=False,
                                finished_at=utcnow()))
                        br.refresh_counts(s, bid)
    finally:
        if archive is not None:
            archive.close()
    log.info("[BATCH] %s: staged %d photo(s) in the object store", bid[:8], written)
    return written


def read_staged(b: Backends, batch_id: str, position: int) -> bytes:
    return b.storage.get(source_key(batch_id, position))
