"""The ``input_logs`` notation: ``<time> <line>`` and ``<time>+<step>x<n> <line>`` (n + 1 lines,
as promtool's ``a+bxn``), the line verbatim after one space; stream labels are ``=`` matchers.
Any text either reads or is refused with ``BadInput``, never another error."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from spyglass.core.errors import BadInput, SpyglassError
from spyglass.rules.testing import parse_log_line, parse_stream_labels
from spyglass.rules.testing._input_logs import MAX_REPEAT


def test_one_line_at_a_time_after_the_start() -> None:
    assert parse_log_line('1m30s {"level":"error"}') == [(90_000, '{"level":"error"}')]
    assert parse_log_line("0s") == [(0, "")]
    assert parse_log_line("0s  two spaces") == [(0, " two spaces")]


def test_repeats_give_count_plus_one_lines_step_apart() -> None:
    assert parse_log_line("2m+15sx3 x") == [(120_000, "x"), (135_000, "x"), (150_000, "x"),
                                            (165_000, "x")]  # fmt: skip


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", '"" is not <time> or <time>+<step>x<count> (e.g. 30s, 1m+10sx5)'),
        ("1m+10s x", '"1m+10s" is not <time> or <time>+<step>x<count> (e.g. 30s, 1m+10sx5)'),
        ("1h5 x", 'time: not a valid duration string: "1h5"'),
        ("0s+1q x2 x", '"0s+1q" is not <time> or <time>+<step>x<count> (e.g. 30s, 1m+10sx5)'),
        ("0s+1qx2 x", 'step: not a valid duration string: "1q"'),
        ("0s+1sx0 x", f'count of "0s+1sx0" must be a whole number from 1 to {MAX_REPEAT}'),
        (
            f"0s+1msx{MAX_REPEAT + 1} x",
            f'count of "0s+1msx{MAX_REPEAT + 1}" must be a whole number from 1 to {MAX_REPEAT}',
        ),
    ],
)
def test_bad_times_say_what_is_wrong(text: str, message: str) -> None:
    with pytest.raises(BadInput) as caught:
        parse_log_line(text)
    assert str(caught.value) == message


def test_stream_labels_are_equality_matchers() -> None:
    assert parse_stream_labels('{job="api", level="error"}') == (("job", "api"), ("level", "error"))
    for bad in ("{}", '{job!="api"}', '{job="api"} |= "x"', 'count_over_time({a="b"}[1m])'):
        with pytest.raises(SpyglassError):
            parse_stream_labels(bad)


@given(
    at=st.integers(0, 10**6),
    step=st.integers(1, 10**5),
    count=st.integers(0, 50),
    line=st.text(st.characters(blacklist_categories=("Cs",)), max_size=40),
)
def test_the_notation_reads_back_what_was_written(
    at: int, step: int, count: int, line: str
) -> None:
    head = f"{at}ms" if count == 0 else f"{at}ms+{step}msx{count}"
    got = parse_log_line(f"{head} {line}")
    if count == 0:
        assert got == [(at, line)]
    else:
        assert got == [(at + i * step, line) for i in range(count + 1)]


@given(st.text(max_size=60))
def test_any_text_reads_or_is_refused_with_bad_input(text: str) -> None:
    try:
        lines = parse_log_line(text)
    except BadInput:
        return
    assert lines
    assert all(t >= 0 and isinstance(line, str) for t, line in lines)


@given(st.text(max_size=60))
def test_any_selector_text_reads_or_is_refused_with_a_spyglass_error(text: str) -> None:
    try:
        labels = parse_stream_labels(text)
    except SpyglassError:
        return
    assert labels
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in labels)
