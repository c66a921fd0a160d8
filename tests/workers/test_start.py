"""Starting batches without a broker (a runner process of its own), restarting stalled ones, the settings the
workers read, and the pages with a broker configured."""
from __future__ import annotations

import time
from datetime import timedelta
from pathlib import Path

import pytest
import streamlit as st
from sqlalchemy import update
from streamlit.testing.v1 import AppTest

from db import make_engine
from db.batch_models import Batch, BatchStatus
from db.models import utcnow
from enhancer.batch import create_batches
from enhancer.batch.intake import manifest_bytes
from enhancer.batch.start import resume_stalled, start_batches
from enhancer.config import settings_env, settings_from_mapping
from enhancer.errors import ConfigError
from enhancer.options import EnhanceOptions
from enhancer.service import Backends
from enhancer.storage import LocalStorage

from tests.workers.harness import settled, wait_for

OPTS = EnhanceOptions.parse(mode="OPTIMIZE", target_size_kb=60)
PAGES = Path(__file__).resolve().parents[2] / "dashboard" / "pages"


@pytest.fixture
def local(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'pl.db'}", "STORAGE_DIR": str(tmp_path / "storage"),
           "PIXEL_LAB_DATA_DIR": str(tmp_path / "data"), "PIXEL_LAB_ALLOW_PRIVATE_URLS": "1"}
    settings = settings_from_mapping(env)
    b = Backends(make_engine(settings.database_url), LocalStorage(settings.storage_dir))
    yield env, settings, b
    b.engine.dispose()


def test_settings_travel_through_the_environment():
    s = settings_from_mapping({"DATABASE_URL": "sqlite:////x/pl.db", "BROKER_URL": "amqp://u:hunter2@mq//",
                               "TASK_TIME_LIMIT": "120", "REVIEW_ALL": "1", "BATCH_WINDOW": "10"})
    assert settings_from_mapping(settings_env(s)) == s
    assert s.broker_kind == "rabbitmq" and s.broker_visibility_timeout_s == 3600
    assert "hunter2" not in str(s.masked()) and s.masked()["broker_url"] == "amqp://u:****@mq//"


@pytest.mark.parametrize("env, word", [
    ({"BROKER_URL": "kafka://x"}, "BROKER_URL"),
    ({"BROKER_URL": "redis://x", "BROKER_QUEUE": "no spaces"}, "BROKER_QUEUE"),
    ({"TASK_TIME_LIMIT": "900", "BROKER_VISIBILITY_TIMEOUT": "600"}, "BROKER_VISIBILITY_TIMEOUT"),
    ({"TASK_MAX_ATTEMPTS": "0"}, "TASK_MAX_ATTEMPTS"),
    ({"SQS_ENDPOINT_URL": "localhost:5000"}, "SQS_ENDPOINT_URL"),
])
def test_bad_worker_settings_name_the_variable(env, word):
    with pytest.raises(ConfigError, match=word):
        settings_from_mapping(env)


def test_without_a_broker_a_batch_runs_in_a_process_of_its_own(local, photos, tmp_path):
    env, settings, b = local
    src = tmp_path / "m.csv"
    src.write_bytes(manifest_bytes([{"sku_id": f"L-{i}", "image_url": photos.url(f"/img/{700 + i}.jpg")}
                                    for i in range(3)]))
    ids = create_batches(b, src, options=OPTS, name="Local")
    out = start_batches(b, settings, ids, workers=2)
    assert out["mode"] == "local" and out["pid"] > 0
    row = wait_for(lambda: settled(b, ids[0], ("completed", "failed", "cancelled")), timeout=120,
                   what="the runner process to finish")
    assert (row.status.value, row.completed) == ("completed", 3)
    assert (settings.data_dir / "batches" / "logs" / f"{ids[0]}.log").is_file()


def test_a_batch_left_running_by_a_dead_process_is_restarted_once(local, photos, tmp_path):
    env, settings, b = local
    src = tmp_path / "m.csv"
    src.write_bytes(manifest_bytes([{"sku_id": f"D-{i}", "image_url": photos.url(f"/img/{800 + i}.jpg")}
                                    for i in range(2)]))
    (bid,) = create_batches(b, src, options=OPTS, name="Orphan")
    with b.session() as s, s.begin():  # as a killed runner leaves it: running, a dead pid, an old heartbeat
        s.execute(update(Batch).where(Batch.id == bid).values(
            status=BatchStatus.RUNNING, runner="elsewhere:4194999", heartbeat_at=utcnow() - timedelta(minutes=5)))
    assert resume_stalled(b, settings) == [bid]
    assert resume_stalled(b, settings) == []  # a second page (or a second look) does not start another
    row = wait_for(lambda: settled(b, bid, ("completed", "failed")), timeout=120, what="the restarted batch")
    assert (row.status.value, row.completed) == ("completed", 2)


def test_pages_with_a_broker_queue_work_and_list_workers(rabbit_env, tmp_path, monkeypatch, photos):
    monkeypatch.chdir(tmp_path)
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'pl.db'}", "STORAGE_DIR": str(tmp_path / "storage"),
           "PIXEL_LAB_DATA_DIR": str(tmp_path / "data"), "PIXEL_LAB_ALLOW_PRIVATE_URLS": "1", **rabbit_env}
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    st.cache_resource.clear()
    try:
        at = AppTest.from_file(str(PAGES / "bulk.py"), default_timeout=60)
        at.run()
        rows = [{"sku_id": f"Q-{i}", "image_url": photos.url(f"/img/{900 + i}.jpg")} for i in range(2)]
        at.file_uploader[0].set_value(("q.csv", manifest_bytes(rows), "text/csv"))
        at.run()
        at.button[0].click()
        at.run()
        assert not at.exception and "queued for the workers" in at.success[0].value
        time.sleep(0.5)
        from enhancer import broker

        assert broker.queue_depth(settings_from_mapping(env)) == 2  # no worker runs here: the messages wait

        at = AppTest.from_file(str(PAGES / "status.py"), default_timeout=60)
        at.run()
        assert not at.exception
        assert any("No worker is running" in w.value for w in at.warning)
        assert any(m.label.startswith("Queue ") and m.value == "2" for m in at.metric)
    finally:
        st.cache_resource.clear()
