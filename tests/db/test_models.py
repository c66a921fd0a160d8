"""The schema behaves the same on SQLite and MariaDB."""
from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import inspect, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from db import EnhancementHistory, ImageStatus, Product, ProductImage, ProductStatus, ReviewStatus, make_engine, repo
from db.session import current_revision


def _head() -> str:
    from alembic.script import ScriptDirectory

    from db.session import MIGRATIONS

    return ScriptDirectory(str(MIGRATIONS)).get_current_head()


@pytest.fixture(params=["sqlite", "mariadb"])
def engine(request):
    url = request.getfixturevalue("sqlite_url" if request.param == "sqlite" else "mysql_url")
    eng = make_engine(url)
    yield eng
    eng.dispose()


def _image(**kw) -> ProductImage:
    base = dict(sku_id="SKU-1", original_filename="a.jpg", status=ImageStatus.COMPLETED)
    base.update(kw)
    return ProductImage(product=Product(sku_id=base["sku_id"]), **base)


def test_migrations_create_schema_and_are_idempotent(engine):
    assert current_revision(engine) == _head()
    make_engine(engine.url.render_as_string(hide_password=False)).dispose()  # second start: no-op
    tables = set(inspect(engine).get_table_names())
    assert {"products", "product_images", "enhancement_history", "alembic_version"} <= tables


def test_ids_timestamps_json_and_enums_roundtrip(engine):
    when = datetime(2026, 11, 22, 10, 11, 12, 345678)
    with Session(engine) as s, s.begin():
        img = _image(processed_at=when, review_status=ReviewStatus.PENDING_REVIEW)
        s.add(img)
        s.flush()
        s.add(EnhancementHistory(product_image_id=img.id, enhancement_sequence=1, enhancement_mode="AUTO",
                                 quality_metadata={"blur_before": 1.5, "steps": ["a"], "ünï": "ok"}))
        iid = img.id
    with Session(engine) as s:
        img = s.get(ProductImage, iid)
        assert isinstance(img.id, str) and len(img.id) == 36
        assert img.processed_at == when  # microseconds kept (DATETIME(6) on MariaDB)
        assert img.status is ImageStatus.COMPLETED and img.review_status is ReviewStatus.PENDING_REVIEW
        assert img.history[0].quality_metadata == {"blur_before": 1.5, "steps": ["a"], "ünï": "ok"}
        assert img.created_at.microsecond != 0 or img.created_at.second >= 0


def test_json_mutation_is_tracked(engine):
    with Session(engine) as s, s.begin():
        img = _image()
        s.add(img)
        s.flush()
        h = EnhancementHistory(product_image_id=img.id, enhancement_sequence=1, enhancement_mode="AUTO")
        s.add(h)
    with Session(engine) as s, s.begin():
        h = s.scalars(select(EnhancementHistory)).one()
        h.quality_metadata["note"] = "changed in place"
    with Session(engine) as s:
        assert s.scalars(select(EnhancementHistory)).one().quality_metadata == {"note": "changed in place"}


def test_sku_unique_per_product_many_images_and_foreign_keys_enforced(engine):
    with Session(engine) as s, s.begin():
        img = _image(content_sha256="1" * 64)
        s.add(img)
        s.flush()
        s.add(ProductImage(product_id=img.product_id, sku_id="SKU-1", position=2, original_filename="b.jpg",
                           content_sha256="2" * 64))
        pid = img.product_id
    with Session(engine) as s:
        product = s.get(Product, pid)
        assert [i.original_filename for i in product.images] == ["a.jpg", "b.jpg"]
        assert product.status is ProductStatus.PENDING
    with pytest.raises(IntegrityError):  # one product per SKU
        with Session(engine) as s, s.begin():
            s.add(Product(sku_id="SKU-1"))
    with pytest.raises(IntegrityError):  # the same bytes twice under one product
        with Session(engine) as s, s.begin():
            s.add(ProductImage(product_id=pid, sku_id="SKU-1", position=3, original_filename="c.jpg",
                               content_sha256="1" * 64))
    with pytest.raises(IntegrityError):
        with Session(engine) as s, s.begin():
            s.add(EnhancementHistory(product_image_id="no-such-image", enhancement_sequence=1,
                                     enhancement_mode="AUTO"))


def test_list_images_filters_search_sort_and_pages(engine):
    with Session(engine) as s, s.begin():
        for i in range(25):
            s.add(_image(sku_id=f"SKU-{i:03d}", original_filename=f"f{i}.jpg",
                         status=ImageStatus.FAILED if i % 5 == 0 else ImageStatus.COMPLETED,
                         enhancement_mode="AUTO" if i % 2 else "OPTIMIZE", quality_before=50, quality_after=50 + i))
    with Session(engine) as s:
        total, page = repo.list_images(s, limit=10, offset=20)
        assert total == 25 and len(page) == 5
        total, _ = repo.list_images(s, repo.ImageFilter(status="failed"))
        assert total == 5
        total, rows = repo.list_images(s, repo.ImageFilter(search="SKU-01"), sort="sku")
        assert total == 10 and rows[0].sku_id == "SKU-010"
        total, rows = repo.list_images(s, repo.ImageFilter(search="u-01"), sort="sku")  # anywhere in the SKU
        assert total == 10
        total, rows = repo.list_images(s, repo.ImageFilter(sku_id="SKU-007"))
        assert total == 1 and rows[0].original_filename == "f7.jpg"
        _, rows = repo.list_images(s, repo.ImageFilter(mode="auto"), sort="quality_gain", limit=1)
        assert rows[0].sku_id == "SKU-023"
        total, _ = repo.list_images(s, repo.ImageFilter(search="50%_"))  # wildcards are literal
        assert total == 0
        assert repo.counts(s)["FAILED"] == 5
    with pytest.raises(ValueError, match="valid sorts"):
        with Session(engine) as s:
            repo.list_images(s, sort="random")
