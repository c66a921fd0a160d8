"""Fault fixtures: MariaDB and moto's S3 server reached through a :class:`FaultProxy` each.

``proxied_mysql_url`` is the test's scratch database (``mysql_url``) with its
host:port swapped for the proxy's; ``proxied_s3`` is an S3Storage on the same
bucket as ``s3_storage`` but through the proxy. Count rows and objects through
the direct fixtures (``mysql_url``, ``s3_storage``), which no fault touches.
"""
from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from faults.proxy import FaultProxy


@pytest.fixture
def db_proxy(mysql_server_url):
    u = urlsplit(mysql_server_url)
    proxy = FaultProxy(u.hostname, u.port or 3306).start()
    yield proxy
    proxy.stop()


@pytest.fixture
def proxied_mysql_url(mysql_url, db_proxy):
    from sqlalchemy.engine import make_url

    return make_url(mysql_url).set(host=db_proxy.host, port=db_proxy.port).render_as_string(hide_password=False)


@pytest.fixture
def s3_proxy(moto_endpoint):
    u = urlsplit(moto_endpoint)
    proxy = FaultProxy(u.hostname, u.port).start()
    yield proxy
    proxy.stop()


@pytest.fixture
def proxied_s3(s3_storage, s3_proxy):
    """The ``s3_storage`` bucket through the proxy, with short timeouts so a fault shows in seconds."""
    from enhancer.storage import S3Storage

    return S3Storage(s3_storage.bucket, region=s3_storage.region, endpoint_url=f"http://{s3_proxy.address}",
                     access_key_id="testing", secret_access_key="testing",
                     connect_timeout_s=1, read_timeout_s=1, max_attempts=2)
