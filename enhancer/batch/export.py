"""Export a batch's items (with their images' figures) as CSV, JSON or Excel bytes."""
from __future__ import annotations

import io
import json
import zipfile

from sqlalchemy import select

from db import batch_repo as br
from db.batch_models import Batch, BatchItem, ItemStatus
from db.models import ProductImage

from ..export_safe import csv_bytes, xlsx_bytes
from ..service import Backends
from ..storage.keys import safe_name
from .errors import UnknownBatchError

EXPORT_FORMATS = ("csv", "json", "xlsx")
COLUMNS = ["batch_id", "position", "sku_id", "source", "status", "reused", "attempts", "error",
           "product_image_id", "enhancement_id", "mode", "target_size_kb", "output_format", "profile",
           "duration_ms", "started_at", "finished_at", "original_size_bytes", "enhanced_size_bytes",
           "size_reduction_percent", "quality_before", "quality_after", "enhanced_key", "enhanced_url"]


MAX_ROWS = 100_000


def rows(service: Backends, batch_id: str | None) -> list[dict]:
    """One dict per item, in position order (joined to its image's latest figures).

    ``batch_id`` None: the items of every batch, newest batch first (at most ``MAX_ROWS``).
    """
    with service.session() as s:
        q = select(BatchItem, ProductImage).outerjoin(ProductImage, ProductImage.id == BatchItem.product_image_id)
        if batch_id is None:
            q = (q.join(Batch, Batch.id == BatchItem.batch_id)
                 .order_by(Batch.created_at.desc(), Batch.id, BatchItem.position).limit(MAX_ROWS))
        elif br.get_batch(s, batch_id) is None:
            raise UnknownBatchError(f"No batch with id {batch_id}")
        else:
            q = q.where(BatchItem.batch_id == batch_id).order_by(BatchItem.position)
        out = []
        for it, img in s.execute(q):
            out.append({
                "batch_id": it.batch_id, "position": it.position, "sku_id": it.sku_id, "source": it.source,
                "status": it.status.value, "reused": bool(it.reused), "attempts": it.attempts, "error": it.error,
                "product_image_id": it.product_image_id, "enhancement_id": it.enhancement_id, "mode": it.mode,
                "target_size_kb": it.target_size_kb, "output_format": it.output_format, "profile": it.profile,
                "duration_ms": it.duration_ms,
                "started_at": it.started_at.isoformat() if it.started_at else None,
                "finished_at": it.finished_at.isoformat() if it.finished_at else None,
                "original_size_bytes": img.original_size_bytes if img else None,
                "enhanced_size_bytes": img.enhanced_size_bytes if img else None,
                "size_reduction_percent": img.size_reduction_percent if img else None,
                "quality_before": img.quality_before if img else None,
                "quality_after": img.quality_after if img else None,
                "enhanced_key": img.enhanced_key if img else None,
                "enhanced_url": img.enhanced_image_url if img else None,
            })
        return out


def export_batch(service: Backends, batch_id: str | None, fmt: str = "csv") -> bytes:
    """The batch's items (every batch's when ``batch_id`` is None) as ``csv``, ``json`` or ``xlsx`` bytes.

    Raises
    ------
    ValueError
        For an unknown format.
    BatchError
        For an unknown batch.
    """
    fmt = fmt.lower()
    if fmt not in EXPORT_FORMATS:
        raise ValueError(f"unknown export format {fmt!r}; valid formats: {', '.join(EXPORT_FORMATS)}")
    data = rows(service, batch_id)
    if fmt == "json":
        return json.dumps(data, ensure_ascii=False, indent=1).encode()
    # SKUs, sources and errors come from manifests: neutralised so they cannot run as formulas
    if fmt == "csv":
        return csv_bytes(data, COLUMNS)
    return xlsx_bytes(data, COLUMNS, sheet="items")


def enhanced_zip(service: Backends, batch_id: str) -> bytes:
    """A ZIP of the batch's enhanced files, named ``<sku>_enhanced.<ext>`` (completed and reused items).

    Entry names are built from :func:`~enhancer.storage.keys.safe_name` only: a
    manifest SKU such as ``../../evil`` or ``..\\evil`` becomes ``evil_enhanced.jpg``,
    never a path that leaves the folder it is unpacked into. Two SKUs that clean
    to the same name get ``_2``, ``_3``... rather than one replacing the other.
    """
    buf = io.BytesIO()
    written: set[str] = set()
    names: set[str] = set()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as zf:  # JPEG/WEBP do not compress further
        for r in rows(service, batch_id):
            key = r["enhanced_key"]
            if r["status"] not in (ItemStatus.COMPLETED.value, ItemStatus.SKIPPED.value) or not key:
                continue
            if key in written:  # the same result reused by several items of one SKU
                continue
            written.add(key)
            name = _entry_name(str(r["sku_id"] or r["position"]), key.rsplit(".", 1)[-1], names)
            zf.writestr(name, service.storage.get(key))
    return buf.getvalue()


def _entry_name(sku: str, ext: str, taken: set[str]) -> str:
    name = safe_name(f"{sku}_enhanced.{ext}", default="item_enhanced")
    stem, dot, ext = name.rpartition(".")
    n = 1
    while name in taken:
        n += 1
        name = f"{stem}_{n}{dot}{ext}"
    taken.add(name)
    return name
