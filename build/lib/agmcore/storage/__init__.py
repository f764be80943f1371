"""Layer 5, storage: the content-keyed result store and atomic output files."""
