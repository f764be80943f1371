"""Layer 2, problems: the label-noise tasks (data, loss, closed-form curvature, the manifold
projection Φ), their descriptors and the oracle interpolators. Each task module builds a `Problem`
for a group of runs that share shapes. Imports optimizers and the root only."""
