"""What the service works with: one small value, built once by :func:`enhancer.app.build_backends`."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from ..imageio import DEFAULT_MAX_PIXELS
from ..storage import Storage

THUMBNAIL_PX = 320


@dataclass(frozen=True)
class Limits:
    """Inputs above these are refused before any work (the message says which limit)."""

    max_upload_bytes: int = 50 * 1024 * 1024
    max_pixels: int = DEFAULT_MAX_PIXELS


@dataclass(frozen=True)
class Backends:
    """The database, the object store, the AI providers and the limits the service runs on.

    Parameters
    ----------
    engine : sqlalchemy.Engine
        A migrated database (see :func:`db.make_engine`).
    storage : Storage
        Where originals, results and thumbnails go.
    providers : mapping, optional
        AI providers by name (see :mod:`enhancer.providers`); ``local`` needs none.
    default_ai : str
        The provider a request without ``ai`` uses (``AI_PROVIDER``).
    review_all : bool
        Put every result up for review, even a single local one (``REVIEW_ALL=1``).
    """

    engine: Engine
    storage: Storage
    providers: Mapping[str, object] = field(default_factory=dict)
    limits: Limits = Limits()
    default_ai: str = "local"
    review_all: bool = False

    def session(self) -> Session:
        """A new session on the database; the caller owns the transaction (``with b.session() as s, s.begin()``)."""
        return Session(self.engine, expire_on_commit=False)
