"""Errors as RFC 9457 problem details (``application/problem+json``): the one map from failures to statuses.

Every response an error produces goes through :func:`problem`; nothing else
builds one. A problem says ``type, title, status, detail`` (plus ``errors``
for field validation) and never carries a traceback or a setting's value.
"""
from __future__ import annotations

import asyncio
import logging
from http import HTTPStatus

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError, OperationalError, SQLAlchemyError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException

from enhancer.batch.errors import BatchError, IntakeError, UnknownBatchError
from enhancer.errors import (ConfigError, ConflictError, DatabaseError, EnhancerError,
                             InvalidImageError, NotFoundError, ProviderError, StorageError)

log = logging.getLogger("api")
MEDIA_TYPE = "application/problem+json"

#: Most specific first: the first class an error is an instance of gives its status.
STATUSES: tuple[tuple[type[BaseException], int, str], ...] = (
    (UnknownBatchError, 404, "not-found"),
    (NotFoundError, 404, "not-found"),
    (InvalidImageError, 415, "not-an-image"),
    (IntakeError, 400, "bad-batch-source"),
    (ConflictError, 409, "conflict"),
    (BatchError, 409, "batch-state"),
    (ConfigError, 503, "misconfigured"),
    (DatabaseError, 503, "database-unavailable"),
    (StorageError, 503, "storage-unavailable"),
    (ProviderError, 502, "ai-provider-failed"),
    (ValueError, 400, "bad-request"),
)


_SLUGS = {401: "unauthorized", 403: "forbidden", 404: "not-found", 405: "method-not-allowed",
          413: "too-large"}


class Problem(HTTPException):
    """Raise to answer with a problem; ``extra`` members are added to the body (e.g. ``image_id``)."""

    def __init__(self, status: int, detail: str, *, slug: str | None = None, headers: dict | None = None,
                 **extra):
        super().__init__(status, detail, headers=headers)
        self.slug, self.extra = slug, extra


def problem(status: int, detail: str, *, slug: str | None = None, headers: dict | None = None,
            **extra) -> JSONResponse:
    """The one way an error response is built."""
    body = {"type": f"urn:pixel-lab:problem:{slug}" if slug else "about:blank",
            "title": HTTPStatus(status).phrase, "status": status, "detail": detail, **extra}
    return JSONResponse(body, status_code=status, media_type=MEDIA_TYPE, headers=headers)


#: What a refusal reads of the body it refuses before closing: enough for any small request, bounded so a
#: client with a large one cannot keep the connection (see :func:`refuse_unread`).
LINGER_BYTES = 4 * 2**20
LINGER_SECONDS = 2.0


async def refuse_unread(scope, receive, send, status: int, detail: str, *, slug: str,
                        headers: dict | None = None) -> None:
    """Answer an ASGI request before its body is read; ``Connection: close``, since the client may
    still be sending a body no one will read.

    The answer goes out at once, then the body still on its way is read and dropped (up to
    LINGER_BYTES or LINGER_SECONDS) before the response ends and the server closes. Closing on a
    body still arriving makes the kernel answer it with a reset, and a reset can wipe out the answer
    before the client reads it (RFC 9112 section 9.6): a client that sends headers and body apart,
    as ``requests`` does, then saw "connection reset" instead of 401 or 403.
    """
    response = problem(status, detail, slug=slug, headers={"Connection": "close", **(headers or {})})
    await send({"type": "http.response.start", "status": response.status_code,
                "headers": response.raw_headers})
    await send({"type": "http.response.body", "body": response.body, "more_body": True})
    await _linger(receive)
    await send({"type": "http.response.body", "body": b""})


async def _linger(receive) -> None:
    """Read and drop the rest of a request body, within LINGER_BYTES and LINGER_SECONDS."""
    loop = asyncio.get_running_loop()
    deadline, seen = loop.time() + LINGER_SECONDS, 0
    while seen <= LINGER_BYTES:
        try:
            message = await asyncio.wait_for(receive(), max(0.0, deadline - loop.time()))
        except asyncio.TimeoutError:
            return
        if message["type"] != "http.request" or not message.get("more_body", False):
            return
        seen += len(message.get("body", b""))


def classify(exc: BaseException) -> tuple[int, str]:
    """``(status, slug)`` for an enhancer or database error; ``(500, "internal")`` for anything else."""
    for cls, status, slug in STATUSES:
        if isinstance(exc, cls):
            return status, slug
    if isinstance(exc, (OperationalError, PoolTimeout)) or (
            isinstance(exc, DBAPIError) and exc.connection_invalidated):
        return 503, "database-unavailable"
    return 500, "internal"


def _message(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0][:1000] if text else exc.__class__.__name__


def install(app: FastAPI) -> None:
    """Register the handlers that turn every failure into a problem."""

    @app.exception_handler(HTTPException)
    async def _http(request: Request, exc: HTTPException):
        slug = getattr(exc, "slug", None) or _SLUGS.get(exc.status_code)
        return problem(exc.status_code, str(exc.detail), slug=slug, headers=exc.headers,
                       **getattr(exc, "extra", {}))

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError):
        errors = [{"field": ".".join(str(p) for p in e.get("loc", ()) if p not in ("body", "query", "path",
                                                                                      "form", "header")),
                   "in": (e.get("loc") or ("body",))[0], "message": e.get("msg", "invalid")}
                  for e in exc.errors()]
        fields = ", ".join(sorted({e["field"] for e in errors if e["field"]})) or "the request"
        return problem(422, f"Invalid {fields}: see errors", slug="validation", errors=errors)

    @app.exception_handler(EnhancerError)
    @app.exception_handler(ValueError)
    @app.exception_handler(SQLAlchemyError)
    async def _known(request: Request, exc: Exception):
        status, slug = classify(exc)
        if status >= 500:
            log.warning("[API] %s %s: %s: %s", request.method, request.url.path, exc.__class__.__name__,
                        _message(exc))
        if status == 503 and isinstance(exc, SQLAlchemyError):
            detail = "The database is unavailable; try again shortly"
        elif status == 500:
            detail = "Internal error; it was logged"
        else:
            detail = _message(exc)
        headers = {"Retry-After": "5"} if status == 503 else None
        return problem(status, detail, slug=slug, headers=headers)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception):
        log.exception("[API] %s %s failed", request.method, request.url.path)
        return problem(500, "Internal error; it was logged", slug="internal")
