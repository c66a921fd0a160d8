"""A programmable HTTP server on 127.0.0.1 that records what it was sent.

Each stub subclasses :class:`StubServer` and implements ``route`` (is this a
request the real API would accept, and what does it answer by default).
Tests queue replies with :meth:`StubServer.push`; a queued reply is used by
the next routed request, so "429 then success" is ``push(err, ok)``.
"""
from __future__ import annotations

import json
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Reply:
    """One HTTP answer. ``body`` may be bytes, str, or anything JSON-serialisable."""

    status: int = 200
    body: object = b""
    headers: dict = field(default_factory=dict)
    delay_s: float = 0.0

    def encoded(self) -> tuple[bytes, str]:
        if isinstance(self.body, bytes):
            return self.body, "application/octet-stream"
        if isinstance(self.body, str):
            return self.body.encode(), "text/plain; charset=utf-8"
        return json.dumps(self.body).encode(), "application/json; charset=UTF-8"


@dataclass
class Recorded:
    """A request as the stub saw it; header names are lower-cased."""

    method: str
    path: str
    headers: dict
    body: bytes

    def json(self):
        return json.loads(self.body or b"null")


class StubServer:
    """Base stub: queue of replies, request log, start/stop as a context manager."""

    def __init__(self) -> None:
        self.replies: deque[Reply] = deque()
        self.requests: list[Recorded] = []
        self._lock = threading.Lock()
        self._httpd: ThreadingHTTPServer | None = None

    # -- to override ------------------------------------------------------------------------
    def route(self, req: Recorded) -> Reply | None:
        """The default reply for a request the API accepts, or None for an unknown path."""
        raise NotImplementedError

    def not_found(self, req: Recorded) -> Reply:
        return Reply(404, {"message": f"stub: no route for {req.method} {req.path}"})

    def check(self, req: Recorded) -> Reply | None:
        """An error reply for a request the API would refuse (e.g. a bad key), else None."""
        return None

    # -- for tests --------------------------------------------------------------------------
    def push(self, *replies: Reply) -> None:
        with self._lock:
            self.replies.extend(replies)

    def calls(self, method: str = "POST") -> list[Recorded]:
        with self._lock:
            return [r for r in self.requests if r.method == method]

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> "StubServer":
        stub = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, like the real APIs

            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                req = Recorded(self.command, self.path,
                               {k.lower(): v for k, v in self.headers.items()},
                               self.rfile.read(length) if length else b"")
                with stub._lock:
                    stub.requests.append(req)
                reply = stub._answer(req)
                if reply.delay_s:
                    time.sleep(reply.delay_s)
                body, ctype = reply.encoded()
                try:
                    self.send_response(reply.status)
                    headers = {"Content-Type": ctype, **reply.headers}
                    for k, v in headers.items():
                        self.send_header(k, v)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (timeout tests)

            do_GET = do_POST = do_PUT = do_DELETE = _serve

            def log_message(self, *args) -> None:  # keep pytest output clean
                pass

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.02},
                         daemon=True).start()
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    def __enter__(self) -> "StubServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def _answer(self, req: Recorded) -> Reply:
        default = self.route(req)
        if default is None:
            return self.not_found(req)
        refused = self.check(req)
        if refused is not None:
            return refused
        with self._lock:
            queued = self.replies.popleft() if self.replies else None
        return queued if queued is not None else default
