"""Products with their catalog fields (name, category, prices), created before their photos arrive."""
from __future__ import annotations

import math
from dataclasses import dataclass

from sqlalchemy.orm import Session

from db import repo
from db.models import Product

from ..options import clean_sku
from .backends import Backends
from .record import write_rows

CATALOG_FIELDS = ("name", "category", "mrp", "price", "discount", "gst")
_LENGTHS = {"name": 255, "category": 128}


@dataclass(frozen=True)
class ProductFields:
    """A product's SKU and catalog fields, checked. Build with :meth:`parse`; None leaves a field as it is."""

    sku_id: str
    name: str | None = None
    category: str | None = None
    mrp: float | None = None
    price: float | None = None
    discount: float | None = None
    gst: float | None = None

    @classmethod
    def parse(cls, sku_id, **fields) -> "ProductFields":
        """Raises ValueError naming the field (an empty SKU, a negative or non-numeric price, a long name)."""
        unknown = set(fields) - set(CATALOG_FIELDS)
        if unknown:
            raise ValueError(f"unknown product field(s) {', '.join(sorted(unknown))}; "
                             f"valid: sku_id, {', '.join(CATALOG_FIELDS)}")
        sku = clean_sku(sku_id)
        if not sku:
            raise ValueError("sku_id is required")
        out = {}
        for f in ("name", "category"):
            v = fields.get(f)
            v = str(v).strip() if v is not None else ""
            if len(v) > _LENGTHS[f]:
                raise ValueError(f"{f} is {len(v)} characters; at most {_LENGTHS[f]} are allowed")
            out[f] = v or None
        for f in ("mrp", "price", "discount", "gst"):
            v = fields.get(f)
            if v is None or (isinstance(v, str) and not v.strip()):
                out[f] = None
                continue
            try:
                n = float(v)
            except (TypeError, ValueError):
                raise ValueError(f"{f} must be a number, got {v!r}") from None
            if isinstance(v, bool) or not math.isfinite(n) or n < 0:
                raise ValueError(f"{f} must be a number of at least 0, got {v!r}")
            out[f] = n
        return cls(sku, **out)


def save_product(b: Backends, fields: ProductFields) -> tuple[str, bool]:
    """Create the product, or set the given catalog fields on the existing one: ``(id, created)``.

    Fields left None keep their stored value; the status is untouched (it is derived from the images).
    """
    def write(s: Session) -> tuple[str, bool]:
        product = repo.product_by_sku(s, fields.sku_id)
        created = product is None
        if created:
            product = Product(sku_id=fields.sku_id)
            s.add(product)
        for f in CATALOG_FIELDS:
            v = getattr(fields, f)
            if v is not None:
                setattr(product, f, v)
        s.flush()
        return product.id, created

    return write_rows(b, write, [], retries=2)  # a racing request may create the SKU first: read again
