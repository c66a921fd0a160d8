"""Migration 0006 adds the append-only audit_log and users on SQLite and MariaDB, keeping earlier rows."""
from __future__ import annotations

import pytest
from sqlalchemy import inspect, text
from sqlalchemy.orm import Session

from db import audit
from db.session import current_revision, make_engine, upgrade


@pytest.fixture(params=["sqlite", "mariadb"])
def at_0003(request, tmp_path):
    url = f"sqlite:///{tmp_path / 'old.db'}" if request.param == "sqlite" else request.getfixturevalue("mysql_url")
    engine = make_engine(url, migrate=False)
    upgrade(engine, "0003")
    yield engine
    engine.dispose()


def test_0006_adds_audit_and_users(at_0003):
    with at_0003.begin() as c:
        c.execute(text("INSERT INTO products (id, sku_id, status, created_at, updated_at) "
                       "VALUES (:i, 'KEEP', 'pending', '2026-11-30 12:00:00', '2026-11-30 12:00:00')"),
                  {"i": "p" * 36})
    upgrade(at_0003)
    assert current_revision(at_0003) == "0006"
    names = set(inspect(at_0003).get_table_names())
    assert {"audit_log", "users", "products"} <= names
    with Session(at_0003, expire_on_commit=False) as s, s.begin():
        a = audit.record(s, actor="op@example.com", role="operator", action="approve", target_kind="enhancement",
                         target_id="h1", detail={"sku_id": "KEEP"})
        b = audit.record(s, actor="cli:bob", role="admin", action="delete", target_kind="image", target_id="i1")
        audit.set_user(s, "Ann@Example.com ", "operator")
    assert b.id > a.id
    with Session(at_0003) as s:
        total, rows = audit.entries(s, audit.AuditFilter(actor="example.com"))
        assert total == 1 and rows[0].detail == {"sku_id": "KEEP"}
        assert [(u.email, u.role) for u in audit.list_users(s)] == [("ann@example.com", "operator")]
        assert s.execute(text("SELECT count(*) FROM products")).scalar() == 1
