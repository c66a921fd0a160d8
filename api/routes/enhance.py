"""Upload and enhance, re-enhance, review: the service's upload, reenhance and decide."""
from __future__ import annotations

import hashlib
from typing import Literal

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from pydantic import BaseModel, ConfigDict
from starlette.concurrency import run_in_threadpool

from enhancer.options import EnhanceOptions
from enhancer.service import KeyInfo, UploadResult, decide, reenhance, upload

from .. import auth
from ..context import ApiContext, get_ctx
from ..idempotency import fingerprint, once
from ..pool import Saturated
from ..problems import Problem

router = APIRouter(tags=["enhance"])


def parse_options(ctx: ApiContext, mode=None, target_size_kb=None, output_format=None, profile=None, ai=None,
                  variants=None) -> EnhanceOptions:
    """The one request type from the request's fields (ValueError naming the option → 400)."""
    return EnhanceOptions.parse(mode, target_size_kb, output_format, profile, ai, variants,
                                default_ai=ctx.settings.ai_provider)


async def on_pool(ctx: ApiContext, fn, *args, **kwargs):
    """CPU work on the bounded pool; 429 with Retry-After when it is full."""
    try:
        return await ctx.pool.run(fn, *args, **kwargs)
    except Saturated as exc:
        raise Problem(429, f"The server is busy enhancing other photos; retry in {exc.retry_after} s",
                      slug="busy", headers={"Retry-After": str(exc.retry_after)}) from None


def outcome(res: UploadResult) -> tuple[int, dict]:
    if not res.success:  # the original is kept (FAILED); a re-enhance retries it
        raise Problem(500, f"Enhancement failed: {res.error}; the original is kept as image {res.image_id}, "
                           "re-enhance it to try again", slug="enhancement-failed", image_id=res.image_id)
    return 200, res.to_dict()


def _sha(spool) -> str:
    h = hashlib.sha256()
    spool.seek(0)
    for block in iter(lambda: spool.read(1 << 20), b""):
        h.update(block)
    return h.hexdigest()


def _upload_spooled(b, spool, filename, opts, **kw) -> UploadResult:
    spool.seek(0)
    return upload(b, spool.read(), filename, opts, **kw)


@router.post("/enhance/upload", summary="Upload one photo and enhance it")
async def enhance_upload(
        request: Request,
        file: UploadFile = File(..., description="the photo (JPEG, PNG, WEBP, HEIC, AVIF…)"),
        mode: str = Form("AUTO"), target_size_kb: int | None = Form(None, description="50-2000"),
        output_format: str = Form("JPEG", description="JPEG, PNG or WEBP"),
        sku_id: str | None = Form(None, description="the product; default: the file's name"),
        profile: str | None = Form(None),
        variants: int = Form(1, description="1-10; more than 1 goes to review"),
        ai: str | None = Form(None, description="local, gemini or bedrock; default AI_PROVIDER"),
        force: bool = Form(False, description="enhance again even if these bytes were done with these "
                                              "options"),
        key: KeyInfo = Depends(auth.operator), ctx: ApiContext = Depends(get_ctx)):
    b, limit = ctx.backends, ctx.settings.max_upload_bytes
    if file.size is not None and file.size > limit:
        raise Problem(413, f"The file is {file.size / 2**20:.1f} MB, above the {limit // 2**20} MB upload "
                           "limit", slug="too-large")
    opts = parse_options(ctx, mode, target_size_kb, output_format, profile, ai, variants)
    filename = file.filename or "upload"
    request_hash = ""
    if request.headers.get("Idempotency-Key") is not None:
        sha = await run_in_threadpool(_sha, file.file)
        request_hash = fingerprint(sha, filename, sku_id, opts.key(), force)

    async def work():
        return outcome(await on_pool(ctx, _upload_spooled, b, file.file, filename, opts, sku_id=sku_id,
                                     actor=auth.actor(key), force=force))

    return await once(request, b, key, request_hash, work)


class OptionsIn(BaseModel):
    """Enhancement options (every field optional; the defaults are the upload's)."""

    model_config = ConfigDict(extra="forbid")
    mode: str | None = None
    target_size_kb: int | None = None
    output_format: str | None = None
    profile: str | None = None
    ai: str | None = None
    variants: int | None = None


@router.post("/images/{image_id}/reenhance", summary="Enhance a stored original again (adds history)")
async def reenhance_image(request: Request, image_id: str, body: OptionsIn | None = None,
                          key: KeyInfo = Depends(auth.operator), ctx: ApiContext = Depends(get_ctx)):
    body = body or OptionsIn()
    opts = parse_options(ctx, **body.model_dump())

    async def work():
        return outcome(await on_pool(ctx, reenhance, ctx.backends, image_id, opts, actor=auth.actor(key)))

    return await once(request, ctx.backends, key, fingerprint(image_id, opts.key()), work)


class DecisionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    decision: Literal["approve", "reject"]


@router.post("/reviews/{history_id}", summary="Approve or reject one enhancement")
def review(history_id: str, body: DecisionIn, key: KeyInfo = Depends(auth.operator),
           ctx: ApiContext = Depends(get_ctx)):
    return decide(ctx.backends, history_id, body.decision, actor=auth.actor(key)).__dict__
