"""``Authorization: Bearer <key>`` on every route but health: 401 without a live key, 403 without the role."""
from __future__ import annotations

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool

from enhancer.service import KeyInfo, authenticate
from enhancer.service.access import Actor

from .context import ApiContext, get_ctx
from .problems import Problem

RANK = {"viewer": 0, "operator": 1, "admin": 2}
_bearer = HTTPBearer(auto_error=False, description="An API key from `python -m enhancer api-key create`")
_CHALLENGE = {"WWW-Authenticate": "Bearer"}


def require(role: str):
    """A dependency that admits keys of ``role`` or above and returns the key."""
    need = RANK[role]

    async def check(request: Request, cred: HTTPAuthorizationCredentials | None = Depends(_bearer),
                    ctx: ApiContext = Depends(get_ctx)) -> KeyInfo:
        if cred is None or cred.scheme.lower() != "bearer" or not cred.credentials:
            raise Problem(401, "Send an API key: Authorization: Bearer <key>", slug="unauthorized",
                          headers=_CHALLENGE)
        key = await run_in_threadpool(authenticate, ctx.backends, cred.credentials.strip())
        if key is None:
            raise Problem(401, "This API key is unknown or revoked", slug="unauthorized", headers=_CHALLENGE)
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
