"""Browser fixtures: the real app under ``streamlit run`` and a headless Chromium page.

``app_url`` starts one server per test session on tmp SQLite + a storage
folder; ``page`` is a fresh Playwright page on Debian's Chromium. Without
/usr/bin/chromium the tests skip locally; in CI (``CI=true``) they fail.
"""
from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("PIXEL_LAB_CHROMIUM", "/usr/bin/chromium")
REQUIRE = os.environ.get("CI", "").lower() in ("1", "true") or os.environ.get("PIXEL_LAB_REQUIRE_SERVICES") == "1"
SHOTS = ROOT / "test-artifacts" / "screenshots"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


def _absent(reason: str):
    if REQUIRE:
        pytest.fail(f"{reason} (required in CI)")
    pytest.skip(reason)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).is_file():
        _absent(f"Chromium not found at {CHROMIUM} (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as exc:  # pragma: no cover
        _absent(f"playwright is not installed: {exc}")
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield b
        b.close()


@contextlib.contextmanager
def streamlit_app(tmp: Path, *, host: str = "127.0.0.1", port: int | None = None, args: tuple[str, ...] = (),
                  env: dict | None = None):
    """``streamlit run streamlit_app.py`` on a free port against tmp SQLite + storage folder, until exit.

    Yields ``{"url", "tmp", "env"}``; ``host`` is the name the browser uses (an OpenID redirect must
    match it), ``port`` one chosen beforehand, ``args`` more ``streamlit run`` options, ``env`` more
    variables.
    """
    port = port or _free_port()
    full_env = {k: v for k, v in os.environ.items()
                if not k.startswith(("MYSQL_", "S3_", "AWS_", "GEMINI_", "BEDROCK_", "CLOUDFRONT_"))}
    full_env.update(DATABASE_URL=f"sqlite:///{tmp / 'app.db'}", STORAGE_DIR=str(tmp / "storage"),
                    PIXEL_LAB_DATA_DIR=str(tmp / "data"), PYTHONUNBUFFERED="1", **(env or {}))
    log = open(tmp / "streamlit.log", "wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "streamlit_app.py", "--server.headless", "true",
         "--server.port", str(port), "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false",
         "--server.fileWatcherType", "none", *args],
        cwd=ROOT, env=full_env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://{host}:{port}"
    deadline = time.monotonic() + 60
    try:
        while True:
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"streamlit did not start: {(tmp / 'streamlit.log').read_text()[-2000:]}")
            time.sleep(0.3)
        yield {"url": url, "tmp": tmp, "env": full_env, "port": port}
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


@pytest.fixture(scope="module")
def app_server(tmp_path_factory):
    """The app on tmp SQLite + storage folder: one per test module, so each flow starts from an empty
    catalog, whatever ran before it."""
    # the bulk test serves its CSV's photos on loopback
    with streamlit_app(tmp_path_factory.mktemp("app"), env={"PIXEL_LAB_ALLOW_PRIVATE_URLS": "1"}) as app:
        yield app


@pytest.fixture(scope="module")
def app_url(app_server) -> str:
    return app_server["url"]


@pytest.fixture
def page(browser):
    ctx = browser.new_context(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
    p = ctx.new_page()
    p.set_default_timeout(30_000)
    yield p
    ctx.close()


def wait_idle(page, timeout: float = 60_000) -> None:
    """Wait until Streamlit has finished the current run (no running indicator)."""
    page.wait_for_function(
        "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')"
        " || !document.querySelector('[data-testid=\"stStatusWidget\"]').innerText.includes('Running')",
        timeout=timeout)
    page.wait_for_timeout(300)


def screenshot(page, name: str, *, max_height: int = 4000, path: Path | None = None) -> Path:
    """Whole page: Streamlit scrolls inside its own container, so grow the viewport to fit it."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = path or SHOTS / f"{name}.png"
    size = page.viewport_size
    height = page.evaluate("""() => Math.max(...['stMain', 'stAppViewContainer', 'stSidebarContent']
        .map(t => document.querySelector(`[data-testid="${t}"]`)).filter(Boolean)
        .map(e => { e.scrollTop = 0; return e.scrollHeight; }), 0)""")
    page.set_viewport_size({"width": size["width"], "height": min(max_height, max(size["height"], height))})
    page.wait_for_timeout(600)
    page.screenshot(path=str(path))
    page.set_viewport_size(size)
    return path


@pytest.fixture
def shots():
    """``shots(page, name)`` saves a full-page screenshot under test-artifacts/screenshots/."""
    return screenshot


@pytest.fixture
def idle():
    return wait_idle
