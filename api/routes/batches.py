"""Batches: create from a CSV/XLSX manifest or a ZIP, list, status, control, delete, export."""
from __future__ import annotations

import shutil
import uuid
from typing import Literal

from fastapi import APIRouter, Depends, File, Form, Query, Request, UploadFile
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool

from db import batch_repo as br
from enhancer.batch import EXPORT_FORMATS, create_batches, export_batch
from enhancer.batch.background import MANIFEST_EXTS
from enhancer.batch.control import family_ids, family_status, request as batch_request, summarize, summary
from enhancer.batch.errors import BatchError
from enhancer.batch.start import running_here, start_batches
from enhancer.service import KeyInfo, delete_batch
from enhancer.storage.keys import safe_name

from .. import auth
from ..context import ApiContext, get_ctx
from ..idempotency import fingerprint, once
from ..problems import Problem
from .enhance import _sha, parse_options

router = APIRouter(tags=["batches"])
_MIME = {"csv": "text/csv", "json": "application/json",
         "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


def status_view(sm) -> dict:
    """A batch's status as the API shows it: the summary, with ``pending`` (not yet done)."""
    d = sm.to_dict()
    return {"batch_id": d.pop("batch_id"), "batch_name": d.pop("name"), "status": d.pop("status"),
            "total": sm.total, "completed": sm.completed, "failed": sm.failed, "skipped": sm.skipped,
            "pending": max(0, sm.total - sm.done), **d}


def _create(ctx: ApiContext, spool, filename: str, name: str | None, opts, workers, force) -> dict:
    b, settings = ctx.backends, ctx.settings
    folder = settings.data_dir / "batches" / "uploads" / uuid.uuid4().hex[:12]
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / safe_name(filename)
    spool.seek(0)
    with open(path, "wb") as out:
        shutil.copyfileobj(spool, out, 1 << 20)  # the spool to disk in blocks, never whole in memory
    default = filename.rsplit(".", 1)[0] or "batch"
    ids = create_batches(b, path, options=opts, name=(name or "").strip() or default,
                         max_batch_size=settings.max_batch_size)
    batch_request(b, ids[0], "resume")  # the same source and options again: the paused family resumes
    start_batches(b, settings, ids, workers=workers, force=force)
    with b.session() as s:
        parts = [br.get_batch(s, i) for i in ids]
        return {"batches": [{"batch_id": p.id, "batch_name": p.name, "parent_batch_id": p.parent_batch_id,
                             "total": p.total, "status": p.status.value} for p in parts]}


@router.post("/batches", status_code=202, summary="Start a batch from a CSV/XLSX manifest of URLs or a ZIP")
async def create_batch(
        request: Request, file: UploadFile = File(..., description="CSV/XLSX (sku_id, image_url, …) or ZIP"),
        batch_name: str | None = Form(None), mode: str = Form("AUTO"),
        target_size_kb: int | None = Form(None),
        output_format: str = Form("JPEG"), profile: str | None = Form(None), ai: str | None = Form(None),
        variants: int = Form(1), workers: int | None = Form(None, ge=1, le=64), force: bool = Form(False),
        key: KeyInfo = Depends(auth.operator), ctx: ApiContext = Depends(get_ctx)):
    filename = safe_name(file.filename or "batch")
    ext = "." + filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    if ext not in MANIFEST_EXTS:
        raise Problem(415, f"{filename}: send a CSV or XLSX manifest (sku_id, image_url) or a ZIP of photos",
                      slug="unsupported-batch-file")
    opts = parse_options(ctx, mode, target_size_kb, output_format, profile, ai, variants)
    request_hash = ""
    if request.headers.get("Idempotency-Key") is not None:
        request_hash = fingerprint(await run_in_threadpool(_sha, file.file), filename, batch_name, opts.key(),
                                   force)

    async def work():
        return 202, await run_in_threadpool(_create, ctx, file.file, filename, batch_name, opts, workers,
                                            force)

    return await once(request, ctx.backends, key, request_hash, work)


@router.get("/batches", summary="Recent batches, newest first")
def list_batches(limit: int = Query(50, ge=1), offset: int = Query(0, ge=0),
                 key: KeyInfo = Depends(auth.viewer), ctx: ApiContext = Depends(get_ctx)):
    limit = min(limit, 200)
    with ctx.backends.session() as s:
        rows = [status_view(summarize(s, b, failures=0))
                for b in br.list_batches(s, limit=limit, offset=offset)]
    return {"limit": limit, "offset": offset, "batches": rows}


@router.get("/batches/related/{batch_id}", summary="Every part of the split upload a batch belongs to")
def related(batch_id: str, key: KeyInfo = Depends(auth.viewer), ctx: ApiContext = Depends(get_ctx)):
    ids = family_ids(ctx.backends, batch_id)
    with ctx.backends.session() as s:
        parts = [br.get_batch(s, i) for i in ids]
        return {"batch_id": batch_id, "parent_batch_id": parts[0].parent_batch_id,
                "batches": [status_view(summarize(s, p, failures=0)) for p in parts]}


@router.get("/batches/parent/{parent_id}/status", summary="The aggregated status of a split upload")
def parent_status(parent_id: str, key: KeyInfo = Depends(auth.viewer), ctx: ApiContext = Depends(get_ctx)):
    return family_status(ctx.backends, parent_id)


@router.get("/batches/{batch_id}/status", summary="Counts, rate, ETA and recent failures")
def batch_status(batch_id: str, key: KeyInfo = Depends(auth.viewer), ctx: ApiContext = Depends(get_ctx)):
    return status_view(summary(ctx.backends, batch_id))


@router.post("/batches/{batch_id}/{action}", summary="Pause, resume, cancel or retry a batch (every part)")
def control(batch_id: str, action: Literal["pause", "resume", "cancel", "retry"],
            key: KeyInfo = Depends(auth.operator), ctx: ApiContext = Depends(get_ctx)):
    b = ctx.backends
    status = batch_request(b, batch_id, action)
    started = False
    if action in ("resume", "retry"):
        ids = family_ids(b, batch_id)
        # False: a runner here still holds it (stopping after a pause); it runs the queued batch again
        started = running_here(b, batch_id) or bool(start_batches(b, ctx.settings, ids))
    return {"batch_id": batch_id, "action": action, "status": status, "started": started}


@router.delete("/batches/{batch_id}", summary="Delete a batch, its items and the images it made (admin)")
def remove_batch(batch_id: str, key: KeyInfo = Depends(auth.admin), ctx: ApiContext = Depends(get_ctx)):
    b = ctx.backends
    sm = summary(b, batch_id, failures=0)
    if running_here(b, batch_id) or (sm.status == "running" and not sm.stalled):
        raise BatchError(f"batch {batch_id} is running; pause or cancel it first")
    return delete_batch(b, batch_id, actor=auth.actor(key)).to_dict()


@router.get("/batch-data/export", summary="A batch's items (or every batch's) as CSV, JSON or Excel",
            response_class=StreamingResponse)
def export(format: str = Query("csv", description=", ".join(EXPORT_FORMATS)), batch_id: str | None = None,
           key: KeyInfo = Depends(auth.viewer), ctx: ApiContext = Depends(get_ctx)):
    fmt = format.lower()
    data = export_batch(ctx.backends, batch_id, fmt)
    name = f"batch_{batch_id[:8]}.{fmt}" if batch_id else f"batches.{fmt}"
    return StreamingResponse(iter([data[i:i + (1 << 16)] for i in range(0, len(data), 1 << 16)]),
                             media_type=_MIME[fmt],
                             headers={"Content-Disposition": f'attachment; filename="{name}"'})
