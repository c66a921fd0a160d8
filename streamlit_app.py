"""Pixel Lab: the dashboard and the REST API in one process, on one port.

Run with ``streamlit run streamlit_app.py``. Streamlit finds ``app`` (an
``st.App``) and serves it: the API under ``/api`` (see :mod:`api`) and, for
every browser session, this same file as the dashboard script; a session runs
it as ``__main__``, and then it only declares the navigation.

Which pages a person sees follows their role (viewer < operator < admin); the
service enforces the same roles, so a hidden page is a convenience, not the lock.
"""
import streamlit as st

if __name__ != "__main__":  # imported by `streamlit run` (or an ASGI server) to find the app
    from starlette.routing import Mount

    from api import create_app, lifespan

    api = create_app()
    app = st.App(__file__, routes=[Mount("/api", app=api)], lifespan=lifespan(api))
else:
    from dashboard import auth

    st.set_page_config(page_title="Pixel Lab", page_icon=":material/photo_filter:", layout="wide")

    # (section, path, title, icon, url_path, least role)
    PAGES = [
        ("Enhance", "dashboard/pages/upload.py", "Upload & Enhance", ":material/upload:", "upload", "operator"),
        ("Enhance", "dashboard/pages/bulk.py", "Bulk", ":material/inventory_2:", "bulk", "operator"),
        ("Library", "dashboard/pages/gallery.py", "Gallery", ":material/photo_library:", "gallery", "viewer"),
        ("Library", "dashboard/pages/detail.py", "Image detail", ":material/image_search:", "detail", "viewer"),
        ("Library", "dashboard/pages/review.py", "Review", ":material/fact_check:", "review", "operator"),
        ("Operations", "dashboard/pages/insights.py", "Insights", ":material/insights:", "insights", "viewer"),
        ("Operations", "dashboard/pages/activity.py", "Activity", ":material/history:", "activity", "admin"),
        ("Operations", "dashboard/pages/users.py", "Users", ":material/group:", "users", "admin"),
        ("Operations", "dashboard/pages/status.py", "System status", ":material/monitor_heart:", "status", "admin"),
    ]

    if auth.configured() and not st.user.is_logged_in:
        st.navigation([st.Page(auth.sign_in_page, title="Sign in", icon=":material/login:")]).run()
        st.stop()

    actor = auth.current_actor()
    auth.sidebar(actor)
    visible = [row for row in PAGES if actor.can(row[-1])]
    nav: dict[str, list] = {}
    for i, (section, path, title, icon, url, _) in enumerate(visible):
        nav.setdefault(section, []).append(st.Page(path, title=title, icon=icon, url_path=url, default=i == 0))
    st.navigation(nav).run()
