"""``Authorization: Bearer <key>`` on every route but health: 401 without a live key, 403 without the role."""
from __future__ import annotations

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool

from enhancer.service import KeyInfo, authenticate
from enhancer.service.access import Actor

from .context import ApiContext, get_ctx
from .problems import Problem, refuse_unread

RANK = {"viewer": 0, "operator": 1, "admin": 2}
_bearer = HTTPBearer(auto_error=False, description="An API key from `python -m enhancer api-key create`")
_CHALLENGE = {"WWW-Authenticate": "Bearer"}
NO_KEY = "Send an API key: Authorization: Bearer <key>"
BAD_KEY = "This API key is unknown or revoked"
#: Routes whose bodies are files (an upload, a batch's ZIP or manifest): only operators send them.
FILE_ROUTES = ("/enhance/upload", "/batches")


def require(role: str):
    """A dependency that admits keys of ``role`` or above and returns the key."""
    need = RANK[role]

    async def check(request: Request, cred: HTTPAuthorizationCredentials | None = Depends(_bearer),
                    ctx: ApiContext = Depends(get_ctx)) -> KeyInfo:
        if cred is None or cred.scheme.lower() != "bearer" or not cred.credentials:
            raise Problem(401, NO_KEY, slug="unauthorized", headers=_CHALLENGE)
        key = getattr(request.state, "key", None)  # AuthFirst found it before the body was read
        if key is None:
            key = await run_in_threadpool(authenticate, ctx.backends, cred.credentials.strip())
        if key is None:
            raise Problem(401, BAD_KEY, slug="unauthorized", headers=_CHALLENGE)
        if RANK[key.role] < need:
            raise Problem(403, f"This endpoint needs the {role} role; the key {key.name!r} is {key.role}",
                          slug="forbidden")
        request.state.key = key
        return key

    return check


viewer = require("viewer")
operator = require("operator")
admin = require("admin")


def actor(key: KeyInfo) -> Actor:
    """Who acted, with the key's role (the service checks it again): ``key:<key name>``."""
    return Actor(name=f"key:{key.name}", role=key.role)


class AuthFirst:
    """ASGI middleware: a request with a body shows its key before the body is read.

    FastAPI reads a form body (spooling it to disk past 1 MB) before it runs
    the route's dependencies, so a client without a key could make the server
    take in a 50 MB upload or a 1 GB batch ZIP only to hear 401. Here a missing
    or unknown key is refused at once, and so is a viewer's key on the file
    routes; the route still checks its own role, with the key found here.
    Anything this cannot decide (the database is down) is left to the route.
    """

    def __init__(self, app, ctx: ApiContext):
        self.app, self.ctx = app, ctx

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["method"] not in ("POST", "PUT", "PATCH"):
            return await self.app(scope, receive, send)
        scheme, _, token = dict(scope["headers"]).get(b"authorization", b"").decode("latin-1").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return await refuse_unread(scope, receive, send, 401, NO_KEY, slug="unauthorized", headers=_CHALLENGE)
        try:
            key = await run_in_threadpool(authenticate, self.ctx.backends, token.strip())
        except Exception:  # misconfigured or unreachable: the route answers with the right problem
            return await self.app(scope, receive, send)
        if key is None:
            return await refuse_unread(scope, receive, send, 401, BAD_KEY, slug="unauthorized", headers=_CHALLENGE)
        if scope["path"].rstrip("/").endswith(FILE_ROUTES) and RANK[key.role] < RANK["operator"]:
            return await refuse_unread(scope, receive, send, 403, f"Sending files needs the operator role; the key "
                                       f"{key.name!r} is {key.role}", slug="forbidden")
        scope.setdefault("state", {})["key"] = key
        return await self.app(scope, receive, send)

