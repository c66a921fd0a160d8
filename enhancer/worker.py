"""The Celery app workers run: ``celery -A enhancer.worker worker --concurrency N -n NAME@%h``.

A worker needs only the configuration (``DATABASE_URL``/``MYSQL_*``, the object
store, ``BROKER_URL``), read once here from the environment / ``.env`` like the
CLI: no shared disk. Each pool process builds its own database engine and
storage client; the main process migrates the database once, then every few
seconds records its heartbeat (the System page's worker list) and sweeps the
active batches (:func:`enhancer.batch.dispatch.sweep`).

The task is ``pixel_lab.item(item_id, batch_id)``: claim, make, record
(:mod:`enhancer.batch.items`), then top the batch's window up.
"""
from __future__ import annotations

import logging
import os
import random
import socket
import threading

from celery import signals
from celery.worker import state as worker_state

from .broker import ITEM_TASK, broker_url, make_app, publish
from .config import load_settings

log = logging.getLogger("enhancer.worker")
SWEEP_S = 5.0
settings = load_settings()
# The celery command reads BROKER_URL itself and hands it on as CELERY_BROKER_URL, which beats the app's
# configuration: give it the URL built from the settings (the same, except an SQS endpoint's host and keys).
if settings.broker_url and os.environ.get("CELERY_BROKER_URL") == settings.broker_url:
    os.environ["CELERY_BROKER_URL"] = broker_url(settings)
app = make_app(settings)
_local: dict = {}


def backends():
    """This process's Backends (built on first use; pool processes build their own after the fork)."""
    if "b" not in _local:
        from db import make_engine

        from .app import build_backends

        _local["b"] = build_backends(settings, engine=make_engine(settings.database_url, migrate=False))
    return _local["b"]


def loader():
    if "loader" not in _local:
        from .batch.fetch import FetchPolicy, Fetcher
        from .batch.items import Loader

        policy = FetchPolicy(max_bytes=settings.max_upload_bytes, allow_private=settings.allow_private_urls)
        _local["loader"] = Loader(backends(), Fetcher(policy, pool_size=2))
    return _local["loader"]


def _publish(batch_id: str, item_ids: list[str]) -> int:
    return publish(settings, batch_id, item_ids, app=app)


def _dispatch_kw() -> dict:
    return dict(window=settings.batch_window, resend_after_s=settings.broker_visibility_timeout_s)


@app.task(name=ITEM_TASK, bind=True, max_retries=20)
def process_item(self, item_id: str, batch_id: str | None = None) -> None:
    from .batch.dispatch import top_up
    from .batch.items import run_item, transient

    b = backends()
    try:
        outcome = run_item(b, item_id, self.request.id, worker=f"{self.request.hostname}:{os.getpid()}",
                           max_attempts=settings.task_max_attempts, loader=loader())
    except Exception as exc:
        if not transient(exc):
            raise
        # the database or the store is down past the in-task retries: later, same task id (same claim)
        log.warning("[WORKER] item %s: %s; retrying later", item_id[:8], exc)
        raise self.retry(countdown=min(60, 5 * 2 ** self.request.retries)) from None
    log.info("[WORKER] item %s: %s", item_id[:8], outcome)
    # refill the batch's window now and then, not after every item (a top-up is a locked read of the batch);
    # the sweep covers a window that runs dry in between
    if batch_id and _refill_due(batch_id):
        try:
            top_up(b, batch_id, _publish, **_dispatch_kw())
        except Exception:  # the sweep tops it up later
            log.warning("[WORKER] could not top up batch %s", batch_id[:8], exc_info=True)


def _refill_due(batch_id: str) -> bool:
    # every quarter window of this process's own items: even a lone process refills before half is used
    counts = _local.setdefault("done_per_batch", {})
    counts[batch_id] = counts.get(batch_id, 0) + 1
    return counts[batch_id] % max(1, settings.batch_window // 4) == 1 or settings.batch_window < 8


# -- the main process: migrate once, then heartbeat and sweep -------------------------------------------

@signals.worker_init.connect
def _migrate(sender=None, **_) -> None:
    from db import make_engine

    make_engine(settings.database_url).dispose()  # applies pending migrations, before any pool process starts


@signals.worker_process_init.connect
def _pool_process(**_) -> None:
    import cv2

    # Connections the main process opened belong to it: forget them here without closing them.
    main = _local.pop("b", None)
    if main is not None:
        main.engine.dispose(close=False)
    _local.clear()
    cv2.setNumThreads(1)  # the pool's processes are the parallelism


@signals.worker_ready.connect
def _start_sweeper(sender=None, **_) -> None:
    stop = threading.Event()
    _local["stop"] = stop
    name = getattr(sender, "hostname", None) or f"worker@{socket.gethostname()}"
    concurrency = getattr(getattr(sender, "controller", None), "concurrency", None) or \
        getattr(getattr(sender, "pool", None), "limit", None) or 1
    threading.Thread(target=_sweeper, args=(stop, name, int(concurrency)), daemon=True,
                     name="pixel-lab-sweep").start()


@signals.worker_shutdown.connect
def _stop_sweeper(**_) -> None:
    stop = _local.get("stop")
    if stop is not None:
        stop.set()


def _sweeper(stop: threading.Event, name: str, concurrency: int) -> None:
    from .batch.dispatch import sweep
    from .batch.workers import beat

    started = None
    while True:
        try:
            started = beat(backends(), name=name, host=socket.gethostname(), pid=os.getpid(),
                           queue=settings.broker_queue, concurrency=concurrency,
                           tasks_done=sum(worker_state.total_count.values()), started=started)
            sweep(backends(), _publish, stale_after_s=settings.task_time_limit_s + 30,
                  max_attempts=settings.task_max_attempts, **_dispatch_kw())
        except Exception:
            log.warning("[WORKER] sweep failed; next one in %.0f s", SWEEP_S, exc_info=True)
        if stop.wait(SWEEP_S * random.uniform(0.8, 1.2)):  # jitter: many workers do not sweep in step
            return
