"""agmcore: adaptive gradient methods, label-noise tasks and exact sharpness measures.

Public pieces: `family` (named optimizers), `transforms`/`statistics` (the composable AGM
rule), `optim` (torch.optim subclasses), `config.RunConfig`, `engine.run_batch`,
`results` (the JSON schema) and the CLI (`python -m agmcore`).
"""
# 2: the diagonal network's compiled, batch-invariant loop (docs/engine.md) changed the round-off of
# every diag-net run, so results stored under schema 1 are not reused
SCHEMA_VERSION = 2
