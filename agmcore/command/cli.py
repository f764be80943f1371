"""Command line: `python -m agmcore run ...` writes one run as JSON (results.py schema).

Bad input exits with code 2 and one line naming the problem, before any work (an output file or
folder is checked by a test write); long runs draw a progress bar on stderr; Ctrl-C or SIGTERM
stops the run and still writes it, with status "cancelled"; files are written atomically
(output_files.py), so an interrupted write never destroys an earlier result.
"""
from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
import time
from typing import List, Optional

from agmcore.command.progress import ProgressBar, cell_line
from agmcore.engine.config import (DTYPES, INITS, LAWS, MEASUREMENTS, ConfigError, OptimizerConfig, RunConfig,
                                   check_memory, distinct)
from agmcore.engine.device import DEVICES, cpu_cores, resolve_device
from agmcore.engine.memory import available_bytes
from agmcore.engine.results import dumps, to_document
from agmcore.engine.runner import run_batch
from agmcore.optimizers.family import OPTIMIZER_NAMES, two_scheme_beta2
from agmcore.problems.descriptors import TASK_NAMES, TASKS
from agmcore.storage.output_files import check_output_file, check_output_folder, write_atomically


CLUSTER_HELP = ("run the missing cells as tasks on the Ray cluster at ADDRESS (host:port, 'auto', or 'local' to "
                "start one on this machine); needs pip install 'sharpness-lab[cluster]' (docs/cluster.md)")


class UsageError(Exception):
    """Bad command-line input: reported as one line, exit code 2."""


def at_least_one(text: str) -> int:
    """argparse type of --seeds and --workers: a whole number ≥ 1 (else exit 2 before any work)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a whole number (got {text!r})") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1 (got {value})")
    return value


def cluster_address(text: str) -> str:
    """argparse type of --cluster: an empty address is refused before any cell runs (exit 2)."""
    if not text.strip():
        raise argparse.ArgumentTypeError("needs an address: host:port, 'auto', or 'local'")
    return text


def add_pool_flags(parser: argparse.ArgumentParser, workers_help: str) -> None:
    """--workers and --cluster: where a command's cells run (reproduce, sweep, ship)."""
    parser.add_argument("--workers", type=at_least_one, default=None, help=workers_help)
    parser.add_argument("--cluster", type=cluster_address, metavar="ADDRESS", help=CLUSTER_HELP)


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, no usage dump
        raise UsageError(message)


