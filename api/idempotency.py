"""``Idempotency-Key`` on the POSTs that create things: a retry gets the first outcome, nothing is made twice.

The first request with a key claims it (a row with no outcome yet), does the
work and stores its status and JSON; a retry with the same key and the same
request gets that stored answer (header ``Idempotent-Replayed: true``). The
same key with a different request is refused (422); a retry while the first
is still running is told to wait (409). A failed first attempt (an error
status) releases the key, so the retry does the work. Keys are scoped to the
API key and the endpoint, and expire after a day.
"""
from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta

from fastapi import Request
from fastapi.responses import JSONResponse
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from starlette.concurrency import run_in_threadpool

from db.models import IdempotencyRecord, utcnow
from enhancer.service import Backends, KeyInfo

from .problems import Problem

log = logging.getLogger("api")
HEADER = "Idempotency-Key"
KEEP = timedelta(days=1)
STALE = timedelta(minutes=15)  # a claim with no outcome this old was left by a stopped server


def fingerprint(*parts) -> str:
    """A request's identity for its key: the endpoint's fields and any file's SHA-256."""
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()


async def once(request: Request, b: Backends, key: KeyInfo, request_hash: str,
               work: Callable[[], Awaitable[tuple[int, dict]]]) -> JSONResponse:
    """Run ``work`` (→ status, JSON) at most once per ``Idempotency-Key``; without the header, just run it."""
    idem = request.headers.get(HEADER)
    if idem is None:
        status, body = await work()
        return JSONResponse(body, status_code=status)
    idem = idem.strip()
    if not idem or len(idem) > 255 or not idem.isprintable():
        raise Problem(400, f"{HEADER} must be 1-255 printable characters", slug="bad-idempotency-key")
    route = request.scope.get("route")
    endpoint = f"{request.method} {route.path if route else request.url.path}"[:128]
    state, stored = await run_in_threadpool(_claim, b, key.id, idem, endpoint, request_hash)
    if state == "replay":
        status, body = stored
        return JSONResponse(body, status_code=status, headers={"Idempotent-Replayed": "true"})
    if state == "busy":
        raise Problem(409, f"A request with this {HEADER} is still being processed; retry shortly",
                      slug="idempotency-in-progress", headers={"Retry-After": "2"})
    if state == "mismatch":
        raise Problem(422, f"This {HEADER} was used for a different request; use a new key for new work",
                      slug="idempotency-key-reused")
    try:
        status, body = await work()
    except BaseException:
        await run_in_threadpool(_release, b, stored)
        raise
    if status >= 400:
        await run_in_threadpool(_release, b, stored)
    else:
        await run_in_threadpool(_store, b, stored, status, body)
    return JSONResponse(body, status_code=status)


def _claim(b: Backends, key_id: str, idem: str, endpoint: str, request_hash: str):
    now = utcnow()
    where = (IdempotencyRecord.api_key_id == key_id, IdempotencyRecord.idempotency_key == idem,
             IdempotencyRecord.endpoint == endpoint)
    for _ in range(3):
        with b.session() as s, s.begin():
            row = s.scalars(select(IdempotencyRecord).where(*where)).first()
            if row is not None:
                expired = now - row.created_at > KEEP
                abandoned = row.status_code is None and now - row.created_at > STALE
                if not (expired or abandoned):
                    if row.request_hash != request_hash:
                        return "mismatch", None
                    if row.status_code is None:
                        return "busy", None
                    return "replay", (row.status_code, row.response)
                s.delete(row)
                s.flush()
        try:
            with b.session() as s, s.begin():
                row = IdempotencyRecord(api_key_id=key_id, idempotency_key=idem, endpoint=endpoint,
                                        request_hash=request_hash)
                s.add(row)
                s.flush()
                return "claimed", row.id
        except IntegrityError:  # a concurrent retry claimed it first: read what it holds
            continue
    return "busy", None


def _store(b: Backends, record_id: str, status: int, body: dict) -> None:
    try:
        with b.session() as s, s.begin():
            row = s.get(IdempotencyRecord, record_id)
            if row is not None:
                row.status_code, row.response = status, body
    except Exception as exc:  # the work is done; only a later retry would redo it
        log.warning("[API] could not store the outcome for an idempotency key: %s", exc)
        _release(b, record_id)


def _release(b: Backends, record_id: str) -> None:
    try:
        with b.session() as s, s.begin():
            s.execute(delete(IdempotencyRecord).where(IdempotencyRecord.id == record_id))
    except Exception as exc:
        log.warning("[API] could not release an idempotency key (it expires in %s): %s", STALE, exc)
