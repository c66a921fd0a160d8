"""Pixel Lab's REST API under ``/api/v1`` (FastAPI): thin routes over :mod:`enhancer.service`.

``streamlit run streamlit_app.py`` serves it beside the dashboard (one process,
one port); ``uvicorn --factory api.server:create_server`` serves it alone.
"""
from .app import create_app, lifespan

__all__ = ["create_app", "lifespan"]