def build_parser(with_reproduce: bool = True) -> argparse.ArgumentParser:
    """The CLI's parser; without `reproduce` it does not import the experiments (and plotly), so
    `python -m agmcore run` starts sooner."""
    parser = _Parser(prog="python -m agmcore", description="Adaptive optimizers under label noise.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    run = sub.add_parser("run", help="run one configuration and write its JSON result")
    run.add_argument("--task", choices=TASK_NAMES, default=TASK_NAMES[0])
    run.add_argument("--optimizer", choices=OPTIMIZER_NAMES, default="adam")
    run.add_argument("--dim", type=int, help="diag-net: input dimension d; matrix-factorization: matrix size m")
    run.add_argument("--samples", type=int, help="training samples n (observed entries or measurements)")
    run.add_argument("--sparsity", type=int, help="diag-net: nonzeros κ of w*")
    run.add_argument("--rank", type=int, help="matrix-factorization: rank of W*")
    run.add_argument("--depth", type=int, help="matrix-factorization: number of factors")
    run.add_argument("--measurement", choices=MEASUREMENTS, help="matrix-factorization: entries or gaussian")
    run.add_argument("--label-noise", type=float, help="δ: label noise scale")
    run.add_argument("--noise-law", choices=LAWS)
    run.add_argument("--input-law", choices=LAWS, help="diag-net: law of the inputs")
    run.add_argument("--init-scale", type=float, help="α: initialisation scale")
    run.add_argument("--init", choices=INITS, help="diag-net: u₀ = v₀ from one draw (tied, the authors', "
                     "the default) or two independent draws")
    run.add_argument("--batch-size", type=int, help="minibatch size (default: full batch)")
    run.add_argument("--lr", type=float)
    run.add_argument("--beta1", type=float, help="momentum (default 0 for sgd/rmsprop, else 0.9)")
    run.add_argument("--beta2", type=float)
    run.add_argument("--two-scheme", type=float, metavar="C", help="set β2 = 1 − C·lr² (the 2-scheme)")
    run.add_argument("--lam", type=float, help="AdamE's preconditioner power λ")
    run.add_argument("--eps", type=float)
    run.add_argument("--block-size", type=int, help="Adam-mini's block size")
    run.add_argument("--no-bias-correction", action="store_true", help="(rmsprop never corrects, as torch's)")
    run.add_argument("--steps", type=int)
    run.add_argument("--log-every", type=int)
    run.add_argument("--log-points", type=int, help="log at about this many steps spaced evenly in log t instead")
    run.add_argument("--seed", type=int)
    run.add_argument("--manifold-metrics", action="store_true", help="also measure at the projection onto the manifold")
    run.add_argument("--tail-average", type=float, default=0.0, metavar="F",
                     help="also measure at the mean iterate of the last fraction F of the steps (0 < F < 1)")
    run.add_argument("--device", choices=DEVICES, default="auto")
    run.add_argument("--dtype", choices=DTYPES)
    run.add_argument("--out", default="-", help="output file (default: standard output)")
    run.add_argument("--quiet", action="store_true", help="no progress bar")
    if not with_reproduce:
        return parser

    from agmcore.experiments import EXPERIMENTS, SCALES

    rep = sub.add_parser("reproduce", help="run one of the paper's experiments and write its data and figure")
    rep.add_argument("name", choices=sorted(EXPERIMENTS))
    rep.add_argument("--scale", choices=SCALES, default="classroom")
    rep.add_argument("--seeds", type=at_least_one, default=None,
                     help="seeds 0…N−1 (default: the experiment's own, " + ", ".join(
                         f"{name} {e.seeds}" for name, e in sorted(EXPERIMENTS.items())) + ")")
    rep.add_argument("--out", required=True, help="output folder (created)")
    rep.add_argument("--device", choices=DEVICES, default="auto")
    rep.add_argument("--store", help="result store folder to reuse and extend (default: the app's store)")
    rep.add_argument("--no-store", action="store_true", help="compute every cell, store nothing")
    add_pool_flags(rep, "processes that run chunks of cells at once (default: the CPU cores on the CPU, 1 on a GPU)")
    sweep = sub.add_parser("sweep", help="compute cells (a RunConfig JSON, or a JSON list of them: a race, one a line, "
                                         "on standard input) into a result store, in chunks over worker processes; "
                                         "what the app's Experiments page and a swept Playground knob run")
    sweep.add_argument("--store", help="result store folder (default: the app's store)")
    add_pool_flags(sweep, "processes that run chunks of cells at once (default: the CPU cores)")
    ship = sub.add_parser("ship", help="compute the results a fresh install shows (the Home presets' races and the "
                                       "experiments at the scales they ship) and write them to agmcore/assets/")
    ship.add_argument("--out", default=None, help="folder to write (default: the package's agmcore/assets/)")
    ship.add_argument("--store", help="result store folder to reuse and extend (default: the app's store)")
    add_pool_flags(ship, "processes for the experiments' cells (default: the CPU cores)")
    ship.add_argument("--experiment", choices=sorted(EXPERIMENTS),
                      help="write this experiment's record alone (no races), at --scale")
    ship.add_argument("--scale", choices=SCALES, default=None,
                      help="with --experiment: the scale to write (default: each it ships)")
    return parser


def _given(args, names: List[str], rename=None) -> dict:
    rename = rename or {}
    return {rename.get(n, n): getattr(args, n) for n in names if getattr(args, n) is not None}


# the task flags; --dim sets either task's size (TaskDescriptor.size_field)
TASK_FLAGS = ("dim", "samples", "sparsity", "rank", "depth", "measurement", "label_noise", "noise_law", "input_law",
              "init_scale", "batch_size", "init")


def _field_of(flag: str, described) -> str:
    return described.size_field if flag == "dim" else flag


def config_from_args(args) -> RunConfig:
    """Build (and so validate) the RunConfig the flags describe; unset flags take defaults."""
    described = TASKS[args.task]
    for flag in TASK_FLAGS:
        if getattr(args, flag) is not None and _field_of(flag, described) not in described.fields():
            owners = [name for name, d in TASKS.items() if _field_of(flag, d) in d.fields()]
            raise ConfigError(f"--{flag.replace('_', '-')} applies to --task {' or '.join(owners)} only")
    mine = [flag for flag in TASK_FLAGS if _field_of(flag, described) in described.fields()]
    task = described.settings(**_given(args, mine, {"dim": described.size_field}))
    opt = _given(args, ["lr", "beta1", "beta2", "lam", "eps", "block_size"])
    if args.two_scheme is not None:
        if args.beta2 is not None:
            raise ConfigError("give either --beta2 or --two-scheme, not both")
        opt["beta2"] = two_scheme_beta2(opt.get("lr", OptimizerConfig.lr), args.two_scheme)
    optimizer = OptimizerConfig(name=args.optimizer, bias_correction=False if args.no_bias_correction else None, **opt)
    run = _given(args, ["steps", "log_every", "log_points", "seed", "dtype"])
    return RunConfig(task=task, optimizer=optimizer, manifold_metrics=args.manifold_metrics,
                     tail_average=args.tail_average, **run)


STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)  # both stop the run and still write it


