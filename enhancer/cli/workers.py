"""Bulk commands with a broker (``BROKER_URL``): enqueue, then follow progress from the database.

The final JSON line has the same fields as the local runner's; ``--detach``
prints ``{"batch_ids": [...]}`` at once instead.
"""
from __future__ import annotations

import time

from .common import EXIT_FAIL, EXIT_OK, backends, emit, options, say

FOLLOW_S = 1.0
STOPPED = ("completed", "cancelled", "failed", "paused")


def cmd_batch(args, settings) -> int:
    from ..batch.start import submit

    b = backends(settings)
    started = submit(b, settings, args.source, options=options(args, settings), name=args.name,
                     workers=args.workers, force=args.force)
    return _after_start(args, b, started["batch_ids"])


def run_again(action: str):
    """``batch-resume`` / ``batch-retry`` on the broker: write the request, queue the work, follow it."""
    def cmd(args, settings) -> int:
        from ..batch.control import family_ids, request
        from ..batch.start import start_batches

        b = backends(settings)
        ids = family_ids(b, args.batch_id)
        from .. import broker

        broker.ping(settings)  # before the request changes anything
        request(b, args.batch_id, action)
        start_batches(b, settings, ids, workers=args.workers, force=args.force)
        return _after_start(args, b, ids)
    return cmd


def _after_start(args, b, ids: list[str]) -> int:
    if getattr(args, "detach", False):
        emit({"batch_ids": ids})
        return EXIT_OK
    return follow(b, ids)


def follow(b, ids: list[str], *, every_s: float = FOLLOW_S) -> int:
    """Progress on stderr until every part has stopped, then the summary JSON; exit 1 when items failed."""
    from ..batch.control import summary
    from .batch import Progress

    progress = Progress()
    t0 = time.perf_counter()
    before = sum(sm.completed + sm.failed for sm in (summary(b, x, failures=0) for x in ids))
    try:
        while True:
            parts = [summary(b, x, failures=0) for x in ids]
            current = next((p for p in parts if p.status not in STOPPED), parts[-1])
            progress(current)
            if all(p.status in STOPPED for p in parts):
                break
            time.sleep(every_s)
    except KeyboardInterrupt:
        progress.close()
        say("stopped following; the batch goes on on the workers (batch-status / batch-pause BATCH_ID)")
        emit({"batch_ids": ids})
        return 130
    progress.close()
    elapsed = time.perf_counter() - t0
    parts = [summary(b, x, failures=0) for x in ids]
    total, completed, failed, skipped = (sum(getattr(p, k) for p in parts)
                                         for k in ("total", "completed", "failed", "skipped"))
    processed = completed + failed - before
    emit({"batch_id": ids[0], "batch_ids": ids, "total": total, "completed": completed, "failed": failed,
          "skipped": skipped, "elapsed_s": round(elapsed, 2),
          "images_per_minute": round(processed / elapsed * 60, 1) if elapsed else 0.0})
    return EXIT_FAIL if failed else EXIT_OK
