"""What every command shares: output, exit codes, the options flags and the actor."""
from __future__ import annotations

import argparse
import getpass
import json
import sys

from ..errors import ConflictError, InvalidImageError, NotFoundError
from ..formats import OUTPUT_FORMATS, normalize
from ..options import EnhanceOptions
from ..types import Mode

EXIT_OK, EXIT_FAIL, EXIT_BAD_INPUT = 0, 1, 2
BAD_INPUT = (InvalidImageError, NotFoundError, ConflictError, ValueError, FileNotFoundError, IsADirectoryError)


def emit(obj) -> None:
    sys.stdout.write(json.dumps(obj, default=str, ensure_ascii=False) + "\n")
    sys.stdout.flush()


def say(msg: str) -> None:
    print(msg, file=sys.stderr)


def actor() -> str:
    """Who runs this command, as recorded with every change: ``cli:<os user>``."""
    try:
        return f"cli:{getpass.getuser()}"
    except Exception:
        return "cli:unknown"


def _mode(value: str) -> str:
    try:
        return Mode.parse(value).value
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _fmt(value: str) -> str:
    v = normalize(value)
    if v not in OUTPUT_FORMATS:
        raise argparse.ArgumentTypeError(f"format must be one of {', '.join(OUTPUT_FORMATS)}")
    return v


def bounded(lo: int, hi: int):
    def parse(value: str) -> int:
        try:
            n = int(value)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number, got {value!r}") from None
        if not lo <= n <= hi:
            raise argparse.ArgumentTypeError(f"must be between {lo} and {hi}, got {n}")
        return n
    return parse


def add_enhance_opts(p: argparse.ArgumentParser) -> None:
    p.add_argument("--mode", type=_mode, default="AUTO", help="enhancement mode (default AUTO)")
    p.add_argument("--target-kb", type=int, default=None, help="byte budget in KB (50-2000)")
    p.add_argument("--format", type=_fmt, default="JPEG", dest="output_format", help="JPEG, PNG or WEBP")
    p.add_argument("--profile", default=None, help="marketplace profile (STANDARDIZE/FULL use generic)")
    p.add_argument("--ai", default=None, help="AI provider: local, gemini or bedrock (default AI_PROVIDER)")
    p.add_argument("--variants", type=int, default=1, help="results per image, 1-10 (go to review)")


_FLAGS = (("target size", "--target-kb"), ("output format", "--format"), ("profile", "--profile"),
          ("AI provider", "--ai"), ("variants", "--variants"), ("mode", "--mode"))


def options(args, settings) -> EnhanceOptions:
    """The one request type, from the flags (ValueError naming the flag, exit 2, when a value is wrong)."""
    try:
        return EnhanceOptions.parse(args.mode, args.target_kb, args.output_format, args.profile, args.ai,
                                    args.variants, default_ai=settings.ai_provider)
    except ValueError as exc:
        flag = next((f for word, f in _FLAGS if word in str(exc)), None)
        raise ValueError(f"{flag}: {exc}" if flag else str(exc)) from None


def backends(settings):
    from ..app import build_backends

    return build_backends(settings)


def write_out(data: bytes, output, *, what: str, binary: bool) -> None:
    """Write ``data`` to ``output`` (a path), or stdout; binary never goes to a terminal."""
    if output is not None:
        output.write_bytes(data)
        say(f"wrote {len(data)} bytes of {what} to {output}")
        return
    if binary and sys.stdout.isatty():
        raise ValueError(f"{what} is binary: pass --output FILE (or redirect stdout to a file)")
    sys.stdout.buffer.write(data)
    sys.stdout.flush()


def confirm(question: str, yes: bool) -> None:
    """Go on when ``--yes`` was given or the operator answers y; else ValueError (exit 2)."""
    if yes:
        return
    if not sys.stdin or not sys.stdin.isatty():
        raise ValueError(f"{question} Pass --yes to confirm (no terminal to ask)")
    answer = input(f"{question} [y/N] ").strip().lower()
    if answer not in ("y", "yes"):
        raise ValueError("not confirmed; nothing was deleted")
