"""Configuration, database and storage: check, init-db, create-bucket."""
from __future__ import annotations

from .common import EXIT_FAIL, EXIT_OK, emit, say


def cmd_check(args, settings) -> int:
    from ..app import run_checks

    checks = run_checks(settings)
    for c in checks:
        say(f"{'✓' if c.ok else '✗'} {c.name}: {c.detail}")
    emit({"ok": all(c.ok for c in checks), "checks": [c.__dict__ for c in checks], "settings": settings.masked()})
    return EXIT_OK if all(c.ok for c in checks) else EXIT_FAIL


def cmd_init_db(args, settings) -> int:
    from db.session import current_revision

    from ..app import engine_from_settings
    from ..config import mask_url

    engine = engine_from_settings(settings)
    emit({"database": mask_url(settings.database_url), "revision": current_revision(engine)})
    return EXIT_OK


def args_gc(p) -> None:
    p.add_argument("--dry-run", action="store_true", help="say what would be done, change nothing")
    p.add_argument("--grace-s", type=int, default=3600,
                   help="leave unreferenced objects younger than this alone (uploads in flight); default 3600")


def cmd_gc(args, settings) -> int:
    """Reconcile store and database: orphan objects removed, rows whose files are gone marked FAILED."""
    from ..app import build_backends
    from ..gc import reconcile

    b = build_backends(settings)
    report = reconcile(b.engine, b.storage, grace_s=args.grace_s, dry_run=args.dry_run)
    for line in report.lines():
        say(line)
    emit(report.to_dict())
    return EXIT_OK if not report.delete_errors else EXIT_FAIL


def cmd_create_bucket(args, settings) -> int:
    from ..storage import S3Storage, storage_from_settings

    st = storage_from_settings(settings)
    if not isinstance(st, S3Storage):
        raise ValueError("S3_BUCKET is not set: storage is the local folder "
                         f"{settings.storage_dir}, which needs no bucket")
    emit({"bucket": st.bucket, "created": st.create_bucket()})
    return EXIT_OK
