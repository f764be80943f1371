"""Layer 3, engine: a run's configuration and key, stepping many runs at once (the compiled and the torch loop), what is observed and the result document."""
