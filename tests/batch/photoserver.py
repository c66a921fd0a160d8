"""A local photo server for batch tests (ThreadingHTTPServer on 127.0.0.1), and small helpers.

Routes: /img/<n>.jpg (distinct photos), /lag/<n>.jpg (the same, 150 ms late), /404, /notimage, /slow (sleeps past
the read timeout), /big (streams past the cap, no Content-Length),
/bigdeclared (Content-Length over the cap), /flaky/<n>.jpg (HTTP 503 on odd
hits), /gone/<n>.jpg (404 until ``server.revive()``), /redir?to=URL, /heic/<n>.heic (an iPhone photo).
"""
from __future__ import annotations

import time
from collections import Counter
from functools import lru_cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from support import heic_bytes, photo_bytes

SLOW_S = 1.5


@lru_cache(maxsize=256)
def image(n: int) -> bytes:
    return photo_bytes("astronaut" if n % 2 else "chelsea", size=(320, 240), seed=n)


class _Handler(BaseHTTPRequestHandler):
    def log_message(self, *a):  # keep test output quiet
        pass

    def _send(self, status: int, body: bytes = b"", ctype: str = "image/jpeg", length: int | None = None):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body) if length is None else length))
        self.end_headers()
        if body:
            self.wfile.write(body)

    def do_GET(self):
        srv = self.server
        path = urlsplit(self.path).path
        srv.hits[path] += 1
        n = srv.hits[path]
        num = int(path.rsplit("/", 1)[-1].split(".")[0]) if path[-4:] == ".jpg" else 0
        if path.startswith("/img/"):
            return self._send(200, image(num))
        if path.startswith("/heic/"):
            return self._send(200, heic_bytes(size=(320, 240)), ctype="image/heic")
        if path.startswith("/lag/"):
            time.sleep(0.15)
            return self._send(200, image(num))
        if path == "/notimage":
            return self._send(200, b"<html>not a photo</html>", ctype="image/jpeg")
        if path == "/slow":
            time.sleep(SLOW_S)
            return self._send(200, image(1))
        if path == "/big":
            self.send_response(200)
            self.send_header("Content-Type", "image/jpeg")
            self.end_headers()
            try:
                self.wfile.write(image(1))
                for _ in range(64):
                    self.wfile.write(b"\0" * 65536)
            except (BrokenPipeError, ConnectionResetError):
                pass
            return
        if path == "/bigdeclared":
            return self._send(200, image(1)[:100], length=1 << 30)
        if path.startswith("/flaky/"):
            return self._send(503, b"busy", ctype="text/plain") if n % 2 else self._send(200, image(num))
        if path.startswith("/gone/"):
            return self._send(200, image(num)) if srv.revived else self._send(404, b"no", ctype="text/plain")
        if path == "/redir":
            self.send_response(302)
            self.send_header("Location", parse_qs(urlsplit(self.path).query)["to"][0])
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        return self._send(404, b"not found", ctype="text/plain")


class PhotoServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self):
        super().__init__(("127.0.0.1", 0), _Handler)
        self.hits: Counter = Counter()
        self.revived = False

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def url(self, path: str) -> str:
        return self.base + path

    def handle_error(self, request, client_address):  # clients hanging up on /slow and /big are expected
        pass

    def revive(self) -> None:
        self.revived = True


def write_manifest(path, rows: list[dict]) -> str:
    from enhancer.batch.intake import manifest_bytes

    path.write_bytes(manifest_bytes(rows))
    return str(path)
