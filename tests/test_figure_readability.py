"""Figures a class can read from the back row, checked on the figures' own JSON (docs/figures.md):
axes with magnitudes, a value range set by the slow phase, panels saying who is ahead, one colour
per optimizer, projector-sized fonts, one legend, readable weight views at large d."""
import re

import numpy as np
import pytest

from agmcore.analysis.verdict import MOVING_TOLERANCE, own_measure_fall, verdict
from agmcore.presentation import figures

STEPS = list(range(0, 10_001, 100))  # 101 logged steps


def _doc(name, curves, dim=100, w=None, w_star=None, lam=0.5):
    """A diagonal-network run document with the given denoised curves (and faint last-iterate ones)."""
    history = {"step": STEPS}
    for measure, values in curves.items():
        history[measure + "_denoised"] = list(values)
        history[measure] = [v * 1.5 for v in values]
    if "implied_sharpness" not in curves:
        own = "trace_H" if name == "sgd" else "trace_sqrt_diag_H"
        history["implied_sharpness_denoised"] = history.get(own + "_denoised", [1.0] * len(STEPS))
    config = {"task": {"name": "diag-net", "dim": dim},
              "optimizer": {"name": name, "lr": 0.1, "beta1": 0.0, "beta2": 0.95, "lam": lam}, "seed": 0}
    w_star = w_star if w_star is not None else [0.0] * dim
    return {"config": config, "history": history, "status": "finished", "steps_done": STEPS[-1],
            "w": list(w if w is not None else np.zeros(dim)), "w_star": list(w_star)}


def _settled(start, end):
    """Falls from `start` to `end` by the first tenth, then stays: a finished slow phase."""
    return [start if s == 0 else end + (start - end) * max(0.0, 1 - s / 1000) for s in STEPS]


def _falling(start, end):
    return list(np.geomspace(start, end, len(STEPS)))


@pytest.fixture
def race():
    adam = _doc("adam", {"test_loss": _falling(1.0, 1e-6), "trace_H": _settled(40, 7.2),
                         "trace_sqrt_diag_H": _settled(70, 5.9), "l1": _settled(5, 1.8), "l_half": _settled(17, 2.7)})
    sgd = _doc("sgd", {"test_loss": _settled(1.0, 0.07), "trace_H": _settled(40, 7.0),
                       "trace_sqrt_diag_H": _settled(70, 19.8), "l1": _settled(5, 1.7), "l_half": _settled(17, 9.6)})
    return [adam, sgd]


SUPER = str.maketrans("⁻⁰¹²³⁴⁵⁶⁷⁸⁹", "-0123456789")


def _parse(text):
    """A tick label back to its number: '0.02', '50', '2×10⁻⁵', '10⁶'."""
    match = re.fullmatch(r"(?:(\d+)×)?10([⁻⁰¹²³⁴⁵⁶⁷⁸⁹]+)", text)
    if match:
        return float(match.group(1) or 1) * 10.0 ** int(match.group(2).translate(SUPER))
    return float(text)


@pytest.mark.parametrize("value, text", [(20, "20"), (0.05, "0.05"), (1, "1"), (2e-5, "2×10⁻⁵"), (1e6, "10⁶"),
                                         (5e-7, "5×10⁻⁷"), (0.001, "0.001")])
def test_tick_labels_carry_their_magnitude(value, text):
    assert figures.magnitude(value) == text and _parse(text) == pytest.approx(value)


def test_log_axes_label_decades_with_magnitudes(race):
    axis = figures.loss_figure(race).layout.yaxis
    assert axis.type == "log"
    values = [_parse(t) for t in axis.ticktext]
    assert values == pytest.approx(list(axis.tickvals))
    low, high = 10 ** axis.range[0], 10 ** axis.range[1]
    assert all(low <= v <= high for v in values)
    # the slow phase (steps ≥ 1000): Adam's 10^-0.6 ≈ 0.25 down to 1e-6; the start (1.0) is off the scale
    assert low < 1e-6 and 0.25 < high < 1.0
    exponents = np.log10(values)
    assert np.allclose(exponents, np.round(exponents))  # > 2.5 decades: decades only


def test_two_and_five_between_decades_only_on_short_ranges():
    ticks = figures.log_ticks(0.015, 0.6)
    assert ticks == pytest.approx([0.02, 0.05, 0.1, 0.2, 0.5])
    assert figures.log_ticks(1e-6, 1.0) == pytest.approx([10.0**e for e in range(-6, 1)])


