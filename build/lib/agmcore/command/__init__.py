"""Layer 8, command: the agmcore CLI."""
