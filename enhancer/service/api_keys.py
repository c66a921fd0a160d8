"""API keys: create (the secret is shown once), list, revoke, and check a presented key.

A key is ``pl_`` + 32 random bytes (URL-safe base64). Only its SHA-256 is
stored: with that much entropy a fast hash is enough (nothing to brute-force),
and the lookup is one indexed equality, so checking a key costs one query.
"""
from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select

from db.models import ApiKey, ApiRole, utcnow

from ..errors import NotFoundError
from .backends import Backends

ROLES = tuple(r.value for r in ApiRole)
PREFIX = "pl_"
#: ``last_used_at`` is written at most this often per key (not one write per request).
TOUCH_EVERY = timedelta(minutes=1)


@dataclass(frozen=True)
class KeyInfo:
    """A key as listed (never its secret)."""

    id: str
    name: str
    role: str
    created_at: str
    revoked_at: str | None
    last_used_at: str | None

    def to_dict(self) -> dict:
        return dict(self.__dict__)


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def _ts(t) -> str | None:
    return t.isoformat(sep=" ", timespec="seconds") if t else None


def _info(k: ApiKey) -> KeyInfo:
    return KeyInfo(k.id, k.name, k.role.value, _ts(k.created_at), _ts(k.revoked_at), _ts(k.last_used_at))


def parse_role(role: str) -> ApiRole:
    """The role named ``role`` (ValueError listing the valid ones)."""
    try:
        return ApiRole(str(role).strip().lower())
    except ValueError:
        raise ValueError(f"role must be one of {', '.join(ROLES)}, got {role!r}") from None


def create_key(b: Backends, name: str, role: str, *, actor="system") -> dict:
    """A new key: ``{"id", "name", "role", "key"}``. The secret ``key`` is returned here only.

    ``actor`` must be an admin; the change is recorded in the audit trail (never the secret).

    Raises
    ------
    ValueError
        An empty or over-long name, or an unknown role.
    PermissionDeniedError
        ``actor`` is not an admin.
    """
    from .access import require
    from .audit import note

    who = require(actor, "admin", action="create API keys")
    name = (name or "").strip()
    if not name or len(name) > 128:
        raise ValueError("name must be 1-128 characters (who or what uses the key, e.g. 'pim-sync')")
    r = parse_role(role)
    secret = PREFIX + secrets.token_urlsafe(32)
    with b.session() as s, s.begin():
        row = ApiKey(name=name, role=r, key_hash=_hash(secret))
        s.add(row)
        s.flush()
        note(s, who, "key_create", "key", row.id, name=name, role=r.value)
        return {"id": row.id, "name": name, "role": r.value, "key": secret}


def list_keys(b: Backends) -> list[KeyInfo]:
    with b.session() as s:
        return [_info(k) for k in s.scalars(select(ApiKey).order_by(ApiKey.created_at, ApiKey.id))]


def revoke_key(b: Backends, key_id: str, *, actor="system") -> KeyInfo:
    """Revoke a key (at once: the next request with it is refused). Revoking twice keeps the first time.

    Raises
    ------
    NotFoundError
        No key has that id.
    """
    from .access import require
    from .audit import note

    who = require(actor, "admin", action="revoke API keys")
    with b.session() as s, s.begin():
        k = s.get(ApiKey, key_id)
        if k is None:
            raise NotFoundError(f"No API key with id {key_id}")
        k.revoked_at = k.revoked_at or utcnow()
        note(s, who, "key_revoke", "key", k.id, name=k.name)
        s.flush()
        return _info(k)


def authenticate(b: Backends, presented: str) -> KeyInfo | None:
    """The live key matching ``presented``, or None (unknown or revoked)."""
    if not presented or not presented.startswith(PREFIX) or len(presented) > 256:
        return None
    h = _hash(presented)
    with b.session() as s:
        k = s.scalars(select(ApiKey).where(ApiKey.key_hash == h)).first()
        if k is None or k.revoked_at is not None:
            return None
        info = _info(k)
        stale = k.last_used_at is None or utcnow() - k.last_used_at > TOUCH_EVERY
    if stale:
        try:
            with b.session() as s, s.begin():
                row = s.get(ApiKey, info.id)
                if row is not None:
                    row.last_used_at = utcnow()
        except Exception:  # a busy database must not refuse a valid key over a bookkeeping write
            pass
    return info
