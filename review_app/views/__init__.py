"""Streamlit pages (named views/ so Streamlit's legacy pages/ folder detection never applies). Each module has one ``render()``; logic lives in :mod:`review_app.services`."""
