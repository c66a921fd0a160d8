"""What protects the server: 413 before a 60 MB body is read, 429 when the pool is full, 503 when the
database or store is down."""
from __future__ import annotations

import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from api_server import is_problem, upload
from support import photo_bytes

MB = 2**20


def _send_big_body(server, *, total: int, chunked: bool, role: str | None = "operator",
                   path: str = "/enhance/upload") -> tuple[int, bytes, int]:
    """Send a ``total``-byte multipart upload over a raw socket until the server answers; returns
    (status, response head+body, bytes sent). ``role`` None: no Authorization header."""
    boundary = "pixellabboundary"
    head = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"huge.jpg\"\r\n"
            f"Content-Type: image/jpeg\r\n\r\n").encode()
    lines = [f"POST /api/v1{path} HTTP/1.1", f"Host: 127.0.0.1:{server.port}",
             f"Content-Type: multipart/form-data; boundary={boundary}"]
    if role:
        lines.append(f"Authorization: Bearer {server.keys[role]}")
    lines.append("Transfer-Encoding: chunked" if chunked else f"Content-Length: {total}")
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=60)
    sent = 0
    answer = b""
    try:
        sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        block = head + b"\xff" * (MB - len(head))
        sock.settimeout(0.001)
        while sent < total:
            piece = block if sent == 0 else b"\xff" * MB
            sock.settimeout(60)
            sock.sendall(b"%x\r\n%s\r\n" % (len(piece), piece) if chunked else piece)
            sent += len(piece)
            sock.settimeout(0.0)
            try:
                answer += sock.recv(65536)
            except (BlockingIOError, socket.timeout):
                pass
            if answer:
                break
    except (BrokenPipeError, ConnectionResetError):
        pass
    sock.settimeout(30)
    try:
        while b"\r\n\r\n" not in answer or not answer.rstrip().endswith(b"}"):
            more = sock.recv(65536)
            if not more:
                break
            answer += more
    except (ConnectionResetError, socket.timeout):
        pass
    finally:
        sock.close()
    status = int(answer.split(b" ", 2)[1]) if answer.startswith(b"HTTP/") else 0
    return status, answer, sent


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_a_60_mb_body_is_refused_without_being_held(server, chunked):
    before = server.rss_kb()
    status, answer, sent = _send_big_body(server, total=60 * MB, chunked=chunked)
    assert status == 413, answer[:500]
    assert b"application/problem+json" in answer and b"50 MB" in answer
    if not chunked:  # a declared length over the limit is answered before the body is read
        assert sent < 10 * MB
    grown = (server.rss_kb() - before) / 1024
    assert grown < 30, f"the server grew by {grown:.0f} MB while refusing the body"
    assert server.call("GET", "/health", None).status_code == 200  # still serving


@pytest.mark.parametrize("role,path,status", [(None, "/enhance/upload", 401), ("viewer", "/enhance/upload", 403),
                                               (None, "/batches", 401), ("viewer", "/batches", 403)])
def test_a_body_without_a_key_that_may_send_it_is_refused_before_it_is_read(server, role, path, status):
    # 40 MB is under the limits: only the key can stop the server reading (and spooling) it all
    status_, answer, sent = _send_big_body(server, total=40 * MB, chunked=False, role=role, path=path)
    assert status_ == status, answer[:500]
    assert b"application/problem+json" in answer
    assert sent < 10 * MB, f"the server read {sent // MB} MB before answering {status}"
    assert server.call("GET", "/health", None).status_code == 200


def test_a_file_over_the_limit_inside_the_slack_is_413_not_415(server):
    r = upload(server, b"\xff\xd8\xff" + b"\0" * (50 * MB + 100 * 1024), "big.jpg")
    is_problem(r, 413)


