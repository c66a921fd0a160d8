"""Everything the pages share across reruns: settings, the service, cached queries.

``st.cache_resource`` holds one settings object and one service (engine,
storage client) per process; ``st.cache_data`` holds short-lived query
results, cleared by :func:`clear_data` after every write.
"""
from __future__ import annotations

import threading
from datetime import date, datetime, time, timedelta
from pathlib import Path

import streamlit as st

from db import repo
from enhancer.app import build_backends
from enhancer.config import Settings, load_settings
from enhancer.errors import ConfigError
from enhancer.service import Backends
from enhancer.views import history_entry, image_summary

QUERY_TTL = 30  # seconds; writes clear the cache anyway


def _secrets() -> dict | None:
    """``st.secrets`` only when a secrets file exists (reading it otherwise raises)."""
    paths = [Path.home() / ".streamlit" / "secrets.toml", Path.cwd() / ".streamlit" / "secrets.toml"]
    if not any(p.is_file() for p in paths):
        return None
    try:
        return dict(st.secrets)
    except Exception:  # a malformed secrets file is reported by load_settings' callers
        return None


@st.cache_resource(show_spinner=False)
def _settings() -> Settings:
    return load_settings(secrets=_secrets())


@st.cache_resource(show_spinner="Connecting to the database and storage…")
def _service() -> Backends:
    from enhancer.gc import start_periodic

    b = build_backends(_settings())
    # the reconciler runs now and hourly in this long-lived process (orphans left by crashes elsewhere)
    start_periodic(b.engine, b.storage, stop=threading.Event())
    return b


def settings() -> Settings:
    """The settings, or a clear error naming the bad variable (and the page stops)."""
    try:
        return _settings()
    except ConfigError as exc:
        st.error(f"Configuration error: {exc}. Fix it in the environment, `.env` or "
                 "`.streamlit/secrets.toml`, then reload.")
        st.stop()


def actor():
    """Who is acting in this browser session: the signed-in user's ``Actor``, or the local admin
    when ``[auth]`` is not configured (see :mod:`dashboard.auth`)."""
    from dashboard.auth import current_actor

    return current_actor()


def service() -> Backends:
    cfg = settings()
    try:
        return _service()
    except ConfigError as exc:
        st.error(f"Configuration error: {exc}")
    except Exception as exc:  # unreachable database / storage: say which, no traceback
        st.error(f"Could not start the service ({cfg.database_kind} database, {cfg.storage_kind} storage): "
                 f"{exc.__class__.__name__}: {str(exc).splitlines()[0][:300] if str(exc) else ''}")
    st.stop()


def clear_data() -> None:
    """Forget cached query results (call after every write)."""
    gallery_page.clear()
    image_detail.clear()
    review_page.clear()
    review_batches.clear()
    insights_data.clear()
    export_rows.clear()


def date_bounds(rng) -> tuple[datetime | None, datetime | None]:
    """A ``st.date_input`` range → [from, to) datetimes (either end may be open)."""
    rng = tuple(rng or ())
    lo = datetime.combine(rng[0], time.min) if len(rng) >= 1 and isinstance(rng[0], date) else None
    hi = (datetime.combine(rng[1], time.min) + timedelta(days=1)
          if len(rng) >= 2 and isinstance(rng[1], date) else None)
    return lo, hi


# -- cached reads (plain dicts only: picklable, no live ORM objects) ---------------------------
@st.cache_data(ttl=QUERY_TTL, show_spinner=False)
def gallery_page(filt: repo.ImageFilter, sort: str, limit: int, offset: int) -> tuple[int, list[dict]]:
    with service().session() as s:
        total, rows = repo.list_images(s, filt, sort=sort, limit=limit, offset=offset)
        return total, [image_summary(r) | {"thumbnail_key": r.thumbnail_key, "enhanced_key": r.enhanced_key,
                                           "enhanced_format": r.enhanced_format} for r in rows]


@st.cache_data(ttl=QUERY_TTL, show_spinner=False)
def image_detail(image_id: str) -> tuple[dict, list[dict]] | None:
    with service().session() as s:
        img = repo.get_image(s, image_id)
        if img is None:
            return None
        head = image_summary(img) | {"original_key": img.original_key, "enhanced_key": img.enhanced_key,
                                     "original_format": img.original_format}
        rows = [history_entry(h) | {"enhanced_key": h.enhanced_key, "thumbnail_key": h.thumbnail_key,
                                    "enhanced_format": h.enhanced_format, "enhanced_width": h.enhanced_width,
                                    "enhanced_height": h.enhanced_height}
                for h in repo.history(s, image_id)]
        return head, rows


@st.cache_data(ttl=QUERY_TTL, show_spinner=False)
def review_page(limit: int, offset: int, sku_id: str | None = None, provider: str | None = None,
                batch_id: str | None = None) -> tuple[int, list[tuple[dict, list[dict]]]]:
    """One page of the review queue: (image, its results waiting for a decision), oldest first."""
    from sqlalchemy import select

    from db import batch_repo as br
    from db.batch_models import BatchItem

    with service().session() as s:
        image_ids = None
        if batch_id:
            batch = br.get_batch(s, batch_id)
            parts = [b.id for b in br.family(s, batch)] if batch else [batch_id]
            image_ids = select(BatchItem.product_image_id).where(BatchItem.batch_id.in_(parts))
        total, imgs = repo.review_queue(s, limit=limit, offset=offset, sku_id=sku_id or None,
                                        provider=provider or None, image_ids=image_ids)
        out = []
        for img in imgs:
            open_rows = [history_entry(h) | {"thumbnail_key": h.thumbnail_key, "enhanced_key": h.enhanced_key,
                                             "suggested": h.enhanced_key == img.enhanced_key}
                         for h in repo.history(s, img.id) if h.review_status in repo.REVIEW_OPEN]
            out.append((image_summary(img) | {"original_key": img.original_key}, open_rows))
        return total, out


@st.cache_data(ttl=QUERY_TTL, show_spinner=False)
def review_batches() -> list[tuple[str, str]]:
    """(id, name) of recent batches, for the review filter."""
    from db import batch_repo as br

    with service().session() as s:
        return [(b.id, b.name) for b in br.list_batches(s, limit=100) if not b.parent_batch_id
                or b.parent_batch_id == b.id]


@st.cache_data(ttl=QUERY_TTL, show_spinner=False)
def insights_data(days: int) -> tuple[list, list[dict]]:
    since = datetime.now() - timedelta(days=days) if days else None
    with service().session() as s:
        return repo.daily_counts(s, since=since), repo.metric_sample(s)


@st.cache_data(ttl=QUERY_TTL, show_spinner=False)
def export_rows(filt: repo.ImageFilter, sort: str) -> list[dict]:
    with service().session() as s:
        return repo.export_rows(s, filt, sort=sort)


def counts() -> dict[str, int]:
    """Live counts for the status page (not cached: it is the page that says what is true now)."""
    with service().session() as s:
        return repo.counts(s)


@st.cache_data(max_entries=512, show_spinner=False)
def thumbnail(key: str) -> bytes | None:
    """Stored thumbnail bytes; keys are never rewritten, so no TTL is needed."""
    try:
        return service().storage.get(key)
    except Exception:
        return None


@st.cache_data(max_entries=64, show_spinner=False)
def preview(key: str, max_side: int = 720) -> bytes | None:
    """A downscaled JPEG of a stored image: the browser never receives full-size files."""
    from dashboard.components import downscale

    try:
        return downscale(service().storage.get(key), max_side)
    except Exception:
        return None
