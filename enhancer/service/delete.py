"""Delete images, products and batches with their objects, leaving nothing orphaned either way.

Rows go first, in one transaction; their objects are removed after the
commit. A row never points at a missing object; an object whose removal
fails is an orphan that ``python -m enhancer gc`` reclaims.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from db import repo
from db.batch_models import Batch, BatchItem
from db.models import ProductImage

from ..errors import EnhancerError, NotFoundError
from .access import Actor, require
from .audit import note
from .backends import Backends
from .keys import staged_prefix
from .record import remove, write_rows

log = logging.getLogger("enhancer.service")


@dataclass(frozen=True)
class Deleted:
    """What a delete removed."""

    kind: str
    id: str
    images: int
    objects: int
    batches: int = 0
    products: int = 0

    def to_dict(self) -> dict:
        return dict(self.__dict__)


def image_keys(img: ProductImage) -> set[str]:
    keys = {img.original_key, img.enhanced_key, img.thumbnail_key}
    for h in img.history:
        keys |= {h.enhanced_key, h.thumbnail_key}
    return {k for k in keys if k}


def _drop_image(s: Session, img: ProductImage) -> set[str]:
    keys = image_keys(img)
    product_id, was_main = img.product_id, img.is_main
    s.execute(update(BatchItem).where(BatchItem.product_image_id == img.id)
              .values(product_image_id=None, enhancement_id=None))
    s.delete(img)
    s.flush()
    rest = repo.product_images(s, product_id)
    if was_main and rest:
        rest[0].is_main = True
    repo.refresh_product_status(s, product_id)
    return keys


def delete_image(b: Backends, image_id: str, *, actor: str | Actor = "system") -> Deleted:
    """Delete one image, its history and all their objects.

    Raises
    ------
    NotFoundError
        No image has that id.
    PermissionDeniedError
        ``actor`` is an :class:`Actor` below admin.
    """
    who = require(actor, "admin", action="delete images")

    def write(s: Session) -> set[str]:
        img = repo.get_image(s, image_id)
        if img is None:
            raise NotFoundError(f"No image with id {image_id}")
        note(s, who, "delete", "image", image_id, sku_id=img.sku_id)
        return _drop_image(s, img)

    keys = write_rows(b, write, [])
    remove(b.storage, sorted(keys))
    log.info("[DELETE] image %s by %s: %d object(s)", image_id, who, len(keys))
    return Deleted("image", image_id, 1, len(keys))


def delete_product(b: Backends, product_id: str, *, actor: str | Actor = "system") -> Deleted:
    """Delete a product (by id or SKU), all its images, their history and objects (admin only)."""
    who = require(actor, "admin", action="delete products")

    def write(s: Session) -> tuple[str, int, set[str]]:
        product = repo.get_product(s, product_id) or repo.product_by_sku(s, product_id)
        if product is None:
            raise NotFoundError(f"No product with id or SKU {product_id}")
        note(s, who, "delete", "product", product.id, sku_id=product.sku_id)
        keys: set[str] = set()
        images = repo.product_images(s, product.id)
        for img in images:
            keys |= image_keys(img)
            s.execute(update(BatchItem).where(BatchItem.product_image_id == img.id)
                      .values(product_image_id=None, enhancement_id=None))
        s.delete(product)  # cascades to its images and their history
        return product.id, len(images), keys

    pid, n, keys = write_rows(b, write, [])
    remove(b.storage, sorted(keys))
    log.info("[DELETE] product %s by %s: %d image(s), %d object(s)", pid, who, n, len(keys))
    return Deleted("product", pid, n, len(keys), products=1)


def delete_batch(b: Backends, batch_id: str, *, actor: str | Actor = "system", images: bool = True) -> Deleted:
    """Delete a batch (every part of a split upload), its items and, with ``images``, the images it made.

    Images an item only reused (made earlier, outside this batch) are kept.

    Raises
    ------
    NotFoundError
        No batch has that id.
    PermissionDeniedError
        ``actor`` is an :class:`Actor` below admin.
    """
    who = require(actor, "admin", action="delete batches")

    def write(s: Session) -> tuple[int, int, set[str], list[str]]:
        batch = s.get(Batch, batch_id)
        if batch is None:
            raise NotFoundError(f"No batch with id {batch_id}")
        note(s, who, "delete", "batch", batch_id, name=batch.name, images=images)
        family = [batch] if not batch.parent_batch_id else list(
            s.scalars(select(Batch).where(Batch.parent_batch_id == batch.parent_batch_id)))
        ids = [x.id for x in family]
        keys: set[str] = set()
        made = 0
        if images:
            image_ids = set(s.scalars(select(BatchItem.product_image_id).where(
                BatchItem.batch_id.in_(ids), BatchItem.reused.is_(False),
                BatchItem.product_image_id.is_not(None))))
            for iid in sorted(image_ids):
                img = repo.get_image(s, iid)
                if img is not None:
                    keys |= _drop_image(s, img)
                    made += 1
        for x in family:
            keys |= {k for k in ((x.options or {}).get("source_key"),) if k}
            s.delete(x)
        return len(family), made, keys, ids

    n, made, keys, ids = write_rows(b, write, [])
    # the photos staged for workers (batch-sources/<batch>/): left over if this fails, the reconciler's then
    for bid in ids:
        try:
            keys |= {o.key for o in b.storage.list(staged_prefix(bid))}
        except EnhancerError as exc:
            log.warning("[DELETE] batch %s: staged sources not listed (%s); gc removes them later", bid, exc)
    remove(b.storage, sorted(keys))
    log.info("[DELETE] batch %s (%d part(s)) by %s: %d image(s), %d object(s)", batch_id, n, who, made,
             len(keys))
    return Deleted("batch", batch_id, made, len(keys), batches=n)
