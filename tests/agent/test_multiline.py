"""The ``multiline`` stage joins a stack trace into one entry: a ``firstline`` match starts a
block, other lines join it, and a block goes on at the next first line, at ``max_lines``, or
after ``max_wait_time`` without a new line (``tick``)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from tests.agent.helpers import NOW, entry, pipeline

from spyglass.agent import Entry

STAGES = """
- multiline:
    firstline: '^\\d{4}-\\d{2}-\\d{2}'
    max_wait_time: 3s
    max_lines: %d
"""

TRACE = [
    "2024-03-10 12:00:00 ERROR boom",
    "Traceback (most recent call last):",
    '  File "app.py", line 1, in <module>',
    "ZeroDivisionError: division by zero",
    "2024-03-10 12:00:01 INFO next",
]


def test_a_stack_trace_becomes_one_entry_with_its_first_lines_time() -> None:
    p, _ = pipeline(STAGES % 128)
    gone: list[Entry] = []
    out: list[Entry] = []
    for i, line in enumerate(TRACE):
        out += p.feed(entry(line, ts=NOW + i, offset=i * 100), NOW, gone)
    assert [e.line for e in out] == ["\n".join(TRACE[:4])]
    assert out[0].ts_ns == NOW
    assert out[0].offset == 0
    # The folded lines left (their offsets no longer hold the file position back).
    assert [e.offset for e in gone] == [100, 200, 300]
    # The last block waits for its timeout, measured from its last line.
    assert p.tick(NOW + 2_999_999_999, gone) == []
    (last,) = p.tick(NOW + 3_000_000_000, gone)
    assert last.line == TRACE[4]


def test_max_lines_cuts_a_block() -> None:
    p, _ = pipeline(STAGES % 2)
    gone: list[Entry] = []
    out: list[Entry] = []
    for line in TRACE[:4]:
        out += p.feed(entry(line), NOW, gone)
    assert [e.line for e in out] == ["\n".join(TRACE[:2]), "\n".join(TRACE[2:4])]


def test_blocks_are_kept_per_stream() -> None:
    p, _ = pipeline(STAGES % 128)
    gone: list[Entry] = []
    a, b = {"filename": "/a"}, {"filename": "/b"}
    assert p.feed(entry(TRACE[0], a), NOW, gone) == []
    assert p.feed(entry(TRACE[0], b), NOW, gone) == []
    assert p.feed(entry("  at a", a), NOW, gone) == []
    (done,) = p.feed(entry(TRACE[4], a), NOW, gone)
    assert done.labels == a
    assert done.line == TRACE[0] + "\n  at a"


@given(
    st.lists(st.sampled_from(["2024-01-01 start", "  continued", "more"]), max_size=30),
    st.integers(1, 5),
)
def test_every_line_comes_out_once_in_order(lines: list[str], max_lines: int) -> None:
    p, _ = pipeline(STAGES % max_lines)
    gone: list[Entry] = []
    out: list[Entry] = []
    for line in lines:
        out += p.feed(entry(line), NOW, gone)
    out += p.tick(NOW + 10**12, gone)
    joined = [part for e in out for part in e.line.split("\n")]
    assert joined == lines
    assert all(len(e.line.split("\n")) <= max_lines for e in out)
