"""Sign-in through Streamlit's own ``st.login`` / ``st.user`` (OpenID Connect via Authlib) and roles.

With an ``[auth]`` section in ``.streamlit/secrets.toml`` every page needs a
signed-in user, whose role comes from :func:`enhancer.service.access.role_for`
(ADMIN_EMAILS, a roles/groups claim, the users table, DEFAULT_ROLE). Without
it the app runs as one local admin and says so in the sidebar.

Never shows or logs ``cookie_secret`` / ``client_secret``: only whether
``[auth]`` is configured.
"""
from __future__ import annotations

import streamlit as st

from enhancer.service.access import Actor, role_for

LOCAL = Actor("dashboard:local", "admin")
#: What every provider needs, as Streamlit documents it (shared keys, then per provider).
SHARED_KEYS = ("redirect_uri", "cookie_secret")
PROVIDER_KEYS = ("client_id", "client_secret", "server_metadata_url")


def auth_section() -> dict:
    """The ``[auth]`` section of the secrets (empty when there is none)."""
    try:
        section = st.secrets.get("auth")
    except Exception:  # no secrets file at all
        return {}
    return dict(section) if section else {}


def providers(section: dict | None = None) -> list[str | None]:
    """``[None]`` for a single provider in ``[auth]`` itself, else the named ``[auth.<name>]`` ones."""
    section = auth_section() if section is None else section
    named = [k for k, v in section.items() if hasattr(v, "keys")]
    return named or ([None] if section.get("client_id") else [])


def configured() -> bool:
    section = auth_section()
    return bool(section) and all(section.get(k) for k in SHARED_KEYS) and bool(providers(section))


def _user() -> dict:
    try:
        return dict(st.user.to_dict())
    except Exception:
        return {}


@st.cache_data(ttl=60, show_spinner=False)
def _stored_role(email: str) -> str | None:
    from db import audit
    from dashboard import state

    with state.service().session() as s:
        user = audit.get_user(s, email)
        return user.role if user else None


def current_actor() -> Actor:
    """The signed-in user as an :class:`Actor`, or the local admin when sign-in is off.

    With sign-in on and nobody signed in, a viewer named ``anonymous`` (the
    gate stops every page before it acts; the service refuses changes anyway).
    """
    if not configured():
        return LOCAL
    info = _user()
    if not info.get("is_logged_in"):
        return Actor("anonymous", "viewer")
    from dashboard import state

    cfg = state.settings()
    email = str(info.get("email") or info.get("preferred_username") or info.get("sub") or "unknown")
    stored = None
    try:
        stored = _stored_role(email.strip().lower())
    except Exception:  # the users table unreachable: fall back to the other rules
        stored = None
    role = role_for(email, info, admin_emails=cfg.admin_emails, role_claims=cfg.role_claims,
                    role_map=cfg.role_map, stored_role=stored, default_role=cfg.default_role)
    return Actor(email, role)


def display_name(info: dict | None = None) -> str:
    info = _user() if info is None else info
    return str(info.get("name") or info.get("email") or "signed in")


def sign_in_page() -> None:
    """The only page someone who is not signed in sees."""
    st.title("Pixel Lab")
    st.write("Sign in with your team account to continue.")
    for name in providers():
        label = f"Sign in with {name}" if name else "Sign in"
        if st.button(label, type="primary", key=f"login-{name or 'default'}"):
            st.login(name) if name else st.login()


def sidebar(actor: Actor) -> None:
    """Who is signed in and a sign-out button, or the visible "sign-in is off" note."""
    with st.sidebar:
        if not configured():
            st.warning("Sign-in is off: anyone who can open this page acts as the local admin. "
                       "Add an `[auth]` section to `.streamlit/secrets.toml` to turn it on "
                       "(README › Production).", icon=":material/lock_open:")
            return
        st.caption(f"Signed in as **{display_name()}** · {actor.role}")
        if st.button("Sign out", icon=":material/logout:", key="logout"):
            st.logout()


def require_page(role: str) -> Actor:
    """Stop a page the current person's role may not see (navigation hides it too)."""
    actor = current_actor()
    if not actor.can(role):
        st.error(f"This page needs the {role} role; your role is {actor.role}.")
        st.stop()
    return actor


def status_rows() -> list[dict]:
    """What the status page may say about sign-in: configured or not, and which providers. Never values."""
    section = auth_section()
    names = [n or "default" for n in providers(section)]
    missing = [k for k in SHARED_KEYS if not section.get(k)]
    if not section:
        return [{"setting": "[auth]", "value": "not configured (sign-in is off; local admin)"}]
    return [{"setting": "[auth]", "value": "configured" if configured() else
             f"incomplete: missing {', '.join(missing) or 'a provider'}"},
            {"setting": "[auth] providers", "value": ", ".join(names) or "none"}]
