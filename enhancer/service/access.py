"""Who is acting and what their role allows: checked by the service, not only hidden in pages.

Roles are ordered ``viewer < operator < admin``:

- viewer: browse, download, export;
- operator: also upload, bulk, review, re-enhance, batch control;
- admin: also delete, users, API keys, configuration.

A caller passes an :class:`Actor` (a signed-in dashboard user, an API key) or a
plain string. A plain string is a trusted caller (``cli:<os user>``, a batch
runner, a test) and acts as admin, so existing callers keep working.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from ..errors import PermissionDeniedError

ROLES = ("viewer", "operator", "admin")
_RANK = {r: i for i, r in enumerate(ROLES)}


def check_role(role: str, *, what: str = "role") -> str:
    """``role`` lower-cased, or ValueError listing the valid roles."""
    r = str(role or "").strip().lower()
    if r not in _RANK:
        raise ValueError(f"unknown {what} {role!r}; valid: {', '.join(ROLES)}")
    return r


@dataclass(frozen=True)
class Actor:
    """A principal: ``name`` as recorded in the audit trail (e-mail, ``key:<name>``, ``cli:<user>``)."""

    name: str
    role: str = "viewer"

    def __post_init__(self) -> None:
        object.__setattr__(self, "name", (str(self.name or "").strip() or "unknown")[:255])
        object.__setattr__(self, "role", check_role(self.role))

    def can(self, role: str) -> bool:
        return _RANK[self.role] >= _RANK[check_role(role)]

    def __str__(self) -> str:
        return self.name


def as_actor(actor: str | Actor | None) -> Actor:
    """An :class:`Actor`; a plain string is a trusted caller acting as admin."""
    if isinstance(actor, Actor):
        return actor
    return Actor(name=str(actor or "system"), role="admin")


def require(actor: str | Actor | None, role: str, *, action: str = "") -> Actor:
    """The actor, if its role is at least ``role``; else :class:`PermissionDeniedError`.

    Raises
    ------
    PermissionDeniedError
        The message names the action, the role needed and the actor's role.
    """
    a = as_actor(actor)
    if not a.can(role):
        what = f" to {action}" if action else ""
        raise PermissionDeniedError(f"{a.name} has the {a.role} role; the {check_role(role)} role is needed{what}. "
                                    "Ask an admin to change your role.", needed=role, role=a.role)
    return a


def role_for(email: str | None, claims: Mapping[str, object], *, admin_emails: Iterable[str] = (),
             role_claims: Iterable[str] = ("roles", "groups"), role_map: Iterable[tuple[str, str]] = (),
             stored_role: str | None = None, default_role: str = "viewer") -> str:
    """A signed-in person's role, first rule that applies:

    1. their e-mail is in ``admin_emails`` → admin (how the first admin is made);
    2. the provider sent a ``roles``/``groups`` claim (``role_claims``) whose values
       map to roles (``role_map``, or a value that is a role's own name) → the highest;
    3. the users table gave them ``stored_role``;
    4. ``default_role``.
    """
    mail = str(email or "").strip().lower()
    if mail and mail in {e.strip().lower() for e in admin_emails}:
        return "admin"
    mapping = {k: check_role(v) for k, v in role_map}
    found: list[str] = []
    for claim in role_claims:
        values = claims.get(claim)
        if isinstance(values, str):
            values = [values]
        for v in values or ():
            role = mapping.get(str(v)) or (str(v).lower() if str(v).lower() in _RANK else None)
            if role:
                found.append(role)
    if found:
        return max(found, key=_RANK.__getitem__)
    if stored_role:
        return check_role(stored_role)
    return check_role(default_role)
