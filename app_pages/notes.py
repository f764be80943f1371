"""Notes: one of the repository's docs/*.md, rendered (presentation.doc_links), so the texts that
cite a note link to it."""
import streamlit as st

from agmcore.presentation.doc_links import blocks, note_text, notes

names = notes()
asked = st.query_params.get("doc", "science")
if asked not in names:
    st.warning(f"There is no note {asked[:40]!r}: showing the list.")
    asked = names[0] if names else None
if asked is None:
    st.error("This installation has no docs/ folder.")
    st.stop()
if st.session_state.get("notes_doc") != asked:
    st.session_state["notes_doc"] = asked  # a link to another note opened this page


def _to_url():
    st.query_params["doc"] = st.session_state["notes_doc"]  # before the next run reads it


name = st.selectbox("Note", names, key="notes_doc", on_change=_to_url)
for block in blocks(note_text(name)):
    if block[0] == "image":
        st.image(block[1], caption=block[2] or None)
    else:
        st.markdown(block[1])
