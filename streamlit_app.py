"""Pixel Lab: the dashboard and the REST API in one process, on one port.

Run with ``streamlit run streamlit_app.py``. Streamlit finds ``app`` (an
``st.App``) and serves it: the API under ``/api`` (see :mod:`api`) and, for
every browser session, this same file as the dashboard script; a session runs
it as ``__main__``, and then it only declares the navigation.
"""
import streamlit as st

if __name__ != "__main__":  # imported by `streamlit run` (or an ASGI server) to find the app
    from starlette.routing import Mount

    from api import create_app, lifespan

    api = create_app()
    app = st.App(__file__, routes=[Mount("/api", app=api)], lifespan=lifespan(api))
else:
    st.set_page_config(page_title="Pixel Lab", page_icon=":material/photo_filter:", layout="wide")

    PAGES = {
        "Enhance": [
            st.Page("dashboard/pages/upload.py", title="Upload & Enhance", icon=":material/upload:",
                    url_path="upload", default=True),
            st.Page("dashboard/pages/bulk.py", title="Bulk", icon=":material/inventory_2:", url_path="bulk"),
        ],
        "Library": [
            st.Page("dashboard/pages/gallery.py", title="Gallery", icon=":material/photo_library:",
                    url_path="gallery"),
            st.Page("dashboard/pages/detail.py", title="Image detail", icon=":material/image_search:",
                    url_path="detail"),
            st.Page("dashboard/pages/review.py", title="Review", icon=":material/fact_check:",
                    url_path="review"),
        ],
        "Operations": [
            st.Page("dashboard/pages/insights.py", title="Insights", icon=":material/insights:",
                    url_path="insights"),
            st.Page("dashboard/pages/status.py", title="System status", icon=":material/monitor_heart:",
                    url_path="status"),
        ],
    }

    st.navigation(PAGES).run()