def command_run(args) -> int:
    config = config_from_args(args)
    check_output_file(args.out)
    check_memory([config], available_bytes(resolve_device(args.device)))
    cancel = threading.Event()
    previous = {s: signal.signal(s, lambda *_: cancel.set()) for s in STOP_SIGNALS}
    bar = None if args.quiet else ProgressBar(config.steps)
    start = time.perf_counter()
    try:
        for snap in run_batch([config], device=args.device, cancel=cancel):
            if bar:
                bar.update(snap.step, snap.steps_per_second, force=snap.done)
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
        if bar:
            bar.close()
    record = snap.records[0]
    doc = to_document(record, device=str(resolve_device(args.device)),
                      wall_seconds=round(time.perf_counter() - start, 3))
    text = dumps(doc)
    if args.out == "-":
        sys.stdout.write(text + "\n")
    else:
        write_atomically(args.out, text)
    if not args.quiet:
        print(f"{record.status} after {record.steps_done} steps; test loss {record.final.get('test_loss')}",
              file=sys.stderr)
    return 0 if record.status in ("finished", "diverged") else 130


def command_reproduce(args) -> int:
    from agmcore.experiments import EXPERIMENTS
    from agmcore.experiments.sweeps import collect
    from agmcore.storage.store import ResultStore

    experiment = EXPERIMENTS[args.name]
    if args.scale not in experiment.scales:
        raise ConfigError(f"{args.name} has no scale {args.scale!r}: its scales are {', '.join(experiment.scales)}")
    args.seeds = args.seeds or experiment.seeds
    device = resolve_device(args.device)
    workers = args.workers or (cpu_cores() if device.type == "cpu" else 1)
    configs = experiment.build(args.scale, args.seeds)
    check_output_folder(args.out, "--out")
    check_output_folder(os.path.join(args.out, "cells"), "--out")
    if not args.no_store and args.store is not None:
        check_output_folder(args.store, "--store")
    store = None if args.no_store else ResultStore(args.store)
    start, done = time.perf_counter(), [0, 0]

    def on_cell(i, doc, fresh):
        done[0] += 1
        done[1] += fresh
        write_atomically(os.path.join(args.out, "cells", f"{doc['key']}.json"), dumps(doc))
        print(f"{cell_line(done[0], len(configs), time.perf_counter() - start, done[1])} "
              f"{'ran' if fresh else 'from store'}: {doc['config']['optimizer']['name']} "
              f"n={doc['config']['task'].get('samples')} seed={doc['config']['seed']}", file=sys.stderr, flush=True)

    docs = on_cluster_or_here(lambda: collect(configs, store, args.device, on_cell, workers=workers,
                                              cluster=args.cluster))
    if docs is None:
        return 1
    summary = experiment.summarize(configs, docs)
    summary.update(experiment=experiment.name, claim=experiment.claim, scale=args.scale, seeds=args.seeds,
                   cells=len(configs), computed=done[1], workers=workers, cluster=args.cluster,
                   wall_seconds=round(time.perf_counter() - start, 1),
                   command="python -m agmcore " + " ".join(sys.argv[1:]) if sys.argv[1:2] == ["reproduce"] else "")
    write_atomically(os.path.join(args.out, "summary.json"), json.dumps(summary, indent=1, default=str))
    write_figure(args.out, experiment.name, configs, docs)
    verdict = "held" if summary["claim_holds"] else "did NOT hold"
    print(f"{experiment.name} ({args.scale}, {args.seeds} seeds): claim {verdict}; "
          f"{summary['wall_seconds']} s; written to {args.out}", file=sys.stderr)
    return 0


def on_cluster_or_here(sweep):
    """sweep()'s value; None, with the reason on stderr, when the cluster cannot be used or some
    cells failed there twice (their keys are listed; every other cell is stored)."""
    from agmcore.experiments.cluster import CellsFailed, ClusterError
    try:
        return sweep()
    except ClusterError as error:
        print(f"agmcore: error: {error}", file=sys.stderr)
    except CellsFailed as error:
        for line in error.reasons:
            print(f"  {line}", file=sys.stderr)
        for key in error.keys:
            print(f"  failed: {key}", file=sys.stderr)
        print(f"agmcore: error: {len(error.keys)} cells failed twice on the cluster and were not stored (listed above; "
              "the others are stored: run the command again to retry these)", file=sys.stderr)
    return None


