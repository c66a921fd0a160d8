"""Roles are enforced by the service (not only hidden in pages) and every change leaves one audit row."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from db import audit
from db.audit_models import AuditEntry
from db.models import ProductImage
from enhancer.errors import PermissionDeniedError
from enhancer.service import decide, delete_image, delete_product
from enhancer.service.access import Actor, as_actor, require
from support import photo_bytes, reup, up

VIEWER = Actor("viewer@example.com", "viewer")
OPERATOR = Actor("op@example.com", "operator")
ADMIN = Actor("admin@example.com", "admin")


def _audit(b) -> list[dict]:
    with b.session() as s:
        return [audit.as_dict(e) for e in reversed(audit.entries(s, limit=1000)[1])]


def _count(b, model) -> int:
    with b.session() as s:
        return s.scalar(select(func.count()).select_from(model))


def test_roles_are_ordered_and_a_plain_string_is_a_trusted_admin():
    assert ADMIN.can("operator") and OPERATOR.can("viewer") and not VIEWER.can("operator")
    assert as_actor("cli:alice") == Actor("cli:alice", "admin")
    with pytest.raises(PermissionDeniedError, match="operator role is needed to upload"):
        require(VIEWER, "operator", action="upload")
    with pytest.raises(ValueError, match="valid: viewer, operator, admin"):
        Actor("x", "boss")


def test_a_viewer_cannot_upload_reenhance_decide_or_delete(service):
    res = up(service, photo_bytes(seed=1), "a.jpg", actor=OPERATOR, mode="OPTIMIZE", variants=2)
    before = (_count(service, ProductImage), _count(service, AuditEntry))
    with pytest.raises(PermissionDeniedError, match="operator"):
        up(service, photo_bytes(seed=2), "b.jpg", actor=VIEWER, mode="OPTIMIZE")
    with pytest.raises(PermissionDeniedError):
        reup(service, res.image_id, actor=VIEWER, mode="OPTIMIZE")
    with pytest.raises(PermissionDeniedError):
        decide(service, res.database_id, "approve", actor=VIEWER)
    for who in (VIEWER, OPERATOR):
        with pytest.raises(PermissionDeniedError, match="admin role is needed"):
            delete_image(service, res.image_id, actor=who)
        with pytest.raises(PermissionDeniedError, match="admin"):
            delete_product(service, res.sku_id, actor=who)
    assert (_count(service, ProductImage), _count(service, AuditEntry)) == before


def test_one_audit_row_per_change_with_the_right_actor(service):
    res = up(service, photo_bytes(seed=3), "c.jpg", actor=OPERATOR, mode="OPTIMIZE", variants=2)
    again = reup(service, res.image_id, actor="cli:bob", mode="OPTIMIZE")
    decide(service, res.database_id, "approve", actor=OPERATOR)
    delete_image(service, res.image_id, actor=ADMIN)
    rows = _audit(service)
    assert [(r["actor"], r["role"], r["action"], r["target_kind"], r["target_id"]) for r in rows] == [
        ("op@example.com", "operator", "upload", "image", res.image_id),
        ("cli:bob", "admin", "reenhance", "image", res.image_id),
        ("op@example.com", "operator", "approve", "enhancement", res.database_id),
        ("admin@example.com", "admin", "delete", "image", res.image_id),
    ]
    assert again.success and rows[0]["detail"]["sku_id"] == "c"
    with service.session() as s:
        total, only = audit.entries(s, audit.AuditFilter(action="approve"))
    assert total == 1 and only[0].actor == "op@example.com"


def test_a_refused_or_failed_change_writes_no_audit_row(service):
    from enhancer.errors import NotFoundError

    with pytest.raises(NotFoundError):
        delete_image(service, "0" * 36, actor=ADMIN)
    assert _audit(service) == []


def test_audit_log_has_no_update_or_delete_functions():
    assert not [n for n in dir(audit) if n.startswith(("update", "delete")) or n in ("edit", "purge")]


def test_batch_start_and_control_need_an_operator_and_are_audited(service, tmp_path):
    from enhancer.batch.control import request, start

    src = tmp_path / "in"
    src.mkdir()
    for i in range(2):
        (src / f"p{i}.jpg").write_bytes(photo_bytes(size=(160, 120), seed=10 + i))
    with pytest.raises(PermissionDeniedError):
        start(service, src, actor=VIEWER, name="Shoot")
    ids = start(service, src, actor=OPERATOR, name="Shoot")
    with pytest.raises(PermissionDeniedError):
        request(service, ids[0], "cancel", actor=VIEWER)
    request(service, ids[0], "cancel", actor=OPERATOR)
    assert [(r["actor"], r["action"], r["target_id"]) for r in _audit(service)] == [
        ("op@example.com", "start", ids[0]), ("op@example.com", "cancel", ids[0])]
