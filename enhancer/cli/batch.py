"""Bulk commands: ``batch`` prints progress on stderr and one final JSON line on stdout.

Exit 0 when every item completed or was reused, 1 when some failed (they are
recorded), 2 for bad input.
"""
from __future__ import annotations

import os
import sys
import time
from pathlib import Path

from .common import EXIT_FAIL, EXIT_OK, actor, add_enhance_opts, backends, bounded, emit, options, write_out


def args_batch(p) -> None:
    p.add_argument("source", type=Path, help="MANIFEST.csv|.xlsx, ARCHIVE.zip or FOLDER")
    add_enhance_opts(p)
    _run_args(p)
    p.add_argument("--name", default=None, help="batch name (default: the source's name)")
    p.add_argument("--detach", action="store_true",
                   help="with BROKER_URL: print {\"batch_ids\": [...]} once queued, do not follow")


def _run_args(p) -> None:
    p.add_argument("--workers", type=bounded(1, 256), default=None, help="photos in flight (default: CPU count)")
    p.add_argument("--processes", type=bounded(0, 256), default=None,
                   help="enhance in N worker processes (default: one per CPU when there are two or more; "
                        "0: threads only)")
    p.add_argument("--force", action="store_true", help="enhance again even if the same bytes were done")


def args_batch_id(p) -> None:
    p.add_argument("batch_id")


def args_batch_run(p) -> None:
    p.add_argument("batch_id")
    _run_args(p)


def args_batch_export(p) -> None:
    p.add_argument("batch_id")
    p.add_argument("--format", choices=("csv", "json", "xlsx"), default="csv", dest="export_format")
    p.add_argument("--output", type=Path, default=None, help="file to write (default: stdout, not for xlsx "
                                                                "on a terminal)")


def args_batches(p) -> None:
    p.add_argument("--limit", type=bounded(1, 1000), default=50)


class Progress:
    """A plain-text progress line on stderr (``\\r`` on a terminal, one line per update otherwise)."""

    def __init__(self, stream=sys.stderr, every_s: float = 1.0):
        self.stream, self.every_s, self._last, self._line = stream, every_s, 0.0, ""
        self.tty = hasattr(stream, "isatty") and stream.isatty()

    def __call__(self, sm) -> None:
        now = time.monotonic()
        if now - self._last < self.every_s and sm.done < sm.total:
            return
        self._last = now
        width = 24
        filled = int(width * sm.done / sm.total) if sm.total else width
        eta = "--" if sm.eta_s is None else f"{int(sm.eta_s) // 60}m{int(sm.eta_s) % 60:02d}s"
        line = (f"{sm.name[:30]} [{'#' * filled}{'.' * (width - filled)}] {sm.done}/{sm.total} "
                f"ok {sm.completed} failed {sm.failed} skipped {sm.skipped} | {sm.images_per_minute:.0f}/min "
                f"ETA {eta}")
        if line == self._line:
            return
        self._line = line
        self.stream.write(("\r" + line) if self.tty else line + "\n")
        self.stream.flush()

    def close(self) -> None:
        if self.tty:
            self.stream.write("\n")


def _runner(args, settings, b):
    from ..batch import BatchRunner
    from ..batch.fetch import FetchPolicy

    procs = getattr(args, "processes", None)
    if procs is None:
        # Threads share one interpreter lock: on 2 cores they kept about 1.3 cores
        # busy, processes about 2 (benchmarks/bulk.py).
        cpus = os.cpu_count() or 1
        procs = cpus if cpus >= 2 else 0
    return BatchRunner(b, workers=args.workers, force=getattr(args, "force", False), processes=procs,
                       settings=settings, on_progress=Progress(),
                       fetch_policy=FetchPolicy(max_bytes=settings.max_upload_bytes,
                                                allow_private=settings.allow_private_urls))


def _run_all(runner, b, ids: list[str]) -> int:
    from ..batch.control import summary

    def processed_now() -> int:
        return sum(sm.completed + sm.failed for sm in (summary(b, x, failures=0) for x in ids))

    before = processed_now()
    t0 = time.perf_counter()
    total = completed = failed = skipped = 0
    try:
        for bid in ids:
            sm = runner.run(bid)
            if sm.status in ("paused", "cancelled"):
                break
    finally:
        runner.close()
        runner.on_progress.close()
    elapsed = time.perf_counter() - t0
    for bid in ids:
        sm = summary(b, bid, failures=0)
        total, completed, failed, skipped = (total + sm.total, completed + sm.completed, failed + sm.failed,
                                             skipped + sm.skipped)
    processed = completed + failed - before  # this run only, so a resumed batch reports its real rate
    emit({"batch_id": ids[0], "batch_ids": ids, "total": total, "completed": completed, "failed": failed,
          "skipped": skipped, "elapsed_s": round(elapsed, 2),
          "images_per_minute": round(processed / elapsed * 60, 1) if elapsed else 0.0})
    return EXIT_FAIL if failed else EXIT_OK


def cmd_batch(args, settings) -> int:
    from ..batch.control import start

    if settings.broker_url:  # on Celery workers (enhancer/cli/workers.py)
        from .workers import cmd_batch as on_workers

        return on_workers(args, settings)
    if getattr(args, "detach", False):
        raise ValueError("--detach needs BROKER_URL (workers to run the batch); "
                         "without it the batch runs here")

    opts = options(args, settings)
    b = backends(settings)
    ids = start(b, args.source, actor=actor(), options=opts, name=args.name, max_batch_size=settings.max_batch_size)
    return _run_all(_runner(args, settings, b), b, ids)


def _runs(action: str):
    def cmd(args, settings) -> int:
        from ..batch.control import family_ids, request

        if settings.broker_url:
            from .workers import run_again

            return run_again(action)(args, settings)
        b = backends(settings)
        ids = family_ids(b, args.batch_id)
        request(b, args.batch_id, action, actor=actor())
        return _run_all(_runner(args, settings, b), b, ids)
    return cmd


def _control(action: str):
    def cmd(args, settings) -> int:
        from ..batch.control import request, summary

        b = backends(settings)
        request(b, args.batch_id, action, actor=actor())
        emit(summary(b, args.batch_id).to_dict())
        return EXIT_OK
    return cmd


def cmd_batch_status(args, settings) -> int:
    from ..batch.control import summary

    emit(summary(backends(settings), args.batch_id, failures=10).to_dict())
    return EXIT_OK


def cmd_batch_export(args, settings) -> int:
    from ..batch import export_batch
    from ..batch.control import family_ids

    b = backends(settings)
    family_ids(b, args.batch_id)  # unknown id: exit 2 before anything is written
    data = export_batch(b, args.batch_id, args.export_format)
    write_out(data, args.output, what=f"the {args.export_format} export", binary=args.export_format == "xlsx")
    return EXIT_OK


def cmd_batches(args, settings) -> int:
    from db import batch_repo as br

    from ..batch.control import summarize

    b = backends(settings)
    with b.session() as s:
        emit({"batches": [summarize(s, x, failures=0).to_dict() for x in br.list_batches(s, limit=args.limit)]})
    return EXIT_OK


cmd_batch_resume, cmd_batch_retry = _runs("resume"), _runs("retry")
cmd_batch_pause, cmd_batch_cancel = _control("pause"), _control("cancel")
