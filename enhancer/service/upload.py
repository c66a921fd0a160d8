"""Upload and re-enhance, top to bottom.

An upload is: check the bytes → reuse an identical earlier result (same bytes +
same options key, :func:`db.repo.find_done`) → claim the image (its row exists,
PROCESSING, from here on) → produce the results → store and record them. A
photo for an existing SKU becomes one more image of that product; the same
bytes under the same SKU are the same image.
"""
from __future__ import annotations

import hashlib
import logging
import random
import time

from sqlalchemy import select
from sqlalchemy.orm import Session

from db import repo
from db.models import EnhancementHistory, ImageStatus, Product, ProductImage, ProductStatus, new_id, utcnow

from ..errors import InvalidImageError, NotFoundError, StorageError
from ..formats import EXTENSIONS, MIME_TYPES, sniff
from ..imageio import make_thumbnail, probe
from ..options import EnhanceOptions, clean_filename, clean_sku
from ..storage.keys import safe_name, stem
from . import results
from .access import Actor, require
from .audit import note_after
from .backends import Backends
from .keys import enhanced_key, original_key, thumbnail_key
from .produce import Variant, produce
from .record import history_row, put_all, remove, settle_product, write_rows
from .review import apply_new_rows
from .results import UploadResult

log = logging.getLogger("enhancer.service")
# claims of one SKU take turns on its product row (MySQL); SQLite cannot lock a row, so there
# each round of racers has one winner and the rest read again: enough rounds for a busy SKU
_CLAIM_TRIES = 8


def sku_from_filename(filename: str) -> str:
    """Default SKU: the safe file stem (``IMG 001.jpg`` → ``IMG_001``)."""
    return stem(filename)[:128]


def upload(b: Backends, data: bytes, filename: str, opts: EnhanceOptions, *, sku_id: str | None = None,
           actor: str | Actor = "system", force: bool = False) -> UploadResult:
    """Enhance one photo and record it as an image of product ``sku_id``.

    Parameters
    ----------
    data, filename : bytes, str
        The upload as received.
    opts : EnhanceOptions
        What to make (see :meth:`EnhanceOptions.parse`).
    sku_id : str, optional
        The product; created when new. Defaults to the file's stem.
    actor : str or Actor
        Who asked (recorded with the work and in the audit trail). An
        :class:`Actor` needs the operator role; a plain string is a trusted caller.
    force : bool
        Enhance again even when these bytes were already made with these options.

    Raises
    ------
    InvalidImageError
        The bytes are not a usable image (nothing is written).
    ValueError
        A bad SKU or an AI provider that is not configured (nothing is written).
    StorageError, DatabaseError
        Storing or recording failed; nothing of this upload points at a missing object.
    PermissionDeniedError
        The actor's role is below operator (nothing is read or written).
    """
    who = require(actor, "operator", action="upload photos")
    res = _upload(b, data, filename, opts, sku_id=sku_id, actor=who.name, force=force)
    note_after(b, who, "upload", "image", res.image_id or "", sku_id=res.sku_id, success=res.success,
               reused=res.reused or None, review_status=res.review_status)
    return res


def _upload(b: Backends, data: bytes, filename: str, opts: EnhanceOptions, *, sku_id: str | None,
            actor: str, force: bool) -> UploadResult:
    t0 = time.perf_counter()
    filename = clean_filename(filename)
    sku = clean_sku(sku_id) or sku_from_filename(filename)
    fmt, width, height = check_bytes(b, data, filename)
    sha = hashlib.sha256(data).hexdigest()
    log.info("[UPLOAD] %s: %d bytes, sku=%s, mode=%s", safe_name(filename), len(data), sku, opts.mode)

    if not force:
        with b.session() as s:
            done = repo.find_done(s, sha, opts.key())
            if done is not None and done.image.sku_id == sku:
                log.info("[UPLOAD] %s: same photo and options already done; reusing #%d",
                         sku, done.enhancement_sequence)
                return results.from_rows(done.image, _attempt(s, done), reused=True)
            source_ids = [h.id for h in _attempt(s, done)] if done is not None else None
        if source_ids:
            image_id, created = claim(b, data, filename, sku, sha, (fmt, width, height))
            log.info("[UPLOAD] %s: same photo and options done under another SKU; copying it", sku)
            return _copy(b, image_id, source_ids, opts, actor, t0, created)

    image_id, created = claim(b, data, filename, sku, sha, (fmt, width, height))
    try:
        produced = produce(b, data, filename, opts)
    except (InvalidImageError, ValueError):
        if created:
            abandon(b, image_id)
        log.info("[UPLOAD] %s: rejected", safe_name(filename))
        raise
    except Exception as exc:  # an enhancement bug must not lose the upload: the original stays, FAILED
        log.exception("[UPLOAD] %s: enhancement failed", safe_name(filename))
        return _failed(b, image_id, exc, t0, mark=created)
    first = produced[0].result
    log.info("[UPLOAD] %s: enhanced %s in %.0f ms (%s)", sku, opts.mode, first.processing_time_ms,
             ", ".join(first.steps) or "no steps needed")
    try:
        return record_attempt(b, image_id, produced, opts, actor=actor, t0=t0, sha=sha)
    except Exception as exc:
        if created:  # the upload itself is kept, FAILED with the reason: re-enhance retries it
            _mark_failed(b, image_id, f"Could not store or record the result: {exc}")
        raise


