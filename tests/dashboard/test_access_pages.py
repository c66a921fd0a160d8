"""Sign-in and roles in the dashboard: AppTest with ``user=`` per page × role, the sign-in-off note,
the status row for ``[auth]`` (never its values), the Activity and Users pages."""
from __future__ import annotations

from pathlib import Path

import pytest

APP = str(Path(__file__).resolve().parents[2] / "streamlit_app.py")


def errors(at) -> list[str]:
    return [e.value for e in at.error]


def texts(at) -> str:
    parts = [m.value for m in at.markdown] + [c.value for c in at.caption] + [t.value for t in at.title]
    return "\n".join(str(p) for p in parts)

AUTH = {"redirect_uri": "http://localhost:8501/oauth2callback", "cookie_secret": "cookie-SECRET-xyz",
        "client_id": "pixel-lab", "client_secret": "client-SECRET-abc",
        "server_metadata_url": "http://127.0.0.1:9/.well-known/openid-configuration"}
ALL = {"upload", "bulk", "gallery", "detail", "review", "insights", "activity", "users", "status"}
VISIBLE = {"viewer": {"gallery", "detail", "insights"},
           "operator": {"gallery", "detail", "insights", "upload", "bulk", "review"},
           "admin": ALL}
PATHS = {"upload": "dashboard/pages/upload.py", "bulk": "dashboard/pages/bulk.py",
         "gallery": "dashboard/pages/gallery.py", "detail": "dashboard/pages/detail.py",
         "review": "dashboard/pages/review.py", "insights": "dashboard/pages/insights.py",
         "activity": "dashboard/pages/activity.py", "users": "dashboard/pages/users.py",
         "status": "dashboard/pages/status.py"}


def _app(*, email: str | None = None, roles: list[str] | None = None, auth: bool = True):
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(APP, default_timeout=60)
    if auth:
        at.secrets["auth"] = dict(AUTH)
    if email:
        at.user = {"is_logged_in": True, "email": email, "name": email.split("@")[0].title(),
                   **({"roles": roles} if roles is not None else {})}
    else:
        at.user = {"is_logged_in": False}
    return at


def test_signed_out_sees_only_the_sign_in_button(app_env):
    at = _app().run()
    assert not at.exception
    assert [b.label for b in at.button] == ["Sign in"]
    assert "Sign in with your team account" in texts(at)


@pytest.mark.parametrize("role", ["viewer", "operator", "admin"])
def test_each_role_sees_its_pages_and_sign_out(app_env, role):
    app_env({"ADMIN_EMAILS": "boss@example.com"})
    at = _app(email=f"{role}@example.com", roles=[role] if role != "admin" else None)
    if role == "admin":
        at.user["email"] = "boss@example.com"
    at.run()
    assert not at.exception, at.exception
    assert any(b.label == "Sign out" for b in at.sidebar.button)
    assert role in " ".join(c.value for c in at.sidebar.caption)
    for name, path in PATHS.items():
        if name in VISIBLE[role]:
            at.switch_page(path)
            at.run()
            assert not at.exception, (role, name, [e.value for e in at.exception])
            assert not any("needs the" in e for e in errors(at)), (role, name)
        else:  # not in this role's navigation
            with pytest.raises(ValueError, match="Could not find a navigation page"):
                at.switch_page(path)


@pytest.mark.parametrize("page", ["activity", "users", "status"])
def test_an_admin_page_run_directly_refuses_an_operator(app_env, page):
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(Path(APP).parent / PATHS[page]), default_timeout=60)
    at.secrets["auth"] = dict(AUTH)
    at.user = {"is_logged_in": True, "email": "op@example.com", "roles": ["operator"]}
    at.run()
    assert "This page needs the admin role; your role is operator." in errors(at)


def test_without_auth_the_local_admin_sees_the_note_and_every_page(app_env):
    at = _app(auth=False).run()
    assert not at.exception
    assert any("Sign-in is off" in w.value for w in at.sidebar.warning)
    at.switch_page(PATHS["status"])
    at.run()
    assert "not configured" in at.dataframe[-1].value.to_string()


def test_status_says_configured_and_never_shows_the_secrets(app_env):
    at = _app(email="boss@example.com")
    app_env({"ADMIN_EMAILS": "boss@example.com"})
    at.run()
    at.switch_page(PATHS["status"])
    at.run()
    assert not at.exception
    shown = texts(at) + "".join(df.value.to_string() for df in at.dataframe)
    assert "configured" in shown
    assert "SECRET" not in shown


def test_users_page_adds_a_role_that_the_next_sign_in_uses_and_activity_lists_it(app_env):
    app_env({"ADMIN_EMAILS": "boss@example.com"})
    at = _app(email="boss@example.com").run()
    at.switch_page(PATHS["users"])
    at.run()
    at.text_input[0].input("Ann@Example.com")
    at.selectbox[0].select("operator")
    at.button[0].click()
    at.run()
    assert not errors(at), errors(at)
    assert "ann@example.com is now operator" in " ".join(s.value for s in at.success)
    at.switch_page(PATHS["activity"])
    at.run()
    df = at.dataframe[0].value
    assert list(df[["actor", "action", "target_id"]].itertuples(index=False, name=None)) == [
        ("boss@example.com", "user_add", "ann@example.com")]
    ann = _app(email="ann@example.com").run()
    assert "operator" in " ".join(c.value for c in ann.sidebar.caption)
