"""The LogQL engine over a LogReader: what it asks the store for (leading line filters pushed
down, the limit when nothing later can drop a line, pages of records otherwise) and what log
queries return."""

from __future__ import annotations

import sys
from concurrent.futures import ThreadPoolExecutor

import pytest

from spyglass.core.errors import BadInput, ParseError, QueryError, QueryTimeout
from spyglass.core.labels import labels_of
from spyglass.core.logs import LogRecord
from spyglass.logs import Engine, EngineOptions, parse_query
from spyglass.logs._regex import anchored
from spyglass.storage import LineFilter, LogSelection, MemoryLogStore

S = 10**9
API = labels_of({"app": "api"})


class RecordingReader(MemoryLogStore):
    """A MemoryLogStore that remembers every selection it was asked for."""

    def __init__(self) -> None:
        super().__init__()
        self.selections: list[LogSelection] = []

    def select_logs(self, selection: LogSelection) -> list[LogRecord]:
        self.selections.append(selection)
        return super().select_logs(selection)


@pytest.fixture
def reader() -> RecordingReader:
    r = RecordingReader()
    r.load(
        [
            LogRecord(1 * S, "level=info msg=start", API),
            LogRecord(2 * S, "level=error msg=boom", API),
            LogRecord(3 * S, "level=info msg=done", API),
            LogRecord(4 * S, "level=error msg=again", API),
        ]
    )
    return r


def test_leading_line_filters_go_to_the_store_with_the_limit(reader: RecordingReader) -> None:
    result = Engine(reader).range(
        '{app="api"} |= "level" != "start" | logfmt', 0, 10 * S, S, limit=2
    )
    [selection] = reader.selections
    assert selection.line_filters == (LineFilter("|=", "level"), LineFilter("!=", "start"))
    # Nothing after the filters can drop a line, so the store may stop at the limit.
    assert selection.limit == 2
    assert selection.direction == "backward"
    assert (selection.start_ns, selection.end_ns) == (0, 10 * S)
    lines = [line for s in result.streams for _, line in s.entries]
    assert lines == ["level=error msg=again", "level=info msg=done"]


def test_a_later_stage_that_filters_reads_pages_not_the_limit(reader: RecordingReader) -> None:
    """How many records make ``limit`` lines is unknown when a later stage can drop lines:
    the store is asked for a page (a few times the limit, at least 1,000 records)."""
    result = Engine(reader).range('{app="api"} | logfmt | level="error"', 0, 10 * S, S, limit=1)
    [selection] = reader.selections
    assert selection.limit == 1_000
    assert selection.line_filters == ()
    [stream] = result.streams
    assert dict(stream.labels) == {"app": "api", "level": "error", "msg": "again"}
    assert stream.entries == [(4 * S, "level=error msg=again")]


