"""Every network wait is bounded: a database or S3 that stops answering fails the call, it never hangs it.

Each test puts a FaultProxy between the client and the real server (MariaDB on
3306, moto's S3 server) and checks the call ends within its timeout budget with
a one-line message naming host:port and never the password. The bounds are
loose (seconds, several times the configured timeouts): they separate
"bounded" from "hung", they are not speed targets.
"""
from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from db.session import describe_error, is_transient, make_engine, ping
from enhancer.errors import DatabaseError, StorageError


def _timed(fn):
    t0 = time.monotonic()
    try:
        fn()
    except Exception as exc:
        return exc, time.monotonic() - t0
    return None, time.monotonic() - t0


@pytest.fixture
def engine(proxied_mysql_url):
    eng = make_engine(proxied_mysql_url, connect_timeout_s=1, read_timeout_s=1, write_timeout_s=1, pool_timeout_s=1)
    yield eng
    eng.dispose()


def test_blackholed_database_fails_a_query_within_the_timeout(engine, db_proxy):
    ping(engine)
    db_proxy.blackhole()
    exc, took = _timed(lambda: ping(engine))
    assert isinstance(exc, OperationalError) and took < 6, (exc, took)  # pre-ping 1 s + reconnect 1 s
    msg = describe_error(exc, engine)
    assert msg == f"database at {db_proxy.address} stopped answering: timed out after 1 s"
    assert is_transient(exc) and db_proxy.dropped > 0
    db_proxy.heal()
    ping(engine)  # the pool recovers by itself once the database answers again


def test_database_that_stops_answering_at_the_insert(engine, db_proxy, mysql_url):
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE t (id INT PRIMARY KEY)"))
    db_proxy.after(b"INSERT INTO t", "blackhole")

    def insert():
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO t VALUES (1)"))

    exc, took = _timed(insert)
    assert isinstance(exc, OperationalError) and took < 6, (exc, took)
    assert "stopped answering: timed out after 1 s" in str(DatabaseError.from_exc(exc, engine))
    # The statement never committed: the connection died before COMMIT, so the server rolled it back.
    direct = make_engine(mysql_url, migrate=False)
    with direct.connect() as conn:
        assert conn.scalar(text("SELECT COUNT(*) FROM t")) == 0
    direct.dispose()


def test_enhance_is_not_hung_by_a_silent_database(proxied_mysql_url, db_proxy, local_storage):
    """The issue's case: a database that stops answering at the INSERT used to hang `enhance` for ever."""
    from enhancer.service import Backends
    from support import photo_bytes, up

    eng = make_engine(proxied_mysql_url, connect_timeout_s=1, read_timeout_s=2)
    svc = Backends(eng, local_storage)
    db_proxy.after(b"INSERT INTO product_images", "blackhole")
    box = {}
    t = threading.Thread(target=lambda: box.update(r=_timed(lambda: up(
        svc, photo_bytes(size=(320, 240)), "shoe.jpg", sku_id="SILENT-1", mode="OPTIMIZE"))), daemon=True)
    t.start()
    t.join(60)
    assert not t.is_alive(), "the upload hung on a database that stopped answering"
    exc, _took = box["r"]
    assert isinstance(exc, DatabaseError), exc
    eng.dispose()


def test_unreachable_database_says_where_and_hides_the_password(mysql_url, db_proxy):
    u = make_url(mysql_url).set(host=db_proxy.host, port=db_proxy.port, password="hunter22")
    db_proxy.stop()  # nothing listens on that port any more: connection refused
    exc, took = _timed(lambda: make_engine(u.render_as_string(hide_password=False), connect_timeout_s=1))
    msg = describe_error(exc, u)
    assert msg == f"database unreachable at {db_proxy.address}: connection refused" and took < 5
    assert "hunter22" not in msg and "\n" not in msg


def test_database_that_accepts_but_never_greets(mysql_url, db_proxy):
    db_proxy.blackhole()  # TCP connects, the server's greeting never arrives
    url = make_url(mysql_url).set(host=db_proxy.host, port=db_proxy.port).render_as_string(hide_password=False)
    exc, took = _timed(lambda: make_engine(url, connect_timeout_s=1, read_timeout_s=1))
    assert isinstance(exc, OperationalError) and took < 5, (exc, took)
    assert describe_error(exc, url).startswith(f"database at {db_proxy.address} stopped answering")


def test_pool_exhaustion_is_bounded(engine):
    eng = make_engine(engine.url.render_as_string(hide_password=False), migrate=False, pool_size=1,
                      max_overflow=0, pool_timeout_s=0.5)
    held = eng.connect()
    try:
        exc, took = _timed(lambda: eng.connect().close())
        assert exc is not None and took < 3
        assert describe_error(exc, eng).startswith("no free database connection to ")
        assert is_transient(exc)
    finally:
        held.close()
        eng.dispose()


def test_blackholed_s3_fails_within_attempts_times_timeout(proxied_s3, s3_proxy):
    proxied_s3.put("uploads/original/a.jpg", b"x", content_type="image/jpeg")
    s3_proxy.blackhole()
    for call in (lambda: proxied_s3.put("uploads/original/b.jpg", b"y", content_type="image/jpeg"),
                 lambda: proxied_s3.get("uploads/original/a.jpg"),
                 lambda: proxied_s3.exists("uploads/original/a.jpg")):
        exc, took = _timed(call)
        assert isinstance(exc, StorageError) and took < 8, (exc, took)  # 2 attempts x 1 s, plus backoff
        assert f"S3 at http://{s3_proxy.address} stopped answering: timed out after 1 s (2 attempts)" in str(exc)
    s3_proxy.heal()
    assert proxied_s3.get("uploads/original/a.jpg") == b"x"


def test_s3_blip_is_retried(proxied_s3, s3_proxy):
    """One reset connection is absorbed by botocore's retries: the call succeeds."""
    proxied_s3.put("uploads/original/a.jpg", b"x", content_type="image/jpeg")
    s3_proxy.cut()
    s3_proxy.refuse(count=1)  # the pooled connection is dead and the first new one is reset
    accepted = s3_proxy.accepted
    assert proxied_s3.get("uploads/original/a.jpg") == b"x"
    assert s3_proxy.accepted - accepted == 2  # the refused try, then the one that worked


def test_unreachable_s3_is_one_line(s3_proxy, s3_storage):
    from enhancer.storage import S3Storage

    s3_proxy.stop()
    st = S3Storage(s3_storage.bucket, endpoint_url=f"http://{s3_proxy.address}", access_key_id="testing",
                   secret_access_key="testing", connect_timeout_s=1, read_timeout_s=1, max_attempts=2)
    exc, took = _timed(lambda: st.put("uploads/original/c.jpg", b"z", content_type="image/jpeg"))
    assert isinstance(exc, StorageError) and took < 8
    assert str(exc).startswith("Could not write s3://") and f"S3 unreachable at http://{s3_proxy.address}" in str(exc)
    assert "\n" not in str(exc)
