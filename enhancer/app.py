"""Wiring: build the service and its parts from settings (used by the CLI and the dashboard)."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine

from db import make_engine, ping, repo
from db.session import describe_error

from .config import Settings
from .providers import AIConfig, Provider, get_provider
from .service import Backends, Limits
from .storage import Storage, storage_from_settings


def ai_config(settings: Settings) -> AIConfig:
    return AIConfig(gemini_api_key=settings.gemini_api_key, gemini_model=settings.gemini_model,
                    gemini_image_model=settings.gemini_image_model, gemini_base_url=settings.gemini_base_url,
                    bedrock_model_id=settings.bedrock_model_id,
                    bedrock_region=settings.bedrock_region or settings.aws_region,
                    bedrock_endpoint_url=settings.bedrock_endpoint_url,
                    aws_access_key_id=settings.aws_access_key_id,
                    aws_secret_access_key=settings.aws_secret_access_key)


def configured_providers(settings: Settings) -> dict[str, Provider]:
    """The AI providers this configuration can use (gemini needs a key; bedrock is opt-in)."""
    cfg = ai_config(settings)
    names = []
    if settings.gemini_api_key or settings.ai_provider == "gemini":
        names.append("gemini")
    if settings.ai_provider == "bedrock" or settings.bedrock_endpoint_url or settings.bedrock_region:
        names.append("bedrock")
    return {n: get_provider(n, cfg) for n in names}


def engine_from_settings(settings: Settings, *, migrate: bool = True) -> Engine:
    """The configured database engine, with the configured timeouts (migrated unless ``migrate=False``)."""
    return make_engine(settings.database_url, migrate=migrate, connect_timeout_s=settings.db_connect_timeout_s,
                       read_timeout_s=settings.db_timeout_s, write_timeout_s=settings.db_timeout_s)


def build_backends(settings: Settings, *, engine: Engine | None = None,
                   storage: Storage | None = None) -> Backends:
    """The service's :class:`Backends` on the configured database (migrated), storage and providers."""
    if settings.storage_kind == "local":
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    return Backends(engine or engine_from_settings(settings), storage or storage_from_settings(settings),
                    providers=configured_providers(settings),
                    limits=Limits(max_upload_bytes=settings.max_upload_bytes, max_pixels=settings.max_pixels),
                    default_ai=settings.ai_provider, review_all=settings.review_all)


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str


def run_checks(settings: Settings, backends: Backends | None = None) -> list[Check]:
    """Is each part reachable? Never raises: a failure is a ✗ line with the reason."""
    checks = [Check("configuration", True, f"database={settings.database_kind}, storage={settings.storage_kind}, "
                                            f"ai={settings.ai_provider}")]
    try:
        svc = backends or build_backends(settings)
    except Exception as exc:
        return checks + [Check("database", False, _reason(exc, settings.database_url))]
    try:
        ping(svc.engine)
        with svc.session() as s:
            n = repo.counts(s)
        checks.append(Check("database", True, f"{svc.engine.url.get_backend_name()} reachable, "
                                              f"{n['total']} images, {n['enhancements']} enhancements"))
    except Exception as exc:
        checks.append(Check("database", False, _reason(exc, svc.engine)))
    try:
        checks.append(Check("storage", True, svc.storage.check()))
    except Exception as exc:
        checks.append(Check("storage", False, _reason(exc)))
    if settings.broker_url:
        checks += broker_checks(settings, svc)
    checks.append(Check("ai: local", True, "classic pipeline (always available)"))
    for name, provider in svc.providers.items():
        ok, why = provider.available()
        if not ok:
            checks.append(Check(f"ai: {name}", False, why))
            continue
        try:
            provider.check()
            checks.append(Check(f"ai: {name}", True, "reachable, credentials accepted"))
        except Exception as exc:
            checks.append(Check(f"ai: {name}", False, _reason(exc)))
    return checks


def broker_checks(settings: Settings, svc: Backends) -> list[Check]:
    """The broker (reachable, queue depth, its own configuration) and the workers alive."""
    from . import broker
    from .batch.workers import live_workers

    try:
        detail = broker.ping(settings)
    except Exception as exc:
        return [Check("broker", False, str(exc))]
    depth = broker.queue_depth(settings)
    out = [Check("broker", True, f"{detail}; queue {settings.broker_queue}: "
                                 f"{'?' if depth is None else depth} message(s) waiting")]
    out += [Check("broker config", False, note) for note in broker.broker_notes(settings)]
    try:
        live = live_workers(svc)
    except Exception as exc:
        return out + [Check("workers", False, _reason(exc))]
    answering = broker.workers_answering(settings)
    listing = "; ".join(f"{w['name']} (host {w['host']}, concurrency {w['concurrency']}, "
                        f"{w['tasks_done']} tasks done)" for w in live)
    pinged = "" if answering is None else f", {answering} answer a ping"
    detail = f"{len(live)} worker(s) alive{pinged}" + (f": {listing}" if listing else
                                                       "; start one: celery -A enhancer.worker worker")
    return out + [Check("workers", bool(live), detail)]


def _reason(exc: Exception, database=None) -> str:
    from sqlalchemy.exc import SQLAlchemyError

    if database is not None and isinstance(exc, SQLAlchemyError):  # host:port and the timeout, no password
        return describe_error(exc, database)[:300]
    msg = str(getattr(exc, "orig", None) or exc).splitlines()[0] if str(exc) else exc.__class__.__name__
    return msg[:300]
