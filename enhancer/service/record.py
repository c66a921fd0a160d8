"""Store results and record them, so that a failure anywhere leaves nothing dangling.

The order of every write: objects first (under keys no other writer uses),
then the rows in one transaction. When the transaction fails, the objects are
removed again, unless the commit's outcome is unknown (its reply was lost):
then we look whether the rows landed, and if we cannot tell, we leave the
objects for the reconciler (``python -m enhancer gc``) rather than risk rows
pointing at nothing.
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TypeVar

from sqlalchemy.exc import DBAPIError, IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session

from db.models import EnhancementHistory, ProductImage, utcnow
from db.session import error_code

from ..errors import ConflictError, DatabaseError, StorageError
from ..options import EnhanceOptions
from ..storage import Storage
from .backends import Backends
from .produce import Variant
from .results import kb, reduction

log = logging.getLogger("enhancer.service")
T = TypeVar("T")
_MISSING = object()


def put_all(storage: Storage, objects: list[tuple[str, bytes, str]]) -> list[str]:
    """Store objects in order; if one fails, remove those already stored and raise StorageError."""
    done: list[str] = []
    try:
        for key, body, ctype in objects:
            storage.put(key, body, content_type=ctype)
            done.append(key)
    except Exception as exc:
        remove(storage, done)
        if isinstance(exc, StorageError):
            raise
        raise StorageError(f"Could not store {key}: {exc}") from exc
    return done


def remove(storage: Storage, keys: list[str]) -> None:
    """Best effort: what cannot be removed now is an orphan the reconciler removes later."""
    for key in keys:
        try:
            storage.delete(key)
        except Exception as exc:
            log.warning("[UPLOAD] could not remove %s (%s); `python -m enhancer gc` will", key, exc)


def commit(s: Session, write: Callable[[Session], T], *,
           landed: Callable[[Session], bool] | None = None, engine=None) -> T:
    """Run ``write(s)`` in one transaction and commit it.

    When the commit fails with a connection error, ``landed`` (run in a new
    session on ``engine``) tells whether the rows are there after all: then the
    write counts as done.

    Raises
    ------
    ConflictError
        A unique key was taken by another writer, or the database chose this
        transaction as a deadlock victim (nothing of ours was kept).
    DatabaseError
        The write failed; ``exc.outcome_unknown`` is True when the rows may
        have landed (then keep the objects they would point at).
    """
    out = _MISSING
    try:
        with s.begin():
            out = write(s)
        return out
    except IntegrityError as exc:
        raise ConflictError(f"Another request changed the same record first ({_orig(exc)}); "
                            "nothing of this one was kept: try again") from exc
    except SQLAlchemyError as exc:
        if _deadlock(exc):  # InnoDB rolled the whole transaction back: a race, like a taken key
            raise ConflictError(f"Another request was writing the same records ({_orig(exc)}); "
                                "nothing of this one was kept: try again") from exc
        unknown = out is not _MISSING  # the write ran: the failure was the commit itself
        if unknown and landed is not None and engine is not None:
            verdict = _landed(engine, landed)
            if verdict:
                log.warning("[UPLOAD] the commit's reply was lost, but the rows are there: done")
                return out
            unknown = verdict is None
        err = DatabaseError.from_exc(exc, engine or s.get_bind())
        err.outcome_unknown = unknown
        raise err from exc


def settle_product(b: Backends, product_id: str | None) -> None:
    """Re-derive a product's status after a commit that changed its images (best effort; see
    :func:`db.repo.settle_product_status`)."""
    if not product_id:
        return
    from db import repo

    try:
        with b.session() as s, s.begin():
            repo.settle_product_status(s, product_id)
    except Exception as exc:  # the next change to the product derives it again
        log.warning("[UPLOAD] could not settle product %s's status: %s", product_id, exc)


def _landed(engine, landed: Callable[[Session], bool]) -> bool | None:
    try:
        with Session(engine) as s:
            return bool(landed(s))
    except Exception as exc:  # still unreachable: we cannot tell
        log.warning("[UPLOAD] could not check whether the commit landed: %s", exc)
        return None


def write_rows(b: Backends, write: Callable[[Session], T], keys: list[str], *,
               landed: Callable[[Session], bool] | None = None, retries: int = 0) -> T:
    """:func:`commit` on ``b``; on failure remove ``keys`` unless the rows may have landed.

    ``retries``: run ``write`` again this many times after a :class:`ConflictError`
    (it re-reads what it needs, e.g. the next sequence number).
    """
    try:
        for attempt in range(retries + 1):
            try:
                with b.session() as s:
                    return commit(s, write, landed=landed, engine=b.engine)
            except ConflictError:
                if attempt == retries:
                    raise
        raise AssertionError("unreachable")
    except DatabaseError as exc:
        if not getattr(exc, "outcome_unknown", False):
            remove(b.storage, keys)
        raise
    except BaseException:
        remove(b.storage, keys)
        raise


def _deadlock(exc: SQLAlchemyError) -> bool:
    # MySQL/MariaDB 1213: chosen as a deadlock victim (two images of one product claimed at once)
    return isinstance(exc, DBAPIError) and error_code(exc) == 1213


def _orig(exc: DBAPIError) -> str:
    return str(getattr(exc, "orig", exc)).splitlines()[0][:200]


# -- rows -------------------------------------------------------------------------------------------
def history_row(b: Backends, img: ProductImage, hid: str, seq: int, v: Variant, ekey: str, tkey: str,
                elapsed: float, opts: EnhanceOptions, attempt_id: str, sha: str) -> EnhancementHistory:
    r = v.result
    qb, qa = r.quality_before, r.quality_after
    size_before = img.original_size_bytes or qb.size_bytes
    meta = dict(v.meta)
    qm = {"blur_before": qb.blur_score, "blur_after": qa.blur_score,
          "blur_improvement": round(qa.blur_score - qb.blur_score, 2),
          "quality_improvement": round(qa.quality_score - qb.quality_score, 2),
          "improvement_percent": round((qa.quality_score - qb.quality_score) / qb.quality_score * 100, 2)
          if qb.quality_score else None,
          "steps": list(r.steps), "warnings_before": list(qb.warnings), "warnings_after": list(qa.warnings),
          "notes": list(r.notes), "fixed": list(getattr(r, "fixed", ()) or ()),
          "before": qb.to_dict(), "after": qa.to_dict(), "encode_quality": r.encode_quality,
          "target_met": r.target_met, "compliance": r.compliance.to_dict() if r.compliance else None,
          "options": opts.to_dict()}
    if meta.get("findings"):  # the provider's analysis belongs with the quality figures
        qm["ai_analysis"] = meta["findings"]
    return EnhancementHistory(
        id=hid, product_image_id=img.id, enhancement_sequence=seq, enhancement_mode=r.mode.value,
        original_s3_url=b.storage.uri(img.original_key), original_https_url=img.image_url,
        enhanced_s3_url=b.storage.uri(ekey), enhanced_https_url=b.storage.public_url(ekey),
        original_size_bytes=size_before, enhanced_size_bytes=r.size_bytes,
        original_quality_score=qb.quality_score, enhanced_quality_score=qa.quality_score,
        quality_metadata=qm,
        size_metadata={"original_kb": kb(size_before), "enhanced_kb": kb(r.size_bytes),
                       "original_size_kb": kb(size_before), "enhanced_size_kb": kb(r.size_bytes),
                       "reduction_percent": reduction(size_before, r.size_bytes),
                       "width": r.width, "height": r.height, "format": r.format},
        processing_time_ms=elapsed, processing_status=v.status, provider=v.provider,
        model_version=v.model_version, response_id=v.response_id, enhanced_key=ekey, thumbnail_key=tkey,
        enhanced_format=r.format, enhanced_width=r.width, enhanced_height=r.height, provider_metadata=meta,
        content_sha256=sha, options_key=opts.key(), attempt_id=attempt_id)


def make_current(img: ProductImage, row: EnhancementHistory) -> None:
    """Make ``row`` the image's current enhanced file and figures."""
    img.enhanced_image_url = row.enhanced_https_url
    img.enhanced_key, img.thumbnail_key = row.enhanced_key, row.thumbnail_key
    img.enhanced_size_bytes, img.enhanced_width, img.enhanced_height = (
        row.enhanced_size_bytes, row.enhanced_width, row.enhanced_height)
    img.enhanced_format = row.enhanced_format
    img.enhancement_mode = row.enhancement_mode
    img.processing_time_ms = row.processing_time_ms
    img.processed_at = utcnow()
    img.quality_before = row.original_quality_score
    img.quality_after = row.enhanced_quality_score
    img.size_reduction_percent = reduction(img.original_size_bytes or row.original_size_bytes,
                                           row.enhanced_size_bytes)
