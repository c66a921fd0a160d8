"""URL fetching: limits, retries, and the SSRF guard, against a local HTTP server."""
from __future__ import annotations

import pytest

from enhancer.batch import FetchError
from enhancer.batch import fetch as fetch_mod
from enhancer.batch.fetch import FetchPolicy, Fetcher, check_address, sniff_image

from batch.photoserver import SLOW_S, image

LOCAL = dict(allow_private=True, backoff_s=0.01, retries=2, read_timeout=SLOW_S / 3, connect_timeout=2)


def test_fetches_an_image(photo_server):
    assert Fetcher(FetchPolicy(**LOCAL)).fetch(photo_server.url("/img/3.jpg")) == image(3)


def test_404_fails_without_retry(photo_server):
    with pytest.raises(FetchError, match="HTTP 404") as err:
        Fetcher(FetchPolicy(**LOCAL)).fetch(photo_server.url("/no-such-photo.png"))
    assert not err.value.retryable and err.value.status == 404
    assert photo_server.hits["/no-such-photo.png"] == 1


def test_non_image_is_refused_by_its_bytes(photo_server):
    with pytest.raises(FetchError, match="not an image"):
        Fetcher(FetchPolicy(**LOCAL)).fetch(photo_server.url("/notimage"))


def test_slow_response_times_out_after_bounded_retries(photo_server):
    with pytest.raises(FetchError, match="timed out"):
        Fetcher(FetchPolicy(**LOCAL)).fetch(photo_server.url("/slow"))
    assert photo_server.hits["/slow"] == LOCAL["retries"] + 1


def test_5xx_is_retried(photo_server):
    assert Fetcher(FetchPolicy(**LOCAL)).fetch(photo_server.url("/flaky/7.jpg")) == image(7)
    assert photo_server.hits["/flaky/7.jpg"] == 2


@pytest.mark.parametrize("path", ["/big", "/bigdeclared"])
def test_oversized_download_stops_at_the_cap(photo_server, path):
    with pytest.raises(FetchError, match="upload limit"):
        Fetcher(FetchPolicy(**LOCAL, max_bytes=512 * 1024)).fetch(photo_server.url(path))
    assert photo_server.hits[path] == 1  # a size refusal is final


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
def test_ssrf_guard_refuses_loopback_unless_allowed(photo_server, host):
    url = photo_server.url("/img/1.jpg").replace("127.0.0.1", host)
    with pytest.raises(FetchError, match="non-public address"):
        Fetcher(FetchPolicy(retries=0)).fetch(url)
    assert Fetcher(FetchPolicy(allow_private=True)).fetch(url) == image(1)


@pytest.mark.parametrize("addr", ["10.0.0.7", "192.168.1.1", "169.254.169.254", "::1", "0.0.0.0", "fe80::1"])
def test_private_and_link_local_addresses_are_refused(addr):
    with pytest.raises(FetchError, match="non-public"):
        check_address(addr, 80, allow_private=False)


@pytest.mark.parametrize("url", ["ftp://example.com/a.jpg", "file:///etc/passwd", "http:///nohost"])
def test_only_http_urls(url):
    with pytest.raises(FetchError):
        Fetcher(FetchPolicy(retries=0)).fetch(url)


def test_redirects_are_checked_again(photo_server, monkeypatch):
    """First hop passes as if public; its redirect to a loopback address must still be refused."""
    real, calls = check_address, []

    def first_public(host, port, *, allow_private):
        calls.append(host)
        return real(host, port, allow_private=len(calls) == 1 or allow_private)

    monkeypatch.setattr(fetch_mod, "check_address", first_public)
    target = photo_server.url("/img/2.jpg")
    with pytest.raises(FetchError, match="non-public"):
        Fetcher(FetchPolicy(retries=0)).fetch(photo_server.url(f"/redir?to={target}"))
    assert len(calls) == 2


def test_sniff_image_by_magic_bytes():
    assert sniff_image(image(1)) == "JPEG"
    assert sniff_image(b"RIFF\0\0\0\0WEBPVP8 ") == "WEBP"
    assert sniff_image(b"<html>") is None