def test_linear_axis_where_the_slow_phase_spans_less_than_a_decade(race):
    fig = figures.sharpness_figure(race)
    left = fig.layout.yaxis
    assert left.type == "linear" and left.tickformat == "~g"
    low, high = left.range
    assert low <= 7.0 and high >= 7.2 and high < 40  # fitted to the slow phase (≈ 7), not the start (40)
    clipped = [a.text for a in fig.layout.annotations if a.text.startswith("▲")]
    assert clipped and "up to 40" in clipped[0]


def test_slow_phase_sets_the_range_on_a_log_axis_too(race):
    adam, sgd = race
    for doc in race:
        doc["history"]["test_loss_denoised"][0] = 1e4  # a huge value at initialisation
    axis = figures.loss_figure(race).layout.yaxis
    assert 10 ** axis.range[1] < 10  # the start does not set the scale


def test_panels_say_who_drives_it_down_and_who_is_ahead(race):
    titles = [a.text for a in figures.sharpness_figure(race).layout.annotations if a.text.startswith("<b>")]
    assert titles[0] == "<b>tr(H)</b> · SGD drives it down<br>lower at the end: SGD (7 vs Adam 7.2)"
    assert titles[1] == "<b>tr(Diag(H)^½)</b> · Adam drives it down<br>lower at the end: Adam (5.9 vs SGD 19.8)"
    bias = [a.text for a in figures.norms_figure(race).layout.annotations if a.text.startswith("<b>")]
    assert bias[1].endswith("lower at the end: Adam (2.7 vs SGD 9.6)")


def test_verdict_reads_the_race(race):
    result = verdict(race)
    assert result.baseline == 1 and result.moving == [False, False]
    assert result.ratios["trace_sqrt_diag_H"][0] == pytest.approx(5.9 / 19.8)
    assert "Adam lower on tr(Diag(H)^½) by 70 % (vs SGD)" in result.sentences
    assert "SGD lower on tr(H) by 2.8 % (vs Adam)" in result.sentences
    fig = figures.verdict_figure(race)
    assert [t.name for t in fig.data] == ["Adam", "SGD"]
    assert fig.data[0].y[2] == pytest.approx(5.9 / 19.8) and fig.data[1].y[2] == pytest.approx(1.0)


def test_a_run_still_moving_gets_no_verdict(race):
    adam, sgd = race
    sgd["history"]["trace_H_denoised"] = _falling(40, 7.0)
    sgd["history"]["implied_sharpness_denoised"] = sgd["history"]["trace_H_denoised"]
    assert own_measure_fall(sgd) > MOVING_TOLERANCE and own_measure_fall(adam) == pytest.approx(0.0)
    result = verdict(race)
    assert result.moving == [False, True]
    assert not any(s.startswith(("Adam lower", "SGD lower")) for s in result.sentences)
    assert result.sentences[-1].startswith("SGD still moving: its own measure fell")
    fig = figures.verdict_figure(race)
    assert fig.data[1].name == "SGD (still moving)" and fig.data[1].marker.color == "white"


def test_one_colour_per_optimizer_everywhere(race):
    figs = figures.race_figures(race)
    expected = {"Adam": figures.OPTIMIZER_COLORS["adam"], "SGD": figures.OPTIMIZER_COLORS["sgd"]}
    for name in ("loss", "sharpness", "bias"):
        for trace in figs[name].data:
            who = "Adam" if trace.name.startswith("adam") else "SGD"
            assert trace.line.color == expected[who], (name, trace.name)
    for trace in figs["verdict"].data:
        assert trace.marker.line.color == expected[trace.name.split()[0]]
    assert figures.legend_items(race) == [(expected["Adam"], "adam η=0.1 β2=0.95"), (expected["SGD"], "sgd η=0.1")]


def _luminance(hex_color):
    rgb = np.array([int(hex_color[i:i + 2], 16) / 255 for i in (1, 3, 5)])
    linear = np.where(rgb <= 0.04045, rgb / 12.92, ((rgb + 0.055) / 1.055) ** 2.4)
    return float(linear @ [0.2126, 0.7152, 0.0722])


def test_palette_survives_grayscale():
    """SGD and Adam, the pair every race shows, differ in lightness, not only in hue."""
    sgd, adam = figures.OPTIMIZER_COLORS["sgd"], figures.OPTIMIZER_COLORS["adam"]
    assert abs(_luminance(adam) - _luminance(sgd)) > 0.25
    assert len(set(figures.OPTIMIZER_COLORS.values())) == len(figures.OPTIMIZER_COLORS)


