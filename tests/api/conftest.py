"""API fixtures: one real server per setup for the whole package (streamlit run on SQLite + folder, the standalone
uvicorn app on MariaDB + S3), with an admin key made by the CLI and the other roles' keys made by the API."""
from __future__ import annotations

import threading
import uuid

import pytest

from api_server import ApiServer  # tests/api_server.py (tests/ is on the path)
from batch.photoserver import PhotoServer
from conftest import env_for, scratch_database

#: Settings every test server runs with: a small pool, so saturation is reachable, and small batch parts.
SERVER_ENV = {"PIXEL_LAB_ALLOW_PRIVATE_URLS": "1", "API_WORKERS": "1", "API_QUEUE": "2", "MAX_BATCH_SIZE": "4"}
SETUPS = {"streamlit+sqlite": ("streamlit", "sqlite+local"), "uvicorn+mariadb-s3": ("uvicorn", "mariadb+s3")}


@pytest.fixture(scope="session")
def module_mysql_url(mysql_server_url):
    with scratch_database(mysql_server_url, "pl_api") as url:
        yield url


@pytest.fixture(scope="session")
def module_s3(moto_endpoint):
    from enhancer.storage import S3Storage

    st = S3Storage(f"pl-api-{uuid.uuid4().hex[:12]}", region="us-east-1", endpoint_url=moto_endpoint,
                   access_key_id="testing", secret_access_key="testing")
    st.create_bucket()
    return st


def backend_env(request, backend: str, tmp) -> dict[str, str]:
    if backend == "sqlite+local":
        from enhancer.storage import LocalStorage

        return env_for(f"sqlite:///{tmp / 'pixel_lab.db'}", LocalStorage(tmp / "storage"), tmp)
    return env_for(request.getfixturevalue("module_mysql_url"), request.getfixturevalue("module_s3"), tmp)


def start(request, tmp_path_factory, setup: str, extra: dict | None = None) -> ApiServer:
    kind, backend = SETUPS[setup]
    tmp = tmp_path_factory.mktemp(setup.replace("+", "_"))
    env = backend_env(request, backend, tmp) | SERVER_ENV | (extra or {})
    srv = ApiServer(kind, env, tmp)
    srv.backend = backend
    try:
        srv.keys["admin"] = srv.cli("api-key", "create", "--name", "test-admin", "--role", "admin")["key"]
        for role in ("operator", "viewer"):
            r = srv.call("POST", "/keys", json={"name": f"test-{role}", "role": role})
            assert r.status_code == 201, r.text
            srv.keys[role] = r.json()["key"]
    except BaseException:
        srv.stop()
        raise
    return srv


@pytest.fixture(scope="session", params=list(SETUPS))
def server(request, tmp_path_factory):
    srv = start(request, tmp_path_factory, request.param)
    yield srv
    srv.stop()


@pytest.fixture(scope="session")
def photo_server():
    srv = PhotoServer()
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    yield srv
    srv.shutdown()
