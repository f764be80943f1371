"""Experiments: the paper's results as sweeps at the scales they ship, from the store or run here
(on this machine's cores, or on the Ray cluster SHARPNESS_LAB_CLUSTER names: agmcore/settings.py)."""
import json

import plotly.graph_objects as go
import streamlit as st

from agmcore import settings
from agmcore.engine.config import RunConfig
from agmcore.engine.device import cpu_cores
from agmcore.engine.speed import estimated_seconds
from agmcore.experiments import EXPERIMENTS
from agmcore.experiments.common import seed_fraction_text
from agmcore.presentation.doc_links import linked
from agmcore.presentation.experiment_figures import experiment_figure
from agmcore.problems.descriptors import descriptor_of
from agmcore.service.shipped import shipped_experiment, what_ran
from ui.services import background_sweeps, store

REFRESH_SECONDS = 1.0
SCALE_NAMES = {"classroom": "Classroom", "d2000": "d = 2000", "paper": "Paper"}
MAX_SEEDS = max(12, *(e.seeds for e in EXPERIMENTS.values()))  # the slider reaches every default


@st.cache_data(show_spinner="Summarising the cells…", max_entries=16)
def summary_of(experiment_name: str, keys: tuple) -> dict:
    """An experiment's summary (seconds for the race: it re-projects every end point); cell keys
    are content hashes, so the same keys always mean the same documents."""
    cells = [store().get_run(k) for k in keys]
    return EXPERIMENTS[experiment_name].summarize([RunConfig.from_dict(d["config"]) for d in cells], cells)


st.title("Experiments")


def _seeds_to_default():
    """A newly chosen experiment starts at its own default number of seeds, at classroom scale."""
    st.session_state["ex_seeds"] = EXPERIMENTS[st.session_state["ex_name"]].seeds
    st.session_state["ex_scale"] = "classroom"


name = st.selectbox("Experiment", list(EXPERIMENTS), format_func=lambda n: EXPERIMENTS[n].title, key="ex_name",
                    bind="query-params", on_change=_seeds_to_default)
experiment = EXPERIMENTS[name]
cluster = settings.cluster()
offered = [s for s in experiment.scales if s in experiment.shipped_scales or cluster]  # paper scale: on a cluster
if st.query_params.get("ex_scale") not in (None, *offered):
    del st.query_params["ex_scale"]  # a link to a scale this experiment does not have (or not without a cluster)
if st.session_state.get("ex_scale", "classroom") not in offered:
    st.session_state["ex_scale"] = "classroom"
scale = st.radio("Scale", offered, key="ex_scale", horizontal=True, bind="query-params",
                 help="classroom: minutes on two cores; the larger scales are hours of compute, shipped computed "
                      "(docs/sample-complexity.md)")
seeds = st.slider("Seeds", 1, MAX_SEEDS, value=experiment.seeds, key="ex_seeds", bind="query-params",
                  help=f"seeds 0…N−1; this experiment's default is {experiment.seeds}")
scale_flag = "" if scale == "classroom" else f" --scale {scale}"
st.markdown(f"**Claim.** {experiment.claim}. {SCALE_NAMES[scale]} scale; the command "
            f"`python -m agmcore reproduce {name}{scale_flag} --seeds {seeds} --out DIR` computes the same cells "
            "(add `--cluster ADDRESS` to run them on a Ray cluster).")

configs = experiment.build(scale, seeds)
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
    where = f"on the Ray cluster at {sweep.cluster}" if sweep.cluster else f"{sweeps.workers} worker processes"
    st.progress(sweep.done / sweep.total, text=f"{sweep.done:,} of {sweep.total:,} cells · {sweep.seconds:.0f} s · "
                                                f"{where}")


def run_cost(cells, cluster) -> str:
    """Where the missing cells would run, and about how long they take on this machine's cores."""
    seconds = estimated_seconds(cells)
    wall = seconds / cpu_cores() if seconds else 0
    here = (f"about {wall:.0f} s" if wall < 90 else f"about {wall / 60:,.0f} min") + \
        f" on this machine's {cpu_cores()} cores" if seconds else ""
    if cluster:
        return f"They run on the Ray cluster at {cluster}" + (f" ({here} without it)." if here else ".")
    return f"They run here: {here}." if here else "They run on this machine's cores."


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
    shipped = shipped_experiment(name, [c.key for c in configs], scale=scale)
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
        st.caption(run_cost(missing, cluster))
        if st.button(f"▶ Run the {len(missing)} missing cells", type="primary", key="ex_run"):
            st.session_state["ex_sweep"] = sweeps.start(missing, cluster=cluster)
            st.rerun()
    if shipped is not None:
        show(shipped["summary"], go.Figure(shipped["figure"]))
    st.stop()

show(summary_of(name, tuple(c.key for c in configs)), experiment_figure(name, configs, docs))
