"""Real Celery workers for tests: ``celery -A enhancer.worker worker`` subprocesses, each with its own name and
working directory (two of them stand in for two machines), a photo server, and a loopback TCP proxy to cut.
"""
from __future__ import annotations

import os
import select
import signal
import socket
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from sqlalchemy import func, select as sql_select

REPO = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent


class Worker:
    """One ``celery worker`` process (its own session, so the test can stop the whole group)."""

    def __init__(self, env: dict[str, str], root: Path, name: str, *, concurrency: int = 1,
                 app: str = "enhancer.worker"):
        self.name = f"{name}@%h"
        self.dir = root / name
        self.dir.mkdir(parents=True, exist_ok=True)
        self.log = self.dir / "worker.log"
        cmd = [sys.executable, "-m", "celery", "-A", app, "worker", "--concurrency", str(concurrency),
               "-n", self.name, "-l", "INFO", "--without-gossip"]
        full = {**os.environ, **env, "PYTHONPATH": os.pathsep.join([str(REPO), str(HERE)]),
                "PYTHONUNBUFFERED": "1"}
        with open(self.log, "ab") as out:
            self.proc = subprocess.Popen(cmd, cwd=self.dir, env=full, stdout=out, stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL, start_new_session=True)

    def ready(self, timeout: float = 90.0) -> "Worker":
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if " ready." in self.text():
                return self
            if self.proc.poll() is not None:
                raise AssertionError(f"worker {self.name} exited {self.proc.returncode}:\n{self.text()[-3000:]}")
            time.sleep(0.2)
        raise AssertionError(f"worker {self.name} not ready after {timeout} s:\n{self.text()[-3000:]}")

    def text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def stop(self, timeout: float = 15.0) -> None:
        if self.proc.poll() is not None:
            return
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)  # warm shutdown of this worker's own process group
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(5)
        except ProcessLookupError:
            pass


def wait_for(pred, *, timeout: float, every: float = 0.2, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = pred()
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def batch_row(b, batch_id):
    from db.batch_models import Batch

    with b.session() as s:
        return s.get(Batch, batch_id)


def item_rows(b, batch_id):
    from db import batch_repo as br

    with b.session() as s:
        return br.items(s, batch_id)


def image_count(b) -> int:
    from db.models import ProductImage

    with b.session() as s:
        return s.scalar(sql_select(func.count()).select_from(ProductImage))


def settled(b, batch_id, states=("completed",)):
    row = batch_row(b, batch_id)
    return row if row is not None and row.status.value in states else None


class PhotoServer(ThreadingHTTPServer):
    """``/img/<n>.jpg`` (distinct photos) and ``/slow/<n>.jpg`` (the same, ``slow_s`` late)."""

    daemon_threads = True

    def __init__(self, slow_s: float = 3.0):
        from support import photo_bytes

        self.slow_s = slow_s
        self.photo = lambda n: photo_bytes("astronaut" if n % 2 else "chelsea", size=(320, 240), seed=n)

        class H(BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def do_GET(self):
                kind, _, name = self.path.strip("/").partition("/")
                if kind == "slow":
                    time.sleep(self.server.slow_s)
                body = self.server.photo(int(name.split(".")[0]))
                self.send_response(200)
                self.send_header("Content-Type", "image/jpeg")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        super().__init__(("127.0.0.1", 0), H)
        threading.Thread(target=self.serve_forever, daemon=True).start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}{path}"

    def handle_error(self, request, client_address):
        pass


class CutProxy:
    """A loopback TCP pipe to ``target``; ``cut()`` resets every connection and refuses new ones until ``heal()``."""

    def __init__(self, target: tuple[str, int]):
        self.target = target
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.down = False
        self.pairs: list[tuple[socket.socket, socket.socket]] = []
        self.lock = threading.Lock()
        self.stopped = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while not self.stopped:
            try:
                client, _ = self.sock.accept()
            except OSError:
                return
            if self.down:
                _reset(client)
                continue
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                _reset(client)
                continue
            with self.lock:
                self.pairs.append((client, upstream))
            threading.Thread(target=self._pump, args=(client, upstream), daemon=True).start()

    def _pump(self, a, b):
        socks = [a, b]
        try:
            while not self.down:
                ready, _, _ = select.select(socks, [], [], 0.2)
                for s in ready:
                    data = s.recv(65536)
                    if not data:
                        return
                    (b if s is a else a).sendall(data)
        except OSError:
            pass
        finally:
            _reset(a)
            _reset(b)

    def cut(self):
        self.down = True
        with self.lock:
            pairs, self.pairs = self.pairs, []
        for a, b in pairs:
            _reset(a)
            _reset(b)

    def heal(self):
        self.down = False

    def close(self):
        self.stopped = True
        self.cut()
        self.sock.close()


def _reset(s: socket.socket) -> None:
    import struct

    try:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    except OSError:
        pass
    try:
        s.close()
    except OSError:
        pass
