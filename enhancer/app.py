"""Wiring: build the service and its parts from settings (used by the CLI and the dashboard)."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine

from db import make_engine, ping, repo

from .config import Settings
from .service import ImageService
from .storage import Storage, storage_from_settings


def build_service(settings: Settings, *, engine: Engine | None = None,
                  storage: Storage | None = None) -> ImageService:
    """An :class:`ImageService` on the configured database (migrated) and storage."""
    if settings.storage_kind == "local":
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    return ImageService(engine or make_engine(settings.database_url),
                        storage or storage_from_settings(settings),
                        max_upload_bytes=settings.max_upload_bytes, max_pixels=settings.max_pixels)


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str


def run_checks(settings: Settings, service: ImageService | None = None) -> list[Check]:
    """Is each part reachable? Never raises: a failure is a ✗ line with the reason."""
    checks = [Check("configuration", True, f"database={settings.database_kind}, storage={settings.storage_kind}, "
                                            f"ai={settings.ai_provider}")]
    try:
        svc = service or build_service(settings)
    except Exception as exc:
        return checks + [Check("database", False, _reason(exc))]
    try:
        ping(svc.engine)
        with svc.session() as s:
            n = repo.counts(s)
        checks.append(Check("database", True, f"{svc.engine.url.get_backend_name()} reachable, "
                                              f"{n['total']} images, {n['enhancements']} enhancements"))
    except Exception as exc:
        checks.append(Check("database", False, _reason(exc)))
    try:
        checks.append(Check("storage", True, svc.storage.check()))
    except Exception as exc:
        checks.append(Check("storage", False, _reason(exc)))
    return checks


def _reason(exc: Exception) -> str:
    msg = str(getattr(exc, "orig", None) or exc).splitlines()[0] if str(exc) else exc.__class__.__name__
    return msg[:300]
