"""Layer 4, analysis: reading results: who is ahead, claims over seeds, end-point measures, replay frames."""
