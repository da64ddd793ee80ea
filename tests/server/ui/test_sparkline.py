"""Server-drawn sparklines: one point per value, left to right across the box, every point
inside it, the highest value at the top and zero (or no value) at the bottom."""

from __future__ import annotations

import math

from hypothesis import given
from hypothesis import strategies as st

from spyglass.server.ui._sparkline import HEIGHT, WIDTH, sparkline

values = st.lists(
    st.one_of(st.none(), st.floats(allow_nan=True, allow_infinity=True)), max_size=200
)


def _points(text: str) -> list[tuple[float, float]]:
    return [(float(x), float(y)) for x, y in (p.split(",") for p in text.split())]


@given(values)
def test_every_value_is_a_point_inside_the_box_in_order(series: list[float | None]) -> None:
    points = _points(sparkline(series))
    if not series:
        assert points == []
        return
    assert len(points) == max(len(series), 2)
    xs = [x for x, _ in points]
    assert xs == sorted(xs)
    assert xs[0] == 0
    assert math.isclose(xs[-1], WIDTH)
    assert all(0 <= y <= HEIGHT for _, y in points)


def test_the_highest_value_is_at_the_top_and_nothing_at_the_bottom() -> None:
    points = _points(sparkline([0.0, 4.0, None, 2.0, math.nan]))
    ys = [y for _, y in points]
    assert ys[1] == 1.0  # the top, less a unit so the line's stroke shows
    assert ys[0] == ys[2] == ys[4] == HEIGHT
    assert ys[3] == HEIGHT - (HEIGHT - 1) / 2
