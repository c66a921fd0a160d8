"""Batch subcommands for ``python -m enhancer`` (registered by :func:`register`).

``batch`` prints a progress line on stderr and one final JSON line on stdout;
exit 0 when every item completed or was reused, 1 when some failed (they are
recorded), 2 for bad input.
"""
from __future__ import annotations

import os
import sys
import time
from pathlib import Path

EXIT_OK, EXIT_FAIL, EXIT_BAD_INPUT = 0, 1, 2


def register(sub) -> None:
    from .cli import _add_enhance_opts

    b = sub.add_parser("batch", help="enhance a CSV/XLSX manifest of URLs, a ZIP or a folder of photos")
    b.add_argument("source", type=Path, help="MANIFEST.csv|.xlsx, ARCHIVE.zip or FOLDER")
    _add_enhance_opts(b)
    b.add_argument("--workers", type=int, default=None, help="photos in flight (default: CPU count)")
    b.add_argument("--processes", type=int, default=None,
                   help="enhance in N worker processes (default: one per CPU when there are two or more; "
                        "0: threads only)")
    b.add_argument("--name", default=None, help="batch name (default: the source's name)")
    b.add_argument("--force", action="store_true", help="enhance again even if the same bytes were done")
    for cmd, text in (("batch-status", "counts, rate and recent failures"),
                      ("batch-resume", "continue a paused or interrupted batch"),
                      ("batch-cancel", "cancel a batch (pending items are skipped)"),
                      ("batch-pause", "pause a batch (the runner stops after the photos in flight)"),
                      ("batch-retry", "retry the failed items of a batch")):
        p = sub.add_parser(cmd, help=text)
        p.add_argument("batch_id")
        if cmd in ("batch-resume", "batch-retry"):
            p.add_argument("--workers", type=int, default=None)
            p.add_argument("--processes", type=int, default=None)
            p.add_argument("--force", action="store_true")
    e = sub.add_parser("batch-export", help="export a batch's items")
    e.add_argument("batch_id")
    e.add_argument("--format", choices=("csv", "json", "xlsx"), default="csv", dest="export_format")
    e.add_argument("--output", type=Path, default=None, help="file to write (default: stdout)")
    sub.add_parser("batches", help="list recent batches")


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


def _runner(args, settings, svc):
    from .batch import BatchRunner
    from .batch.fetch import FetchPolicy

    procs = getattr(args, "processes", None)
    if procs is None:
        # Threads share one interpreter lock: on 2 cores they kept about 1.3 cores
        # busy, processes about 2 (benchmarks/bulk.py).
        cpus = os.cpu_count() or 1
        procs = cpus if cpus >= 2 else 0
    return BatchRunner(svc, workers=args.workers, force=getattr(args, "force", False), processes=procs,
                       settings=settings, on_progress=Progress(),
                       fetch_policy=FetchPolicy(max_bytes=settings.max_upload_bytes,
                                                allow_private=settings.allow_private_urls))


def _run_all(runner, svc, ids: list[str]) -> int:
    from .batch.control import summary
    from .cli import _emit

    def processed_now() -> int:
        return sum(sm.completed + sm.failed for sm in (summary(svc, b, failures=0) for b in ids))

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
        sm = summary(svc, bid, failures=0)
        total, completed, failed, skipped = (total + sm.total, completed + sm.completed, failed + sm.failed,
                                             skipped + sm.skipped)
    processed = completed + failed - before  # this run only, so a resumed batch reports its real rate
    _emit({"batch_id": ids[0], "batch_ids": ids, "total": total, "completed": completed, "failed": failed,
           "skipped": skipped, "elapsed_s": round(elapsed, 2),
           "images_per_minute": round(processed / elapsed * 60, 1) if elapsed else 0.0})
    return EXIT_FAIL if failed else EXIT_OK


