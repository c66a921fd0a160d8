"""Health (no key) and API keys (admin)."""
from __future__ import annotations

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict

from enhancer.app import Check, run_checks
from enhancer.service import KeyInfo, create_key, list_keys, revoke_key

from .. import auth
from ..context import ApiContext, get_ctx

router = APIRouter()


@router.get("/health", tags=["system"], summary="Configuration, database, storage and AI providers: 200 "
                                                 "when all pass, 503 otherwise (no key needed)")
def health(ctx: ApiContext = Depends(get_ctx)):
    try:
        settings = ctx.settings
    except Exception as exc:  # a bad setting: the message names the variable, never its value
        checks = [Check("configuration", False, str(exc)[:300])]
    else:
        try:
            checks = run_checks(settings, ctx.backends)
        except Exception:  # cannot build the service: run_checks says which part is unreachable
            checks = run_checks(settings)
    ok = all(c.ok for c in checks)
    body = {"ok": ok, "status": "ok" if ok else "unavailable", "checks": [c.__dict__ for c in checks]}
    return JSONResponse(body, status_code=200 if ok else 503)


class KeyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    role: str


@router.post("/keys", tags=["keys"], status_code=201,
             summary="A new API key; the key is in this response only")
def new_key(body: KeyIn, key: KeyInfo = Depends(auth.admin), ctx: ApiContext = Depends(get_ctx)):
    return create_key(ctx.backends, body.name, body.role, actor=auth.actor(key))


@router.get("/keys", tags=["keys"], summary="Every API key (never a secret)")
def keys(key: KeyInfo = Depends(auth.admin), ctx: ApiContext = Depends(get_ctx)):
    return {"keys": [k.to_dict() for k in list_keys(ctx.backends)]}


@router.delete("/keys/{key_id}", tags=["keys"], summary="Revoke a key (refused from the next request)")
def revoke(key_id: str, key: KeyInfo = Depends(auth.admin), ctx: ApiContext = Depends(get_ctx)):
    return revoke_key(ctx.backends, key_id, actor=auth.actor(key)).to_dict()
