"""Home: what the app shows, the key formulas, one-click presets."""
import plotly.graph_objects as go
import streamlit as st

from agmcore.experiments import EXPERIMENTS
from agmcore.presentation.doc_links import linked
from agmcore.presentation.playground import DEFAULTS
from agmcore.presentation.presets import PRESETS, caption
from agmcore.service.shipped import shipped_experiment

PICTURE = "sample-complexity"  # the shipped experiment Home opens with: Adam recovers from fewer samples


@st.cache_resource(show_spinner=False, max_entries=4)
def picture(cells: tuple):
    """The shipped figure of PICTURE for these cell keys (None if this install has none), built once."""
    shipped = shipped_experiment(PICTURE, list(cells))
    return None if shipped is None else go.Figure(shipped["figure"])


st.title("How adaptive optimizers differ from SGD in the solutions they find")
experiment = EXPERIMENTS[PICTURE]
shown = picture(tuple(c.key for c in experiment.build("classroom", experiment.seeds)))
if shown is not None:
    st.plotly_chart(shown, key="home_picture", width="stretch")
    st.caption(f"{experiment.title}, computed for this version of the app over seeds; the Experiments page opens it with its "
               "numbers.")
st.markdown(
    "Many different weights fit the training data equally well; which one an optimizer ends at is its *implicit bias*. "
    "Under label noise, near the set of minimizers, SGD drifts towards weights with a small Hessian trace tr(H). "
    "Adam drifts towards a different sharpness, tr(Diag(H)^½), shaped by its preconditioner "
    "(Li, Wen, Lyu, NeurIPS 2025, arXiv 2511.02773). "
    "On sparse regression with a diagonal linear network this is an ℓ1-like bias for SGD and an ℓ^½-like bias for "
    "Adam, so Adam can recover a sparse truth from fewer samples. "
    "The paper reports that in deep matrix factorization the same coordinate-wise bias works against Adam; in our "
    "own matrix-completion setting it did with three factors and did not with two (see Experiments).")

st.subheader("The formulas")
st.latex(r"\text{SGD minimizes } \operatorname{tr}(H) \qquad \text{Adam minimizes } "
         r"\operatorname{tr}\big(\operatorname{Diag}(H)^{1/2}\big) \qquad "
         r"\text{AdamE-}\lambda\text{ minimizes } \operatorname{tr}\big(\operatorname{Diag}(H)^{1-\lambda}\big)")
st.latex(r"m_t = \beta_1 m_{t-1} + (1-\beta_1) g_t,\quad v_t = \beta_2 v_{t-1} + (1-\beta_2)\,V(g_t),\quad "
         r"\theta_{t+1} = \theta_t - \eta\,\frac{m_t}{v_t^{\lambda} + \epsilon}")
st.latex(r"w = u \odot u - v \odot v:\quad \operatorname{tr}(H) \leftrightarrow 4\lVert w\rVert_1,\qquad "
         r"\operatorname{tr}\big(\operatorname{Diag}(H)^{1/2}\big) \leftrightarrow 2\sum_j |w_j|^{1/2}")

st.subheader("Start from a preset")


def open_preset(settings):
    for k, v in {**DEFAULTS, **settings}.items():
        st.session_state[k] = v
    st.session_state["home_target"] = "app_pages/playground.py"


columns = st.columns(len(PRESETS))
for column, (name, settings) in zip(columns, PRESETS.items()):
    with column:
        st.button(name, key=f"home_preset_{list(PRESETS).index(name)}", on_click=open_preset, args=(settings,),
                  width="stretch")
        st.caption(linked(caption(name)))
if st.session_state.pop("home_target", None):
    st.switch_page("app_pages/playground.py")
