"""Bulk runs: one ``batches`` row per run (or per part of a split manifest), one ``batch_items`` row per photo.

An item ends as exactly one product image (completed, or skipped because an
earlier identical result was reused) or one recorded failure; ``position`` is
unique within its batch so re-reading a manifest never adds an item twice.
"""
from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, Double, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .models import Base, Created, Json, Timestamp, UUIDPk, _enum, utcnow


class BatchStatus(str, enum.Enum):
    QUEUED = "queued"
    RUNNING = "running"
    PAUSED = "paused"
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    FAILED = "failed"


class ItemStatus(str, enum.Enum):
    PENDING = "pending"
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"
    SKIPPED = "skipped"


FINISHED_BATCH = (BatchStatus.COMPLETED, BatchStatus.CANCELLED, BatchStatus.FAILED)


class Batch(Base):
    __tablename__ = "batches"

    id: Mapped[UUIDPk]
    name: Mapped[str] = mapped_column(String(255))
    parent_batch_id: Mapped[str | None] = mapped_column(String(36), index=True)
    batch_sequence: Mapped[int] = mapped_column(Integer, default=1)
    total_split_batches: Mapped[int] = mapped_column(Integer, default=1)
    status: Mapped[BatchStatus] = mapped_column(_enum(BatchStatus), default=BatchStatus.QUEUED, index=True)
    total: Mapped[int] = mapped_column(Integer, default=0)
    completed: Mapped[int] = mapped_column(Integer, default=0)
    failed: Mapped[int] = mapped_column(Integer, default=0)
    skipped: Mapped[int] = mapped_column(Integer, default=0)
    # Run defaults (mode, target_size_kb, output_format, profile, force) and where the source lives.
    options: Mapped[dict[str, Any]] = mapped_column(Json, default=dict)
    source_kind: Mapped[str] = mapped_column(String(16))
    source_path: Mapped[str | None] = mapped_column(String(1024))
    # Same name + same source bytes + same options -> the same batch, so a re-run resumes it.
    fingerprint: Mapped[str] = mapped_column(String(64), index=True)
    error: Mapped[str | None] = mapped_column(Text)
    # Who runs it ("host:pid") and when it last reported, so a resume can tell a dead runner from a live one.
    runner: Mapped[str | None] = mapped_column(String(128))
    heartbeat_at: Mapped[datetime | None] = mapped_column(Timestamp)
    started_at: Mapped[datetime | None] = mapped_column(Timestamp)
    finished_at: Mapped[datetime | None] = mapped_column(Timestamp)
    created_at: Mapped[Created] = mapped_column(index=True)
    updated_at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow, onupdate=utcnow)

    items: Mapped[list[BatchItem]] = relationship(back_populates="batch", cascade="all, delete-orphan",
                                                  passive_deletes=True, order_by="BatchItem.position")

    @property
    def done(self) -> int:
        return self.completed + self.failed + self.skipped


class BatchItem(Base):
    __tablename__ = "batch_items"

    id: Mapped[UUIDPk]
    batch_id: Mapped[str] = mapped_column(String(36), ForeignKey("batches.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    sku_id: Mapped[str | None] = mapped_column(String(128))
    source: Mapped[str] = mapped_column(String(1024))
    status: Mapped[ItemStatus] = mapped_column(_enum(ItemStatus), default=ItemStatus.PENDING)
    # Per-row overrides from a manifest; None means the batch default.
    mode: Mapped[str | None] = mapped_column(String(32))
    target_size_kb: Mapped[int | None] = mapped_column(Integer)
    output_format: Mapped[str | None] = mapped_column(String(8))
    profile: Mapped[str | None] = mapped_column(String(64))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    # Intake refusals (zip-slip, bad row) cannot succeed on retry.
    retryable: Mapped[bool] = mapped_column(Boolean, default=True)
    error: Mapped[str | None] = mapped_column(Text)
    content_sha256: Mapped[str | None] = mapped_column(String(64), index=True)
    reused: Mapped[bool] = mapped_column(Boolean, default=False)
    product_image_id: Mapped[str | None] = mapped_column(String(36), index=True)
    enhancement_id: Mapped[str | None] = mapped_column(String(36))
    started_at: Mapped[datetime | None] = mapped_column(Timestamp)
    finished_at: Mapped[datetime | None] = mapped_column(Timestamp)
    duration_ms: Mapped[float | None] = mapped_column(Double)
    # Workers (enhancer/worker.py): when the item was last put on the broker, the task that holds its
    # claim (a redelivered message carries the same id, so it may take the claim over) and where it ran.
    dispatched_at: Mapped[datetime | None] = mapped_column(Timestamp)
    task_id: Mapped[str | None] = mapped_column(String(64))
    worker: Mapped[str | None] = mapped_column(String(255))

    batch: Mapped[Batch] = relationship(back_populates="items")

    __table_args__ = (Index("uq_batch_items_batch_position", "batch_id", "position", unique=True),
                      Index("ix_batch_items_batch_status", "batch_id", "status"),
                      # the dispatcher's "next pending items in order" reads a window off this,
                      # never the whole batch
                      Index("ix_batch_items_dispatch", "batch_id", "status", "position"))


class Worker(Base):
    """A Celery worker's heartbeat (``enhancer.worker`` writes it): who runs, where, how much it did."""

    __tablename__ = "workers"

    name: Mapped[str] = mapped_column(String(255), primary_key=True)
    host: Mapped[str] = mapped_column(String(255))
    pid: Mapped[int] = mapped_column(Integer)
    queue: Mapped[str] = mapped_column(String(80))
    concurrency: Mapped[int] = mapped_column(Integer)
    tasks_done: Mapped[int] = mapped_column(Integer, default=0)
    started_at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow, index=True)
