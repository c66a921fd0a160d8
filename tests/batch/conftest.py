"""Fixtures for batch tests: the local photo server and a SQLite-backed service."""
from __future__ import annotations

import threading

import pytest

from batch.photoserver import PhotoServer


@pytest.fixture(scope="session")
def photo_server():
    srv = PhotoServer()
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    yield srv
    srv.shutdown()


@pytest.fixture
def sqlite_service(tmp_path):
    from db import make_engine
    from enhancer.service import Backends
    from enhancer.storage import LocalStorage

    engine = make_engine(f"sqlite:///{tmp_path / 'pixel_lab.db'}")
    yield Backends(engine, LocalStorage(tmp_path / "storage"))
    engine.dispose()
