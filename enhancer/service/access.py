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
        raise PermissionDeniedError(f"{a.name} is a {a.role}; the {check_role(role)} role is needed{what}. "
                                    "Ask an admin to change your role.", needed=role, role=a.role)
    return a
