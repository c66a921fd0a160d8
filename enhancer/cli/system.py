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
    from db.session import current_revision, make_engine

    engine = make_engine(settings.database_url)
    emit({"database": engine.url.render_as_string(hide_password=True), "revision": current_revision(engine)})
    return EXIT_OK


def cmd_create_bucket(args, settings) -> int:
    from ..storage import S3Storage, storage_from_settings

    st = storage_from_settings(settings)
    if not isinstance(st, S3Storage):
        raise ValueError("S3_BUCKET is not set: storage is the local folder "
                         f"{settings.storage_dir}, which needs no bucket")
    emit({"bucket": st.bucket, "created": st.create_bucket()})
    return EXIT_OK
