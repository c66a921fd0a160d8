"""Who decides which file an image ships: the review rules in one place.

- A result a person must choose between (several variants, an AI provider's
  output, everything under ``REVIEW_ALL``) waits as ``pending_review``.
- A single local result with nothing to choose is approved automatically
  (``reviewed_by == "auto"``) and becomes the image's current file.
- A person's approval holds: later results on that image wait for review and
  never replace the approved file or reset the decision.
- Each decision records who made it and when.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from db import repo
from db.models import AUTO_REVIEWER, EnhancementHistory, ProductImage, ReviewStatus, utcnow

from ..errors import NotFoundError
from .access import Actor, require
from .audit import note
from .backends import Backends
from .record import commit, make_current

log = logging.getLogger("enhancer.service")
_DECISIONS = {"approve": ReviewStatus.APPROVED, "approved": ReviewStatus.APPROVED,
              "reject": ReviewStatus.REJECTED, "rejected": ReviewStatus.REJECTED}


def person_approved(img: ProductImage) -> bool:
    return img.review_status == ReviewStatus.APPROVED and img.reviewed_by not in (None, AUTO_REVIEWER)


def apply_new_rows(img: ProductImage, rows: list[EnhancementHistory], *, needs_person: bool) -> None:
    """Set the review state of an attempt's new rows and of their image (in the caller's transaction)."""
    now = utcnow()
    if needs_person or person_approved(img) or len(rows) > 1:
        for r in rows:
            r.review_status = ReviewStatus.PENDING_REVIEW
        if img.review_status != ReviewStatus.APPROVED:
            # nothing approved to show yet: the first candidate is shown, but it is not approved
            make_current(img, rows[0])
            img.review_status, img.reviewed_by, img.reviewed_at = ReviewStatus.PENDING_REVIEW, None, None
        return
    first = rows[0]
    first.review_status, first.reviewed_by, first.reviewed_at = ReviewStatus.APPROVED, AUTO_REVIEWER, now
    make_current(img, first)
    img.review_status, img.reviewed_by, img.reviewed_at = ReviewStatus.APPROVED, AUTO_REVIEWER, now


@dataclass(frozen=True)
class Decision:
    history_id: str
    image_id: str
    product_id: str
    sku_id: str
    decision: str
    actor: str
    image_review_status: str


def decide(b: Backends, history_id: str, decision: str, *, actor: str | Actor = "unknown") -> Decision:
    """Approve or reject one enhancement.

    Approving makes it the image's current file, the one approved result, and
    rejects the others (waiting or approved before); rejecting the current
    file falls back to the last approved one.

    Raises
    ------
    ValueError
        ``decision`` is not approve(d) or reject(ed).
    NotFoundError
        No enhancement has that id.
    PermissionDeniedError
        ``actor`` is an :class:`Actor` below operator (a plain string is a trusted caller).
    """
    who = require(actor or "unknown", "operator", action="review results")
    status = _DECISIONS.get(str(decision).strip().lower())
    if status is None:
        raise ValueError(f"decision must be 'approve' or 'reject', got {decision!r}")
    actor = who.name

    def write(s: Session) -> Decision:
        row = repo.get_history(s, history_id)
        if row is None:
            raise NotFoundError(f"No enhancement with id {history_id}")
        # lock the image: two reviewers deciding at once are applied one after the other
        img = s.scalars(select(ProductImage).where(ProductImage.id == row.product_image_id)
                        .with_for_update()).one()
        s.refresh(row)
        now = utcnow()
        row.review_status, row.reviewed_by, row.reviewed_at = status, actor, now
        siblings = [h for h in repo.history(s, img.id) if h.id != row.id]
        if status is ReviewStatus.APPROVED:
            for other in siblings:
                if other.review_status in (ReviewStatus.PENDING_REVIEW, ReviewStatus.APPROVED):
                    other.review_status, other.reviewed_by, other.reviewed_at = ReviewStatus.REJECTED, actor, now
            make_current(img, row)
            img.review_status, img.reviewed_by, img.reviewed_at = ReviewStatus.APPROVED, actor, now
        else:
            _after_reject(img, row, siblings, actor, now)
        repo.refresh_product_status(s, img.product_id)
        note(s, who, "approve" if status is ReviewStatus.APPROVED else "reject", "enhancement", row.id,
             image_id=img.id, sku_id=img.sku_id, sequence=row.enhancement_sequence)
        log.info("[REVIEW] %s: enhancement #%d %s by %s", img.sku_id, row.enhancement_sequence, status.value, actor)
        return Decision(row.id, img.id, img.product_id, img.sku_id, status.value, actor, img.review_status.value)

    with b.session() as s:
        return commit(s, write)


def _after_reject(img: ProductImage, row: EnhancementHistory, siblings: list[EnhancementHistory],
                  actor: str, now) -> None:
    was_current = img.enhanced_key == row.enhanced_key
    approved = [h for h in siblings if h.review_status == ReviewStatus.APPROVED]
    waiting = [h for h in siblings if h.review_status == ReviewStatus.PENDING_REVIEW]
    if was_current:
        if approved:
            last = approved[-1]
            make_current(img, last)
            img.review_status, img.reviewed_by, img.reviewed_at = ReviewStatus.APPROVED, last.reviewed_by, \
                last.reviewed_at
            return
        if waiting:
            make_current(img, waiting[0])
    if img.review_status == ReviewStatus.APPROVED and not was_current:
        return  # the approved file stands
    if waiting:
        img.review_status, img.reviewed_by, img.reviewed_at = ReviewStatus.PENDING_REVIEW, None, None
    else:
        img.review_status, img.reviewed_by, img.reviewed_at = ReviewStatus.REJECTED, actor, now
