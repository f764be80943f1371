"""Streamlit helpers shared by the pages (rendering only; the logic lives in agmcore)."""
