"""Queries. Each takes the session first; the caller owns the transaction."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session

from .models import EnhancementHistory, ImageStatus, ProductImage, ReviewStatus

SORTS = {
    "newest": ProductImage.created_at.desc(),
    "oldest": ProductImage.created_at.asc(),
    "sku": ProductImage.sku_id.asc(),
    "quality_gain": (ProductImage.quality_after - ProductImage.quality_before).desc(),
    "size_reduction": ProductImage.size_reduction_percent.desc(),
}


@dataclass(frozen=True)
class ImageFilter:
    """Gallery filters; every field optional."""

    status: str | None = None
    mode: str | None = None
    review_status: str | None = None
    search: str | None = None
    created_from: datetime | None = None
    created_to: datetime | None = None


def get_image(s: Session, image_id: str) -> ProductImage | None:
    return s.get(ProductImage, image_id)


def get_by_sku(s: Session, sku_id: str) -> ProductImage | None:
    return s.scalars(select(ProductImage).where(ProductImage.sku_id == sku_id)).first()


def _filtered(q: Select, f: ImageFilter) -> Select:
    if f.status:
        q = q.where(ProductImage.status == ImageStatus(f.status.upper()))
    if f.mode:
        q = q.where(ProductImage.enhancement_mode == f.mode.upper())
    if f.review_status:
        q = q.where(ProductImage.review_status == ReviewStatus(f.review_status.lower()))
    if f.search:
        # Prefix match keeps the sku/file-name indexes usable on 100k rows.
        term = f.search.strip().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        q = q.where(or_(ProductImage.sku_id.like(term, escape="\\"),
                        ProductImage.original_filename.like(term, escape="\\")))
    if f.created_from:
        q = q.where(ProductImage.created_at >= f.created_from)
    if f.created_to:
        q = q.where(ProductImage.created_at < f.created_to)
    return q


def list_images(s: Session, f: ImageFilter = ImageFilter(), *, sort: str = "newest", limit: int = 50,
                offset: int = 0) -> tuple[int, list[ProductImage]]:
    """One page of images and the total matching the filter."""
    if sort not in SORTS:
        raise ValueError(f"unknown sort {sort!r}; valid sorts: {', '.join(SORTS)}")
    total = s.scalar(_filtered(select(func.count()).select_from(ProductImage), f)) or 0
    q = _filtered(select(ProductImage), f).order_by(SORTS[sort], ProductImage.id).limit(limit).offset(offset)
    return total, list(s.scalars(q))


def history(s: Session, image_id: str) -> list[EnhancementHistory]:
    q = (select(EnhancementHistory).where(EnhancementHistory.product_image_id == image_id)
         .order_by(EnhancementHistory.enhancement_sequence))
    return list(s.scalars(q))


def get_history(s: Session, history_id: str) -> EnhancementHistory | None:
    return s.get(EnhancementHistory, history_id)


def next_sequence(s: Session, image_id: str) -> int:
    cur = s.scalar(select(func.max(EnhancementHistory.enhancement_sequence))
                   .where(EnhancementHistory.product_image_id == image_id))
    return (cur or 0) + 1


def pending_review(s: Session, *, limit: int = 50) -> list[ProductImage]:
    q = (select(ProductImage).where(ProductImage.review_status == ReviewStatus.PENDING_REVIEW)
         .order_by(ProductImage.created_at).limit(limit))
    return list(s.scalars(q))


def counts(s: Session) -> dict[str, int]:
    rows = s.execute(select(ProductImage.status, func.count()).group_by(ProductImage.status)).all()
    out = {st.value: 0 for st in ImageStatus}
    out.update({st.value: n for st, n in rows})
    out["total"] = sum(n for _, n in rows)
    out["enhancements"] = s.scalar(select(func.count()).select_from(EnhancementHistory)) or 0
    return out


# -- dashboard read-only helpers (owned by the dashboard; no writes) -------------------------
REVIEW_OPEN = (ReviewStatus.PENDING, ReviewStatus.PENDING_REVIEW)
EXPORT_COLUMNS = ("id", "sku_id", "original_filename", "status", "review_status", "enhancement_mode",
                  "quality_before", "quality_after", "size_reduction_percent", "original_size_bytes",
                  "enhanced_size_bytes", "enhanced_width", "enhanced_height", "enhanced_format",
                  "processing_time_ms", "created_at", "processed_at", "image_url", "enhanced_image_url",
                  "error_message")


def review_queue(s: Session, *, limit: int = 20, offset: int = 0) -> tuple[int, list[ProductImage]]:
    """Images with a variant waiting for a decision (review status pending or pending_review), oldest first."""
    where = ProductImage.review_status.in_(REVIEW_OPEN)
    total = s.scalar(select(func.count()).select_from(ProductImage).where(where)) or 0
    q = (select(ProductImage).where(where).order_by(ProductImage.created_at, ProductImage.id)
         .limit(limit).offset(offset))
    return total, list(s.scalars(q))


def export_rows(s: Session, f: ImageFilter = ImageFilter(), *, sort: str = "newest",
                limit: int = 100_000) -> list[dict]:
    """Flat rows of the filtered table for CSV/JSON/Excel export (plain columns, no ORM objects)."""
    if sort not in SORTS:
        raise ValueError(f"unknown sort {sort!r}; valid sorts: {', '.join(SORTS)}")
    cols = [getattr(ProductImage, c) for c in EXPORT_COLUMNS]
    q = _filtered(select(*cols), f).order_by(SORTS[sort], ProductImage.id).limit(limit)
    out = []
    for row in s.execute(q):
        d = dict(zip(EXPORT_COLUMNS, row))
        d["status"] = getattr(d["status"], "value", d["status"])
        d["review_status"] = getattr(d["review_status"], "value", d["review_status"])
        out.append(d)
    return out


def daily_counts(s: Session, *, since: datetime | None = None) -> list[tuple[str, str | None, str, int]]:
    """(day, mode, status, images) per day; ``func.date`` works on SQLite and MySQL alike."""
    day = func.date(ProductImage.created_at)
    q = select(day, ProductImage.enhancement_mode, ProductImage.status, func.count())
    if since is not None:
        q = q.where(ProductImage.created_at >= since)
    q = q.group_by(day, ProductImage.enhancement_mode, ProductImage.status).order_by(day)
    return [(str(d), m, getattr(st, "value", st), n) for d, m, st, n in s.execute(q)]


def metric_sample(s: Session, *, limit: int = 5000) -> list[dict]:
    """Latest completed images' figures for charts (bounded, newest first)."""
    q = (select(ProductImage.created_at, ProductImage.enhancement_mode, ProductImage.quality_before,
                ProductImage.quality_after, ProductImage.size_reduction_percent,
                ProductImage.processing_time_ms)
         .where(ProductImage.status == ImageStatus.COMPLETED)
         .order_by(ProductImage.created_at.desc()).limit(limit))
    keys = ("created_at", "mode", "quality_before", "quality_after", "size_reduction_percent",
            "processing_time_ms")
    return [dict(zip(keys, r)) for r in s.execute(q)]