def reenhance(b: Backends, image_id: str, opts: EnhanceOptions, *, actor: str | Actor = "system") -> UploadResult:
    """Enhance a stored original again: adds history, never touches the original or an approved file.

    Raises PermissionDeniedError when an :class:`Actor` is below operator.
    """
    who = require(actor, "operator", action="re-enhance images")
    res = _reenhance(b, image_id, opts, actor=who.name)
    note_after(b, who, "reenhance", "image", image_id, mode=opts.mode, success=res.success)
    return res


def _reenhance(b: Backends, image_id: str, opts: EnhanceOptions, *, actor: str) -> UploadResult:
    t0 = time.perf_counter()
    with b.session() as s:
        img = repo.get_image(s, image_id)
        if img is None:
            raise NotFoundError(f"No image with id {image_id}")
        okey, filename, sha = img.original_key, img.original_filename, img.content_sha256
    try:
        data = b.storage.get(okey)
    except Exception as exc:
        raise StorageError(f"The original of image {image_id} cannot be read ({okey}): {exc}") from exc
    produced = produce(b, data, filename, opts)
    return record_attempt(b, image_id, produced, opts, actor=actor, t0=t0,
                          sha=sha or hashlib.sha256(data).hexdigest())


def check_bytes(b: Backends, data: bytes, filename: str) -> tuple[str, int, int]:
    """Format and size of an upload, or InvalidImageError saying what is wrong."""
    if not data:
        raise InvalidImageError(f"{filename}: the file is empty.")
    if len(data) > b.limits.max_upload_bytes:
        raise InvalidImageError(
            f"{filename}: the file is {len(data) / 2**20:.1f} MB, above the "
            f"{b.limits.max_upload_bytes // 2**20} MB upload limit.")
    try:
        return probe(data, max_pixels=b.limits.max_pixels)
    except InvalidImageError as exc:
        raise InvalidImageError(f"{filename}: {exc}") from None


# -- the image row ----------------------------------------------------------------------------------
def claim(b: Backends, data: bytes, filename: str, sku: str, sha: str,
          probed: tuple[str, int, int]) -> tuple[str, bool]:
    """The image these bytes are under ``sku``: ``(id, False)`` if it exists, else a new PROCESSING row.

    The original is stored before its row is written (a key of its own), so
    the row never points at nothing; a racing upload of the same bytes ends
    with one image, and the loser removes only its own object.
    """
    with b.session() as s:
        product = repo.product_by_sku(s, sku)
        existing = repo.image_for_bytes(s, product.id, sha) if product else None
        if existing is not None:
            return existing.id, False
        known = product.id if product else None
    fmt, width, height = probed
    image_id = new_id()
    okey = original_key(image_id, filename)
    put_all(b.storage, [(okey, data, MIME_TYPES.get(sniff(data) or fmt, "application/octet-stream"))])

    def write(s: Session) -> tuple[str, bool]:
        # An existing product's row is locked before any other read, so the positions and bytes read
        # next are those the last claim of this SKU committed. Only by id: a locking read of a SKU not
        # there yet takes a gap lock (MySQL), and two new SKUs in one gap deadlock on their inserts.
        product = repo.get_product(s, known, lock=True) if known else None
        product = product or repo.product_by_sku(s, sku)
        new = product is None
        if new:  # its first image, being processed: nothing to look up (the common case of a bulk run)
            product = Product(sku_id=sku, status=ProductStatus.PROCESSING)
            s.add(product)
            s.flush()
        elif (existing := repo.image_for_bytes(s, product.id, sha)) is not None:
            return existing.id, False
        position = 1 if new else repo.next_position(s, product.id)
        s.add(ProductImage(
            id=image_id, product_id=product.id, sku_id=sku, position=position, is_main=position == 1,
            original_filename=filename, original_size_bytes=len(data), original_width=width,
            original_height=height, original_format=fmt[:16], content_sha256=sha, original_key=okey,
            image_url=b.storage.public_url(okey), status=ImageStatus.PROCESSING))
        if not new:
            repo.refresh_product_status(s, product.id)
        return image_id, True

    from ..errors import ConflictError

    for attempt in range(_CLAIM_TRIES):
        try:
            # keys=[]: the original is removed below, only once the outcome is known
            out = write_rows(b, write, [], landed=lambda s: s.get(ProductImage, image_id) is not None)
        except ConflictError:  # a racing upload took the SKU, the position or these bytes: read again
            if attempt == _CLAIM_TRIES - 1:
                remove(b.storage, [okey])
                raise
            time.sleep(random.uniform(0, 0.005 * (attempt + 1)))  # racers of one round spread out
            if known is None:  # the SKU's product may exist now: lock it next time
                with b.session() as s:
                    known = getattr(repo.product_by_sku(s, sku), "id", None)
            continue
        except Exception as exc:
            if not getattr(exc, "outcome_unknown", False):
                remove(b.storage, [okey])
            raise
        if not out[1]:
            remove(b.storage, [okey])
        return out
    raise AssertionError("unreachable")


