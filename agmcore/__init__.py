"""agmcore: adaptive gradient methods, label-noise tasks and exact sharpness measures.

Public pieces: `family` (named optimizers), `transforms`/`statistics` (the composable AGM
rule), `optim` (torch.optim subclasses), `config.RunConfig`, `engine.run_batch`,
`results` (the JSON schema) and the CLI (`python -m agmcore`).
"""
SCHEMA_VERSION = 1
