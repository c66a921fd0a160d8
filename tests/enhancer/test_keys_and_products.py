"""API keys (only a hash kept, revocation at once) and products with catalog fields, on both backends."""
from __future__ import annotations

import hashlib

import pytest
from sqlalchemy import select

from db.models import ApiKey
from enhancer.errors import NotFoundError
from enhancer.service import ProductFields, authenticate, create_key, list_keys, revoke_key, save_product


def test_a_key_is_shown_once_and_only_its_hash_is_kept(service):
    made = create_key(service, " pim-sync ", "Operator")
    assert set(made) == {"id", "name", "role", "key"} and made["role"] == "operator" and made["name"] == "pim-sync"
    with service.session() as s:
        row = s.scalars(select(ApiKey)).one()
    assert row.key_hash == hashlib.sha256(made["key"].encode()).hexdigest() and made["key"] not in str(row.__dict__)
    who = authenticate(service, made["key"])
    assert (who.id, who.role) == (made["id"], "operator") and who.last_used_at is None
    assert list_keys(service)[0].last_used_at is not None  # recorded by the check
    assert authenticate(service, made["key"] + "x") is None and authenticate(service, "") is None
    assert revoke_key(service, made["id"]).revoked_at
    assert authenticate(service, made["key"]) is None
    with pytest.raises(NotFoundError):
        revoke_key(service, "nope")
    with pytest.raises(ValueError, match="viewer, operator, admin"):
        create_key(service, "x", "boss")
    with pytest.raises(ValueError, match="name"):
        create_key(service, " ", "viewer")


def test_save_product_creates_then_updates_only_given_fields(service):
    pid, created = save_product(service, ProductFields.parse("TEE-1", name="Tee", price="799", gst=12))
    again, created_again = save_product(service, ProductFields.parse(" TEE-1 ", category="apparel"))
    assert created and not created_again and again == pid
    from db import repo

    with service.session() as s:
        p = repo.get_product(s, pid)
        assert (p.name, p.category, p.price, p.gst, p.status.value) == ("Tee", "apparel", 799.0, 12.0, "pending")


@pytest.mark.parametrize("kw, word", [({"price": -1}, "price"), ({"mrp": "ten"}, "mrp"),
                                      ({"name": "x" * 256}, "name"), ({"colour": "red"}, "colour")])
def test_product_fields_name_what_is_wrong(kw, word):
    with pytest.raises(ValueError, match=word):
        ProductFields.parse("SKU", **kw)
    with pytest.raises(ValueError, match="sku_id"):
        ProductFields.parse("  ")


def test_key_changes_are_audited_and_need_an_admin(service):
    from db import audit
    from enhancer.errors import PermissionDeniedError
    from enhancer.service import create_key, revoke_key
    from enhancer.service.access import Actor

    made = create_key(service, "pim-sync", "operator", actor=Actor("ann@example.com", "admin"))
    revoke_key(service, made["id"], actor="cli:root")
    import pytest
    with pytest.raises(PermissionDeniedError):
        create_key(service, "sneaky", "admin", actor=Actor("op@example.com", "operator"))
    with service.session() as s:
        rows = [audit.as_dict(r) for r in audit.entries(s, audit.AuditFilter(target_kind="key"))[1]]
    assert sorted((r["action"], r["actor"]) for r in rows) == [("key_create", "ann@example.com"),
                                                              ("key_revoke", "cli:root")]
    assert all(made["key"] not in str(r) for r in rows)  # never the secret
