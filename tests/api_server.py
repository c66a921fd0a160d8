"""A real API server on a free loopback port: ``streamlit run streamlit_app.py`` or the standalone uvicorn app.

Used by the API tests and ``benchmarks/api.py``. The server is a subprocess with
its own environment (the backend's variables only); clients talk HTTP to it.
"""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
_OWN_VARS = ("MYSQL_", "S3_", "AWS_", "GEMINI_", "BEDROCK_", "CLOUDFRONT_", "DATABASE_URL", "STORAGE_DIR",
             "PIXEL_LAB_", "API_", "MAX_", "REVIEW_ALL", "AI_PROVIDER", "ENHANCED_IMAGES_COUNT")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def command(kind: str, port: int) -> list[str]:
    if kind == "streamlit":
        return [sys.executable, "-m", "streamlit", "run", "streamlit_app.py", "--server.headless", "true",
                "--server.port", str(port), "--server.address", "127.0.0.1",
                "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none"]
    if kind == "uvicorn":
        return [sys.executable, "-m", "uvicorn", "--factory", "api.server:create_server", "--host", "127.0.0.1",
                "--port", str(port), "--no-access-log", "--log-level", "warning"]
    raise ValueError(f"unknown server kind {kind!r}; valid: streamlit, uvicorn")


class ApiServer:
    """One running server; ``call`` sends a request with a role's key (or none)."""

    def __init__(self, kind: str, env: dict[str, str], tmp: Path, *, timeout: float = 90):
        self.kind, self.tmp, self.keys = kind, Path(tmp), {}
        self.env = {k: v for k, v in os.environ.items() if not k.startswith(_OWN_VARS)}
        self.env.update(env, PYTHONUNBUFFERED="1")
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = self.tmp / f"{kind}.log"
        self._log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(command(kind, self.port), cwd=ROOT, env=self.env, stdout=self._log,
                                     stderr=subprocess.STDOUT)
        self.http = requests.Session()
        deadline = time.monotonic() + timeout
        while True:
            try:
                if self.http.get(f"{self.url}/api/v1/health", timeout=5).status_code in (200, 503):
                    break
            except requests.RequestException:
                pass
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"{kind} server did not start: {self.log()[-3000:]}")
            time.sleep(0.3)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def cli(self, *args: str) -> dict:
        """``python -m enhancer ARGS`` on the server's backend; its JSON output."""
        out = subprocess.run([sys.executable, "-m", "enhancer", *args], cwd=ROOT, env=self.env,
                             capture_output=True, text=True, timeout=120)
        if out.returncode != 0:
            raise RuntimeError(f"enhancer {' '.join(args)} exited {out.returncode}: {out.stderr[-2000:]}")
        return json.loads(out.stdout.strip().splitlines()[-1])

    def call(self, method: str, path: str, role: str | None = "admin", *, key: str | None = None,
             headers: dict | None = None, **kw) -> requests.Response:
        h = dict(headers or {})
        token = key or (self.keys.get(role) if role else None)
        if token:
            h["Authorization"] = f"Bearer {token}"
        kw.setdefault("timeout", 120)
        return self.http.request(method, f"{self.url}/api/v1{path}", headers=h, **kw)

    def rss_kb(self) -> int:
        """Resident memory of the server process (and its children), from /proc."""
        total = 0
        for pid in [self.proc.pid, *_children(self.proc.pid)]:
            try:
                for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
            except OSError:
                pass
        return total

    def stop(self) -> None:
        self.http.close()
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self._log.close()


def _children(pid: int) -> list[int]:
    try:
        return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


PROBLEM = "application/problem+json"


def upload(server: ApiServer, data: bytes, name: str = "photo.jpg", role: str = "operator", headers=None,
           **fields) -> requests.Response:
    """POST /enhance/upload with ``data`` as the file and ``fields`` as the form."""
    return server.call("POST", "/enhance/upload", role, files={"file": (name, data, "image/jpeg")},
                       data={k: str(v) for k, v in fields.items()}, headers=headers)


def is_problem(r: requests.Response, status: int) -> dict:
    """Assert an RFC 9457 problem with ``status`` (no traceback, no test credential); its body."""
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith(PROBLEM)
    body = r.json()
    assert {"type", "title", "status", "detail"} <= set(body) and body["status"] == status
    assert "Traceback" not in r.text and "testing" not in body["detail"]
    return body


def wait_for(fn, until, timeout: float = 120.0, every: float = 0.3):
    """Call ``fn`` until ``until(value)`` holds or ``timeout`` passes; the last value."""
    deadline = time.monotonic() + timeout
    while True:
        value = fn()
        if until(value) or time.monotonic() > deadline:
            return value
        time.sleep(every)
