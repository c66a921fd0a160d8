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

from sqlalchemy import JSON, BigInteger, DateTime, Enum, Double, ForeignKey, Index, Integer, String, Text
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
    """Per image: none until variants need a choice; per variant: pending/approved/rejected."""

    NONE = "none"
    PENDING = "pending"
    PENDING_REVIEW = "pending_review"
    APPROVED = "approved"
    REJECTED = "rejected"


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


class ProductImage(Base):
    __tablename__ = "product_images"

    id: Mapped[UUIDPk]
    sku_id: Mapped[str] = mapped_column(String(128), unique=True)
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
    # Object keys (the app reads objects by key; URLs above are for people and other systems).
    original_key: Mapped[Key]
    enhanced_key: Mapped[Key]
    thumbnail_key: Mapped[Key]
    # Latest figures, kept here so the gallery sorts and filters 100 000 rows without joins.
    quality_before: Mapped[float | None] = mapped_column(Double)
    quality_after: Mapped[float | None] = mapped_column(Double)
    size_reduction_percent: Mapped[float | None] = mapped_column(Double)

    history: Mapped[list[EnhancementHistory]] = relationship(
        back_populates="image", order_by="EnhancementHistory.enhancement_sequence",
        cascade="all, delete-orphan", passive_deletes=True)

    __table_args__ = (Index("ix_product_images_original_filename", "original_filename"),)

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
    review_status: Mapped[ReviewStatus] = mapped_column(_enum(ReviewStatus), default=ReviewStatus.APPROVED)
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
                            unique=True),)