def abandon(b: Backends, image_id: str) -> None:
    """Undo a claim whose bytes turned out unusable: bad input writes nothing."""
    def write(s: Session) -> str | None:
        img = repo.get_image(s, image_id)
        if img is None or img.history:
            return None
        key, product_id = img.original_key, img.product_id
        s.delete(img)
        s.flush()
        product = repo.get_product(s, product_id)
        if product is not None and not repo.product_images(s, product_id) and product.name is None \
                and product.category is None and product.price is None:
            s.delete(product)
        elif product is not None:
            repo.refresh_product_status(s, product_id)
        return key

    key = write_rows(b, write, [])
    if key:
        remove(b.storage, [key])


def _mark_failed(b: Backends, image_id: str, message: str) -> None:
    """Best effort (the database may be the thing that failed): the reconciler finishes the job."""
    def write(s: Session) -> None:
        img = repo.get_image(s, image_id)
        if img is not None and img.status == ImageStatus.PROCESSING:
            img.status, img.error_message, img.processed_at = ImageStatus.FAILED, message[:2000], utcnow()
            repo.refresh_product_status(s, img.product_id)

    try:
        write_rows(b, write, [])
    except Exception as exc:
        log.warning("[UPLOAD] could not mark image %s failed (%s); it stays PROCESSING until `gc`", image_id, exc)


def _failed(b: Backends, image_id: str, exc: Exception, t0: float, *, mark: bool) -> UploadResult:
    message = f"Enhancement failed: {exc.__class__.__name__}: {exc}"[:2000]

    def write(s: Session) -> UploadResult:
        img = repo.get_image(s, image_id)
        if mark:
            img.status, img.error_message, img.processed_at = ImageStatus.FAILED, message, utcnow()
            repo.refresh_product_status(s, img.product_id)
        return results.failure(img, message, round((time.perf_counter() - t0) * 1000, 1))

    return write_rows(b, write, [])


# -- the results ------------------------------------------------------------------------------------
def record_attempt(b: Backends, image_id: str, produced: list[Variant], opts: EnhanceOptions, *, actor: str,
                   t0: float, sha: str) -> UploadResult:
    """Store the produced results under fresh keys and record them as the image's next attempt."""
    with b.session() as s:
        img = repo.get_image(s, image_id)
        if img is None:
            raise NotFoundError(f"Image {image_id} was deleted while it was being enhanced")
        filename = img.original_filename
    ids = [new_id() for _ in produced]
    objects, where = [], []
    for hid, v in zip(ids, produced):
        ekey, tkey = enhanced_key(hid, filename, v.result.extension), thumbnail_key(hid)
        thumb = v.result.thumbnail or make_thumbnail(v.result.data)
        objects += [(ekey, v.result.data, v.result.mime_type), (tkey, thumb, "image/jpeg")]
        where.append((ekey, tkey))
    keys = put_all(b.storage, objects)
    elapsed = round((time.perf_counter() - t0) * 1000, 1)
    attempt_id = new_id()

    def write(s: Session) -> UploadResult:
        img = _locked(s, image_id)
        seq = repo.next_sequence(s, image_id)
        rows = [history_row(b, img, hid, seq + i, v, ekey, tkey, elapsed, opts, attempt_id, sha)
                for i, (hid, v, (ekey, tkey)) in enumerate(zip(ids, produced, where))]
        s.add_all(rows)
        _completed(s, img, rows, needs_person=b.review_all or opts.wants_review)
        log.info("[UPLOAD] %s: recorded image %s #%d with %d result(s) by %s (%.0f ms total)",
                 img.sku_id, image_id, seq, len(rows), actor, elapsed)
        return results.from_rows(img, rows, reused=False)

    out = write_rows(b, write, keys, landed=lambda s: s.get(EnhancementHistory, ids[0]) is not None, retries=3)
    settle_product(b, out.product_id)  # another image of this product may have finished at the same time
    return out


