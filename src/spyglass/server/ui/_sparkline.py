"""Sparklines drawn on the server: a series of numbers as the ``points`` of an SVG polyline.

A list page shows one small trend per row (an issue's events per hour, a probe's response
time); drawing them as markup costs no script and no request per row, and the CSP's ban on
inline styles does not touch SVG's geometry attributes. The box is ``WIDTH`` x ``HEIGHT`` in
the SVG's own units; the template stretches it to the cell.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

WIDTH = 100.0
HEIGHT = 24.0


def sparkline(values: Sequence[float | None]) -> str:
    """``values`` (oldest first; ``None`` or NaN where nothing was measured, drawn as 0) as
    polyline points scaled to the box, the highest value at the top and 0 at the bottom;
    empty for no values. One value is drawn as a flat line across the box."""
    clean = [0.0 if v is None or not math.isfinite(v) else max(v, 0.0) for v in values]
    if not clean:
        return ""
    if len(clean) == 1:
        clean = clean * 2
    top = max(clean) or 1.0
    step = WIDTH / (len(clean) - 1)
    return " ".join(
        f"{i * step:.2f},{HEIGHT - v / top * (HEIGHT - 1):.2f}" for i, v in enumerate(clean)
    )