@pytest.mark.parametrize("direction", ["backward", "forward"])
def test_pages_continue_where_the_last_one_ended_even_inside_a_tie(direction: str) -> None:
    """Pages follow each other in the query's direction; records sharing the timestamp where a
    page ended are neither repeated nor lost (three records a timestamp, so the first page of
    2,000 records ends inside one), and the lines are the first 500 in that direction."""
    reader = RecordingReader()
    records = [LogRecord((i // 3) * S, f"n={i} pick={i % 7 == 0}", API) for i in range(6_000)]
    reader.load(records)
    query = '{app="api"} | logfmt | pick="True"'
    result = Engine(reader).range(query, 0, 2_000 * S, S, limit=500, direction=direction)
    ordered = records if direction == "forward" else sorted(records, key=lambda r: -r.timestamp_ns)
    want = [r.line for r in ordered if r.line.endswith("True")][:500]
    got = [line for s in result.streams for _, line in s.entries]
    assert sorted(got) == sorted(want)
    # The second page asks for the two records of the tie it starts in on top of its 8,000.
    assert [sel.limit for sel in reader.selections] == [2_000, 8_002]


def test_filters_after_a_parser_or_with_or_stay_in_the_engine(reader: RecordingReader) -> None:
    Engine(reader).range('{app="api"} |= "a" or "b" | json |= "c"', 0, 10 * S, S)
    assert reader.selections[0].line_filters == ()


def test_metric_reads_cover_every_window_once(reader: RecordingReader) -> None:
    """One read spans (first step - range - offset, last step - offset]."""
    result = Engine(reader).range(
        'count_over_time({app="api"} |~ "error" [2s] offset 1s)', 3 * S, 5 * S, S
    )
    [selection] = reader.selections
    assert (selection.start_ns, selection.end_ns) == (0 * S + 1, 4 * S + 1)
    assert selection.line_filters == (LineFilter("|~", "error"),)
    assert selection.direction == "forward"
    assert selection.limit is None
    [(labels, points)] = result.matrix
    assert dict(labels) == {"app": "api"}
    assert points == [(3 * S, 1.0), (4 * S, 1.0), (5 * S, 1.0)]


def test_streams_are_split_by_parsed_labels_and_keep_direction(reader: RecordingReader) -> None:
    result = Engine(reader).range(
        '{app="api"} | logfmt | line_format "{{.msg}}"', 0, 10 * S, S, direction="forward"
    )
    got = {dict(s.labels)["msg"]: s.entries for s in result.streams}
    assert got["start"] == [(1 * S, "start")]
    assert len(got) == 4


def test_instant_log_query_and_bad_direction_are_refused(reader: RecordingReader) -> None:
    with pytest.raises(BadInput, match="not supported as an instant query"):
        Engine(reader).instant('{app="api"}', 5 * S)
    with pytest.raises(BadInput, match="invalid direction"):
        Engine(reader).range('{app="api"}', 0, 5 * S, S, direction="up")


def test_a_metric_query_fails_on_a_pipeline_error(reader: RecordingReader) -> None:
    with pytest.raises(QueryError, match="pipeline error: 'JSONParserErr'"):
        Engine(reader).instant('count_over_time({app="api"} | json [10s])', 5 * S)
    # A filter that keeps the failed lines keeps the error too.
    with pytest.raises(QueryError, match="JSONParserErr"):
        Engine(reader).instant('count_over_time({app="api"} | json | __error__!="" [10s])', 5 * S)
    result = Engine(reader).instant(
        'sum(count_over_time({app="api"} | json | __error__="JSONParserErr" | drop __error__, '
        "__error_details__ [10s]))",
        5 * S,
    )
    assert [v for _, _, v in result.vector] == [4.0]


def test_interval_thins_each_stream_on_its_own(reader: RecordingReader) -> None:
    reader.load([LogRecord(3 * S, "other stream", labels_of({"app": "api", "pod": "b"}))])
    result = Engine(reader).range(
        '{app="api"}', 0, 10 * S, S, direction="forward", interval_ns=2 * S
    )
    got = {dict(s.labels).get("pod", ""): [ts for ts, _ in s.entries] for s in result.streams}
    assert got == {"": [1 * S, 3 * S], "b": [3 * S]}


def test_a_query_past_its_deadline_stops(reader: RecordingReader) -> None:
    engine = Engine(reader, EngineOptions(timeout_s=-1.0))
    with pytest.raises(QueryTimeout):
        engine.range('{app="api"} | logfmt', 0, 10 * S, S)
    with pytest.raises(QueryTimeout):
        engine.instant('count_over_time({app="api"}[10s])', 5 * S)


def test_opentelemetry_fields_read_as_structured_metadata() -> None:
    """As Loki 3 stores OTLP logs: severity, trace and span ids are structured metadata."""
    store = MemoryLogStore()
    store.load(
        [
            LogRecord(1 * S, "payment failed", API, severity_text="ERROR", severity_number=17,
                      trace_id="4bf92f3577b34da6a3ce929d0e0e4736", span_id="00f067aa0ba902b7"),
            LogRecord(2 * S, "ok", API, severity_text="INFO", severity_number=9,
                      metadata={"severity_text": "info-from-sender"}),
        ]
    )  # fmt: skip
    result = Engine(store).instant(
        'sum by (severity_text) (count_over_time({app="api"}[10s]))', 5 * S
    )
    assert {dict(labels)["severity_text"]: v for labels, _, v in result.vector} == {
        "ERROR": 1.0,
        "info-from-sender": 1.0,
    }
    result = Engine(store).range(
        '{app="api"} | trace_id="4bf92f3577b34da6a3ce929d0e0e4736"', 0, 10 * S, S
    )
    [stream] = result.streams
    assert dict(stream.labels)["span_id"] == "00f067aa0ba902b7"
    assert dict(stream.labels)["severity_number"] == "17"


def test_a_pathological_regex_cannot_stall_the_engine() -> None:
    """(a+)+$ takes exponential time on a backtracking engine; LogQL's regexes run on RE2 when
    they could backtrack, as Loki's Go regexps do, so this returns at once."""
    store = MemoryLogStore()
    store.load([LogRecord(1 * S, "x=" + "a" * 40 + "b", API)])
    engine = Engine(store)
    for query in (
        'count_over_time({app="api"} |~ "(a+)+$" [10s])',
        'count_over_time({app="api"} | logfmt |~ "(a+)+$" [10s])',
        'count_over_time({app="api"} | logfmt | x=~"(a+)+" [10s])',
    ):
        assert engine.instant(query, 5 * S).vector == [], query


def test_regexes_take_re2_syntax_only() -> None:
    """Lookarounds and backreferences are not RE2: refused with Go's message, as Loki does."""
    with pytest.raises(ParseError, match="invalid or unsupported Perl syntax"):
        parse_query('{app="api"} |~ "a(?=b)"')
    with pytest.raises(ParseError, match="invalid escape sequence"):
        parse_query('{app="api"} | logfmt | x=~"(a)\\\\1"')


def test_concurrent_queries_format_their_own_lines() -> None:
    """Queries run in worker threads; a template renders the line of its own query."""
    store = MemoryLogStore()
    store.load(
        LogRecord(i * S, f"{app}-{i}", labels_of({"app": app}))
        for i in range(100)
        for app in ("a", "b")
    )
    engine = Engine(store)

    def lines(app: str) -> list[str]:
        # Many template actions before __line__ give other threads time to render too.
        busy = "{{ .app }}" * 50
        result = engine.range(
            f'{{app="{app}"}} | line_format "{busy}{{{{ __line__ }}}}"', 0, 300 * S, S, limit=500
        )
        return [line for s in result.streams for _, line in s.entries]

    switch = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads as often as possible, so a shared one shows
    try:
        with ThreadPoolExecutor(max_workers=4) as pool:
            results = list(pool.map(lines, ["a", "b"] * 4))
    finally:
        sys.setswitchinterval(switch)
    for app, got in zip(["a", "b"] * 4, results, strict=True):
        assert len(got) == 100
        assert all(line.endswith(tuple(f"{app}-{i}" for i in range(100))) for line in got)
        assert all(line.startswith(app * 50) for line in got)


def test_label_regexes_match_the_whole_value_as_re2_anchors_it() -> None:
    """Python's ``$`` also matches before a final newline; LogQL's RE2 anchor does not."""
    assert anchored("api").fullmatch("api") is not None
    assert anchored("api").fullmatch("api\n") is None
    assert anchored("(?i)API").fullmatch("api") is not None
    groups = anchored("a(b+)").fullmatch("abb")
    assert groups is not None
    assert groups.group(1) == "bb"
