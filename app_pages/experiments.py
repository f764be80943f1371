"""Experiments: the paper's results as sweeps at classroom scale, from the store or run here."""
import json

import plotly.graph_objects as go
import streamlit as st

from agmcore.engine.config import RunConfig
from agmcore.experiments import EXPERIMENTS
from agmcore.experiments.common import seed_fraction_text
from agmcore.presentation.doc_links import linked
from agmcore.presentation.experiment_figures import experiment_figure
from agmcore.problems.descriptors import descriptor_of
from agmcore.service.shipped import shipped_experiment, what_ran
from ui.services import background_sweeps, store

REFRESH_SECONDS = 1.0
MAX_SEEDS = max(12, *(e.seeds for e in EXPERIMENTS.values()))  # the slider reaches every default


@st.cache_data(show_spinner="Summarising the cells…", max_entries=16)
def summary_of(experiment_name: str, keys: tuple) -> dict:
    """An experiment's summary (seconds for the race: it re-projects every end point); cell keys
    are content hashes, so the same keys always mean the same documents."""
    cells = [store().get_run(k) for k in keys]
    return EXPERIMENTS[experiment_name].summarize([RunConfig.from_dict(d["config"]) for d in cells], cells)


st.title("Experiments")


def _seeds_to_default():
    """A newly chosen experiment starts at its own default number of seeds."""
    st.session_state["ex_seeds"] = EXPERIMENTS[st.session_state["ex_name"]].seeds


name = st.selectbox("Experiment", list(EXPERIMENTS), format_func=lambda n: EXPERIMENTS[n].title, key="ex_name",
                    bind="query-params", on_change=_seeds_to_default)
experiment = EXPERIMENTS[name]
seeds = st.slider("Seeds", 1, MAX_SEEDS, value=experiment.seeds, key="ex_seeds", bind="query-params",
                  help=f"seeds 0…N−1; this experiment's default is {experiment.seeds}")
st.markdown(f"**Claim.** {experiment.claim}. Classroom scale; the command "
            f"`python -m agmcore reproduce {name} --seeds {seeds} --out DIR` computes the same cells.")

configs = experiment.build("classroom", seeds)
ran = what_ran(configs)
described = descriptor_of(configs[0].task)
st.caption(f"What it runs: {ran['cells']} cells, seeds 0–{seeds - 1}, {' or '.join(f'{s:,}' for s in ran['steps'])} "
           f"steps a cell, logging {', '.join(ran['logging'])}; {described.size_symbol} = "
           f"{', '.join(str(v) for v in sorted({t[described.size_field] for t in ran['tasks']}))}, n = "
           f"{', '.join(str(v) for v in sorted({t['samples'] for t in ran['tasks']}))}.")
docs = [store().usable_run(c.key) for c in configs]  # a damaged cell counts as missing
missing = [c for c, d in zip(configs, docs) if d is None]
sweeps = background_sweeps()


def progress(key):
    """Cells done out of total while the sweep runs; at its end the page reruns to show it."""
    sweep = sweeps.sweep(key)
    if sweep is None or not sweep.active:
        st.rerun()
    st.progress(sweep.done / sweep.total, text=f"{sweep.done:,} of {sweep.total:,} cells · {sweep.seconds:.0f} s · "
                                                f"{sweeps.workers} worker processes")


def _part_line(part: str, held, fraction) -> str:
    """"✓ adam measures — held on 16/20 seeds (…)"; `held` None: measured, not part of the claim."""
    mark, aside = ("·", " (measured, not part of the claim)") if held is None else ("✓" if held else "✗", "")
    return f"{mark} {part.replace('_', ' ')}{aside}{seed_fraction_text(fraction)}"


def show(summary: dict, figure) -> None:
    """The claim's verdict, its parts with how often each held, the figure and the numbers."""
    if summary["claim_holds"]:
        st.success("The claim held on these cells.")
    else:
        st.warning("The claim did not hold on these cells: see the numbers below, and the Notes page for the settings "
                   "that were tried.")
    if "claim_parts" in summary:
        parts, fractions = summary["claim_parts"], summary.get("claim_fractions", {})
        shown = [*parts, *(part for part in fractions if part not in parts)]  # the claim's parts, then the rest
        st.markdown("  \n".join(_part_line(part, parts.get(part), fractions.get(part)) for part in shown))
    st.plotly_chart(figure, key="ex_figure", width="stretch")
    with st.expander("Numbers"):
        st.code(json.dumps(summary, indent=1, default=str), language="json")


if missing:
    shipped = shipped_experiment(name, [c.key for c in configs])
    sweep = sweeps.sweep(st.session_state.get("ex_sweep"))
    if shipped is not None:
        st.info(linked(f"**Shipped result**: these {len(configs)} cells were computed by `agmcore ship` for this "
                f"version of the app; {len(configs) - len(missing)} of them are stored here. Run them to "
                "compute them on this machine: on another processor the compiled loop rounds differently, so a "
                "fraction over seeds can come out a little different, within its interval (docs/engine.md)."))
    else:
        st.info(f"{len(configs) - len(missing)} of {len(configs)} cells are stored.")
    if sweep is not None and sweep.active:
        st.fragment(progress, run_every=REFRESH_SECONDS)(sweep.key)
    else:
        if sweep is not None and sweep.error:
            st.error(f"The sweep failed after {sweep.done} of {sweep.total} cells: {sweep.error}")
        if st.button(f"▶ Run the {len(missing)} missing cells", type="primary", key="ex_run"):
            st.session_state["ex_sweep"] = sweeps.start(missing)
            st.rerun()
    if shipped is not None:
        show(shipped["summary"], go.Figure(shipped["figure"]))
    st.stop()

show(summary_of(name, tuple(c.key for c in configs)), experiment_figure(name, configs, docs))
