"""Reusable Streamlit widgets. Pages import these; these import ftstudio; never the reverse."""