_NOT_COPIED = {"id", "product_image_id", "enhancement_sequence", "enhanced_key", "thumbnail_key",
               "enhanced_s3_url", "enhanced_https_url", "original_s3_url", "original_https_url", "review_status",
               "reviewed_by", "reviewed_at", "attempt_id", "created_at", "provider_metadata"}


def _copy(b: Backends, image_id: str, source_ids: list[str], opts: EnhanceOptions, actor: str, t0: float,
          created: bool) -> UploadResult:
    """Give this SKU its own record of an attempt made under another SKU: objects copied, rows cloned."""
    with b.session() as s:
        sources = [s.get(EnhancementHistory, i) for i in source_ids]
        img = repo.get_image(s, image_id)
        filename = img.original_filename
        columns = [c.key for c in EnhancementHistory.__table__.columns if c.key not in _NOT_COPIED]
        values = [({c: getattr(h, c) for c in columns}, dict(h.provider_metadata or {}), h.id, h.enhanced_key,
                   h.thumbnail_key, h.enhanced_format) for h in sources]
    ids = [new_id() for _ in values]
    objects, where = [], []
    try:
        for hid, (_, _, _, ekey, tkey, efmt) in zip(ids, values):
            new_e = enhanced_key(hid, filename, EXTENSIONS.get(efmt or "", "jpg"))
            objects += [(new_e, b.storage.get(ekey), MIME_TYPES.get(efmt or "", "application/octet-stream")),
                        (thumbnail_key(hid), b.storage.get(tkey), "image/jpeg")]
            where.append((new_e, thumbnail_key(hid)))
    except Exception as exc:
        if created:
            abandon(b, image_id)
        raise StorageError(f"Could not copy the earlier result for this SKU: {exc}") from exc
    keys = put_all(b.storage, objects)
    attempt_id = new_id()

    def write(s: Session) -> UploadResult:
        img = _locked(s, image_id)
        seq = repo.next_sequence(s, image_id)
        rows = []
        for i, (hid, (cols, meta, src, *_), (ekey, tkey)) in enumerate(zip(ids, values, where)):
            rows.append(EnhancementHistory(
                **cols, id=hid, product_image_id=image_id, enhancement_sequence=seq + i, attempt_id=attempt_id,
                original_s3_url=b.storage.uri(img.original_key), original_https_url=img.image_url,
                enhanced_key=ekey, thumbnail_key=tkey, enhanced_s3_url=b.storage.uri(ekey),
                enhanced_https_url=b.storage.public_url(ekey), provider_metadata={**meta, "copied_from": src}))
        s.add_all(rows)
        _completed(s, img, rows, needs_person=b.review_all or opts.wants_review)
        log.info("[UPLOAD] %s: recorded image %s #%d as a copy of %s by %s", img.sku_id, image_id, seq,
                 source_ids[0], actor)
        return results.from_rows(img, rows, reused=True)

    out = write_rows(b, write, keys, landed=lambda s: s.get(EnhancementHistory, ids[0]) is not None, retries=3)
    settle_product(b, out.product_id)  # another image of this product may have finished at the same time
    return out


def _locked(s: Session, image_id: str) -> ProductImage:
    # the image row is locked for the transaction: two attempts on one image take sequence numbers in turn
    img = s.scalars(select(ProductImage).where(ProductImage.id == image_id).with_for_update()).one_or_none()
    if img is None:
        raise NotFoundError(f"Image {image_id} was deleted while it was being enhanced")
    return img


def _completed(s: Session, img: ProductImage, rows: list[EnhancementHistory], *, needs_person: bool) -> None:
    s.flush()
    img.status, img.error_message, img.processed_at = ImageStatus.COMPLETED, None, utcnow()
    apply_new_rows(img, rows, needs_person=needs_person)
    repo.refresh_product_status(s, img.product_id)
    s.flush()


def _attempt(s: Session, row: EnhancementHistory | None) -> list[EnhancementHistory]:
    if row is None:
        return []
    return repo.attempt_rows(s, row.attempt_id) if row.attempt_id else [row]
