"""Start batches the one way every caller uses (CLI, Bulk page, API): on workers or in a runner process.

With ``BROKER_URL`` set, :func:`start_batches` puts the first window of items
on the broker and returns; Celery workers on any machine do the rest. Without
it (the embedded default), it starts ``python -m enhancer batch-resume ID`` as
a detached process with the same settings, so a page reload or an app
restart does not stop the batch, and it runs at the CLI's speed.
:func:`resume_stalled` restarts a batch whose local runner died.
"""
from __future__ import annotations

import logging
import os
import socket
import subprocess
import sys
import threading
from datetime import timedelta
from pathlib import Path

from sqlalchemy import update

from db import batch_repo as br
from db.batch_models import Batch, BatchStatus
from db.models import utcnow

from .._alloc import on_huge_pages
from ..config import Settings, settings_env
from ..service import Backends
from .control import family_ids
from .dispatch import prepare_start, top_up
from .errors import BatchError, BrokerError

log = logging.getLogger("enhancer.batch")
SPAWN_GRACE_S = 60.0


def start_batches(b: Backends, settings: Settings, ids: list[str], *, workers: int | None = None,
                  force: bool = False) -> dict:
    """Run these batches (queued, paused or with retried items) without blocking the caller.

    Returns ``{"batch_ids": ids, "mode": "broker"|"local", "queued": n}`` (``pid`` for local).

    Raises
    ------
    BrokerError
        The broker cannot be reached (nothing is changed).
    BatchError
        A batch is cancelled or unknown.
    """
    if not ids:
        raise ValueError("no batch ids to start")
    if settings.broker_url:
        return _start_on_broker(b, settings, ids, force=force)
    with b.session() as s, s.begin():
        for bid in ids:
            batch = br.get_batch(s, bid)
            if batch is None:
                raise BatchError(f"No batch with id {bid}")
            if force:
                batch.options = {**(batch.options or {}), "force": True}
            # tells resume_stalled that a runner is on its way (it leaves the batch alone for a minute)
            batch.runner, batch.updated_at = f"{socket.gethostname()[:100]}:spawning", utcnow()
    pid = spawn_runner(settings, ids[0], workers=workers, force=force)
    return {"batch_ids": list(ids), "mode": "local", "pid": pid}


def _start_on_broker(b: Backends, settings: Settings, ids: list[str], *, force: bool) -> dict:
    from .. import broker

    from .stage import stage_batches

    broker.ping(settings)  # before any state changes: an unreachable broker leaves everything as it was
    stage_batches(b, ids)  # workers read sources from the object store (a no-op for a staged batch)
    with b.session() as s, s.begin():
        for bid in ids:
            batch = br.get_batch(s, bid)
            if batch is None:
                raise BatchError(f"No batch with id {bid}")
            if batch.status == BatchStatus.CANCELLED:
                raise BatchError(f"batch {bid} was cancelled; start a new batch instead")
            if batch.status == BatchStatus.PAUSED:
                br.set_status(s, bid, BatchStatus.QUEUED)
            if force:
                batch.options = {**(batch.options or {}), "force": True}
    queued = 0
    for bid in ids:
        prepare_start(b, bid)
        queued += top_up(b, bid, lambda batch_id, item_ids: broker.publish(settings, batch_id, item_ids),
                         window=settings.batch_window, resend_after_s=settings.broker_visibility_timeout_s)
    return {"batch_ids": list(ids), "mode": "broker", "queued": queued}


def spawn_runner(settings: Settings, batch_id: str, *, workers: int | None = None,
                 force: bool = False) -> int:
    """``python -m enhancer batch-resume ID`` in a new session (it outlives its parent); returns its pid."""
    logs = settings.data_dir / "batches" / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    cmd = [sys.executable, "-m", "enhancer", "batch-resume", batch_id]
    if workers:
        cmd += ["--workers", str(workers)]
    if force:
        cmd.append("--force")
    env = on_huge_pages({**os.environ, **settings_env(settings), "PYTHONUNBUFFERED": "1"})
    root = Path(__file__).resolve().parents[2]  # so ``-m enhancer`` resolves from any working directory
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(root), env.get("PYTHONPATH", "")) if p)
    with open(logs / f"{batch_id}.log", "ab") as out:
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT, env=env,
                                start_new_session=True)
    # reap it when it ends (no zombie left in a long-lived parent such as the Streamlit server)
    threading.Thread(target=proc.wait, daemon=True, name=f"reap-{proc.pid}").start()
    log.info("[BATCH] %s: runner started as process %d (log %s)", batch_id[:8], proc.pid, out.name)
    return proc.pid


def resume_stalled(b: Backends, settings: Settings) -> list[str]:
    """Restart local batches left ``running`` by a process that died; returns the batch ids restarted.

    Any number of callers may call this at once (every open Bulk page does):
    one conditional update decides which of them starts the runner. With a
    broker there is nothing to do: any live worker picks the batch up again.
    """
    if settings.broker_url:
        return []
    with b.session() as s:
        candidates = [(x.id, x.runner, x.updated_at) for x in br.list_batches(s, limit=200)
                      if x.status == BatchStatus.RUNNING and not br.runner_alive(x)]
    started = []
    tag = f"{socket.gethostname()[:100]}:spawning"
    for bid, runner, updated in candidates:
        if (runner or "").endswith(":spawning") and utcnow() - updated < timedelta(seconds=SPAWN_GRACE_S):
            continue  # another caller is starting it
        with b.session() as s, s.begin():
            won = s.execute(update(Batch).where(Batch.id == bid, Batch.status == BatchStatus.RUNNING,
                                                Batch.runner == runner if runner else Batch.runner.is_(None))
                            .values(runner=tag, updated_at=utcnow())).rowcount
        if won:
            head = family_ids(b, bid)[0]
            spawn_runner(settings, head)
            started.append(bid)
    return started


def submit(b: Backends, settings: Settings, source, *, options, name: str | None = None,
           workers: int | None = None, force: bool = False, stage: bool | None = None,
           actor="system") -> dict:
    """Create the batches for a source and start them: the whole of "enhance this manifest".

    With a broker, the broker is checked first (an unreachable one leaves
    nothing behind) and the source is staged in the object store for the workers.

    Raises
    ------
    BrokerError, IntakeError, ValueError
    """
    from ..service.access import require
    from ..service.audit import note_after
    from .runner import create_batches
    from .stage import stage_batches

    who = require(actor, "operator", action="start batches")
    on_broker = bool(settings.broker_url)
    if on_broker:
        from .. import broker

        broker.ping(settings)
    ids = create_batches(b, source, options=options, name=name, max_batch_size=settings.max_batch_size)
    if stage if stage is not None else on_broker:
        try:
            stage_batches(b, ids)
        except Exception as exc:
            _forget(b, ids)
            raise BrokerError(f"could not stage the source in the object store: {exc}") from exc
    note_after(b, who, "start", "batch", ids[0], parts=len(ids), name=name)
    return start_batches(b, settings, ids, workers=workers, force=force)


def _forget(b: Backends, ids: list[str]) -> None:
    # Staging failed: the batches were never started; remove them so a retry starts clean.
    with b.session() as s, s.begin():
        for bid in ids:
            batch = br.get_batch(s, bid)
            if batch is not None and batch.status == BatchStatus.QUEUED and batch.done == batch.failed:
                s.delete(batch)


def running_here(b: Backends, batch_id: str) -> bool:
    """Is a live runner (a local runner process, or workers) on this batch now?"""
    with b.session() as s:
        batch = br.get_batch(s, batch_id)
        return batch is not None and br.runner_alive(batch)
