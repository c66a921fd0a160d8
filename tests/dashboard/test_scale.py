"""The gallery stays fast on 100 000 rows: LIMIT/OFFSET pages over indexed columns."""
from __future__ import annotations

import time
from datetime import datetime, timedelta

import pytest


@pytest.fixture
def hundred_thousand(app_service):
    from sqlalchemy import insert

    from db.models import ImageStatus, Product, ProductImage, ReviewStatus

    t0 = datetime(2026, 1, 1)
    modes = ["AUTO", "SHARPEN", "OPTIMIZE", "FULL"]
    rows = [{"id": f"{i:08d}-0000-0000-0000-000000000000", "product_id": f"{i:08d}-0000-0000-0000-000000000000",
             "sku_id": f"SKU{i:06d}", "position": 1, "is_main": True,
             "original_filename": f"photo_{i:06d}.jpg", "status": ImageStatus.COMPLETED if i % 50 else ImageStatus.FAILED,
             "review_status": ReviewStatus.PENDING_REVIEW, "enhancement_mode": modes[i % 4],
             "created_at": t0 + timedelta(minutes=i), "updated_at": t0, "quality_before": 50.0,
             "quality_after": 50.0 + i % 20, "size_reduction_percent": float(i % 90)}
            for i in range(100_000)]
    products = [{"id": r["id"], "sku_id": r["sku_id"], "created_at": r["created_at"], "updated_at": t0}
                for r in rows]
    with app_service.session() as s, s.begin():
        for start in range(0, len(rows), 10_000):
            s.execute(insert(Product), products[start:start + 10_000])
            s.execute(insert(ProductImage), rows[start:start + 10_000])
    return len(rows)


def test_gallery_pages_through_100k_rows_quickly(open_page, hundred_thousand):
    t = time.perf_counter()
    at = open_page("gallery")
    first = time.perf_counter() - t
    assert not at.exception
    assert "**100,000** image(s) match · page 1 of 4,167" in [m.value for m in at.markdown]
    t = time.perf_counter()
    at.number_input(key="gallery_page_no").set_value(4000).run()
    deep = time.perf_counter() - t
    assert "page 4,000 of 4,167" in "\n".join(m.value for m in at.markdown)
    at.text_input[0].set_value("SKU0999").run()
    assert "**100** image(s) match" in "\n".join(m.value for m in at.markdown)
    assert first < 10 and deep < 5, (first, deep)
