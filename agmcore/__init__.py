"""agmcore: adaptive gradient methods, label-noise tasks and exact sharpness measures.

Public pieces: `family` (named optimizers), `transforms`/`statistics` (the composable AGM
rule), `optim` (torch.optim subclasses), `config.RunConfig`, `engine.run_batch`,
`results` (the JSON schema) and the CLI (`python -m agmcore`).
"""
# 2: the diagonal network's compiled, batch-invariant loop (docs/engine.md) changed the round-off of
# every diag-net run, so results stored under schema 1 are not reused
# 3: every history and final value gains the denoised measures ("_denoised", docs/denoising.md);
# trajectories are those of schema 2, but a schema-2 document lacks what the pages now draw
# 4: the diagonal network starts tied, u₀ = v₀ (the authors' protocol, docs/science.md §3.1); a
# schema-3 configuration without "init" meant independent draws
# 5: matrix factorization's compiled, batch-invariant loop (docs/engine.md) changed the round-off of
# every factorization run on the CPU; runs may log at log-spaced steps ("log_points")
SCHEMA_VERSION = 5
# the suffix of a measure read at the denoised iterate Φ(θ̄) (docs/denoising.md)
DENOISED = "_denoised"
