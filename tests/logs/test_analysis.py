"""Patterns and user impact read through LogQL: on the generated corpus in a log store, the
patterns of a window against its baseline find the injected templates, a pipeline narrows what
is mined, the line cap says when it cut a period short, and user impact counts exactly the
distinct users the error lines name, as counted here straight from the corpus."""

from __future__ import annotations

from collections import Counter

import pytest
from tests.support.logcorpus import (
    GROWING_KEY,
    NEW_KEY,
    ORIGIN_NS,
    PERIOD_NS,
    CorpusLine,
    generate,
    window,
)

from spyglass.core.errors import BadInput
from spyglass.core.labels import labels_of
from spyglass.core.logs import LogRecord
from spyglass.logs import AnalysisOptions, Engine, LogAnalysis
from spyglass.storage import MemoryLogStore

START = ORIGIN_NS + PERIOD_NS
END = START + PERIOD_NS
ERRORS = {"error", "critical", "fatal"}


@pytest.fixture(scope="module")
def corpus() -> list[CorpusLine]:
    return generate()


@pytest.fixture(scope="module")
def store(corpus: list[CorpusLine]) -> MemoryLogStore:
    s = MemoryLogStore()
    s.load(LogRecord(c.timestamp_ns, c.line, labels_of(c.labels)) for c in corpus)
    return s


def _analysis(store: MemoryLogStore, **options: object) -> LogAnalysis:
    return LogAnalysis(Engine(store), AnalysisOptions(**options))  # type: ignore[arg-type]


def test_patterns_of_the_window_put_new_and_growing_first(store: MemoryLogStore) -> None:
    report = _analysis(store).patterns('{env="prod"}', START, END, limit=5)
    assert report.window_lines == len(window(generate()))
    assert report.baseline_lines + report.window_lines == len(generate())
    assert not report.truncated
    assert report.total > 250
    first_two = report.patterns[:2]
    assert {(p.service, p.level, p.new, p.growing) for p in first_two} == {
        (NEW_KEY[0], NEW_KEY[1], True, False),
        (GROWING_KEY[0], GROWING_KEY[1], False, True),
    }
    assert len(report.patterns) == 5


def test_a_pipeline_narrows_what_is_mined(store: MemoryLogStore, corpus: list[CorpusLine]) -> None:
    query = '{service_name="checkout"} |= "declined"'
    report = _analysis(store).patterns(query, START, END)
    assert [(p.count, p.new) for p in report.patterns] == [
        (sum(1 for c in window(corpus) if c.key == NEW_KEY), True)
    ]


def test_the_line_cap_keeps_the_newest_lines_and_says_so(
    store: MemoryLogStore, corpus: list[CorpusLine]
) -> None:
    report = _analysis(store, max_lines=1000).patterns('{env="prod"}', START, END)
    assert report.truncated
    assert (report.window_lines, report.baseline_lines) == (1000, 1000)
    newest = sorted(c.timestamp_ns for c in window(corpus))[-1000:]
    assert min(p.first_seen_ns for p in report.patterns) == newest[0]


def test_metric_queries_are_refused(store: MemoryLogStore) -> None:
    with pytest.raises(BadInput, match="log query"):
        _analysis(store).patterns('count_over_time({env="prod"}[1m])', START, END)


def test_impact_counts_distinct_users_of_error_lines(
    store: MemoryLogStore, corpus: list[CorpusLine]
) -> None:
    report = _analysis(store).impact('{env="prod"}', START, END)
    errors = [c for c in window(corpus) if c.level in ERRORS]
    users = Counter(c.user for c in errors if c.user)
    assert report.overall.error_lines == len(errors)
    assert report.overall.users == len(users)
    assert report.error_lines_without_user == sum(1 for c in errors if not c.user)
    top = sorted(users.items(), key=lambda kv: (-kv[1], kv[0]))[:10]
    assert report.overall.top_users == top
    per_service = {s.service: (s.impact.users, s.impact.error_lines) for s in report.services}
    expected: dict[str, tuple[int, int]] = {}
    for service in {c.service for c in errors}:
        mine = [c for c in errors if c.service == service]
        expected[service] = (len({c.user for c in mine if c.user}), len(mine))
    assert per_service == expected
    # Per template: the generator's key of each template's sample line names its lines.
    key_of = {c.line: c.key for c in corpus}
    for p in report.patterns:
        lines = [c for c in errors if c.key == key_of[p.sample.line]]
        assert p.impact.error_lines == len(lines)
        assert p.impact.users == len({c.user for c in lines if c.user})


def test_impact_reads_the_user_from_another_field(store: MemoryLogStore) -> None:
    report = _analysis(store).impact('{env="prod"}', START, END, user_field="trace_id")
    # Every error line has its own trace id.
    assert report.overall.users == report.overall.error_lines
    assert report.user_field == "trace_id"


def test_impact_finds_users_in_structured_metadata_and_labels() -> None:
    store = MemoryLogStore()
    api = labels_of({"service_name": "api"})
    store.load(
        [
            # OTLP-style: the user in the log attributes (structured metadata), level as severity.
            LogRecord(
                START + 1, "payment failed", api, {"user_id": "alice"}, severity_text="ERROR"
            ),
            LogRecord(START + 2, "payment failed", api, {"user_id": "bob"}, severity_text="ERROR"),
            LogRecord(
                START + 3, "payment failed", api, {"user_id": "alice"}, severity_text="ERROR"
            ),
            # logfmt parsed by the query's pipeline: the user and level become labels.
            LogRecord(START + 4, "level=error msg=timeout user_id=carol", api),
            LogRecord(START + 5, "level=info msg=ok user_id=dave", api),
        ]
    )
    report = _analysis(store).impact('{service_name="api"} | logfmt', START, END)
    assert (report.overall.error_lines, report.overall.users) == (4, 3)
    assert report.overall.top_users == [("alice", 2), ("bob", 1), ("carol", 1)]
    assert sorted((p.template, p.impact.users) for p in report.patterns) == [
        ("level=error msg=timeout user_id=carol", 1),
        ("payment failed", 2),
    ]
