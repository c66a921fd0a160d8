"""The Bulk page in a real browser: upload a small CSV, watch it complete, export.

Uses ``app_url`` and ``page`` (Playwright, /usr/bin/chromium) from tests/browser/conftest.py. Needs the
Bulk page registered in streamlit_app.py and the app started with PIXEL_LAB_ALLOW_PRIVATE_URLS=1 so it
can fetch from the local photo server (the SSRF guard refuses 127.0.0.1 otherwise).
"""
from __future__ import annotations

import re
import threading

import pytest

from batch.photoserver import PhotoServer
from enhancer.batch.intake import manifest_bytes

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def photo_server():
    srv = PhotoServer()
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    yield srv
    srv.shutdown()


@pytest.fixture
def forget_bulk_images(app_server):
    """The app's database is shared by the browser tests: remove what this test added afterwards."""
    yield
    from sqlalchemy import delete

    from db import make_engine
    from db.batch_models import Batch
    from db.models import ProductImage

    engine = make_engine(app_server["env"]["DATABASE_URL"])
    with engine.begin() as c:
        c.execute(delete(ProductImage).where(ProductImage.sku_id.like("BR-%")))
        c.execute(delete(Batch).where(Batch.name == "browser_drop"))
    engine.dispose()


def test_bulk_upload_csv_complete_and_export(app_url, page, photo_server, tmp_path, forget_bulk_images):
    rows = [{"sku_id": f"BR-{i}", "image_url": photo_server.url(f"/img/{700 + i}.jpg")} for i in range(3)]
    manifest = tmp_path / "browser_drop.csv"
    manifest.write_bytes(manifest_bytes(rows))

    page.goto(f"{app_url}/bulk")
    page.get_by_text("Bulk processing").wait_for(timeout=30_000)
    page.locator("input[type=file]").first.set_input_files(str(manifest))
    page.get_by_text("browser_drop.csv").wait_for(timeout=15_000)
    page.get_by_role("button", name="Start batch").click()
    page.get_by_text(re.compile(r"Started \d+ batch")).wait_for(timeout=30_000)
    # The live fragment refreshes every 2 s; wait for the progress text to reach 3/3 completed.
    page.get_by_text(re.compile(r"3/3 · completed")).wait_for(timeout=120_000)

    with page.expect_download() as dl:
        page.get_by_role("button", name="Export CSV").click()
    path = dl.value.path()
    text = open(path, encoding="utf-8").read()
    assert text.splitlines()[0].startswith("batch_id,position,sku_id")
    assert all(f"BR-{i}" in text for i in range(3))
    if "non-public address" in text:
        pytest.fail("the app refused the local photo server's URLs: app_server in tests/browser/conftest.py "
                    "must set PIXEL_LAB_ALLOW_PRIVATE_URLS=1")
    assert text.count(",completed,") == 3
