"""Fetch photos by URL for batches: http(s) only, SSRF-guarded, size-capped, bounded retries.

Uses urllib3 (already installed with boto3) for its connection pool and
separate connect/read timeouts; redirects and retries are handled here so each
hop is re-checked by the SSRF guard and 4xx answers are never retried.
The guard resolves the host once, refuses it if *any* address is private,
loopback, link-local or otherwise not global, and then connects to that
checked address (SNI and certificate checks still use the host name), so a
second DNS answer cannot swap in an internal address.
"""
from __future__ import annotations

import ipaddress
import logging
import random
import socket
import time
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

import urllib3
from urllib3.exceptions import HTTPError, TimeoutError as U3Timeout

from ..formats import ACCEPTED_TEXT, sniff
from .errors import FetchError

log = logging.getLogger("enhancer.batch.fetch")
CHUNK = 64 * 1024
# One sniffer for every way a photo enters (HEIC and AVIF included).
sniff_image = sniff


@dataclass(frozen=True)
class FetchPolicy:
    """Limits for one fetch. ``max_bytes`` is the upload limit; bodies past it are cut off."""

    max_bytes: int = 50 * 1024 * 1024
    connect_timeout: float = 5.0
    read_timeout: float = 20.0
    total_timeout: float = 120.0
    retries: int = 3
    backoff_s: float = 0.5
    max_redirects: int = 5
    allow_private: bool = False


def check_address(host: str, port: int, *, allow_private: bool) -> str:
    """Resolve ``host`` and return an address to connect to; refuse non-public ones unless allowed."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise FetchError(f"cannot resolve host {host!r}: {exc.strerror}", retryable=False) from None
    addrs = list(dict.fromkeys(info[4][0] for info in infos))
    if not allow_private:
        for a in addrs:
            ip = ipaddress.ip_address(a.split("%", 1)[0])
            if ip.version == 6 and ip.ipv4_mapped:
                ip = ip.ipv4_mapped
            if not ip.is_global or ip.is_multicast:
                raise FetchError(f"refused {host!r}: it resolves to the non-public address {a} "
                                 "(set PIXEL_LAB_ALLOW_PRIVATE_URLS=1 to allow private networks)")
    return addrs[0]


class Fetcher:
    """A pooled, thread-safe URL fetcher. ``fetch(url)`` returns the body bytes or raises FetchError."""

    def __init__(self, policy: FetchPolicy = FetchPolicy(), *, pool_size: int = 8):
        self.policy = policy
        self._pool = urllib3.PoolManager(num_pools=64, maxsize=pool_size, block=False, retries=False)

    def fetch(self, url: str) -> bytes:
        p = self.policy
        for attempt in range(p.retries + 1):
            try:
                return self._fetch_once(url)
            except FetchError as exc:
                if not exc.retryable or attempt == p.retries:
                    raise
                delay = p.backoff_s * (2 ** attempt) * (0.5 + random.random())
                log.info("[FETCH] %s: %s; retry %d in %.1fs", url, exc, attempt + 1, delay)
                time.sleep(delay)
        raise AssertionError("unreachable")

    def _fetch_once(self, url: str) -> bytes:
        p = self.policy
        for _ in range(p.max_redirects + 1):
            resp = self._open(url)
            if resp.status in (301, 302, 303, 307, 308):
                location = resp.headers.get("Location")
                resp.release_conn()
                if not location:
                    raise FetchError(f"{url}: redirect without a Location header")
                url = urljoin(url, location)
                continue
            try:
                return self._read(url, resp)
            finally:
                resp.release_conn()
        raise FetchError(f"{url}: more than {p.max_redirects} redirects")

    def _open(self, url: str):
        p = self.policy
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https"):
            raise FetchError(f"{url!r}: only http:// and https:// URLs can be fetched")
        if not parts.hostname:
            raise FetchError(f"{url!r}: the URL has no host")
        port = parts.port or (443 if parts.scheme == "https" else 80)
        ip = check_address(parts.hostname, port, allow_private=p.allow_private)
        pool_kwargs = {"server_hostname": parts.hostname, "assert_hostname": parts.hostname} \
            if parts.scheme == "https" else {}
        pool = self._pool.connection_from_host(ip, port, parts.scheme, pool_kwargs=pool_kwargs)
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        host_header = parts.hostname if port in (80, 443) else f"{parts.hostname}:{port}"
        try:
            resp = pool.urlopen("GET", path, headers={"Host": host_header, "User-Agent": "PixelLab-bulk/1",
                                                      "Accept": "image/*"},
                                redirect=False, retries=False, preload_content=False, assert_same_host=False,
                                timeout=urllib3.Timeout(connect=p.connect_timeout, read=p.read_timeout))
        except (U3Timeout, socket.timeout) as exc:
            raise FetchError(f"{url}: timed out ({exc.__class__.__name__})", retryable=True) from None
        except HTTPError as exc:
            raise FetchError(f"{url}: connection failed: {exc}", retryable=True) from None
        if resp.status >= 500 or resp.status == 429:
            resp.release_conn()
            raise FetchError(f"{url}: server error HTTP {resp.status}", retryable=True, status=resp.status)
        if resp.status >= 400:
            resp.release_conn()
            raise FetchError(f"{url}: HTTP {resp.status}; check the URL", status=resp.status)
        return resp

    def _read(self, url: str, resp) -> bytes:
        p = self.policy
        declared = resp.headers.get("Content-Length")
        if declared and declared.isdigit() and int(declared) > p.max_bytes:
            resp.close()
            raise FetchError(f"{url}: the file is {int(declared) / 2**20:.1f} MB, above the "
                             f"{p.max_bytes // 2**20} MB upload limit")
        buf, n, deadline = [], 0, time.monotonic() + p.total_timeout
        try:
            for chunk in resp.stream(CHUNK, decode_content=True):
                n += len(chunk)
                if n > p.max_bytes:
                    resp.close()  # stop reading; the connection is dropped, not drained
                    raise FetchError(f"{url}: the download passed the {p.max_bytes // 2**20} MB upload limit")
                if time.monotonic() > deadline:
                    resp.close()
                    raise FetchError(f"{url}: download took longer than {p.total_timeout:.0f}s", retryable=True)
                buf.append(chunk)
        except (U3Timeout, socket.timeout) as exc:
            raise FetchError(f"{url}: timed out while reading ({exc.__class__.__name__})", retryable=True) from None
        except HTTPError as exc:
            raise FetchError(f"{url}: the download broke off: {exc}", retryable=True) from None
        data = b"".join(buf)
        if not data:
            raise FetchError(f"{url}: the response was empty")
        if sniff_image(data) is None:
            raise FetchError(f"{url}: the response is not an image ({ACCEPTED_TEXT} expected; content-type "
                             f"{resp.headers.get('Content-Type', 'unknown')}); check the URL points at the photo")
        return data
