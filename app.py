"""sharpness-lab: the Streamlit entry point (navigation and page frame)."""
import streamlit as st

st.set_page_config(page_title="sharpness-lab", layout="wide")
st.title("sharpness-lab")
st.write("How adaptive optimizers differ from SGD in the solutions they find. "
         "The interactive pages are being built; the engine runs from `python -m agmcore`.")
