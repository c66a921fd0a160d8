"""``python -m enhancer``: JSON on stdout, messages on stderr.

Exit codes: 0 ok, 2 bad input (not an image, bad option, unknown id), 1 any other failure.
"""
from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

from .app import build_service, run_checks
from .config import load_settings
from .errors import ConfigError, EnhancerError, InvalidImageError, NotFoundError
from .types import OUTPUT_FORMATS, Mode

EXIT_OK, EXIT_FAIL, EXIT_BAD_INPUT = 0, 1, 2
BAD_INPUT = (InvalidImageError, NotFoundError, ValueError, FileNotFoundError, IsADirectoryError)


def _emit(obj) -> None:
    sys.stdout.write(json.dumps(obj, default=str, ensure_ascii=False) + "\n")
    sys.stdout.flush()


def _say(msg: str) -> None:
    print(msg, file=sys.stderr)


def _mode(value: str) -> str:
    try:
        return Mode.parse(value).value
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _fmt(value: str) -> str:
    v = value.upper().replace("JPG", "JPEG")
    if v not in OUTPUT_FORMATS:
        raise argparse.ArgumentTypeError(f"format must be one of {', '.join(OUTPUT_FORMATS)}")
    return v


def _add_enhance_opts(p: argparse.ArgumentParser) -> None:
    p.add_argument("--mode", type=_mode, default="AUTO", help="enhancement mode (default AUTO)")
    p.add_argument("--target-kb", type=int, default=None, help="byte budget in KB (50-2000)")
    p.add_argument("--format", type=_fmt, default="JPEG", dest="output_format", help="JPEG, PNG or WEBP")
    p.add_argument("--profile", default=None, help="marketplace profile (for STANDARDIZE/FULL)")
    p.add_argument("--ai", default=None, help="AI provider: local, gemini or bedrock (default AI_PROVIDER)")
    p.add_argument("--variants", type=int, default=1, help="results per image, 1-10 (go to review)")


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m enhancer", description="Pixel Lab: enhance product photos.")
    p.add_argument("-v", "--verbose", action="store_true", help="log each stage to stderr")
    sub = p.add_subparsers(dest="command", required=True)
    e = sub.add_parser("enhance", help="enhance image files and record them")
    e.add_argument("files", nargs="+", type=Path)
    e.add_argument("--sku", default=None, help="SKU (one file only; default: the file name)")
    _add_enhance_opts(e)
    i = sub.add_parser("images", help="list recorded images")
    i.add_argument("--status", default=None)
    i.add_argument("--limit", type=int, default=50)
    i.add_argument("--offset", type=int, default=0)
    i.add_argument("--search", default=None)
    h = sub.add_parser("history", help="every enhancement of one image")
    h.add_argument("image_id")
    r = sub.add_parser("reenhance", help="enhance a stored original again")
    r.add_argument("image_id")
    _add_enhance_opts(r)
    sub.add_parser("check", help="configuration, database and storage reachable")
    sub.add_parser("init-db", help="create or migrate the database schema")
    sub.add_parser("create-bucket", help="create the S3 bucket (private, encrypted)")
    from . import batch_cli  # bulk subcommands live in their own module

    batch_cli.register(sub)
    COMMANDS.update(batch_cli.COMMANDS)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, stream=sys.stderr,
                        format="%(message)s")
    for noisy in ("alembic", "botocore", "urllib3"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    try:
        settings = load_settings()
    except ConfigError as exc:
        _say(f"configuration error: {exc}")
        return EXIT_BAD_INPUT
    try:
        return COMMANDS[args.command](args, settings)
    except BAD_INPUT as exc:
        _say(f"error: {exc}")
        return EXIT_BAD_INPUT
    except EnhancerError as exc:
        _say(f"error: {exc}")
        return EXIT_FAIL
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # last resort: one line, no traceback for operators
        logging.getLogger(__name__).debug("unexpected failure", exc_info=True)
        _say(f"error: unexpected failure: {exc.__class__.__name__}: {exc}")
        return EXIT_FAIL


def cmd_enhance(args, settings) -> int:
    if args.sku and len(args.files) > 1:
        raise ValueError("--sku can only be used with a single file")
    svc = build_service(settings)
    worst = EXIT_OK
    for path in args.files:
        try:
            data = path.read_bytes()
            res = svc.upload_and_enhance(data, path.name, sku_id=args.sku, mode=args.mode,
                                         target_size_kb=args.target_kb, output_format=args.output_format,
                                         profile=args.profile, ai=args.ai, variants=args.variants)
            if res.fell_back:
                _say(f"warning: {path}: the AI provider failed; the local pipeline made the result")
            _emit(res.to_dict())
            if not res.success:
                _say(f"error: {path}: {res.error}")
                worst = max(worst, EXIT_FAIL)
        except BAD_INPUT as exc:
            _say(f"error: {path}: {exc}" if str(path) not in str(exc) else f"error: {exc}")
            worst = max(worst, EXIT_BAD_INPUT) if worst != EXIT_FAIL else worst
        except EnhancerError as exc:
            _say(f"error: {path}: {exc}")
            worst = EXIT_FAIL
    return worst


def cmd_images(args, settings) -> int:
    from db import repo
    from .views import image_summary

    svc = build_service(settings)
    with svc.session() as s:
        total, rows = repo.list_images(s, repo.ImageFilter(status=args.status, search=args.search),
                                       limit=args.limit, offset=args.offset)
        _emit({"total": total, "limit": args.limit, "offset": args.offset,
               "images": [image_summary(r) for r in rows]})
    return EXIT_OK


def cmd_history(args, settings) -> int:
    from db import repo
    from .views import history_entry, usage_totals

    svc = build_service(settings)
    with svc.session() as s:
        img = repo.get_image(s, args.image_id)
        if img is None:
            raise NotFoundError(f"No image with id {args.image_id}")
        rows = repo.history(s, img.id)
        _emit({"image_id": img.id, "sku_id": img.sku_id, "filename": img.original_filename,
               "original_https_url": img.image_url, "status": img.status.value,
               "enhancements": [history_entry(h) for h in rows], "ai_usage": usage_totals(rows)})
    return EXIT_OK


def cmd_reenhance(args, settings) -> int:
    svc = build_service(settings)
    res = svc.reenhance(args.image_id, mode=args.mode, target_size_kb=args.target_kb,
                        output_format=args.output_format, profile=args.profile, ai=args.ai,
                        variants=args.variants)
    _emit(res.to_dict())
    return EXIT_OK


def cmd_check(args, settings) -> int:
    checks = run_checks(settings)
    for c in checks:
        _say(f"{'✓' if c.ok else '✗'} {c.name}: {c.detail}")
    _emit({"ok": all(c.ok for c in checks), "checks": [c.__dict__ for c in checks],
           "settings": settings.masked()})
    return EXIT_OK if all(c.ok for c in checks) else EXIT_FAIL


def cmd_init_db(args, settings) -> int:
    from db.session import current_revision, make_engine

    engine = make_engine(settings.database_url)
    _emit({"database": engine.url.render_as_string(hide_password=True), "revision": current_revision(engine)})
    return EXIT_OK


def cmd_create_bucket(args, settings) -> int:
    from .storage import S3Storage, storage_from_settings

    st = storage_from_settings(settings)
    if not isinstance(st, S3Storage):
        raise ValueError("S3_BUCKET is not set: storage is the local folder "
                         f"{settings.storage_dir}, which needs no bucket")
    created = st.create_bucket()
    _emit({"bucket": st.bucket, "created": created})
    return EXIT_OK


COMMANDS = {"enhance": cmd_enhance, "images": cmd_images, "history": cmd_history,
            "reenhance": cmd_reenhance, "check": cmd_check, "init-db": cmd_init_db,
            "create-bucket": cmd_create_bucket}
