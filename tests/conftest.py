"""Shared fixtures: real MariaDB over pymysql, S3 through moto's HTTP server, both backends.

Tests that need a server skip with a reason when it is absent locally; in CI
(``CI=true`` or ``PIXEL_LAB_REQUIRE_SERVICES=1``) a missing server is a failure.
"""
from __future__ import annotations

import contextlib
import os
import uuid

import pytest

REQUIRE = os.environ.get("CI", "").lower() in ("1", "true") or os.environ.get("PIXEL_LAB_REQUIRE_SERVICES") == "1"
MYSQL_HOST = os.environ.get("TEST_MYSQL_HOST", "127.0.0.1")
MYSQL_PORT = int(os.environ.get("TEST_MYSQL_PORT", "3306"))


def _absent(reason: str):
    if REQUIRE:
        pytest.fail(f"{reason} (required in CI)")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def mysql_server_url():
    """Base URL of the MariaDB/MySQL server, or skip."""
    import pymysql

    try:
        pymysql.connect(host=MYSQL_HOST, port=MYSQL_PORT, user="root", password="", connect_timeout=3).close()
    except Exception as exc:
        _absent(f"MariaDB/MySQL not reachable on {MYSQL_HOST}:{MYSQL_PORT} as root: {exc}")
    return f"mysql+pymysql://root@{MYSQL_HOST}:{MYSQL_PORT}"


@contextlib.contextmanager
def scratch_database(server_url: str, prefix: str = "pl_test"):
    """A fresh database on the server (yields its URL), dropped on exit."""
    import pymysql

    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    conn = pymysql.connect(host=MYSQL_HOST, port=MYSQL_PORT, user="root", password="")
    with conn.cursor() as cur:
        cur.execute(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")
    try:
        yield f"{server_url}/{name}?charset=utf8mb4"
    finally:
        with conn.cursor() as cur:
            cur.execute(f"DROP DATABASE IF EXISTS `{name}`")
        conn.close()


@pytest.fixture
def mysql_url(mysql_server_url):
    """A scratch database, created for one test and dropped after it."""
    with scratch_database(mysql_server_url) as url:
        yield url


@pytest.fixture(scope="session")
def moto_endpoint():
    """moto's S3 server over real HTTP on a free loopback port."""
    try:
        from moto.server import ThreadedMotoServer
    except ImportError as exc:  # pragma: no cover
        _absent(f"moto[server] is not installed: {exc}")
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def s3_storage(moto_endpoint):
    from enhancer.storage import S3Storage

    st = S3Storage(f"pl-test-{uuid.uuid4().hex[:12]}", region="us-east-1", endpoint_url=moto_endpoint,
                   access_key_id="testing", secret_access_key="testing")
    st.create_bucket()
    return st


@pytest.fixture
def local_storage(tmp_path):
    from enhancer.storage import LocalStorage

    return LocalStorage(tmp_path / "storage")


@pytest.fixture
def sqlite_url(tmp_path):
    return f"sqlite:///{tmp_path / 'pixel_lab.db'}"


@pytest.fixture(params=["sqlite+local", "mariadb+s3"])
def backend(request, tmp_path):
    """(database URL, storage) for each way of running: embedded and production."""
    if request.param == "sqlite+local":
        from enhancer.storage import LocalStorage

        return f"sqlite:///{tmp_path / 'pixel_lab.db'}", LocalStorage(tmp_path / "storage")
    return request.getfixturevalue("mysql_url"), request.getfixturevalue("s3_storage")


@pytest.fixture
def service(backend):
    """The service's Backends on each backend (migrated database, empty storage)."""
    from db import make_engine
    from enhancer.service import Backends

    url, storage = backend
    engine = make_engine(url)
    yield Backends(engine, storage)
    engine.dispose()


def env_for(url: str, storage, tmp_path) -> dict[str, str]:
    """Environment variables that point the CLI / app at a backend."""
    env = {"DATABASE_URL": url, "PIXEL_LAB_DATA_DIR": str(tmp_path / "data")}
    if getattr(storage, "kind", "") == "s3":
        env.update(S3_BUCKET=storage.bucket, S3_ENDPOINT_URL=storage.endpoint_url, AWS_REGION=storage.region,
                   AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing")
    else:
        env["STORAGE_DIR"] = str(storage.root)
    return env
