"""Pixel Lab dashboard entry point: only the navigation. Run with ``streamlit run streamlit_app.py``."""
import streamlit as st

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
        st.Page("dashboard/pages/review.py", title="Review", icon=":material/fact_check:", url_path="review"),
    ],
    "Operations": [
        st.Page("dashboard/pages/insights.py", title="Insights", icon=":material/insights:", url_path="insights"),
        st.Page("dashboard/pages/status.py", title="System status", icon=":material/monitor_heart:",
                url_path="status"),
    ],
}

st.navigation(PAGES).run()
