"""Start batches running: the one place every caller (dashboard, API) hands batches over to be run.

Today they run on threads of this process (:class:`~enhancer.batch.background.BackgroundRuns`,
one registry per database, shared by the dashboard and the API in one process). A deployment
with workers replaces the body of :func:`start_batches` with a broker call; callers do not change.
"""
from __future__ import annotations

import threading

from ..service import Backends
from .background import BackgroundRuns

_RUNS: dict[str, BackgroundRuns] = {}
_GUARD = threading.Lock()


def _registry(b: Backends, allow_private_urls: bool) -> BackgroundRuns:
    key = b.engine.url.render_as_string(hide_password=False)
    with _GUARD:
        runs = _RUNS.get(key)
        if runs is None:
            runs = _RUNS[key] = BackgroundRuns(b, allow_private_urls=allow_private_urls)
        return runs


def start_batches(b: Backends, settings, ids: list[str], *, workers: int | None = None,
                  force: bool = False) -> bool:
    """Run the batches ``ids`` one after another in the background; False if one already runs here.

    Parameters
    ----------
    b : Backends
    settings : enhancer.config.Settings
        For what a runner needs beyond ``b`` (``allow_private_urls`` for manifest URLs).
    ids : list of str
        Batch ids in run order (the parts of one split upload, in order).
    workers, force
        As :class:`~enhancer.batch.runner.BatchRunner` takes them.
    """
    if not ids:
        return False
    return _registry(b, bool(getattr(settings, "allow_private_urls", False))).start(
        list(ids), workers=workers, force=force)


def running_here(b: Backends, batch_id: str) -> bool:
    """Is this process running the batch (started by :func:`start_batches`)?"""
    key = b.engine.url.render_as_string(hide_password=False)
    with _GUARD:
        runs = _RUNS.get(key)
    return runs is not None and runs.running(batch_id)
