"""Pixel Lab's own users table: the role of a person whose provider sends no roles claim (admin only)."""
from __future__ import annotations

import re

from db import audit

from .access import Actor, check_role, require
from .audit import note
from .backends import Backends

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+$")


def set_user(b: Backends, email: str, role: str, *, actor: str | Actor = "system") -> dict:
    """Add a user or change their role; audited as ``user_add`` / ``user_role``.

    Raises
    ------
    ValueError
        Not an e-mail address, or an unknown role (the message lists the valid ones).
    PermissionDeniedError
        ``actor`` is below admin.
    """
    who = require(actor, "admin", action="manage users")
    mail = audit.normalize_email(email)
    if not _EMAIL.match(mail):
        raise ValueError(f"expected an e-mail address like name@example.com, got {email!r}")
    role = check_role(role)
    with b.session() as s, s.begin():
        old = audit.get_user(s, mail)
        before = old.role if old else None
        user, created = audit.set_user(s, mail, role)
        note(s, who, "user_add" if created else "user_role", "user", mail, role=role, was=before)
        return {"email": user.email, "role": user.role, "created": created}


def remove_user(b: Backends, email: str, *, actor: str | Actor = "system") -> bool:
    """Remove a user (their role falls back to claims / DEFAULT_ROLE); False when there was none."""
    who = require(actor, "admin", action="manage users")
    mail = audit.normalize_email(email)
    with b.session() as s, s.begin():
        user = audit.get_user(s, mail)
        if user is None:
            return False
        note(s, who, "user_remove", "user", mail, was=user.role)
        return audit.remove_user(s, mail)


def list_users(b: Backends) -> list[dict]:
    with b.session() as s:
        return [{"email": u.email, "role": u.role, "created_at": u.created_at.isoformat(sep=" ", timespec="seconds")}
                for u in audit.list_users(s)]
