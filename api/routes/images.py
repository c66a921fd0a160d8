"""Images: list, one, its history, its files; delete (admin)."""
from __future__ import annotations

from fastapi import APIRouter, Depends, Query
from fastapi.responses import RedirectResponse, Response

from db import repo
from enhancer.errors import NotFoundError
from enhancer.formats import EXTENSIONS, MIME_TYPES, sniff
from enhancer.service import KeyInfo, delete_image
from enhancer.storage.keys import stem
from enhancer.views import image_history, image_summary

from .. import auth, paging
from ..context import ApiContext, get_ctx

router = APIRouter(tags=["images"])
MAX_LIMIT = 200


@router.get("/images", summary="Images, newest first (filter by status, SKU, review status, search)")
def list_images(limit: int = Query(50, ge=1, description=f"at most {MAX_LIMIT}"),
                offset: int = Query(0, ge=0, description="rows to skip; for deep paging use cursor"),
                cursor: str | None = Query(None, description="a previous page's next_cursor (sort newest or "
                                                               "oldest): the page after it, at any depth"),
                status: str | None = Query(None, description="PENDING, PROCESSING, COMPLETED or FAILED"),
                sku_id: str | None = None, review_status: str | None = None, search: str | None = None,
                sort: str = Query("newest", description=", ".join(repo.SORTS)),
                key: KeyInfo = Depends(auth.viewer), ctx: ApiContext = Depends(get_ctx)):
    limit = min(limit, MAX_LIMIT)
    f = repo.ImageFilter(status=status, sku_id=sku_id, review_status=review_status, search=search)
    with ctx.backends.session() as s:
        total, rows = repo.list_images(s, f, sort=sort, limit=limit, offset=offset,
                                       after=paging.after(cursor, offset))
        return {"total": total, **paging.page(rows, limit, offset, cursor, keyset=sort in repo.KEYSET_SORTS),
                "images": [image_summary(r) for r in rows]}


def _history(ctx: ApiContext, image_id: str) -> dict:
    with ctx.backends.session() as s:
        img = repo.get_image(s, image_id)
        if img is None:
            raise NotFoundError(f"No image with id {image_id}")
        return image_summary(img) | image_history(img, repo.history(s, image_id))


@router.get("/images/{image_id}", summary="One image with its enhancements")
def get_image(image_id: str, key: KeyInfo = Depends(auth.viewer), ctx: ApiContext = Depends(get_ctx)):
    return _history(ctx, image_id)


@router.get("/images/{image_id}/enhancement-history", summary="Every enhancement of an image, in order")
def enhancement_history(image_id: str, key: KeyInfo = Depends(auth.viewer),
                        ctx: ApiContext = Depends(get_ctx)):
    with ctx.backends.session() as s:
        img = repo.get_image(s, image_id)
        if img is None:
            raise NotFoundError(f"No image with id {image_id}")
        return image_history(img, repo.history(s, image_id))


def _file(ctx: ApiContext, key: str, fmt: str | None, download_name: str) -> Response:
    storage = ctx.backends.storage
    if storage.kind == "s3":  # the client fetches it from the bucket; the server streams nothing
        return RedirectResponse(storage.url(key, download_name=download_name), status_code=307)
    data = storage.get(key)
    return Response(data, media_type=MIME_TYPES.get(sniff(data) or fmt or "", "application/octet-stream"),
                    headers={"Content-Disposition": f'inline; filename="{download_name}"'})


@router.get("/images/{image_id}/original", summary="The original file (307 to a presigned URL on S3)",
            response_class=Response)
def original(image_id: str, key: KeyInfo = Depends(auth.viewer), ctx: ApiContext = Depends(get_ctx)):
    with ctx.backends.session() as s:
        img = repo.get_image(s, image_id)
        if img is None or not img.original_key:
            raise NotFoundError(f"No image with id {image_id}")
        okey, fmt, name = img.original_key, img.original_format, img.original_filename
    return _file(ctx, okey, fmt, _ascii(name))


@router.get("/images/{image_id}/enhanced", summary="The current enhanced file, or one enhancement's",
            response_class=Response)
def enhanced(image_id: str, history_id: str | None = None, key: KeyInfo = Depends(auth.viewer),
             ctx: ApiContext = Depends(get_ctx)):
    with ctx.backends.session() as s:
        img = repo.get_image(s, image_id)
        if img is None:
            raise NotFoundError(f"No image with id {image_id}")
        if history_id:
            h = repo.get_history(s, history_id)
            if h is None or h.product_image_id != image_id:
                raise NotFoundError(f"Image {image_id} has no enhancement {history_id}")
            ekey, fmt = h.enhanced_key, h.enhanced_format
        else:
            ekey, fmt = img.enhanced_key, img.enhanced_format
        if not ekey:
            raise NotFoundError(f"Image {image_id} has no enhanced file yet (status {img.status.value})")
        name = f"{stem(img.original_filename)}_enhanced.{EXTENSIONS.get(fmt or '', 'jpg')}"
    return _file(ctx, ekey, fmt, _ascii(name))


def _ascii(name: str) -> str:
    return "".join(c if c.isascii() and c.isprintable() and c not in '"\\' else "_" for c in name)[-200:]


@router.delete("/images/{image_id}", summary="Delete an image, its history and files (admin)")
def remove_image(image_id: str, key: KeyInfo = Depends(auth.admin), ctx: ApiContext = Depends(get_ctx)):
    return delete_image(ctx.backends, image_id, actor=auth.actor(key)).to_dict()
