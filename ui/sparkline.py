"""A race's thumbnail: each run's test loss over the run as a small inline SVG (log scale), in
the race's own colours, for the Gallery (no plotting library: one <polyline> per run)."""
import html
import math
from typing import List, Optional, Sequence

WIDTH, HEIGHT, PAD = 180, 56, 3


def _points(curve: Sequence[Optional[float]], low: float, high: float) -> List[str]:
    steps = max(1, len(curve) - 1)
    span = (high - low) or 1.0
    out = []
    for i, value in enumerate(curve):
        if value is None or value <= 0:
            continue
        x = PAD + (WIDTH - 2 * PAD) * i / steps
        y = PAD + (HEIGHT - 2 * PAD) * (high - math.log10(value)) / span
        out.append(f"{x:.1f},{y:.1f}")
    return out


def sparkline_svg(curves: Sequence[Sequence[Optional[float]]], colors: Sequence[str], title: str = "") -> str:
    """One polyline per curve on a shared log10 axis; "" when no curve has a positive value."""
    logs = [math.log10(v) for c in curves for v in c if v is not None and v > 0]
    if not logs:
        return ""
    low, high = min(logs), max(logs)
    lines = "".join(f'<polyline fill="none" stroke="{html.escape(color)}" stroke-width="2" '
                    f'points="{" ".join(_points(curve, low, high))}"/>' for curve, color in zip(curves, colors))
    return (f'<svg width="{WIDTH}" height="{HEIGHT}" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
            f'aria-label="{html.escape(title)}" style="background:#fafafa;border:1px solid #ddd;border-radius:4px">'
            f"<title>{html.escape(title)}</title>{lines}</svg>")
