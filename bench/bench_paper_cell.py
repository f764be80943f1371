"""What one `--scale paper` sample-complexity cell costs, and the whole figure projected.

    python -m bench.bench_paper_cell [--steps 3000] [--batch 1,10] [--device cpu] [--cores 2,64,512]

Runs the paper scale's cells (d = 10⁴, κ = 150, n = 420, experiments/sample_complexity.py) for
--steps and for 2·--steps steps (after a 200-step warm-up run that compiles the loop), alone and
in batches of --batch cells of one chunk (seeds 0…B−1: what a sweep batches), for Adam and SGD;
prints the steps per second of one cell from the difference of the two (batch size × steps ÷
extra wall time: the data, the first and last logging points and Φ(θ̄) at the end cost the same
in both and drop out) and, from each optimizer's best,
the figure's compute: every paper cell (10 seeds) × its steps ÷ steps/s, scaled by each cell's n
against 420 (a step costs about a·d·n: engine/speed.py), and its wall time on N cluster cores
(one cell a core at a time, so never under the longest cell's time; --device cuda: one chunk a
GPU).
"""
from __future__ import annotations

import argparse
import dataclasses
import time

import torch

from agmcore.command.progress import format_seconds
from agmcore.engine.runner import run_all
from agmcore.experiments import SAMPLE_COMPLEXITY, sample_complexity_cells

N_MEASURED = 420


def cells_at(n: int, seeds: int, steps: int):
    picked = [c for c in sample_complexity_cells("paper", seeds) if c.task.samples == n]
    return {name: [dataclasses.replace(c, steps=steps, log_every=steps) for c in picked if c.optimizer.name == name]
            for name in ("adam", "sgd")}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=3000)
    parser.add_argument("--batch", default="1,10")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--cores", default="2,64,512")
    args = parser.parse_args()
    torch.set_num_threads(1)
    batches = [int(b) for b in args.batch.split(",")]
    rate = {}
    for name in ("adam", "sgd"):  # warm-up: each compiled loop compiles once
        run_all(cells_at(N_MEASURED, 1, 200)[name], device=args.device)
    print(f"paper scale cell: d = {SAMPLE_COMPLEXITY['paper']['dim']}, n = {N_MEASURED}, {args.steps} steps, "
          f"device {args.device}, one torch thread")
    for name in ("adam", "sgd"):
        for batch in batches:
            walls = []
            for steps in (args.steps, 2 * args.steps):
                start = time.perf_counter()
                run_all(cells_at(N_MEASURED, batch, steps)[name], device=args.device)
                walls.append(time.perf_counter() - start)
            per_cell = batch * args.steps / (walls[1] - walls[0])
            rate[name] = max(rate.get(name, 0.0), per_cell)
            print(f"  {name:4s} batch {batch:3d}: {walls[0]:6.1f} s and {walls[1]:6.1f} s, {per_cell:8.0f} cell-steps/s")
    figure = sample_complexity_cells("paper", 10)
    cell_seconds = [c.steps / rate[c.optimizer.name] * c.task.samples / N_MEASURED for c in figure]
    seconds, longest = sum(cell_seconds), max(cell_seconds)
    print(f"the figure: {len(figure)} cells × {figure[0].steps:,} steps ≈ {seconds / 3600:,.0f} core-hours "
          f"at these rates")
    for cores in (int(c) for c in args.cores.split(",")):
        wall = max(seconds / cores, longest)  # one cell a core: never less than the longest cell
        print(f"  on {cores:4d} cores: ≈ {format_seconds(wall)} (h:mm:ss), the cells spread evenly, "
              f"at least the longest cell's {format_seconds(longest)}")


if __name__ == "__main__":
    main()
