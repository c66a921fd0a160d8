"""One audit row per change, written by the service next to the change it describes."""
from __future__ import annotations

import logging

from sqlalchemy.orm import Session

from db import audit

from .access import Actor, as_actor
from .backends import Backends

log = logging.getLogger("enhancer.service")


def note(s: Session, actor: str | Actor | None, action: str, target_kind: str, target_id: str,
         **detail) -> None:
    """Record a change in the caller's transaction (it lands or is rolled back with the change)."""
    a = as_actor(actor)
    audit.record(s, actor=a.name, role=a.role, action=action, target_kind=target_kind, target_id=target_id,
                 detail={k: v for k, v in detail.items() if v is not None})


def note_after(b: Backends, actor: str | Actor | None, action: str, target_kind: str, target_id: str,
               **detail) -> None:
    """Record a change that has already committed (its own transaction).

    The change stands even if this fails: the failure is logged loudly rather
    than reported as a failed upload that in fact succeeded.
    """
    try:
        with b.session() as s, s.begin():
            note(s, actor, action, target_kind, target_id, **detail)
    except Exception as exc:
        log.error("[AUDIT] could not record %s %s %s by %s: %s", action, target_kind, target_id,
                  as_actor(actor).name, exc)
