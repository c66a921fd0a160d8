"""Pixel Lab operator dashboard (Streamlit). The only package that imports streamlit."""
