"""Queries. Each takes the session first; the caller owns the transaction."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, and_, func, or_, select, update
from sqlalchemy.orm import Session

from .models import EnhancementHistory, ImageStatus, Product, ProductImage, ProductStatus, ReviewStatus

SORTS = {
    "newest": ProductImage.created_at.desc(),  # (ties by id in the same direction: see _keyset)
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
    sku_id: str | None = None
    product_id: str | None = None
    created_from: datetime | None = None
    created_to: datetime | None = None


def get_image(s: Session, image_id: str) -> ProductImage | None:
    return s.get(ProductImage, image_id)


def _like(term: str) -> str:
    return "%" + term.strip().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _filtered(q: Select, f: ImageFilter) -> Select:
    if f.status:
        q = q.where(ProductImage.status == ImageStatus(f.status.upper()))
    if f.mode:
        q = q.where(ProductImage.enhancement_mode == f.mode.upper())
    if f.review_status:
        q = q.where(ProductImage.review_status == ReviewStatus(f.review_status.lower()))
    if f.sku_id:
        q = q.where(ProductImage.sku_id == f.sku_id)
    if f.product_id:
        q = q.where(ProductImage.product_id == f.product_id)
    if f.search:
        # Anywhere in the SKU or file name: operators remember "red-shoe", not the prefix.
        term = _like(f.search)
        q = q.where(or_(ProductImage.sku_id.like(term, escape="\\"),
                        ProductImage.original_filename.like(term, escape="\\")))
    if f.created_from:
        q = q.where(ProductImage.created_at >= f.created_from)
    if f.created_to:
        q = q.where(ProductImage.created_at < f.created_to)
    return q


#: Sorts a listing can page through by keyset (``after``): by creation time, ties by id.
KEYSET_SORTS = ("newest", "oldest")


def list_images(s: Session, f: ImageFilter = ImageFilter(), *, sort: str = "newest", limit: int = 50,
                offset: int = 0, after: tuple[datetime, str] | None = None) -> tuple[int, list[ProductImage]]:
    """One page of images and the total matching the filter.

    ``after``: the (created_at, id) of the last image of the previous page
    (sorts in :data:`KEYSET_SORTS`): the page starts right after it, however
    deep, read through the created_at index instead of skipping ``offset`` rows,
    and rows added meanwhile neither repeat nor hide others.
    """
    if sort not in SORTS:
        raise ValueError(f"unknown sort {sort!r}; valid sorts: {', '.join(SORTS)}")
    total = s.scalar(_filtered(select(func.count()).select_from(ProductImage), f)) or 0
    q = _filtered(select(ProductImage), f)
    if sort in KEYSET_SORTS:
        q = _keyset(q, ProductImage.created_at, ProductImage.id, after, descending=sort == "newest")
    else:
        if after is not None:
            raise ValueError(f"paging by cursor needs sort {' or '.join(KEYSET_SORTS)}, not {sort!r}")
        q = q.order_by(SORTS[sort], ProductImage.id)
    return total, list(s.scalars(q.limit(limit).offset(offset)))


def _keyset(q: Select, at, id_, after: tuple[datetime, str] | None, *, descending: bool) -> Select:
    """Order ``q`` by (at, id) in one direction, starting after the row ``after`` names."""
    if after is not None:
        t, i = after
        q = q.where(or_(at < t, and_(at == t, id_ < i)) if descending else or_(at > t, and_(at == t, id_ > i)))
    return q.order_by(at.desc(), id_.desc()) if descending else q.order_by(at.asc(), id_.asc())


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


def attempt_rows(s: Session, attempt_id: str) -> list[EnhancementHistory]:
    q = (select(EnhancementHistory).where(EnhancementHistory.attempt_id == attempt_id)
         .order_by(EnhancementHistory.enhancement_sequence))
    return list(s.scalars(q))


def find_done(s: Session, sha: str, options_key: str) -> EnhancementHistory | None:
    """The newest completed attempt (its first row) that made these bytes with these options: the reuse rule."""
    q = (select(EnhancementHistory)
         .join(ProductImage, ProductImage.id == EnhancementHistory.product_image_id)
         .where(EnhancementHistory.content_sha256 == sha, EnhancementHistory.options_key == options_key,
                EnhancementHistory.processing_status.in_(("completed", "fallback")),
                ProductImage.status == ImageStatus.COMPLETED)
         .order_by(EnhancementHistory.created_at.desc(), EnhancementHistory.enhancement_sequence).limit(1))
    return s.scalars(q).first()


# -- products ------------------------------------------------------------------------------
@dataclass(frozen=True)
class ProductFilter:
    status: str | None = None
    search: str | None = None
    category: str | None = None


def get_product(s: Session, product_id: str, *, lock: bool = False) -> Product | None:
    """``lock``: hold its row until the transaction ends (MySQL; a no-op on SQLite)."""
    return s.get(Product, product_id, with_for_update=lock or None)


def product_by_sku(s: Session, sku_id: str) -> Product | None:
    return s.scalars(select(Product).where(Product.sku_id == sku_id)).first()


def image_for_bytes(s: Session, product_id: str, sha: str) -> ProductImage | None:
    q = select(ProductImage).where(ProductImage.product_id == product_id, ProductImage.content_sha256 == sha)
    return s.scalars(q).first()


def product_images(s: Session, product_id: str) -> list[ProductImage]:
    q = select(ProductImage).where(ProductImage.product_id == product_id).order_by(ProductImage.position)
    return list(s.scalars(q))


def next_position(s: Session, product_id: str) -> int:
    cur = s.scalar(select(func.max(ProductImage.position)).where(ProductImage.product_id == product_id))
    return (cur or 0) + 1


def list_products(s: Session, f: ProductFilter = ProductFilter(), *, limit: int = 50, offset: int = 0,
                  after: tuple[datetime, str] | None = None) -> tuple[int, list[Product]]:
    """One page of products, newest first, and the total; ``after`` as in :func:`list_images`."""
    q = select(Product)
    if f.status:
        q = q.where(Product.status == ProductStatus(f.status.lower()))
    if f.category:
        q = q.where(Product.category == f.category)
    if f.search:
        term = _like(f.search)
        q = q.where(or_(Product.sku_id.like(term, escape="\\"), Product.name.like(term, escape="\\")))
    total = s.scalar(select(func.count()).select_from(q.subquery())) or 0
    rows = s.scalars(_keyset(q, Product.created_at, Product.id, after, descending=True).limit(limit).offset(offset))
    return total, list(rows)


def product_status(images: list[ProductImage], open_reviews: int) -> ProductStatus:
    """A product's status from its images (the one rule; see :class:`ProductStatus`)."""
    if not images:
        return ProductStatus.PENDING
    states = {i.status for i in images}
    if states & {ImageStatus.PENDING, ImageStatus.PROCESSING}:
        return ProductStatus.PROCESSING
    if open_reviews:
        return ProductStatus.PENDING_REVIEW
    done = [i for i in images if i.status == ImageStatus.COMPLETED]
    if not done:
        return ProductStatus.FAILED
    if any(i.review_status == ReviewStatus.APPROVED for i in done):
        return ProductStatus.APPROVED
    if all(i.review_status == ReviewStatus.REJECTED for i in done):
        return ProductStatus.REJECTED
    return ProductStatus.PENDING_REVIEW


