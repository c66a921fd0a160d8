"""Migrations carry today's data over: on SQLite and on MariaDB, nothing lost."""
from __future__ import annotations

import json
from datetime import datetime

import pytest
from sqlalchemy import text

from db.session import current_revision, make_engine, upgrade

NOW = datetime(2026, 11, 30, 12, 0, 0)


def _seed_0002(engine) -> None:
    """Two images as revision 0002 stored them: one pending with two variants, one approved."""
    img = ("INSERT INTO product_images (id, sku_id, original_filename, status, created_at, updated_at, "
           "content_sha256, review_status, original_key, enhanced_key, thumbnail_key) VALUES "
           "(:id, :sku, :fn, :st, :t, :t, :sha, :rv, :ok, :ek, :tk)")
    hist = ("INSERT INTO enhancement_history (id, product_image_id, enhancement_sequence, enhancement_mode, "
            "quality_metadata, size_metadata, processing_status, provider, review_status, created_at, "
            "provider_metadata, enhanced_key) VALUES (:id, :img, :seq, :mode, :qm, '{}', 'completed', 'local', "
            ":rv, :t, '{}', :ek)")
    opts = {"mode": "OPTIMIZE", "target_size_kb": 80, "output_format": "JPEG", "profile": None, "ai": None,
            "variants": 2}
    with engine.begin() as c:
        c.execute(text(img), dict(id="a" * 36, sku="SKU-A", fn="a.jpg", st="COMPLETED", t=NOW, sha="1" * 64,
                                  rv="pending", ok="uploads/original/a.jpg", ek="uploads/enhanced/a_1.jpg",
                                  tk="uploads/thumbs/a_1.jpg"))
        c.execute(text(img), dict(id="b" * 36, sku="SKU-B", fn="b.jpg", st="COMPLETED", t=NOW, sha="2" * 64,
                                  rv="approved", ok="uploads/original/b.jpg", ek="uploads/enhanced/b_1.jpg",
                                  tk="uploads/thumbs/b_1.jpg"))
        for i, (image, seq, rv) in enumerate([("a", 1, "pending"), ("a", 2, "pending"), ("b", 1, "approved")]):
            c.execute(text(hist), dict(id=str(i) * 36, img=image * 36, seq=seq, mode="OPTIMIZE",
                                       qm=json.dumps({"options": opts}), rv=rv, t=NOW,
                                       ek=f"uploads/enhanced/{image}_{seq}.jpg"))


@pytest.fixture(params=["sqlite", "mariadb"])
def old_db(request, tmp_path):
    url = f"sqlite:///{tmp_path / 'old.db'}" if request.param == "sqlite" else request.getfixturevalue("mysql_url")
    engine = make_engine(url, migrate=False)
    upgrade(engine, "0002")
    _seed_0002(engine)
    yield engine
    engine.dispose()


def test_0003_makes_one_product_per_image_and_keeps_every_row(old_db):
    upgrade(old_db, "0003")
    assert current_revision(old_db) == "0003"
    with old_db.connect() as c:
        products = {r.sku_id: r for r in c.execute(text("SELECT * FROM products"))}
        images = {r.sku_id: r for r in c.execute(text("SELECT * FROM product_images"))}
        history = list(c.execute(text("SELECT * FROM enhancement_history ORDER BY id")))
    assert set(products) == {"SKU-A", "SKU-B"}
    assert products["SKU-A"].status == "pending_review" and products["SKU-B"].status == "approved"
    assert images["SKU-A"].product_id == products["SKU-A"].id
    assert images["SKU-A"].position == 1 and bool(images["SKU-A"].is_main)
    assert images["SKU-A"].review_status == "pending_review"  # one vocabulary: 'pending' is gone
    assert images["SKU-A"].enhanced_key == "uploads/enhanced/a_1.jpg"
    assert len(history) == 3  # rebuilding product_images did not cascade into its history
    assert {h.review_status for h in history} == {"pending_review", "approved"}
    assert all(h.content_sha256 in ("1" * 64, "2" * 64) and len(h.options_key) == 64 for h in history)


def test_0003_keys_match_the_options_type(old_db):
    """Old results are found by the new reuse rule: the migration's key is EnhanceOptions.key()."""
    from enhancer.options import EnhanceOptions

    upgrade(old_db)
    with old_db.connect() as c:
        key = c.execute(text("SELECT options_key FROM enhancement_history WHERE product_image_id = :i"),
                        {"i": "a" * 36}).scalars().first()
    assert key == EnhanceOptions.parse("OPTIMIZE", 80, "JPEG", variants=2, ai="local").key()


def test_a_second_image_for_the_same_sku_fits_after_the_migration(old_db):
    upgrade(old_db)
    with old_db.begin() as c:
        c.execute(text("INSERT INTO product_images (id, product_id, sku_id, position, is_main, original_filename, "
                       "status, created_at, updated_at, review_status, content_sha256) VALUES "
                       "(:id, :p, 'SKU-A', 2, :f, 'a2.jpg', 'COMPLETED', :t, :t, 'none', :sha)"),
                  dict(id="c" * 36, p="a" * 36, f=False, t=NOW, sha="3" * 64))
        n = c.execute(text("SELECT COUNT(*) FROM product_images WHERE sku_id = 'SKU-A'")).scalar()
    assert n == 2


def test_0004_adds_api_keys_and_idempotency_records(old_db):
    """0004 only adds tables: every earlier row stays, and the new tables take rows."""
    from db.models import ApiKey, IdempotencyRecord
    from sqlalchemy.orm import Session

    upgrade(old_db, "0004")
    assert current_revision(old_db) == "0004"
    with Session(old_db) as s, s.begin():
        s.add(ApiKey(name="pim", role="operator", key_hash="f" * 64))
        s.add(IdempotencyRecord(api_key_id="k" * 36, idempotency_key="x" * 255, endpoint="POST /v1/products/bulk",
                                request_hash="0" * 64, status_code=202, response={"ok": True}))
    with old_db.connect() as c:
        assert c.execute(text("SELECT COUNT(*) FROM product_images")).scalar() == 2
        assert c.execute(text("SELECT role FROM api_keys")).scalar() == "operator"
        assert c.execute(text("SELECT status_code FROM idempotency_keys")).scalar() == 202
