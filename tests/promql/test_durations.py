"""Duration expressions are rewritten into literal durations once step and range are known."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from spyglass.core.errors import ParseError
from spyglass.promql._durations import expand_durations


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("x[26m+4m]", "x[1800000ms]"),
        ("x[1800]", "x[1800000ms]"),
        ("x[2m*(10+5)]", "x[1800000ms]"),
        ("x[5m]", "x[5m]"),
        ("x[5m:]", "x[5m:]"),
        ("x[29s+1s:5s+5s]", "x[30000ms:10000ms]"),
        ("x[step()*2]", "x[20000ms]"),
        ("x[min_of(step()+1, 1h)]", "x[11000ms]"),
        ("x offset 100 + 2", "x offset 100000ms + 2"),
        ("x offset -2 ^ 2", "x offset -2000ms ^ 2"),
        ("x offset (-2 ^ 2)", "x offset -4000ms"),
        ("x offset -step()*2", "x offset -10000ms*2"),
        ("x offset 5m", "x offset 5m"),
        ('x{a="[1+1]"} offset range()', 'x{a="[1+1]"} offset 60000ms'),
        ("my_offset_total offset 1m", "my_offset_total offset 1m"),
    ],
)
def test_expansion(query: str, expected: str) -> None:
    assert expand_durations(query, 10_000, 60_000) == expected


@settings(max_examples=200, deadline=None)
@given(
    st.one_of(
        st.text(alphabet="x[]():+-*/%^ 0123456789smh.offsetp,_", max_size=40),
        st.builds(
            lambda a, b: f"x[{a}^{b}]",
            st.sampled_from(["-8", "0", "1e300", "2"]),
            st.sampled_from(["0.5", "-1", "400", "(2"]),
        ),
        st.just("x[" + "(" * 5000 + "1" + ")" * 5000 + "]"),
    )
)
def test_arbitrary_text_only_raises_parse_error(text: str) -> None:
    try:
        expand_durations(text, 10_000, 60_000)
    except ParseError as exc:
        message = str(exc)
        assert "duration" in message, message


@pytest.mark.parametrize("query", ["x offset 1e308", "x[1e300*1e3]", "x offset -1e17"])
def test_a_duration_past_int64_milliseconds_is_a_parse_error(query: str) -> None:
    with pytest.raises(ParseError, match="duration expression out of range"):
        expand_durations(query, 10_000, 60_000)
