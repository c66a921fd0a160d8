"""The Bulk page in Streamlit's AppTest: upload a small CSV, start, see the batch finish, export."""
from __future__ import annotations

import io
import time
from pathlib import Path

import pandas as pd
import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from db import make_engine
from enhancer.batch import export_batch
from enhancer.batch.intake import manifest_bytes
from enhancer.batch.control import summary
from enhancer.service import Backends
from enhancer.storage import LocalStorage

PAGE = str(Path(__file__).resolve().parents[2] / "dashboard" / "pages" / "bulk.py")


@pytest.fixture
def page_env(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # no .env from the working copy
    for k, v in {"DATABASE_URL": f"sqlite:///{tmp_path / 'pl.db'}", "STORAGE_DIR": str(tmp_path / "storage"),
                 "PIXEL_LAB_DATA_DIR": str(tmp_path / "data"), "PIXEL_LAB_ALLOW_PRIVATE_URLS": "1"}.items():
        monkeypatch.setenv(k, v)
    st.cache_resource.clear()  # the page caches settings and the service per process
    yield tmp_path
    st.cache_resource.clear()


def test_bulk_page_runs_a_csv_and_exports(page_env, photo_server):
    at = AppTest.from_file(PAGE, default_timeout=60)
    at.run()
    assert not at.exception and "No batches yet" in at.info[0].value
    rows = [{"sku_id": f"P-{i}", "image_url": photo_server.url(f"/img/{500 + i}.jpg")} for i in range(3)]
    at.file_uploader[0].set_value(("drop.csv", manifest_bytes(rows), "text/csv"))
    at.selectbox[0].set_value("OPTIMIZE")
    at.number_input[0].set_value(60)
    at.run()
    at.button[0].click()
    at.run()
    assert not at.exception and at.success, [e.value for e in at.error]

    svc = Backends(make_engine(f"sqlite:///{page_env / 'pl.db'}"), LocalStorage(page_env / "storage"))
    with svc.session() as s:
        from db import batch_repo as br

        (batch,) = br.list_batches(s)
    deadline = time.monotonic() + 120
    while summary(svc, batch.id).status not in ("completed", "failed", "cancelled") and time.monotonic() < deadline:
        time.sleep(0.2)
    sm = summary(svc, batch.id)
    assert (sm.status, sm.completed, sm.total) == ("completed", 3, 3)

    at.run()  # a reload reads progress from the database
    assert not at.exception
    assert any(m.label == "Completed" and m.value == "3" for m in at.metric)
    labels = [d.proto.label for d in at.get("download_button")]
    assert {"Export CSV", "Export JSON", "Export XLSX"} <= set(labels)
    df = pd.read_csv(io.BytesIO(export_batch(svc, batch.id, "csv")))  # what the CSV button serves
    assert list(df["sku_id"]) == ["P-0", "P-1", "P-2"] and set(df["status"]) == {"completed"}
    svc.engine.dispose()


def test_bulk_page_controls_write_batch_state(page_env, photo_server):
    """Cancel from the page: the state lands in the database (where a runner would see it)."""
    from enhancer.batch import create_batches
    from enhancer.options import EnhanceOptions

    svc = Backends(make_engine(f"sqlite:///{page_env / 'pl.db'}"), LocalStorage(page_env / "storage"))
    manifest = page_env / "m.csv"
    manifest.write_bytes(manifest_bytes([{"sku_id": "C-1", "image_url": photo_server.url("/img/600.jpg")}]))
    (bid,) = create_batches(svc, manifest, options=EnhanceOptions.parse(mode="OPTIMIZE"), name="Queued one")
    at = AppTest.from_file(PAGE, default_timeout=60)
    at.run()
    assert not at.exception
    assert at.selectbox[-1].value == bid  # the batch picker shows it
    cancel = next(b for b in at.button if b.label == "Cancel")
    cancel.click()
    at.run()
    assert not at.exception
    sm = summary(svc, bid)
    assert (sm.status, sm.skipped) == ("cancelled", 1)
    svc.engine.dispose()


def test_gemini_control_disabled_without_key_and_enabled_with_one(page_env, monkeypatch):
    at = AppTest.from_file(PAGE, default_timeout=60)
    at.run()
    box = next(c for c in at.checkbox if c.label == "Gemini AI enhancement")
    assert box.disabled and any("GEMINI_API_KEY" in c.value for c in at.caption)
    monkeypatch.setenv("GEMINI_API_KEY", "test-key-not-real")
    st.cache_resource.clear()
    at = AppTest.from_file(PAGE, default_timeout=60)
    at.run()
    box = next(c for c in at.checkbox if c.label == "Gemini AI enhancement")
    assert not box.disabled and not at.exception


def test_batches_table_has_operator_column_names(page_env):
    from db.batch_models import Batch, BatchStatus

    svc = Backends(make_engine(f"sqlite:///{page_env / 'pl.db'}"), LocalStorage(page_env / "storage"))
    with svc.session() as s, s.begin():
        s.add(Batch(name="Shoes", source_kind="manifest", fingerprint="a" * 64, status=BatchStatus.PAUSED,
                    total=4, completed=1, options={"mode": "AUTO"}))
    at = AppTest.from_file(PAGE, default_timeout=60)
    at.run()
    assert not at.exception
    table = at.dataframe[0].value
    assert {"Name", "Status", "Images/min", "ETA", "AI usage"} <= set(table.columns)
    assert not {"eta_s", "ai_usage", "images_per_minute", "batch_id"} & set(table.columns)
    row = table.iloc[0]
    assert row["Name"] == "Shoes" and row["Done"] == "1/4" and row["AI usage"] == ""
    svc.engine.dispose()
