"""SQLAlchemy 2 typed models. Identical on SQLite and MySQL/MariaDB.

Choices that keep the two databases alike:
- ids are UUID strings in ``CHAR(36)``: MariaDB's native UUID type comes back
  as ``str`` through pymysql while SQLite has none, so one portable form wins.
- timestamps are naive UTC ``DATETIME(6)`` on MySQL (plain DATETIME drops
  microseconds) and set in Python, so both databases agree to the microsecond.
- enums are stored as short strings (``native_enum=False``).
"""
from __future__ import annotations

import enum
import uuid
from datetime import datetime, timezone
from typing import Annotated, Any

from sqlalchemy import JSON, BigInteger, Boolean, DateTime, Enum, Double, ForeignKey, Index, Integer, String, Text
from sqlalchemy.dialects import mysql
from sqlalchemy.ext.mutable import MutableDict
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


def utcnow() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


def new_id() -> str:
    return str(uuid.uuid4())


class ImageStatus(str, enum.Enum):
    PENDING = "PENDING"
    PROCESSING = "PROCESSING"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"


class ReviewStatus(str, enum.Enum):
    """One vocabulary for images and their enhancements.

    An enhancement is ``pending_review`` (a person must decide), ``approved``
    (by a person, or automatically when there was nothing to choose:
    ``reviewed_by == AUTO_REVIEWER``) or ``rejected``. An image's status is
    its current file's: ``none`` until it has one.
    """

    NONE = "none"
    PENDING_REVIEW = "pending_review"
    APPROVED = "approved"
    REJECTED = "rejected"


class ProductStatus(str, enum.Enum):
    """A product's lifecycle, derived from its images (see :func:`db.repo.refresh_product_status`)."""

    PENDING = "pending"                # created, nothing processed yet
    PROCESSING = "processing"          # an image is being enhanced
    PENDING_REVIEW = "pending_review"  # a person must choose
    APPROVED = "approved"
    REJECTED = "rejected"
    FAILED = "failed"                  # every image failed


#: ``reviewed_by`` of a result approved because there was nothing to choose.
AUTO_REVIEWER = "auto"


Timestamp = DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")
Json = MutableDict.as_mutable(JSON().with_variant(mysql.JSON(), "mysql", "mariadb"))

UUIDPk = Annotated[str, mapped_column(String(36), primary_key=True, default=new_id)]
Created = Annotated[datetime, mapped_column(Timestamp, default=utcnow, nullable=False)]
Str16 = Annotated[str | None, mapped_column(String(16))]
Str64 = Annotated[str | None, mapped_column(String(64))]
Key = Annotated[str | None, mapped_column(String(512))]
Url = Annotated[str | None, mapped_column(String(1024))]


def _enum(cls: type[enum.Enum]) -> Enum:
    return Enum(cls, native_enum=False, length=20, values_callable=lambda e: [m.value for m in e],
                validate_strings=True)


class Base(DeclarativeBase):
    pass


Money = Annotated[float | None, mapped_column(Double)]


class Product(Base):
    """A catalog product: one SKU, many ordered images, one of them the main image."""

    __tablename__ = "products"

    id: Mapped[UUIDPk]
    sku_id: Mapped[str] = mapped_column(String(128), unique=True)
    name: Mapped[str | None] = mapped_column(String(255))
    category: Mapped[str | None] = mapped_column(String(128), index=True)
    mrp: Mapped[Money]
    price: Mapped[Money]
    discount: Mapped[Money]
    gst: Mapped[Money]
    status: Mapped[ProductStatus] = mapped_column(_enum(ProductStatus), default=ProductStatus.PENDING, index=True)
    created_at: Mapped[Created] = mapped_column(index=True)
    updated_at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow, onupdate=utcnow)

    images: Mapped[list[ProductImage]] = relationship(
        back_populates="product", order_by="ProductImage.position", cascade="all, delete-orphan",
        passive_deletes=True)


class ProductImage(Base):
    __tablename__ = "product_images"

    id: Mapped[UUIDPk]
    product_id: Mapped[str] = mapped_column(String(36), ForeignKey("products.id", ondelete="CASCADE"))
    # The product's SKU, copied here so the gallery filters and sorts 100 000 rows without a join.
    sku_id: Mapped[str] = mapped_column(String(128), index=True)
    position: Mapped[int] = mapped_column(Integer, default=1)
    is_main: Mapped[bool] = mapped_column(Boolean, default=False)
    image_url: Mapped[Url]
    enhanced_image_url: Mapped[Url]
    original_filename: Mapped[str] = mapped_column(String(255))
    original_size_bytes: Mapped[int | None] = mapped_column(BigInteger)
    enhanced_size_bytes: Mapped[int | None] = mapped_column(BigInteger)
    original_width: Mapped[int | None]
    original_height: Mapped[int | None]
    enhanced_width: Mapped[int | None]
    enhanced_height: Mapped[int | None]
    original_format: Mapped[Str16]
    enhanced_format: Mapped[Str16]
    status: Mapped[ImageStatus] = mapped_column(_enum(ImageStatus), default=ImageStatus.PENDING, index=True)
    enhancement_mode: Mapped[str | None] = mapped_column(String(32), index=True)
    processing_time_ms: Mapped[float | None] = mapped_column(Double)
    processed_at: Mapped[datetime | None] = mapped_column(Timestamp)
    created_at: Mapped[Created] = mapped_column(index=True)
    updated_at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow, onupdate=utcnow)
    content_sha256: Mapped[Str64] = mapped_column(index=True)
    error_message: Mapped[str | None] = mapped_column(Text)
    review_status: Mapped[ReviewStatus] = mapped_column(_enum(ReviewStatus), default=ReviewStatus.NONE,
                                                        index=True)
    reviewed_by: Mapped[str | None] = mapped_column(String(255))
    reviewed_at: Mapped[datetime | None] = mapped_column(Timestamp)
    # Object keys (the app reads objects by key; URLs above are for people and other systems).
    original_key: Mapped[Key]
    enhanced_key: Mapped[Key]
    thumbnail_key: Mapped[Key]
    # Latest figures, kept here so the gallery sorts and filters 100 000 rows without joins.
    quality_before: Mapped[float | None] = mapped_column(Double)
    quality_after: Mapped[float | None] = mapped_column(Double)
    size_reduction_percent: Mapped[float | None] = mapped_column(Double)

    product: Mapped[Product] = relationship(back_populates="images")
    history: Mapped[list[EnhancementHistory]] = relationship(
        back_populates="image", order_by="EnhancementHistory.enhancement_sequence",
        cascade="all, delete-orphan", passive_deletes=True)

    __table_args__ = (Index("ix_product_images_original_filename", "original_filename"),
                      # the same bytes under the same product are one image, whoever races
                      Index("uq_product_images_product_sha", "product_id", "content_sha256", unique=True),
                      Index("uq_product_images_product_position", "product_id", "position", unique=True))

    @property
    def quality_improvement(self) -> float | None:
        if self.quality_before is None or self.quality_after is None:
            return None
        return round(self.quality_after - self.quality_before, 2)


