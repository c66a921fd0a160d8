"""Sign-in for real: headless Chromium, Streamlit's st.login and a local OpenID provider (oidc-provider-mock).

An operator signs in, uploads a photo with two variants and approves one on the
Review page; a viewer signs in and finds no Upload or Review page and no
Approve button; both sign out. The audit trail names the operator.
"""
from __future__ import annotations

import pytest
from support import photo_bytes

from .conftest import _free_port, streamlit_app

USERS = {"op": {"email": "op@example.com", "name": "Olga Operator", "roles": ["operator"]},
         "view": {"email": "view@example.com", "name": "Victor Viewer", "roles": ["viewer"]}}


@pytest.fixture(scope="module")
def provider():
    from oidc_provider_mock import User, run_server_in_thread

    with run_server_in_thread(user_claims=[User(sub=k, claims=v) for k, v in USERS.items()]) as server:
        yield f"http://localhost:{server.server_port}"


@pytest.fixture(scope="module")
def auth_app(provider, tmp_path_factory, browser):
    tmp = tmp_path_factory.mktemp("authapp")
    secrets = tmp / "secrets.toml"
    port = _free_port()
    secrets.write_text(
        "[auth]\n"
        f'redirect_uri = "http://localhost:{port}/oauth2callback"\n'
        'cookie_secret = "browser-test-cookie-secret-0123456789"\n'
        'client_id = "pixel-lab"\n'
        'client_secret = "browser-test-client-secret"\n'
        f'server_metadata_url = "{provider}/.well-known/openid-configuration"\n')
    with streamlit_app(tmp, host="localhost", port=port, args=("--secrets.files", str(secrets))) as app:
        yield app
    text = (tmp / "streamlit.log").read_text(errors="replace")
    assert "browser-test-client-secret" not in text and "browser-test-cookie-secret" not in text


def _sign_in(page, url, sub, idle):
    page.goto(url)
    page.get_by_role("button", name="Sign in").click()
    page.locator("input[name=sub]").wait_for()
    page.locator("input[name=sub]").fill(sub)
    page.get_by_role("button", name="Authorize").click()
    page.get_by_text("Signed in as").wait_for(timeout=60_000)
    idle(page)


def _sign_out(page, idle):
    page.get_by_role("button", name="Sign out").click()
    # Streamlit ends the session at the provider too (its end_session endpoint asks to confirm)
    page.get_by_role("button", name="End session").click()
    page.get_by_role("button", name="Sign in").wait_for(timeout=60_000)
    assert page.get_by_text("Signed in as").count() == 0


def test_operator_uploads_and_approves_viewer_cannot(auth_app, page, tmp_path, shots, idle):
    from playwright.sync_api import expect

    url = auth_app["url"]
    photo = tmp_path / "red shoe.jpg"
    photo.write_bytes(photo_bytes(size=(640, 480), seed=31))

    _sign_in(page, url, "op", idle)
    expect(page.get_by_text("Olga Operator")).to_be_visible()
    page.get_by_role("heading", name="Upload & Enhance").wait_for()
    page.locator("[data-testid='stFileUploaderDropzoneInput']").set_input_files([str(photo)])
    page.locator("[data-testid='stFileChip']").first.wait_for()
    idle(page)
    variants = page.get_by_role("spinbutton", name="Variants")
    variants.click()
    variants.press("Control+a")
    variants.press_sequentially("2")
    variants.press("Tab")
    idle(page)
    page.get_by_role("button", name="Enhance", exact=True).click()
    page.get_by_role("button", name="Download enhanced red shoe.jpg").wait_for(timeout=120_000)
    shots(page, "signin_01_operator_upload")
    page.get_by_role("link", name="Review").click()
    page.get_by_text("1 image(s) waiting for review").wait_for()
    idle(page)
    page.get_by_role("button", name="Approve #1").first.click()
    page.get_by_text("#1 approved.").wait_for()
    assert page.get_by_role("link", name="Activity").count() == 0  # admin only
    _sign_out(page, idle)

    _sign_in(page, url, "view", idle)
    expect(page.get_by_text("Victor Viewer")).to_be_visible()
    page.get_by_role("heading", name="Gallery").wait_for()
    for name in ("Upload & Enhance", "Bulk", "Review", "Activity", "System status"):
        assert page.get_by_role("link", name=name).count() == 0, name
    page.goto(f"{url}/upload")  # a crafted URL lands on the viewer's first page, not the upload page
    page.get_by_role("heading", name="Gallery").wait_for()
    assert page.locator("[data-testid='stFileUploaderDropzoneInput']").count() == 0
    page.get_by_text("Page not found").wait_for()
    shots(page, "signin_02_viewer_crafted_upload_url")
    page.keyboard.press("Escape")
    page.get_by_text("Page not found").wait_for(state="hidden")
    idle(page)
    page.get_by_role("link", name="Open").first.click()
    page.get_by_role("heading", name="Image detail").wait_for()
    idle(page)
    # no write control is usable: review and re-enhance are disabled, deletes are not offered
    for b in page.get_by_role("button", name="Approve").all() + page.get_by_role("button", name="Reject").all():
        expect(b).to_be_disabled()
    expect(page.get_by_role("button", name="Re-enhance")).to_be_disabled()
    assert page.get_by_role("button", name="Delete image").count() == 0
    shots(page, "signin_03_viewer_detail")
    _sign_out(page, idle)

    from sqlalchemy import create_engine
    from sqlalchemy.orm import Session

    from db import audit

    engine = create_engine(auth_app["env"]["DATABASE_URL"])
    with Session(engine) as s:
        rows = [(e.actor, e.role, e.action) for e in reversed(audit.entries(s)[1])]
    engine.dispose()
    assert rows == [("op@example.com", "operator", "upload"), ("op@example.com", "operator", "approve")]
