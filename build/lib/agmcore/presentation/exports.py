"""Figure files: PNG through kaleido when a Chrome/Chromium is available, else standalone HTML."""
from __future__ import annotations

import functools
import shutil
from typing import Tuple

import plotly.graph_objects as go

CHROMES = ("chromium", "chromium-browser", "google-chrome", "chrome")


@functools.lru_cache(maxsize=1)
def png_available() -> bool:
    """kaleido is installed and finds a browser to render with."""
    try:
        import kaleido  # noqa: F401
    except ImportError:
        return False
    return any(shutil.which(name) for name in CHROMES)


def figure_format() -> Tuple[str, str]:
    """(file extension, MIME type) that figure_bytes will produce."""
    return ("png", "image/png") if png_available() else ("html", "text/html")


def figure_bytes(fig: go.Figure) -> bytes:
    """The figure as PNG, or as standalone HTML (plotly.js inlined) when PNG is not possible."""
    if figure_format()[0] == "png":
        return fig.to_image(format="png", width=1100, height=fig.layout.height or 500, scale=2)
    return fig.to_html(include_plotlyjs=True, full_html=True).encode()