class EnhancementHistory(Base):
    __tablename__ = "enhancement_history"

    id: Mapped[UUIDPk]
    product_image_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("product_images.id", ondelete="CASCADE"), index=True)
    enhancement_sequence: Mapped[int] = mapped_column(Integer)
    enhancement_mode: Mapped[str] = mapped_column(String(32))
    original_s3_url: Mapped[Url]
    original_https_url: Mapped[Url]
    enhanced_s3_url: Mapped[Url]
    enhanced_https_url: Mapped[Url]
    original_size_bytes: Mapped[int | None] = mapped_column(BigInteger)
    enhanced_size_bytes: Mapped[int | None] = mapped_column(BigInteger)
    original_quality_score: Mapped[float | None] = mapped_column(Double)
    enhanced_quality_score: Mapped[float | None] = mapped_column(Double)
    quality_metadata: Mapped[dict[str, Any]] = mapped_column(Json, default=dict)
    size_metadata: Mapped[dict[str, Any]] = mapped_column(Json, default=dict)
    processing_time_ms: Mapped[float | None] = mapped_column(Double)
    processing_status: Mapped[str] = mapped_column(String(20), default="completed")
    model_version: Mapped[str | None] = mapped_column(String(128))
    response_id: Mapped[str | None] = mapped_column(String(255))
    provider: Mapped[str] = mapped_column(String(32), default="local")
    review_status: Mapped[ReviewStatus] = mapped_column(_enum(ReviewStatus),
                                                        default=ReviewStatus.PENDING_REVIEW)
    reviewed_by: Mapped[str | None] = mapped_column(String(255))
    reviewed_at: Mapped[datetime | None] = mapped_column(Timestamp)
    # Reuse: same bytes + same options key (enhancer.options) -> the same work.
    content_sha256: Mapped[Str64]
    options_key: Mapped[Str64]
    # The variants made by one request share an attempt id.
    attempt_id: Mapped[str | None] = mapped_column(String(36))
    created_at: Mapped[Created]
    # Where the files are and what they are.
    enhanced_key: Mapped[Key]
    thumbnail_key: Mapped[Key]
    enhanced_format: Mapped[Str16]
    enhanced_width: Mapped[int | None]
    enhanced_height: Mapped[int | None]
    provider_metadata: Mapped[dict[str, Any]] = mapped_column(Json, default=dict)

    image: Mapped[ProductImage] = relationship(back_populates="history")

    __table_args__ = (Index("uq_history_image_sequence", "product_image_id", "enhancement_sequence",
                            unique=True),
                      Index("ix_history_reuse", "content_sha256", "options_key"),
                      Index("ix_history_review_status", "review_status"))


class ApiRole(str, enum.Enum):
    """What an API key may do: viewer reads; operator also uploads, runs batches and reviews; admin also
    deletes and manages keys."""

    VIEWER = "viewer"
    OPERATOR = "operator"
    ADMIN = "admin"


class ApiKey(Base):
    """An API key: only the SHA-256 of the secret is stored (the secret is 32 random bytes, shown once)."""

    __tablename__ = "api_keys"

    id: Mapped[UUIDPk]
    name: Mapped[str] = mapped_column(String(128))
    role: Mapped[ApiRole] = mapped_column(_enum(ApiRole))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[Created]
    revoked_at: Mapped[datetime | None] = mapped_column(Timestamp)
    last_used_at: Mapped[datetime | None] = mapped_column(Timestamp)


class IdempotencyRecord(Base):
    """The first outcome of a request sent with an ``Idempotency-Key``, replayed to its retries.

    ``status_code`` is None while the first request is still running.
    """

    __tablename__ = "idempotency_keys"

    id: Mapped[UUIDPk]
    api_key_id: Mapped[str] = mapped_column(String(36))
    idempotency_key: Mapped[str] = mapped_column(String(255))
    endpoint: Mapped[str] = mapped_column(String(128))
    request_hash: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int | None] = mapped_column(Integer)
    response: Mapped[dict[str, Any] | None] = mapped_column(Json)
    created_at: Mapped[Created] = mapped_column(index=True)

    __table_args__ = (Index("uq_idempotency_key", "api_key_id", "idempotency_key", "endpoint", unique=True),)