def cmd_batch(args, settings) -> int:
    from .app import build_service
    from .batch import create_batches
    from .batch.runner import RunOptions

    from .profiles import get_profile
    from .service import MAX_TARGET_KB, MIN_TARGET_KB

    if args.workers is not None and args.workers < 1:
        raise ValueError("--workers must be at least 1")
    if args.target_kb is not None and not MIN_TARGET_KB <= args.target_kb <= MAX_TARGET_KB:
        raise ValueError(f"--target-kb must be between {MIN_TARGET_KB} and {MAX_TARGET_KB}, got {args.target_kb}")
    if args.profile:
        args.profile = get_profile(args.profile).name  # unknown names fail here, listing the valid ones
    svc = build_service(settings)
    if not 1 <= args.variants <= 10:
        raise ValueError(f"--variants must be between 1 and 10, got {args.variants}")
    opts = RunOptions(mode=args.mode, target_size_kb=args.target_kb, output_format=args.output_format,
                      profile=args.profile, force=args.force, ai=args.ai, variants=args.variants)
    ids = create_batches(svc, args.source, options=opts, name=args.name, max_batch_size=settings.max_batch_size)
    return _run_all(_runner(args, settings, svc), svc, ids)


def _family_ids(svc, batch_id: str) -> list[str]:
    """``[batch_id]`` if it exists (NotFoundError, exit 2, otherwise)."""
    from db import batch_repo as br
    from .errors import NotFoundError

    with svc.session() as s:
        if br.get_batch(s, batch_id) is None:
            raise NotFoundError(f"No batch with id {batch_id}")
        return [batch_id]


def cmd_batch_resume(args, settings) -> int:
    from .app import build_service
    from .batch.control import request

    svc = build_service(settings)
    ids = _family_ids(svc, args.batch_id)
    request(svc, args.batch_id, "resume")
    return _run_all(_runner(args, settings, svc), svc, ids)


def cmd_batch_retry(args, settings) -> int:
    from .app import build_service
    from .batch.control import request

    svc = build_service(settings)
    ids = _family_ids(svc, args.batch_id)
    request(svc, args.batch_id, "retry")
    return _run_all(_runner(args, settings, svc), svc, ids)


def _control(action: str):
    def cmd(args, settings) -> int:
        from .app import build_service
        from .batch.control import request, summary
        from .cli import _emit

        svc = build_service(settings)
        _family_ids(svc, args.batch_id)
        request(svc, args.batch_id, action)
        _emit(summary(svc, args.batch_id).to_dict())
        return EXIT_OK
    return cmd


def cmd_batch_status(args, settings) -> int:
    from .app import build_service
    from .batch.control import summary
    from .cli import _emit

    svc = build_service(settings)
    _family_ids(svc, args.batch_id)
    _emit(summary(svc, args.batch_id, failures=10).to_dict())
    return EXIT_OK


def cmd_batch_export(args, settings) -> int:
    from .app import build_service
    from .batch import export_batch

    svc = build_service(settings)
    _family_ids(svc, args.batch_id)
    data = export_batch(svc, args.batch_id, args.export_format)
    if args.output:
        args.output.write_bytes(data)
        print(f"wrote {len(data)} bytes to {args.output}", file=sys.stderr)
    else:
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
    return EXIT_OK


def cmd_batches(args, settings) -> int:
    from db import batch_repo as br
    from .app import build_service
    from .batch.control import summarize
    from .cli import _emit

    svc = build_service(settings)
    with svc.session() as s:
        _emit({"batches": [summarize(s, b, failures=0).to_dict() for b in br.list_batches(s)]})
    return EXIT_OK


COMMANDS = {"batch": cmd_batch, "batch-status": cmd_batch_status, "batch-resume": cmd_batch_resume,
            "batch-cancel": _control("cancel"), "batch-pause": _control("pause"),
            "batch-retry": cmd_batch_retry, "batch-export": cmd_batch_export, "batches": cmd_batches}
