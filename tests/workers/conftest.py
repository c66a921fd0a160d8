"""Fixtures for the worker suites: a broker per parameter (RabbitMQ, Redis, SQS on moto's server), MariaDB + S3
as production runs them, and a factory for real ``celery worker`` subprocesses.

A missing RabbitMQ or Redis skips here and fails under CI (``.ci/run`` starts both).
"""
from __future__ import annotations

import os
import socket
import uuid

import pytest

from tests.workers.harness import PhotoServer, Worker

REQUIRE = os.environ.get("CI", "").lower() in ("1", "true") or os.environ.get("PIXEL_LAB_REQUIRE_SERVICES") == "1"
RABBIT = os.environ.get("TEST_BROKER_AMQP", "amqp://guest:guest@127.0.0.1:5672//")
REDIS = os.environ.get("TEST_BROKER_REDIS", "redis://127.0.0.1:6379/3")


def _absent(reason: str):
    if REQUIRE:
        pytest.fail(f"{reason} (required in CI)")
    pytest.skip(reason)


def _port_open(host: str, port: int) -> bool:
    try:
        socket.create_connection((host, port), timeout=2).close()
        return True
    except OSError:
        return False


@pytest.fixture(scope="session")
def photos():
    srv = PhotoServer(slow_s=3.0)
    yield srv
    srv.shutdown()


@pytest.fixture(params=["rabbitmq", "redis", "sqs"])
def broker_env(request):
    """Environment naming one broker and a queue of this test's own."""
    return _broker(request, request.param)


@pytest.fixture
def rabbit_env(request):
    return _broker(request, "rabbitmq")


def _broker(request, kind: str) -> dict[str, str]:
    queue = f"pl-test-{uuid.uuid4().hex[:10]}"
    if kind == "rabbitmq":
        if not _port_open("127.0.0.1", 5672):
            _absent("RabbitMQ not reachable on 127.0.0.1:5672 (start it: rabbitmq-server -detached)")
        env = {"BROKER_URL": RABBIT}
    elif kind == "redis":
        if not _port_open("127.0.0.1", 6379):
            _absent("Redis not reachable on 127.0.0.1:6379 (start it: redis-server --daemonize yes)")
        env = {"BROKER_URL": REDIS}
    else:
        env = {"BROKER_URL": "sqs://", "SQS_ENDPOINT_URL": request.getfixturevalue("moto_endpoint")}
    env["BROKER_QUEUE"] = queue
    request.addfinalizer(lambda: _drop_queue(env))
    return env


def _drop_queue(env: dict[str, str]) -> None:
    from enhancer.broker import producer_app
    from enhancer.config import settings_from_mapping

    try:
        settings = settings_from_mapping({**_aws(), **env})
        with producer_app(settings).connection_for_write() as conn, conn.channel() as ch:
            ch.queue_delete(settings.broker_queue)
    except Exception:
        pass


def _aws() -> dict[str, str]:
    return {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_REGION": "us-east-1"}


@pytest.fixture
def stack(mysql_url, s3_storage, tmp_path):
    """(env, make_settings, Backends) on MariaDB + S3: what every worker and the test itself use."""
    from db import make_engine
    from enhancer.service import Backends

    env = {"DATABASE_URL": mysql_url, "PIXEL_LAB_DATA_DIR": str(tmp_path / "data"), "S3_BUCKET": s3_storage.bucket,
           "S3_ENDPOINT_URL": s3_storage.endpoint_url, **_aws(), "PIXEL_LAB_ALLOW_PRIVATE_URLS": "1",
           "TASK_TIME_LIMIT": "60", "TASK_MAX_ATTEMPTS": "3", "BATCH_WINDOW": "6"}
    engine = make_engine(mysql_url)
    yield env, Backends(engine, s3_storage)
    engine.dispose()


@pytest.fixture
def start_worker(tmp_path):
    """``start_worker(env, name, concurrency=1, app=...)`` → a ready Worker; every one is stopped after the test."""
    started: list[Worker] = []

    def start(env, name, *, concurrency=1, app="enhancer.worker", wait=True):
        w = Worker(env, tmp_path / "machines", name, concurrency=concurrency, app=app)
        started.append(w)
        return w.ready() if wait else w

    yield start
    for w in started:
        w.stop()