def test_second_run_of_one_optimizer_gets_its_own_colour(race):
    other = _doc("adam", {"test_loss": _settled(1, 0.1)})
    colors = figures.run_colors([race[0], race[1], other])
    assert colors[0] == figures.OPTIMIZER_COLORS["adam"] and len(set(colors)) == 3


def test_teacher_mode_sizes_for_a_projector(race):
    for name, fig in figures.race_figures(race, teacher=True).items():
        layout = fig.layout
        assert layout.font.size >= 18, name
        for axis in (layout.xaxis, layout.yaxis):
            assert axis.tickfont.size >= 18, name
        for trace in fig.data:
            if trace.type == "scatter" and trace.mode == "lines" and trace.opacity in (None, 1.0):
                assert trace.line.width >= 4, (name, trace.name)
    assert figures.loss_figure(race).layout.font.size < 18  # normal mode stays normal


def test_one_legend_for_the_group(race):
    figs = figures.race_figures(race, legend=False)
    assert all(fig.layout.showlegend is False for fig in figs.values())
    shown = [t for t in figures.sharpness_figure(race).data if t.showlegend]
    assert [t.name for t in shown] == ["adam η=0.1 β2=0.95", "sgd η=0.1"]  # once per optimizer, not per panel


def test_hover_names_step_value_and_optimizer(race):
    trace = figures.loss_figure(race).data[0]
    assert "step t %{x" in trace.hovertemplate and "%{y:.4g}" in trace.hovertemplate
    assert trace.hovertemplate.startswith("Adam at Φ(θ̄)")


@pytest.mark.parametrize("dim", [1000, 10_000])
def test_weight_views_stay_readable_at_large_d(dim):
    rng = np.random.default_rng(0)
    w_star = np.zeros(dim)
    support = rng.choice(dim, 5, replace=False)
    w_star[support] = [1.0, -0.8, 0.6, 0.9, -1.0]
    w = w_star + rng.normal(scale=1e-3, size=dim)
    fig = figures.weights_vs_truth([_doc("adam", {"test_loss": _settled(1, 0.1)}, dim=dim, w=w, w_star=w_star)])
    run, truth = fig.data
    size = dim // figures.MAX_COORDINATES
    assert len(run.y) == figures.MAX_COORDINATES and len(truth.y) == 5
    assert sorted(truth.x.tolist()) == sorted((support // size * size).tolist())  # support marked, w* drawn
    assert max(abs(run.y)) == pytest.approx(1.0, abs=0.01)  # each bin shows its largest |w|
    assert f"bins of {size}" in fig.layout.xaxis.title.text


def test_close_values_get_the_digits_that_tell_them_apart():
    from agmcore.analysis.verdict import distinct

    assert distinct(1.65, 1.652) == ("1.65", "1.652")
    assert distinct(5.25, 9.42) == ("5.25", "9.42")
    assert distinct(2.0, 2.0) == ("2", "2")  # equal values stay short


def test_a_live_race_says_lower_now(race):
    for doc in race:
        doc["status"] = "running"
    titles = [a.text for a in figures.sharpness_figure(race).layout.annotations if a.text.startswith("<b>")]
    assert titles[1].endswith("lower now: Adam (5.9 vs SGD 19.8)")


def test_the_summary_table_names_each_run_in_its_colour_and_rounds_its_numbers():
    from ui.race_view import table_html

    runs = [{"config": {"optimizer": {"name": n, "lr": 0.1, "beta1": 0.9, "beta2": 0.9, "lam": 0.5},
                        "task": {"name": "diag-net"}, "seed": 0},
             "status": "finished", "steps_done": 100,
             "history": {"step": [0, 100], "test_loss": [1.0, 0.123456789],
                         **({"test_loss_denoised": [1.0, 0.5]} if n == "adam" else {})}}
            for n in ("adam", "sgd")]
    html_text = table_html(runs)
    colors = figures.run_colors(runs)
    assert all(f"color:{c};font-weight:600" in html_text for c in colors)
    assert "0.1235" in html_text and "0.123456789" not in html_text  # 4 significant digits
    assert html_text.count("<tr>") == 3 and html_text.count("–") == 1  # SGD has no denoised value yet: a dash
