"""``python -m enhancer user add|list|remove`` and the role settings; CLI changes are audited as cli:<user>."""
from __future__ import annotations

import getpass
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import env_for

ROOT = Path(__file__).resolve().parents[2]


def run(args, env, cwd):
    full = {k: v for k, v in os.environ.items() if not k.startswith(("MYSQL_", "S3_", "DATABASE_URL", "GEMINI"))}
    full.update(env, PYTHONPATH=str(ROOT))
    p = subprocess.run([sys.executable, "-m", "enhancer", *args], capture_output=True, text=True, env=full,
                       cwd=cwd, timeout=120)
    return p.returncode, p.stdout, p.stderr


@pytest.fixture
def cli(tmp_path):
    from enhancer.storage import LocalStorage

    env = env_for(f"sqlite:///{tmp_path / 'u.db'}", LocalStorage(tmp_path / "storage"), tmp_path)
    return env, lambda *args: run(args, env, tmp_path)


def test_user_add_list_remove_and_the_audit_rows(cli):
    env, call = cli
    rc, out, err = call("user", "add", "Ann@Example.com", "--role", "operator")
    assert rc == 0, err
    assert json.loads(out) == {"email": "ann@example.com", "role": "operator", "created": True}
    assert call("user", "add", "ann@example.com", "--role", "admin")[0] == 0
    rc, out, _ = call("user", "list")
    assert [(u["email"], u["role"]) for u in json.loads(out)] == [("ann@example.com", "admin")]
    assert call("user", "add", "not-an-email", "--role", "viewer")[0] == 2
    assert call("user", "add", "b@example.com", "--role", "boss")[0] == 2
    assert call("user", "remove", "ann@example.com")[0] == 0
    assert call("user", "remove", "ann@example.com")[0] == 2
    assert json.loads(call("user", "list")[1]) == []

    from db import audit, make_engine
    from sqlalchemy.orm import Session

    engine = make_engine(env["DATABASE_URL"])
    with Session(engine) as s:
        rows = [(e.actor, e.action, e.detail.get("role")) for e in reversed(audit.entries(s)[1])]
    engine.dispose()
    me = f"cli:{getpass.getuser()}"
    assert rows == [(me, "user_add", "operator"), (me, "user_role", "admin"), (me, "user_remove", None)]


def test_role_settings_are_validated():
    from enhancer.config import settings_from_mapping
    from enhancer.errors import ConfigError

    s = settings_from_mapping({"ADMIN_EMAILS": " A@x.com,b@x.com ", "DEFAULT_ROLE": "Operator",
                               "ROLE_MAP": "pl-admins=admin, pl-ops=operator"})
    assert s.admin_emails == ("a@x.com", "b@x.com") and s.default_role == "operator"
    assert s.role_map == (("pl-admins", "admin"), ("pl-ops", "operator"))
    with pytest.raises(ConfigError, match="DEFAULT_ROLE"):
        settings_from_mapping({"DEFAULT_ROLE": "root"})
    with pytest.raises(ConfigError, match="ROLE_MAP"):
        settings_from_mapping({"ROLE_MAP": "pl-ops"})


def test_role_comes_from_admin_emails_then_claims_then_table_then_default():
    from enhancer.service.access import role_for

    kw = dict(admin_emails=("boss@x.com",), role_map=(("pl-ops", "operator"),))
    assert role_for("Boss@x.com", {"roles": ["viewer"]}, **kw) == "admin"
    assert role_for("a@x.com", {"groups": ["pl-ops", "other"]}, stored_role="admin", **kw) == "operator"
    assert role_for("a@x.com", {"roles": "admin"}, **kw) == "admin"
    assert role_for("a@x.com", {"groups": ["other"]}, stored_role="operator", **kw) == "operator"
    assert role_for("a@x.com", {}, default_role="viewer", **kw) == "viewer"


def test_auth_secrets_writes_auth_from_the_environment_and_prints_no_secret(cli, tmp_path):
    import tomllib

    env, _ = cli
    auth = {"AUTH_REDIRECT_URI": "http://localhost:8501/oauth2callback", "AUTH_COOKIE_SECRET": 'c"ookie-S3CRET',
            "AUTH_CLIENT_ID": "pixel-lab", "AUTH_CLIENT_SECRET": "client-S3CRET",
            "AUTH_SERVER_METADATA_URL": "https://login.example.com/.well-known/openid-configuration"}
    target = tmp_path / ".streamlit" / "secrets.toml"
    rc, out, err = run(["auth-secrets", str(target)], {**env, **auth}, tmp_path)
    assert rc == 0, err
    assert "S3CRET" not in out + err
    assert tomllib.loads(target.read_text())["auth"] == {k[5:].lower(): v for k, v in auth.items()}
    assert target.stat().st_mode & 0o077 == 0
    rc, _, err = run(["auth-secrets", str(target)], env, tmp_path)
    assert rc == 2 and "AUTH_COOKIE_SECRET" in err and "S3CRET" not in err
