"""The active-stream registry behind ``--logs-max-streams``: never more streams than the limit,
known streams always admitted, streams forgotten an hour after their last line, and a batch
split so only the refused streams' lines are left out."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from spyglass.core.labels import Labels, labels_of
from spyglass.core.logs import LogBatch, LogColumns, LogRecord
from spyglass.ingest.active_streams import HOUR_NS, ActiveStreams, stream_limit_message


def _stream(i: int) -> Labels:
    return labels_of({"job": "app", "request_id": str(i)})


class _Clock:
    def __init__(self) -> None:
        self.now = 10 * HOUR_NS

    def __call__(self) -> int:
        return self.now


@given(
    limit=st.integers(min_value=1, max_value=8),
    pushes=st.lists(
        st.tuples(
            st.lists(st.integers(min_value=0, max_value=20), max_size=10, unique=True),
            st.integers(min_value=0, max_value=HOUR_NS // 2),
        ),
        max_size=25,
    ),
)
def test_never_more_than_the_limit_and_known_streams_always_admitted(
    limit: int, pushes: list[tuple[list[int], int]]
) -> None:
    clock = _Clock()
    reg = ActiveStreams(limit, clock=clock)
    last_seen: dict[Labels, int] = {}
    for ids, advance in pushes:
        clock.now += advance
        active = {s for s, t in last_seen.items() if t >= clock.now - HOUR_NS}
        streams = [_stream(i) for i in ids]
        refused = reg.admit(streams)
        # A stream active before the push is never refused.
        assert not set(refused) & active
        # Streams are refused only while the limit is full, and only new ones.
        admitted_new = [s for s in streams if s not in active and s not in refused]
        assert len(active) + len(admitted_new) <= limit
        if refused:
            assert len(active) + len(admitted_new) == limit
        for s in streams:
            if s not in refused:
                last_seen[s] = clock.now
        assert len(reg) <= limit


def test_a_stream_is_forgotten_an_hour_after_its_last_line() -> None:
    clock = _Clock()
    reg = ActiveStreams(1, clock=clock)
    assert reg.admit([_stream(1)]) == []
    clock.now += HOUR_NS - 1
    assert reg.admit([_stream(2)]) == [_stream(2)]
    assert reg.admit([_stream(1)]) == []  # a line renews it
    clock.now += HOUR_NS + 1
    assert len(reg) == 0
    assert reg.admit([_stream(2)]) == []


def test_seeded_streams_count_against_the_limit_and_stay_admitted() -> None:
    clock = _Clock()
    reg = ActiveStreams(2, clock=clock)
    reg.seed([_stream(1), _stream(2), _stream(3)], clock.now)  # seeding is not refused
    assert len(reg) == 3
    assert reg.admit([_stream(3), _stream(4)]) == [_stream(4)]


def test_no_limit_admits_everything_and_holds_nothing() -> None:
    reg = ActiveStreams(0)
    reg.seed([_stream(-1)], 0)
    assert reg.admit([_stream(i) for i in range(100)]) == []
    assert len(reg) == 0  # no bound, so no registry that a flood could grow


def test_split_keeps_existing_and_in_limit_streams_and_counts_refused_lines() -> None:
    reg = ActiveStreams(2)
    reg.admit([_stream(0)])
    records = tuple(LogRecord(i, f"line {i}", _stream(i % 4)) for i in range(8))
    split = reg.split(LogBatch(records))
    # Stream 0 existed, stream 1 is new within the limit; streams 2 and 3 are past it.
    assert [r.line for r in split.batch] == ["line 0", "line 1", "line 4", "line 5"]
    assert split.refused_streams == (_stream(2), _stream(3))
    assert split.refused_lines == 4
    assert split.kept == (True, True, False, False, True, True, False, False)
    assert reg.refused_lines == 4
    assert split.message() == stream_limit_message(_stream(2))
    assert split.message().startswith(
        "Maximum active stream limit exceeded when trying to create stream "
        '{job="app", request_id="2"}, reduce the number of active streams'
    )
    assert split.partial_success(1, "bad line") == (5, f"bad line; {split.message()}")


def test_split_of_columns_keeps_the_batch_when_nothing_is_refused() -> None:
    reg = ActiveStreams(5)
    data = b"ab"
    columns = LogColumns(
        (_stream(1), _stream(2)),
        np.array([0, 1], np.uint32),
        np.array([1, 2], np.int64),
        data,
        np.array([0, 1, 2], np.int64),
    )
    batch = LogBatch(columns=columns)
    split = reg.split(batch)
    assert split.batch is batch
    assert split.kept is None
    tight = ActiveStreams(1)
    split = tight.split(batch)
    assert [(r.stream, r.line) for r in split.batch] == [(_stream(1), "a")]
    assert split.refused_lines == 1
