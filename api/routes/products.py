"""Products: create many with their catalog fields and image URLs (bulk, run as a batch); read; delete."""
from __future__ import annotations

import uuid
from datetime import datetime, timezone

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, ConfigDict, Field, model_validator
from starlette.concurrency import run_in_threadpool

from db import repo
from enhancer.batch import create_batches
from enhancer.batch.control import request as batch_request
from enhancer.batch.intake import manifest_bytes
from enhancer.batch.start import start_batches
from enhancer.errors import NotFoundError
from enhancer.service import KeyInfo, ProductFields, delete_product, save_product
from enhancer.views import product_summary

from .. import auth, paging
from ..context import ApiContext, get_ctx
from ..idempotency import fingerprint, once
from .enhance import OptionsIn, parse_options

router = APIRouter(tags=["products"])
MAX_PRODUCTS = 5000


class ProductIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    sku_id: str = Field(min_length=1, max_length=128)
    raw_image: str | None = Field(None, description="the main photo's URL")
    images: list[str] = Field(default_factory=list, description="photo URLs, in order (after raw_image)")
    name: str | None = None
    category: str | None = None
    mrp: float | None = None
    price: float | None = None
    discount: float | None = None
    gst: float | None = None

    @model_validator(mode="after")
    def _has_a_photo(self):
        if not self.raw_image and not self.images:
            raise ValueError("give raw_image or images (at least one photo URL)")
        return self

    def urls(self) -> list[str]:
        return ([self.raw_image] if self.raw_image else []) + list(self.images)


class BulkIn(OptionsIn):
    """Products to create, with the enhancement options for all their photos."""

    products: list[ProductIn] = Field(min_length=1, max_length=MAX_PRODUCTS)
    batch_name: str | None = Field(None, max_length=200)


def _bulk(ctx: ApiContext, body: BulkIn) -> dict:
    b, settings = ctx.backends, ctx.settings
    opts = parse_options(ctx, body.mode, body.target_size_kb, body.output_format, body.profile, body.ai,
                         body.variants)
    catalog = {"name", "category", "mrp", "price", "discount", "gst"}
    fields = [ProductFields.parse(p.sku_id, **p.model_dump(include=catalog)) for p in body.products]
    skus = [f.sku_id for f in fields]
    dup = next((s for s in skus if skus.count(s) > 1), None)
    if dup:
        raise ValueError(f"sku_id {dup!r} appears twice; list each product once with all its images")
    for p in body.products:
        bad = next((u for u in p.urls()
                    if not u.lower().startswith(("http://", "https://")) or len(u) > 1024), None)
        if bad:
            raise ValueError(f"{p.sku_id}: {bad[:100]!r} is not an http(s) URL of at most 1024 characters")
    saved = [(f.sku_id, *save_product(b, f)) for f in fields]
    rows = [{"sku_id": f.sku_id, "image_url": u} for f, p in zip(fields, body.products) for u in p.urls()]
    stamp = datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S")
    folder = settings.data_dir / "batches" / "api" / uuid.uuid4().hex[:12]
    folder.mkdir(parents=True, exist_ok=True)
    source = folder / "products.csv"
    source.write_bytes(manifest_bytes(rows))
    name = (body.batch_name or "").strip() or f"products-bulk-{stamp}"
    ids = create_batches(b, source, options=opts, name=name, max_batch_size=settings.max_batch_size)
    batch_request(b, ids[0], "resume")
    start_batches(b, settings, ids)
    with b.session() as s:
        products = [{"id": pid, "sku_id": sku, "status": repo.get_product(s, pid).status.value,
                     "created": created} for sku, pid, created in saved]
    created = sum(1 for _, _, c in saved if c)
    return {"success": True,
            "message": f"{created} product(s) created, {len(saved) - created} updated; {len(rows)} photo(s) "
                       f"queued in batch {ids[0]}",
            "data": {"created": created, "updated": len(saved) - created, "products": products,
                     "batch_id": ids[0], "batch_ids": ids, "images": len(rows)}}


@router.post("/products/bulk", status_code=202, summary="Create products with their photos' URLs; "
                                                         "processed in the background")
async def products_bulk(request: Request, body: BulkIn, key: KeyInfo = Depends(auth.operator),
                        ctx: ApiContext = Depends(get_ctx)):
    async def work():
        return 202, await run_in_threadpool(_bulk, ctx, body)

    return await once(request, ctx.backends, key, fingerprint(body.model_dump()), work)


@router.get("/products", summary="Products, newest first")
def list_products(limit: int = Query(50, ge=1), offset: int = Query(0, ge=0),
                  cursor: str | None = Query(None, description="a previous page's next_cursor: the page after it"),
                  status: str | None = None,
                  search: str | None = None, category: str | None = None, key: KeyInfo = Depends(auth.viewer),
                  ctx: ApiContext = Depends(get_ctx)):
    limit = min(limit, 200)
    with ctx.backends.session() as s:
        f = repo.ProductFilter(status=status, search=search, category=category)
        total, rows = repo.list_products(s, f, limit=limit, offset=offset, after=paging.after(cursor, offset))
        return {"total": total, **paging.page(rows, limit, offset, cursor),
                "products": [product_summary(p, repo.product_images(s, p.id)) for p in rows]}


@router.get("/products/{product_id}", summary="One product (by id or SKU) with its images and status")
def get_product(product_id: str, key: KeyInfo = Depends(auth.viewer), ctx: ApiContext = Depends(get_ctx)):
    with ctx.backends.session() as s:
        p = repo.get_product(s, product_id) or repo.product_by_sku(s, product_id)
        if p is None:
            raise NotFoundError(f"No product with id or SKU {product_id}")
        return product_summary(p, repo.product_images(s, p.id))


@router.delete("/products/{product_id}", summary="Delete a product, its images and files (admin)")
def remove_product(product_id: str, key: KeyInfo = Depends(auth.admin), ctx: ApiContext = Depends(get_ctx)):
    return delete_product(ctx.backends, product_id, actor=auth.actor(key)).to_dict()
