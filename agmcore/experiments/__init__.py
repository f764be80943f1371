"""The paper's experiments as sweeps: their cells, their claimed outcome (their figures: presentation/experiment_figures.py).

Each experiment builds its cells for a scale ("classroom": about two minutes on 2 CPU cores;
"paper": the published sizes, GPU work), summarises the finished cells into numbers over
seeds, and says whether its claim held. Settings and what they showed are documented in docs/.
"""
from typing import Dict

from agmcore.experiments.adame_lambda import ADAME, ADAME_LAMBDAS, ADAME_SEEDS, adame_lambda_cells, adame_lambda_summary
from agmcore.experiments.common import SCALES, Experiment, tail_mean
from agmcore.experiments.matrix_factorization import (MATRIX_FACTORIZATION, MF_COMPILED, MF_OPTIMIZERS,
                                                      matrix_factorization_cells, matrix_factorization_summary)
from agmcore.experiments.sample_complexity import (RECOVERED, SAMPLE_COMPLEXITY, SC_SEEDS, sample_complexity_cells,
                                                   sample_complexity_summary)
from agmcore.experiments.sharpness_race import (RACE_OPTIMIZERS, RACE_SEEDS, SHARPNESS_RACE, sharpness_race_cells,
                                                sharpness_race_summary)

EXPERIMENTS: Dict[str, Experiment] = {e.name: e for e in (
    Experiment("sample-complexity", "Adam recovers a sparse truth from fewer samples",
               "Adam's median test loss over seeds drops to the recovery level at a smaller n than SGD's, "
               "and at every n at least as many seeds recover with Adam",
               sample_complexity_cells, sample_complexity_summary, seeds=SC_SEEDS,
               scales=tuple(SAMPLE_COMPLEXITY), shipped_scales=("classroom", "d2000")),
    Experiment("sharpness-race", "Each optimizer lowers its own sharpness",
               "On most seeds where the theory's two limits differ, SGD ends with the lower tr(H) and ‖w‖₁, "
               "Adam with the lower tr(Diag(H)^½) and Σ|w|^½ (how often each ends nearer its own oracle "
               "interpolator is shown too: at this scale about half the seeds, so it is not claimed)",
               sharpness_race_cells, sharpness_race_summary, seeds=RACE_SEEDS),
    Experiment("adame-lambda", "AdamE-λ: the preconditioner power sets the bias",
               "AdamE with λ ≈ 0 needs as many samples as SGD; for λ ≥ 0.25 the median over seeds recovers "
               "at a smaller n",
               adame_lambda_cells, adame_lambda_summary, seeds=ADAME_SEEDS),
    Experiment("matrix-factorization", "Matrix factorization: Adam's bias against low rank",
               "Under label noise Adam ends with a higher test error than SGD on most seeds (it recovers the "
               "low-rank truth worse); each optimizer ends lower on its own measure",
               matrix_factorization_cells, matrix_factorization_summary),
)}

__all__ = ["ADAME", "ADAME_LAMBDAS", "EXPERIMENTS", "Experiment", "MATRIX_FACTORIZATION", "MF_COMPILED", "MF_OPTIMIZERS",
           "RACE_OPTIMIZERS", "RECOVERED", "SAMPLE_COMPLEXITY", "SCALES", "SHARPNESS_RACE", "adame_lambda_cells",
           "adame_lambda_summary", "matrix_factorization_cells", "matrix_factorization_summary",
           "sample_complexity_cells", "sample_complexity_summary", "sharpness_race_cells", "sharpness_race_summary",
           "tail_mean"]
