"""Workers as the database sees them: each Celery worker's heartbeat row, for ``check`` and the System page.

The database, not the broker, keeps the list: it works on every broker (SQS
has no broadcast to ask workers with) and survives a broker restart.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select, update

from db.batch_models import Worker
from db.models import utcnow

from ..service import Backends

LIVE_S = 30.0


def beat(b: Backends, *, name: str, host: str, pid: int, queue: str, concurrency: int, tasks_done: int,
         started: datetime | None = None) -> datetime:
    """Record that this worker is alive (one row per worker name); returns its start time."""
    now = utcnow()
    started = started or now
    values = dict(host=host[:255], pid=pid, queue=queue[:80], concurrency=concurrency, tasks_done=tasks_done,
                  last_seen_at=now, started_at=started)
    with b.session() as s, s.begin():
        if not s.execute(update(Worker).where(Worker.name == name).values(**values)).rowcount:
            s.add(Worker(name=name[:255], **values))
    return started


def live_workers(b: Backends, *, within_s: float = LIVE_S) -> list[dict]:
    """Workers heard from within ``within_s`` seconds: name, host, concurrency, tasks done, last seen."""
    with b.session() as s:
        rows = s.scalars(select(Worker).where(Worker.last_seen_at >= utcnow() - timedelta(seconds=within_s))
                         .order_by(Worker.name))
        return [{"name": w.name, "host": w.host, "pid": w.pid, "queue": w.queue, "concurrency": w.concurrency,
                 "tasks_done": w.tasks_done, "started_at": w.started_at, "last_seen_at": w.last_seen_at}
                for w in rows]
