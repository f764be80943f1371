"""Label-noise tasks. Each task module builds a `Problem` for a group of runs that share shapes."""
