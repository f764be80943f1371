"""sharpness-lab: the Streamlit entry point. It owns navigation and the page frame."""
import streamlit as st

from agmcore import settings
from ui.page_frame import apply_teacher_mode

st.set_page_config(page_title="sharpness-lab", layout="wide")
try:
    settings.check()
except settings.SettingsError as e:
    st.error(f"The server cannot start with these settings: {e}. Fix the environment variable and restart it "
             "(README, \"The app\").")
    st.stop()
home = st.Page("app_pages/home.py", title="Home", icon=":material/home:", url_path="start", default=True)
page = st.navigation([
    home,
    # the default page lives at "/"; "/home" (a link people type) opens it too, without a menu entry
    st.Page(lambda: st.switch_page(home), title="Home", url_path="home", visibility="hidden"),
    st.Page("app_pages/playground.py", title="Playground", icon=":material/sports_score:", url_path="playground"),
    st.Page("app_pages/experiments.py", title="Experiments", icon=":material/science:", url_path="experiments"),
    st.Page("app_pages/result.py", title="Result", icon=":material/description:", url_path="result"),
    st.Page("app_pages/gallery.py", title="Gallery", icon=":material/photo_library:", url_path="gallery"),
    st.Page("app_pages/notes.py", title="Notes", icon=":material/menu_book:", url_path="notes"),
], position="top")
apply_teacher_mode()
page.run()