def test_a_full_pool_answers_429_with_retry_after_and_loses_nothing(server):
    """One worker and a queue of two (SERVER_ENV): eight slow uploads at once; the extras get 429, every
    accepted one is recorded, and listing answers meanwhile."""
    photos = [photo_bytes("astronaut", size=(1600, 1200), seed=100 + i) for i in range(8)]
    listing: list[int] = []
    stop = threading.Event()

    def lister():
        while not stop.is_set():
            listing.append(server.call("GET", "/images", "viewer", params={"limit": 5}, timeout=60).status_code)

    t = threading.Thread(target=lister)
    t.start()
    with ThreadPoolExecutor(8) as ex:
        answers = list(ex.map(lambda i: upload(server, photos[i], f"busy{i}.jpg", mode="FULL",
                                               sku_id=f"BUSY-{i}"), range(8)))
    stop.set()
    t.join()
    codes = [r.status_code for r in answers]
    assert set(codes) <= {200, 429} and codes.count(429) >= 1 and codes.count(200) >= 3, codes
    busy = next(r for r in answers if r.status_code == 429)
    assert int(busy.headers["Retry-After"]) >= 1 and is_problem(busy, 429)["type"].endswith("busy")
    assert listing and set(listing) == {200}
    for i, r in enumerate(answers):
        found = server.call("GET", "/images", "viewer", params={"sku_id": f"BUSY-{i}"}).json()["total"]
        assert found == (1 if r.status_code == 200 else 0)


@pytest.fixture(scope="module")
def broken(tmp_path_factory):
    """The standalone app with its database and object store both unreachable (closed ports)."""
    from api_server import ApiServer, free_port

    tmp = tmp_path_factory.mktemp("broken")
    env = {"DATABASE_URL": f"mysql+pymysql://root@127.0.0.1:{free_port()}/nothing",
           "S3_BUCKET": "gone", "S3_ENDPOINT_URL": f"http://127.0.0.1:{free_port()}",
           "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing-secret",
           "PIXEL_LAB_DATA_DIR": str(tmp / "data")}
    srv = ApiServer("uvicorn", env, tmp)
    yield srv
    srv.stop()


def test_a_database_that_is_down_is_503(broken):
    r = broken.call("GET", "/health", None)
    assert r.status_code == 503 and r.json()["ok"] is False
    assert not next(c for c in r.json()["checks"] if c["name"] == "database")["ok"]
    assert "testing-secret" not in r.text
    body = is_problem(broken.call("GET", "/images", None, key="pl_whatever"), 503)
    assert "database" in body["detail"].lower() and "testing-secret" not in str(body)



def _drain(sock) -> tuple[bytes, bool]:
    """What the socket holds now, and whether the server has closed (EOF) behind it."""
    got = b""
    sock.setblocking(False)
    try:
        while True:
            more = sock.recv(65536)
            if not more:
                return got, True
            got += more
    except BlockingIOError:
        return got, False
    finally:
        sock.setblocking(True)


@pytest.mark.parametrize("role,status", [(None, 401), ("viewer", 403)])
def test_a_refusal_reads_the_small_body_still_coming_before_it_closes(server, role, status):
    """The server answers on the headers and keeps reading: a client that sends its body apart and reads
    last (as ``requests`` does) must not find the connection closed under it, or its body meets a closed
    socket, the kernel answers with a reset, and the reset can wipe out the answer (RFC 9112 9.6). A
    client that never sends its body is closed on after a bounded wait."""
    body = b"sku_id\nA-1\n"
    lines = ["POST /api/v1/batches HTTP/1.1", f"Host: 127.0.0.1:{server.port}", "Content-Type: text/csv",
             f"Content-Length: {len(body)}"] + ([f"Authorization: Bearer {server.keys[role]}"] if role else [])
    head = ("\r\n".join(lines) + "\r\n\r\n").encode()
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(head)
        assert sock.recv(64, socket.MSG_PEEK).startswith(b"HTTP/1.1 %d" % status)  # answered on the headers
        time.sleep(0.3)
        answer, closed = _drain(sock)
        assert not closed, "the server closed while the body was still to come"
        sock.sendall(body)
        while not closed:
            more = sock.recv(65536)
            answer, closed = answer + more, not more
    assert answer.startswith(b"HTTP/1.1 %d" % status) and answer.rstrip().endswith(b"}"), answer[:300]
    assert b"connection: close" in answer.lower()

    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(head)  # and never the body
        started = time.monotonic()
        while sock.recv(65536):
            pass
        assert time.monotonic() - started < 10  # api.problems.LINGER_SECONDS (2 s), with room
    assert server.call("GET", "/health", None).status_code == 200
