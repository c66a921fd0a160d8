"""``python -m enhancer``: JSON on stdout, messages on stderr.

Exit codes: 0 ok, 2 bad input (not an image, bad option, unknown id), 1 any other failure.
Every command is one row of :data:`COMMANDS`: name → (arguments, handler, help).
"""
from __future__ import annotations

import argparse
import logging
import sys

from ..config import load_settings
from ..errors import ConfigError, DatabaseError, EnhancerError
from . import auth, batch, catalog, keys, system, users
from .common import BAD_INPUT, EXIT_BAD_INPUT, EXIT_FAIL, EXIT_OK, say


def _none(p) -> None:
    pass


COMMANDS = {
    "enhance": (catalog.args_enhance, catalog.cmd_enhance, "enhance image files and record them"),
    "images": (catalog.args_images, catalog.cmd_images, "list recorded images"),
    "history": (catalog.args_history, catalog.cmd_history, "every enhancement of one image"),
    "reenhance": (catalog.args_reenhance, catalog.cmd_reenhance, "enhance a stored original again"),
    "product": (catalog.args_product, catalog.cmd_product, "one product with its images"),
    "products": (catalog.args_products, catalog.cmd_products, "list products"),
    "review": (catalog.args_review, catalog.cmd_review, "approve or reject one enhancement"),
    "delete": (catalog.args_delete, catalog.cmd_delete, "delete an image, a product or a batch with its files"),
    "batch": (batch.args_batch, batch.cmd_batch, "enhance a CSV/XLSX manifest of URLs, a ZIP or a folder of photos"),
    "batch-status": (batch.args_batch_id, batch.cmd_batch_status, "counts, rate and recent failures"),
    "batch-resume": (batch.args_batch_run, batch.cmd_batch_resume, "continue a paused or interrupted batch"),
    "batch-retry": (batch.args_batch_run, batch.cmd_batch_retry, "retry the failed items of a batch"),
    "batch-pause": (batch.args_batch_id, batch.cmd_batch_pause,
                    "pause a batch (the runner stops after the photos in flight)"),
    "batch-cancel": (batch.args_batch_id, batch.cmd_batch_cancel, "cancel a batch (pending items are skipped)"),
    "batch-export": (batch.args_batch_export, batch.cmd_batch_export, "export a batch's items"),
    "batches": (batch.args_batches, batch.cmd_batches, "list recent batches"),
    "check": (_none, system.cmd_check, "configuration, database and storage reachable"),
    "init-db": (_none, system.cmd_init_db, "create or migrate the database schema"),
    "create-bucket": (_none, system.cmd_create_bucket, "create the S3 bucket (private, encrypted)"),
    "gc": (system.args_gc, system.cmd_gc, "remove orphan objects; mark rows whose files are gone FAILED"),
    "api-key": (keys.args_api_key, keys.cmd_api_key, "REST API keys: create (shown once), list, revoke"),
    "auth-secrets": (auth.args_auth, auth.cmd_auth_secrets, "write .streamlit/secrets.toml [auth] from AUTH_* variables"),
    "user": (users.args_user, users.cmd_user, "users and their roles: add EMAIL --role R | list | remove EMAIL"),
}


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m enhancer", description="Pixel Lab: enhance product photos.")
    p.add_argument("-v", "--verbose", action="store_true", help="log each stage to stderr")
    sub = p.add_subparsers(dest="command", required=True)
    for name, (add_args, _, text) in COMMANDS.items():
        add_args(sub.add_parser(name, help=text))
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
        say(f"configuration error: {exc}")
        return EXIT_BAD_INPUT
    try:
        return COMMANDS[args.command][1](args, settings)
    except BAD_INPUT as exc:
        say(f"error: {exc}")
        return EXIT_BAD_INPUT
    except EnhancerError as exc:
        say(f"error: {exc}")
        return EXIT_FAIL
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # last resort: one line, no traceback for operators (it goes to the debug log)
        from sqlalchemy.exc import SQLAlchemyError

        logging.getLogger(__name__).debug("unexpected failure", exc_info=True)
        if isinstance(exc, SQLAlchemyError):  # host:port and what happened, never the password
            say(f"error: {DatabaseError.from_exc(exc, settings.database_url)}")
        else:
            say(f"error: unexpected failure: {exc.__class__.__name__}: "
                f"{str(exc).splitlines()[0][:300] if str(exc) else ''}")
        return EXIT_FAIL


__all__ = ["main", "build_parser", "COMMANDS", "EXIT_OK", "EXIT_FAIL", "EXIT_BAD_INPUT"]
