"""Ride out database and storage blips: which errors are worth another try, and bounded backoff.

A batch runs for hours; a database failover or an S3 hiccup of a few seconds
must cost a pause, not the batch. Bookkeeping writes (claims, heartbeats,
outcomes) are retried here with backoff for about a minute in all; an item
whose work failed on a blip goes back to pending for a later attempt (at most
``MAX_ITEM_ATTEMPTS``). Anything else (a bad photo, a refused write) fails as before.
"""
from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import TypeVar

from db.session import describe_error, is_transient

from ..errors import DatabaseError, StorageError

log = logging.getLogger("enhancer.batch")
T = TypeVar("T")
# About a minute in all: long enough for a blip or a failover, short enough to notice an outage.
DELAYS_S = (0.2, 0.5, 1.0, 2.0, 4.0, 8.0, 15.0, 30.0)
MAX_ITEM_ATTEMPTS = 5


def transient(exc: BaseException | None) -> bool:
    """Could the same work succeed shortly: a lost connection, a timeout, a lock wait, an S3 5xx?"""
    seen = 0
    while exc is not None and seen < 5:  # the error, or what it wraps (the service wraps driver errors)
        if getattr(exc, "transient", False) or is_transient(exc):
            return True
        if not isinstance(exc, (DatabaseError, StorageError)):
            return False
        exc, seen = exc.__cause__, seen + 1
    return False


def reason(exc: BaseException, engine=None) -> str:
    """One line for the log: the database's own description when it is a database error."""
    from sqlalchemy.exc import SQLAlchemyError

    if isinstance(exc, SQLAlchemyError):
        return describe_error(exc, engine)
    return f"{exc.__class__.__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"


def with_retry(what: str, fn: Callable[[], T], *, engine=None, stop: threading.Event | None = None,
               delays: tuple[float, ...] = DELAYS_S) -> T:
    """``fn()``, tried again after each delay while it fails on a transient error.

    Logs one line per failed try (no traceback) and one when it recovers.
    Raises the last error when it is not transient or the delays run out.
    """
    failures = 0
    while True:
        try:
            out = fn()
        except Exception as exc:
            if failures >= len(delays) or not transient(exc):
                raise
            delay = delays[failures]
            failures += 1
            log.warning("[BATCH] %s failed (%s); try %d in %g s", what, reason(exc, engine), failures + 1, delay)
            if stop is not None and stop.wait(delay):
                raise
            if stop is None:
                time.sleep(delay)
            continue
        if failures:
            log.info("[BATCH] %s succeeded after %d retr%s", what, failures, "y" if failures == 1 else "ies")
        return out
