"""Audit trail and users: the queries. Session first; the caller owns the transaction.

``audit_log`` is append-only: this module has :func:`record` and reads, and
deliberately no update or delete.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from .audit_models import AuditEntry, User
from .models import utcnow


def record(s: Session, *, actor: str, role: str, action: str, target_kind: str, target_id: str,
           detail: dict | None = None) -> AuditEntry:
    """Add one audit row to the caller's transaction."""
    row = AuditEntry(at=utcnow(), actor=str(actor)[:255], role=str(role)[:16], action=str(action)[:32],
                     target_kind=str(target_kind)[:16], target_id=str(target_id)[:255], detail=dict(detail or {}))
    s.add(row)
    return row


@dataclass(frozen=True)
class AuditFilter:
    actor: str | None = None          # substring
    action: str | None = None
    target_kind: str | None = None
    target_id: str | None = None
    since: datetime | None = None     # inclusive
    until: datetime | None = None     # exclusive


def _where(q, f: AuditFilter):
    if f.actor:
        q = q.where(AuditEntry.actor.contains(f.actor, autoescape=True))
    if f.action:
        q = q.where(AuditEntry.action == f.action)
    if f.target_kind:
        q = q.where(AuditEntry.target_kind == f.target_kind)
    if f.target_id:
        q = q.where(AuditEntry.target_id == f.target_id)
    if f.since:
        q = q.where(AuditEntry.at >= f.since)
    if f.until:
        q = q.where(AuditEntry.at < f.until)
    return q


def entries(s: Session, f: AuditFilter = AuditFilter(), *, limit: int = 200,
            offset: int = 0) -> tuple[int, list[AuditEntry]]:
    """(total matching, one page newest first)."""
    total = s.scalar(_where(select(func.count()).select_from(AuditEntry), f)) or 0
    rows = list(s.scalars(_where(select(AuditEntry), f).order_by(AuditEntry.id.desc())
                          .limit(limit).offset(offset)))
    return total, rows


def actions(s: Session) -> list[str]:
    return list(s.scalars(select(AuditEntry.action).distinct().order_by(AuditEntry.action)))


def as_dict(e: AuditEntry) -> dict:
    return {"id": e.id, "at": e.at.isoformat(sep=" ", timespec="seconds") if e.at else None, "actor": e.actor,
            "role": e.role, "action": e.action, "target_kind": e.target_kind, "target_id": e.target_id,
            "detail": dict(e.detail or {})}


# -- users ------------------------------------------------------------------------------------------
def get_user(s: Session, email: str) -> User | None:
    return s.get(User, normalize_email(email))


def set_user(s: Session, email: str, role: str) -> tuple[User, bool]:
    """Add a user or change their role; (user, created)."""
    user = get_user(s, email)
    if user is None:
        user = User(email=normalize_email(email), role=role, created_at=utcnow())
        s.add(user)
        return user, True
    user.role = role
    return user, False


def remove_user(s: Session, email: str) -> bool:
    user = get_user(s, email)
    if user is None:
        return False
    s.delete(user)
    return True


def list_users(s: Session) -> list[User]:
    return list(s.scalars(select(User).order_by(User.email)))


def normalize_email(email: str) -> str:
    return str(email or "").strip().lower()[:255]
