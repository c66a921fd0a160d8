"""What the routes work with: settings, the service's Backends and the CPU pool, built on first use.

Built lazily (not at import or start-up) so a database that is down at start
answers 503 on the requests that need it, and health says why, instead of the
whole process failing; the next request tries again.
"""
from __future__ import annotations

import threading

from fastapi import Request

from enhancer.config import Settings, load_settings
from enhancer.service import Backends

from .pool import CpuPool


class ApiContext:
    """One per API app. ``settings``/``backends`` may be given (tests, embedding) or are built from the
    environment and ``.env`` like the CLI's."""

    def __init__(self, settings: Settings | None = None, backends: Backends | None = None):
        self._settings, self._backends, self._pool = settings, backends, None
        self._lock = threading.Lock()

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            with self._lock:
                if self._settings is None:
                    self._settings = load_settings()
        return self._settings

    @property
    def backends(self) -> Backends:
        if self._backends is None:
            settings = self.settings
            with self._lock:
                if self._backends is None:
                    from enhancer.app import build_backends

                    self._backends = build_backends(settings)
        return self._backends

    @property
    def pool(self) -> CpuPool:
        if self._pool is None:
            settings = self.settings
            with self._lock:
                if self._pool is None:
                    self._pool = CpuPool(settings.cpu_workers, settings.cpu_queue)
        return self._pool

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown()


def get_ctx(request: Request) -> ApiContext:
    return request.app.state.ctx
