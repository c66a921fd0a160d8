"""AppTest fixtures: the app on a fresh backend from env vars, caches cleared between tests."""
from __future__ import annotations

from pathlib import Path

import pytest
import streamlit as st
from support import up

ROOT = Path(__file__).resolve().parents[2]
APP = str(ROOT / "streamlit_app.py")
PAGES = {
    "upload": "dashboard/pages/upload.py", "gallery": "dashboard/pages/gallery.py",
    "detail": "dashboard/pages/detail.py", "review": "dashboard/pages/review.py",
    "insights": "dashboard/pages/insights.py", "status": "dashboard/pages/status.py",
}
CONFIG_VARS = ("DATABASE_URL", "STORAGE_DIR", "PIXEL_LAB_DATA_DIR", "S3_BUCKET", "S3_ENDPOINT_URL", "MYSQL_HOST",
               "GEMINI_API_KEY", "AI_PROVIDER", "CLOUDFRONT_DOMAIN", "ENHANCED_IMAGES_COUNT")


def _clear_caches():
    st.cache_resource.clear()
    st.cache_data.clear()


@pytest.fixture
def app_env(monkeypatch, tmp_path):
    """Point the app at tmp SQLite + a storage folder via env vars; returns a setter for more."""
    monkeypatch.chdir(ROOT)  # relative paths (.env, .streamlit) as in `streamlit run`
    for var in CONFIG_VARS:
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'app.db'}")
    monkeypatch.setenv("STORAGE_DIR", str(tmp_path / "storage"))
    monkeypatch.setenv("PIXEL_LAB_DATA_DIR", str(tmp_path / "data"))
    _clear_caches()
    yield lambda env: [monkeypatch.setenv(k, v) for k, v in env.items()]
    _clear_caches()


@pytest.fixture
def app_service(app_env):
    """The same service the app will build (for seeding)."""
    from enhancer.app import build_backends
    from enhancer.config import load_settings

    svc = build_backends(load_settings(dotenv_path=None))
    yield svc
    svc.engine.dispose()


def _open_page(name: str, *, query: dict | None = None, timeout: float = 60):
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(APP, default_timeout=timeout)
    at.run()
    if name != "upload":
        at.switch_page(PAGES[name])
    for k, v in (query or {}).items():
        at.query_params[k] = v
    return at.run()


@pytest.fixture
def open_page(app_env):
    """``open_page("gallery", query={"id": ...})`` → an AppTest that has run that page."""
    return _open_page


def errors(at) -> list[str]:
    return [e.value for e in at.error]


def texts(at) -> str:
    parts = [m.value for m in at.markdown] + [c.value for c in at.caption] + [t.value for t in at.title]
    parts += [s.value for s in at.subheader] + [i.value for i in at.info]
    return "\n".join(str(p) for p in parts)


@pytest.fixture(params=["sqlite+local", "mariadb+s3"])
def any_backend_env(request, app_env, tmp_path):
    """The app's env on each backend: tmp SQLite + folder, and MariaDB + S3 (moto over HTTP)."""
    if request.param == "mariadb+s3":
        from conftest import env_for  # tests/conftest.py (on pythonpath)

        url, storage = request.getfixturevalue("mysql_url"), request.getfixturevalue("s3_storage")
        env = env_for(url, storage, tmp_path)
        app_env(env)
        return request.param
    return request.param


def seed(svc, monkeypatch) -> dict:
    """Two completed images (one with two variants) and one FAILED image."""
    import enhancer.service.produce as svc_mod
    from support import photo_bytes

    out = {"good": up(svc, photo_bytes(seed=1), "Red Shoe.jpg", mode="AUTO", target_size_kb=80)}
    out["variants"] = up(svc, photo_bytes("chelsea", seed=2), "cat_[1].png", mode="OPTIMIZE",
                                             variants=2)

    def crash(*a, **k):
        raise RuntimeError("out of cheese")

    with monkeypatch.context() as m:
        m.setattr(svc_mod, "enhance", crash)
        out["failed"] = up(svc, photo_bytes("coffee", seed=3), "broken_mug.jpg")
    assert out["good"].success and out["variants"].success and not out["failed"].success
    return out


@pytest.fixture
def seeded(app_service, monkeypatch):
    return seed(app_service, monkeypatch)


@pytest.fixture
def backend_seeded(any_backend_env, monkeypatch):
    """``(backend name, service, seeded results)`` on each backend, built from the app's env."""
    from enhancer.app import build_backends
    from enhancer.config import load_settings

    svc = build_backends(load_settings(dotenv_path=None))
    yield any_backend_env, svc, seed(svc, monkeypatch)
    svc.engine.dispose()
