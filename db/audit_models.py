"""Who did what: the append-only ``audit_log`` and the ``users`` table that gives people their roles."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from .models import Base, Created, Json, Timestamp, utcnow

# SQLite only auto-increments an INTEGER PRIMARY KEY; MariaDB gets a BIGINT
AuditPk = BigInteger().with_variant(Integer(), "sqlite")


class AuditEntry(Base):
    """One change: written with the change, never updated or deleted."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_target", "target_kind", "target_id"), Index("ix_audit_at", "at"),
                      Index("ix_audit_actor", "actor"))

    id: Mapped[int] = mapped_column(AuditPk, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow, nullable=False)
    actor: Mapped[str] = mapped_column(String(255), nullable=False)
    role: Mapped[str] = mapped_column(String(16), nullable=False)
    action: Mapped[str] = mapped_column(String(32), nullable=False)
    target_kind: Mapped[str] = mapped_column(String(16), nullable=False)
    target_id: Mapped[str] = mapped_column(String(255), nullable=False)
    detail: Mapped[dict[str, Any]] = mapped_column(Json, default=dict, nullable=False)


class User(Base):
    """A person's role when the identity provider does not send one."""

    __tablename__ = "users"

    email: Mapped[str] = mapped_column(String(255), primary_key=True)
    role: Mapped[str] = mapped_column(String(16), nullable=False)
    created_at: Mapped[Created]