def refresh_product_status(s: Session, product_id: str) -> ProductStatus:
    """Derive and store the product's status (call in the transaction that changed its images)."""
    s.flush()
    images = product_images(s, product_id)
    open_reviews = s.scalar(
        select(func.count()).select_from(EnhancementHistory)
        .join(ProductImage, ProductImage.id == EnhancementHistory.product_image_id)
        .where(ProductImage.product_id == product_id,
               EnhancementHistory.review_status == ReviewStatus.PENDING_REVIEW)) or 0
    status = product_status(images, open_reviews)
    product = s.get(Product, product_id)
    if product is not None and product.status != status:
        product.status = status
    return status


def settle_product_status(s: Session, product_id: str) -> ProductStatus:
    """:func:`refresh_product_status` again, in its own transaction, once the product row is locked.

    Two writers finishing images of one product at once each derive the status
    from a snapshot without the other's image (MariaDB's REPEATABLE READ), so
    both may store ``processing``. Run after their commits, with the row lock
    taken before any read, the last of them sees both images.

    The lock is a write that changes nothing: MySQL locks the row as ``FOR
    UPDATE`` would, and SQLite (which ignores ``FOR UPDATE`` and reads outside
    a transaction until its first write) takes its write lock here, so the
    reads that follow see every commit before ours and none can come between.
    """
    s.execute(update(Product).where(Product.id == product_id).values(status=Product.status)
              .execution_options(synchronize_session=False))
    return refresh_product_status(s, product_id)


def counts(s: Session) -> dict[str, int]:
    rows = s.execute(select(ProductImage.status, func.count()).group_by(ProductImage.status)).all()
    out = {st.value: 0 for st in ImageStatus}
    out.update({st.value: n for st, n in rows})
    out["total"] = sum(n for _, n in rows)
    out["enhancements"] = s.scalar(select(func.count()).select_from(EnhancementHistory)) or 0
    out["products"] = s.scalar(select(func.count()).select_from(Product)) or 0
    return out


# -- dashboard read-only helpers (owned by the dashboard; no writes) -------------------------
REVIEW_OPEN = (ReviewStatus.PENDING_REVIEW,)
EXPORT_COLUMNS = ("id", "sku_id", "original_filename", "status", "review_status", "enhancement_mode",
                  "quality_before", "quality_after", "size_reduction_percent", "original_size_bytes",
                  "enhanced_size_bytes", "enhanced_width", "enhanced_height", "enhanced_format",
                  "processing_time_ms", "created_at", "processed_at", "image_url", "enhanced_image_url",
                  "error_message")


def review_queue(s: Session, *, limit: int = 20, offset: int = 0, sku_id: str | None = None,
                 provider: str | None = None, image_ids: Select | None = None) -> tuple[int, list[ProductImage]]:
    """Images with an enhancement waiting for a person's decision, oldest first.

    ``image_ids`` narrows to a subquery of image ids (e.g. one batch's images).
    """
    waiting = select(EnhancementHistory.product_image_id).where(
        EnhancementHistory.review_status == ReviewStatus.PENDING_REVIEW)
    if provider:
        waiting = waiting.where(EnhancementHistory.provider == provider)
    where = [ProductImage.id.in_(waiting)]
    if sku_id:
        where.append(ProductImage.sku_id == sku_id)
    if image_ids is not None:
        where.append(ProductImage.id.in_(image_ids))
    total = s.scalar(select(func.count()).select_from(ProductImage).where(*where)) or 0
    q = (select(ProductImage).where(*where).order_by(ProductImage.created_at, ProductImage.id)
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
