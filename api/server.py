"""The API on its own (no dashboard), for deployments that separate them::

    uvicorn --factory api.server:create_server --host 0.0.0.0 --port 8000

Paths are the same as in the dashboard's process: ``/api/v1/...``.
"""
from __future__ import annotations

from starlette.applications import Starlette
from starlette.routing import Mount

from .app import create_app, lifespan


def create_server(settings=None, backends=None) -> Starlette:
    api = create_app(settings, backends)
    return Starlette(routes=[Mount("/api", app=api)], lifespan=lifespan(api))
