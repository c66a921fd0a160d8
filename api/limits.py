"""Refuse request bodies over the limit with 413, before reading them and while they stream.

A declared ``Content-Length`` over the limit is answered at once (the body is
never held: at most a few MB of it are read and dropped, see ``refuse_unread``);
a body without one (chunked) is counted as it streams and cut off when it
passes the limit. What is read goes to Starlette's multipart spool
(memory up to 1 MB, then a temporary file), so an upload is held in memory
once at most: when the service reads it.
"""
from __future__ import annotations

from .problems import Problem, refuse_unread

_SLACK = 256 * 1024  # multipart framing and the form fields around the file
JSON_LIMIT = 10 * 1024 * 1024  # a JSON request (products/bulk with thousands of products fits)


class BodyTooLarge(Problem):
    def __init__(self, limit: int):
        super().__init__(413, f"The request body is larger than the {limit // 2**20} MB limit for this "
                              "endpoint", slug="too-large")


def limit_for(path: str, settings) -> int:
    """The body limit of a route: an upload's file limit, a batch file's, or the JSON limit.

    ``settings`` None (the configuration is broken; the route itself will answer 503): the defaults.
    """
    if path.endswith("/enhance/upload"):
        return (settings.max_upload_bytes if settings else 50 * 2**20) + _SLACK
    if path.rstrip("/").endswith("/batches"):
        return (settings.max_batch_upload_mb if settings else 1024) * 2**20 + _SLACK
    return JSON_LIMIT


class BodyLimit:
    """ASGI middleware; ``ctx`` gives the settings (``MAX_UPLOAD_MB``, ``MAX_BATCH_UPLOAD_MB``)."""

    def __init__(self, app, ctx):
        self.app, self.ctx = app, ctx

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["method"] not in ("POST", "PUT", "PATCH"):
            return await self.app(scope, receive, send)
        try:
            settings = self.ctx.settings
        except Exception:
            settings = None
        limit = limit_for(scope["path"], settings)
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            return await _refuse(scope, receive, send, limit)
        seen = 0

        async def counted():
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise BodyTooLarge(limit)
            return message

        started = False

        async def watch(message):
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted, watch)
        except BodyTooLarge:
            if not started:
                await _refuse(scope, receive, send, limit)


async def _refuse(scope, receive, send, limit: int) -> None:
    await refuse_unread(scope, receive, send, 413, BodyTooLarge(limit).detail, slug="too-large")
