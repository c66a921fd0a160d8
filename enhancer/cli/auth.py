"""``python -m enhancer auth-secrets PATH``: write Streamlit's ``[auth]`` section from the environment.

For containers whose settings arrive as variables: ``AUTH_REDIRECT_URI``,
``AUTH_COOKIE_SECRET``, ``AUTH_CLIENT_ID``, ``AUTH_CLIENT_SECRET``,
``AUTH_SERVER_METADATA_URL`` (optional ``AUTH_PROVIDER`` names the provider
section). The file is written owner-only; secrets are never printed.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

from .common import EXIT_BAD_INPUT, EXIT_OK, emit, say

KEYS = ("redirect_uri", "cookie_secret", "client_id", "client_secret", "server_metadata_url")


def args_auth(p) -> None:
    p.add_argument("path", help="secrets file to write, e.g. .streamlit/secrets.toml (its [auth] is replaced)")


def render(env) -> str:
    """The ``[auth]`` TOML for ``env`` (ValueError naming the missing variables)."""
    missing = [f"AUTH_{k.upper()}" for k in KEYS if not str(env.get(f"AUTH_{k.upper()}", "")).strip()]
    if missing:
        raise ValueError(f"set {', '.join(missing)} to write [auth]")
    q = {k: json.dumps(str(env[f"AUTH_{k.upper()}"]).strip()) for k in KEYS}  # JSON strings are TOML strings
    provider = str(env.get("AUTH_PROVIDER", "")).strip()
    shared = f"[auth]\nredirect_uri = {q['redirect_uri']}\ncookie_secret = {q['cookie_secret']}\n"
    client = "".join(f"{k} = {q[k]}\n" for k in ("client_id", "client_secret", "server_metadata_url"))
    return shared + (f"\n[auth.{provider}]\n" if provider else "") + client


def cmd_auth_secrets(args, settings) -> int:
    try:
        text = render(os.environ)
    except ValueError as exc:
        say(f"error: {exc}")
        return EXIT_BAD_INPUT
    path = Path(args.path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.is_file():  # replacing [auth] is fine; silently dropping other secrets is not
        import tomllib

        other = {k: v for k, v in tomllib.loads(path.read_text()).items() if k != "auth"}
        if other:
            say("error: the file has other sections; write [auth] to its own file and list both in "
                "--secrets.files")
            return EXIT_BAD_INPUT
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text)
    os.chmod(path, 0o600)
    emit({"written": str(path), "auth": "configured"})
    return EXIT_OK
