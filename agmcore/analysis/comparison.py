"""Before and after a change of setting: how each optimizer's measures at Φ(θ̄) moved.

Each run of the race after the change is matched to the run of the same optimizer before it; the
sentence names the sharpness its family minimizes (tr(H) for SGD-like updates, tr(Diag(H)^½) for
the adaptive ones, docs/denoising.md) and the test loss. Pure functions of result documents.
"""
from __future__ import annotations

from typing import Dict, List, Optional, Sequence

from agmcore.analysis.verdict import denoised_last, display_name, measures_of
from agmcore.optimizers.family import REGISTRY


def own_sharpness(run: Dict) -> str:
    """The sharpness a run's optimizer family drives down: 'trace_sqrt_diag_H' (adaptive) or 'trace_H'."""
    member = REGISTRY.get(run["config"]["optimizer"]["name"])
    return "trace_sqrt_diag_H" if member is not None and member.preconditioned else "trace_H"


def _matched(before: Sequence[Dict], run: Dict, taken: set) -> Optional[int]:
    name = run["config"]["optimizer"]["name"]
    return next((i for i, r in enumerate(before) if i not in taken and r["config"]["optimizer"]["name"] == name), None)


def measure_changes(before: Sequence[Dict], after: Sequence[Dict]) -> List[str]:
    """One sentence per optimizer racing in both: "Adam: tr(Diag(H)^½) 13.2 → 11.8, test loss
    0.012 → 0.0091" (values at Φ(θ̄), the latest logged; a measure missing on either side is left out)."""
    if not before or not after:
        return []
    titles = {m: t for m, (t, _) in measures_of(after).items()}
    taken: set = set()
    sentences = []
    for run in after:
        i = _matched(before, run, taken)
        if i is None:
            continue
        taken.add(i)
        parts = []
        for measure in (own_sharpness(run), "test_loss"):
            old, new = denoised_last(before[i], measure), denoised_last(run, measure)
            if old is not None and new is not None and measure in titles:
                parts.append(f"{titles[measure]} {old:.3g} → {new:.3g}")
        if parts:
            sentences.append(f"{display_name(run['config'])}: " + ", ".join(parts))
    return sentences