def write_figure(folder: str, name: str, configs, docs) -> None:
    """The experiment's figure beside its summary (PNG, or HTML without a Chromium for kaleido);
    without the app's extra (plotly) a notice says how to get it."""
    try:
        from agmcore.presentation.experiment_figures import experiment_figure
        from agmcore.presentation.exports import figure_bytes, figure_format
    except ImportError as missing:
        print(f"figure not written: {missing.name} is not installed (pip install 'sharpness-lab[app]' adds it)",
              file=sys.stderr)
        return
    extension = figure_format()[0]
    write_atomically(os.path.join(folder, f"{name}.{extension}"), figure_bytes(experiment_figure(name, configs, docs)),
                     mode="wb")


def command_ship(args) -> int:
    from agmcore.engine.runner import run_all
    from agmcore.experiments import EXPERIMENTS
    from agmcore.experiments.sweeps import collect
    from agmcore.presentation.experiment_figures import experiment_figure
    from agmcore.presentation.playground import build_race
    from agmcore.presentation.presets import PRESETS
    from agmcore.service.shipped import ASSETS, ship
    from agmcore.storage.store import ResultStore

    folder = args.out or ASSETS
    check_output_folder(folder, "--out")
    if args.store is not None:
        check_output_folder(args.store, "--store")
    store, start = ResultStore(args.store), time.perf_counter()
    workers = args.workers or cpu_cores()

    def report(line):
        print(f"[{time.perf_counter() - start:.0f} s] shipped {line}", file=sys.stderr)

    alone = EXPERIMENTS.get(args.experiment)
    if args.scale is not None and (alone is None or args.scale not in alone.scales):
        raise ConfigError("--scale needs --experiment, and one of its scales")

    def collect_cells(configs):
        docs = on_cluster_or_here(lambda: collect(configs, store, "cpu", workers=workers, cluster=args.cluster))
        if docs is None:
            raise SystemExit(1)
        return docs

    written = ship(folder, [] if alone else [build_race(settings) for settings in PRESETS.values()],
                   [alone] if alone else list(EXPERIMENTS.values()), collect_cells=collect_cells,
                   run_race=lambda configs: [to_document(r) for r in run_all(configs)],
                   draw=lambda name, configs, docs: experiment_figure(name, configs, docs).to_json(), report=report,
                   scale=args.scale)
    print(f"{len(written['races'])} races and {len(written['experiments'])} experiments written to {folder} "
          f"in {time.perf_counter() - start:.0f} s", file=sys.stderr)
    return 0


def command_sweep(args) -> int:
    """Each line read is a cell (a RunConfig JSON) or a race (a JSON list of them); every distinct
    cell computed (or found) and stored, each race stored once its cells are; one progress line
    per cell on stderr: "[k/N] ran|from store: <key>"."""
    from agmcore.experiments.sweeps import collect_races
    from agmcore.storage.store import ResultStore

    lines = [line for line in sys.stdin.read().splitlines() if line.strip()]
    try:
        read = [json.loads(line) for line in lines]
    except json.JSONDecodeError as e:
        raise ConfigError(f"a cell on standard input is not JSON: {e}") from None
    cells = [RunConfig.from_dict(c) for c in read if not isinstance(c, list)]
    races = [[RunConfig.from_dict(c) for c in race] for race in read if isinstance(race, list) and race]
    if not cells and not races:
        raise ConfigError("no cells on standard input (a RunConfig JSON, or a JSON list of them, a line)")
    if args.store is not None:
        check_output_folder(args.store, "--store")
    done, total = [0], len(distinct([*cells, *(c for race in races for c in race)]))

    def on_cell(i, doc, fresh):
        done[0] += 1
        print(f"[{done[0]}/{total}] {'ran' if fresh else 'from store'}: {doc['key']}", file=sys.stderr, flush=True)

    store = ResultStore(args.store)
    ran = on_cluster_or_here(lambda: collect_races(races, store, "cpu", on_cell, workers=args.workers or cpu_cores(),
                                                   cells=cells, cluster=args.cluster))
    return 1 if ran is None else 0


COMMANDS = {"run": command_run, "reproduce": command_reproduce, "sweep": command_sweep, "ship": command_ship}


def main(argv: Optional[List[str]] = None) -> int:
    try:
        argv = sys.argv[1:] if argv is None else argv
        args = build_parser(with_reproduce=argv[:1] != ["run"]).parse_args(argv)
        return COMMANDS[args.command](args)
    except (UsageError, ConfigError, ValueError) as e:
        print(f"agmcore: error: {e}", file=sys.stderr)
        return 2
