"""The small interfaces domains and ingest depend on; storage backends implement them.

Query engines take a ``Querier`` (DESIGN.md: "query engines take interfaces, not storage"): the
ClickHouse-backed store implements it by pushing label matching into SQL, and ``MemoryStore``
implements it for unit tests and the conformance runner. Ingest hands batches to a ``SampleSink``,
whose contract is durability: ``append`` returns only once the batch would survive ``kill -9``.

Time ranges are in milliseconds since the epoch and inclusive at both ends; engines that need
Prometheus 3's left-open ranges drop the first sample themselves.

A store may also evaluate PromQL range functions itself (``GridQuerier``): the engine hands it
the function, window and step grid, and gets a value per series and step back, where that is
exactly what the engine would compute from the samples.

Logs follow the same shape: ingest hands ``LogBatch``es to a ``LogSink``; LogQL reads through a
``LogReader``, which may apply the query's leading line filters where it reads. Spans too: ingest
hands ``SpanBatch``es to a ``SpanSink``; Jaeger's query API reads through a ``TraceReader``.

Control-plane domains (alert states, silences, the notification log, dashboards, SLOs, incidents,
error issues, API tokens) keep their small, durable state behind a ``StateStore``.

Error events follow the logs' shape (``ErrorEventSink`` in, ``ErrorEventReader`` out); the
issues they group into are control-plane state with their own small port, ``IssueStore``,
because the issue list is searched, sorted and paged where it is stored.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

from spyglass.core.error_events import ErrorBatch, ErrorEvent
from spyglass.core.error_issues import Issue, IssueChange, IssuePage, IssueQuery
from spyglass.core.exemplars import Exemplar
from spyglass.core.labels import Labels
from spyglass.core.logs import LogBatch, LogRecord
from spyglass.core.matchers import Matcher
from spyglass.core.samples import MetricMetadata, SampleBatch
from spyglass.core.spans import Span, SpanBatch


@dataclass(frozen=True, slots=True)
class SeriesData:
    """One series' samples in a time range: ascending timestamps (ms), raw values.

    Values include staleness markers (``STALE_NAN``) exactly as stored; the engine decides what
    they mean.
    """

    labels: Labels
    timestamps: npt.NDArray[np.int64]
    values: npt.NDArray[np.float64]


class Querier(Protocol):
    """Read access to series and samples, by label matchers and time range."""

    def select(self, matchers: Sequence[Matcher], start_ms: int, end_ms: int) -> list[SeriesData]:
        """Series matching every matcher, with their samples in ``[start_ms, end_ms]``.

        Series without any sample in the range are left out. Order is unspecified.
        """
        ...

    def series(
        self, matcher_sets: Sequence[Sequence[Matcher]], start_ms: int, end_ms: int
    ) -> list[Labels]:
        """Label sets of series matching any of the matcher sets, active in the range."""
        ...

    def label_names(
        self, matcher_sets: Sequence[Sequence[Matcher]], start_ms: int, end_ms: int
    ) -> list[str]:
        """Sorted label names of matching series (all series when ``matcher_sets`` is empty)."""
        ...

    def label_values(
        self, name: str, matcher_sets: Sequence[Sequence[Matcher]], start_ms: int, end_ms: int
    ) -> list[str]:
        """Sorted values of label ``name`` over matching series (all when no matcher sets)."""
        ...


class LabelIndex(Protocol):
    """Integer codes of the label values of a fixed, numbered set of series.

    A store that numbers its series can hand the engine each selected series' number, and the
    engine then groups by labels with array operations on codes instead of building and hashing
    a label tuple per series (``sum by (job) (...)`` over 100k series).
    """

    def codes(self, name: str) -> tuple[npt.NDArray[np.int64], Sequence[str]]:
        """Per numbered series, the code of its value of ``name``, and the value of each code.

        Code 0 is ``""``, which a series without the label reads as (``core.matchers``' rule).
        """
        ...


@dataclass(frozen=True, slots=True)
class SeriesColumns:
    """What ``ColumnQuerier.select_columns`` returns: many series' samples laid end to end.

    Series ``i`` owns ``timestamps[offsets[i]:offsets[i + 1]]`` (ascending, staleness markers
    kept, as in ``SeriesData``); every series has at least one sample. ``in_order`` says the
    series are sorted by labels already. ``numbers``, with ``index``, are the series' numbers
    in a ``LabelIndex`` (both ``None`` when the store has none for this read).
    """

    labels: list[Labels]
    timestamps: npt.NDArray[np.int64]
    values: npt.NDArray[np.float64]
    offsets: npt.NDArray[np.int64]
    in_order: bool = False
    index: LabelIndex | None = None
    numbers: npt.NDArray[np.int64] | None = None

    @classmethod
    def of(cls, series: Sequence[SeriesData]) -> SeriesColumns:
        """The columns of per-series data (series without samples left out), in the given
        order."""
        data = [d for d in series if len(d.timestamps)]
        offsets = np.zeros(len(data) + 1, np.int64)
        if not data:
            return cls([], np.empty(0, np.int64), np.empty(0, np.float64), offsets, True)
        counts = np.fromiter((len(d.timestamps) for d in data), np.int64, len(data))
        np.cumsum(counts, out=offsets[1:])
        return cls(
            [d.labels for d in data],
            np.concatenate([d.timestamps for d in data]).astype(np.int64, copy=False),
            np.concatenate([d.values for d in data]).astype(np.float64, copy=False),
            offsets,
        )


@runtime_checkable
class ColumnQuerier(Protocol):
    """A ``Querier`` that can answer a selection as columns, without a Python object per series
    (the in-memory head): the engine lays samples out this way anyway."""

    def select_columns(
        self, matchers: Sequence[Matcher], start_ms: int, end_ms: int
    ) -> SeriesColumns:
        """What ``select`` returns, as columns."""
        ...


@runtime_checkable
class SeriesBound(Protocol):
    """Storage that can tell, without reading samples or waiting on I/O, that a selection is
    small: the in-memory head. The PromQL API evaluates an instant query whose selections are
    all small on the event loop instead of handing it to a worker thread."""

    def series_bound(
        self, matchers: Sequence[Matcher], start_ms: int, end_ms: int, limit: int
    ) -> int | None:
        """At least as many series as ``select`` would return, when that is at most ``limit``
        and the read needs neither I/O nor much work; else ``None``."""
        ...


@dataclass(frozen=True, slots=True)
class Selection:
    """The arguments of one ``Querier.select``, for a ``BatchQuerier`` to read with others."""

    matchers: tuple[Matcher, ...]
    start_ms: int
    end_ms: int


@runtime_checkable
class BatchQuerier(Protocol):
    """A ``Querier`` that reads several selections at once, cheaper than one by one (a store
    behind a database answers them in a few round trips instead of two or three each)."""

    def select_many(self, selections: Sequence[Selection]) -> list[list[SeriesData]]:
        """For each selection, in order, what ``select`` would return for it."""
        ...


# The PromQL range functions a ``GridQuerier`` may be asked for: those whose ClickHouse
# ``timeSeries*ToGrid`` aggregate equals the engine's numpy evaluation (docs/decisions.md,
# "timeSeries*ToGrid push-down"). ``FINITE_GRID_FUNCTIONS`` are equal only on finite values.
GRID_FUNCTIONS = frozenset(
    {
        "rate",
        "increase",
        "delta",
        "irate",
        "idelta",
        "deriv",
        "predict_linear",
        "changes",
        "resets",
        "last_over_time",
        "avg_over_time",
        "min_over_time",
        "max_over_time",
        "sum_over_time",
        "count_over_time",
        "ts_of_max_over_time",
        "ts_of_min_over_time",
    }
)
FINITE_GRID_FUNCTIONS = frozenset({"rate", "increase", "deriv", "predict_linear"})


@dataclass(frozen=True, slots=True)
class GridRequest:
    """One PromQL range function over a step grid, for a ``GridQuerier`` to evaluate per series.

    ``function`` (one of ``GRID_FUNCTIONS``) runs over each matching series' samples in the
    windows ``(end - range_ms, end]`` for ``end`` from ``start_ms`` to ``end_ms`` every
    ``step_ms``, staleness markers left out, as the engine reads a matrix selector;
    ``argument`` is ``predict_linear``'s seconds ahead.
    """

    function: str
    matchers: tuple[Matcher, ...]
    start_ms: int
    end_ms: int
    step_ms: int
    range_ms: int
    argument: float = 0.0

    @property
    def steps(self) -> int:
        """Window ends on the grid."""
        return (self.end_ms - self.start_ms) // self.step_ms + 1


@dataclass(frozen=True, slots=True)
class GridSeries:
    """One series' answer to a ``GridRequest``: a value per grid step where ``present``, and
    the most samples any one of its windows held (what the engine counts against its limit)."""

    labels: Labels
    values: npt.NDArray[np.float64]
    present: npt.NDArray[np.bool_]
    max_window_samples: int


@runtime_checkable
class GridQuerier(Protocol):
    """A ``Querier`` that evaluates range functions where the samples are, returning a value
    per series and step instead of every sample (a store behind ClickHouse sends a grid, not
    the samples of a six-hour range)."""

    def range_function(self, request: GridRequest) -> list[GridSeries] | None:
        """Per matching series with a sample in the windows, the function on the grid; or
        ``None`` when the store cannot give the exact answer now (the caller then selects the
        samples). Series absent at every step may be left out. Order is unspecified."""
        ...


class MetadataReader(Protocol):
    """Metric metadata (type, help, unit) as the exporters reported it."""

    def metadata(self, metric: str | None = None) -> dict[str, list[MetricMetadata]]:
        """Metadata by metric family name; only ``metric`` when given."""
        ...


@dataclass(frozen=True, slots=True)
class NameCount:
    """One row of a cardinality table: a name (metric, label, ``label=value``) and a count."""

    name: str
    count: int


@dataclass(frozen=True, slots=True)
class SeriesStats:
    """Cardinality of the series active in a time range (what ``/api/v1/status/tsdb`` shows).

    Each table holds the ``limit`` largest counts, largest first, ties by name.
    ``min_time_ms``/``max_time_ms`` are the oldest and newest sample in the range (``None``
    when there is none).
    """

    num_series: int
    num_label_pairs: int
    min_time_ms: int | None
    max_time_ms: int | None
    series_count_by_metric_name: list[NameCount]
    label_value_count_by_label_name: list[NameCount]
    memory_in_bytes_by_label_name: list[NameCount]
    series_count_by_label_value_pair: list[NameCount]


class SeriesStatsReader(Protocol):
    """Cardinality statistics over the series index."""

    def series_stats(self, start_ms: int, end_ms: int, limit: int) -> SeriesStats:
        """Statistics of the series active in ``[start_ms, end_ms]``; tables cut to ``limit``.

        ``memory_in_bytes_by_label_name`` counts, per label name, the UTF-8 bytes of its
        distinct values (Prometheus' "memory in bytes" of label values in the head index).
        """
        ...


class SampleSink(Protocol):
    """Where ingest puts accepted samples."""

    async def append(self, batch: SampleBatch) -> None:
        """Accept ``batch`` durably: return only once it is in the fsynced write-ahead log."""
        ...


class ExemplarSink(Protocol):
    """Where ingest puts exemplars accepted with their samples."""

    async def append_exemplars(self, exemplars: Sequence[Exemplar]) -> None:
        """Keep ``exemplars`` (the store decides how many it keeps per series)."""
        ...


class ExemplarReader(Protocol):
    """Read access to stored exemplars, for ``/api/v1/query_exemplars``."""

    def select_exemplars(
        self, matcher_sets: Sequence[Sequence[Matcher]], start_ms: int, end_ms: int
    ) -> list[Exemplar]:
        """Exemplars of series matching any matcher set, timed in ``[start_ms, end_ms]``,
        oldest first per series."""
        ...


@dataclass(frozen=True, slots=True)
class LineFilter:
    """A LogQL line filter a log store may apply while reading: ``op`` is ``|=`` (contains),
    ``!=`` (does not contain), ``|~`` (matches the RE2 regex, unanchored) or ``!~``."""

    op: str
    value: str


@dataclass(frozen=True, slots=True)
class LogSelection:
    """What a LogQL query reads from storage before its pipeline runs.

    ``matchers`` select streams (a stream matches when every matcher holds on its labels); the
    range is ``[start_ns, end_ns)``, start inclusive and end exclusive, as Loki's. ``line_filters``
    are the filters that come first in the pipeline, before any parser, so the store may apply
    them where it reads (in SQL); every returned record satisfies all of them. ``direction`` is
    ``"backward"`` (newest first) or ``"forward"`` (oldest first), and ``limit`` caps the records
    returned in that order (``None``: no cap; the engine passes one only when nothing after the
    line filters can drop a record).
    """

    matchers: tuple[Matcher, ...]
    start_ns: int
    end_ns: int
    line_filters: tuple[LineFilter, ...] = ()
    direction: str = "backward"
    limit: int | None = None


class LogReader(Protocol):
    """Read access to stored log records, for LogQL and Loki's HTTP API."""

    def select_logs(self, selection: LogSelection) -> list[LogRecord]:
        """Records of the matching streams in the range that pass the line filters, ordered by
        timestamp in ``selection.direction`` (ties in the order they were written), cut to
        ``selection.limit``."""
        ...

    def log_streams(
        self, matcher_sets: Sequence[Sequence[Matcher]], start_ns: int, end_ns: int
    ) -> list[Labels]:
        """Label sets of streams matching any matcher set with a record in the range (all
        streams with records in the range when ``matcher_sets`` is empty)."""
        ...

    def log_label_names(self, start_ns: int, end_ns: int) -> list[str]:
        """Sorted stream label names seen in the range."""
        ...

    def log_label_values(
        self, name: str, matchers: Sequence[Matcher], start_ns: int, end_ns: int
    ) -> list[str]:
        """Sorted values of stream label ``name`` over streams matching ``matchers`` (all
        streams when empty) with a record in the range."""
        ...


@dataclass(frozen=True, slots=True)
class LogCountRequest:
    """Lines of the matching streams passing the line filters, counted per window of a step
    grid: the window of step ``i`` is ``(t - range_ns, t]`` with ``t = first_ns + i * step_ns``
    for ``i`` in ``range(steps)`` (LogQL's range: lower bound exclusive, upper inclusive; the
    caller folds a query's ``offset`` into ``first_ns``). ``keep`` names the only labels the
    caller will look at (a ``by`` clause), ``None`` for all: a stream carrying all of them
    counts as one source whatever its lines' side data. Without ``with_bytes`` the store may
    leave ``bytes``/``line_bytes`` at zero (it need not read the text to count lines)."""

    matchers: tuple[Matcher, ...]
    line_filters: tuple[LineFilter, ...]
    first_ns: int
    step_ns: int
    steps: int
    range_ns: int
    keep: tuple[str, ...] | None = None
    with_bytes: bool = True


@dataclass(frozen=True, slots=True)
class LogCounts:
    """The counted lines of one distinct label source: a stream and the side data LogQL turns
    into labels (structured metadata, severity, trace and span ids). ``counts`` and ``bytes``
    hold per step the lines in its window and their UTF-8 bytes; ``lines`` and ``line_bytes``
    count each line once, whatever the number of windows it falls in."""

    stream: Labels
    metadata: Mapping[str, str]
    severity_text: str
    severity_number: int
    trace_id: str
    span_id: str
    counts: npt.NDArray[np.int64]
    bytes: npt.NDArray[np.int64]
    lines: int
    line_bytes: int


@runtime_checkable
class LogCounter(Protocol):
    """A ``LogReader`` that counts lines per window where they are stored, so a LogQL
    ``count_over_time``/``rate``/``bytes_over_time``/``bytes_rate`` with nothing but line
    filters in its pipeline reads a grid of counts instead of every line."""

    def count_logs(self, request: LogCountRequest) -> list[LogCounts]:
        """Per distinct label source with a line in some window, its counts. Line filters and
        matchers mean what they mean in ``select_logs``, and so does a record stored twice."""
        ...


class LogSink(Protocol):
    """Where log ingest puts accepted records."""

    async def append(self, batch: LogBatch) -> None:
        """Accept ``batch`` durably: return only once it is in the fsynced write-ahead log."""
        ...


@dataclass(frozen=True, slots=True)
class ErrorEventQuery:
    """Which error events to read: of a project (``None``: any), of an issue (its key; ``""``:
    any), of a trace (its id, 32 lower-case hex digits; ``""``: any), in ``[start_ns, end_ns)``
    by event time, received at or after ``received_since_ns``, newest first, at most
    ``limit``."""

    project_id: int | None = None
    issue_key: str = ""
    trace_id: str = ""
    start_ns: int = 0
    end_ns: int = 2**63 - 1
    limit: int = 100
    received_since_ns: int = 0


class ErrorEventSink(Protocol):
    """Where the errors domain puts accepted error events."""

    async def append(self, batch: ErrorBatch) -> None:
        """Accept ``batch`` durably: return only once it is in the fsynced write-ahead log."""
        ...


class ErrorEventReader(Protocol):
    """Read access to stored error events (readable as soon as ``append`` returned)."""

    def error_events(self, query: ErrorEventQuery) -> list[ErrorEvent]:
        """The matching events, newest first, at most ``query.limit``."""
        ...

    def error_event(self, event_id: str, project_id: int | None = None) -> ErrorEvent | None:
        """The event with this id (32 lower-case hex digits), or ``None``."""
        ...

    def error_counts(
        self, keys: Sequence[tuple[int, str]], start_ns: int, end_ns: int, step_ns: int
    ) -> list[list[int]]:
        """Events of each issue ``(project_id, issue_key)`` per ``step_ns`` bucket of
        ``[start_ns, end_ns)``, one list per key in the order of ``keys``, oldest bucket first
        (bucket ``i`` starts at ``start_ns + i * step_ns``)."""
        ...


IssueUpdate = Callable[[Issue | None, ErrorEvent], Issue]
"""What one event does to its issue (``None``: the issue does not exist yet)."""


class IssueStore(Protocol):
    """Error issues, durable and shared like the rest of the control-plane state.

    Synchronous and thread-safe like ``StateStore`` (async callers use ``asyncio.to_thread``).
    """

    def seen(self, project_id: int, event_ids: Sequence[str]) -> set[str]:
        """Which of ``event_ids`` were already recorded for the project."""
        ...

    def record(self, events: Sequence[ErrorEvent], update: IssueUpdate) -> list[IssueChange]:
        """Count ``events`` (grouped: ``issue_key`` set) into their issues, in one transaction.

        An event whose id was recorded before is skipped (Sentry drops a resent event too), so
        recording again after a crash counts nothing twice. ``update`` gives each issue's new
        state; the store keeps the number of distinct users (``ErrorEvent.user_key``) and the
        per-release and per-environment counts itself. One ``IssueChange`` per counted event.
        """
        ...

    def issue(self, issue_id: int) -> Issue | None:
        """The issue with its per-release and per-environment counts, or ``None``."""
        ...

    def search(self, query: IssueQuery) -> IssuePage:
        """A page of the matching issues (without per-release counts) and the total."""
        ...

    def change(self, issue_id: int, update: Callable[[Issue], Issue]) -> Issue | None:
        """Apply ``update`` to the issue in one transaction; the result, or ``None`` when
        there is no such issue."""
        ...

    def forget_events(self, before_ms: int) -> int:
        """Forget the ids of events recorded before ``before_ms`` (their issues keep their
        counts); how many went."""
        ...

    def newest_seen_ms(self) -> int:
        """When the newest counted event was received (0: none was)."""
        ...


@dataclass(frozen=True, slots=True)
class TraceQuery:
    """A trace search, as Jaeger's ``FindTraces`` takes it.

    A span matches when it belongs to ``service`` (any service when empty), is named
    ``operation`` (any name when empty), starts in ``[start_ns, end_ns]``, lasts at least
    ``min_duration_ns`` and at most ``max_duration_ns`` (``None``: no bound), and carries every
    tag: a span or resource attribute with that exact value, or one of the tags Jaeger shows for
    OpenTelemetry fields (``error=true``, ``span.kind``, ``otel.status_code``,
    ``otel.status_description``, ``otel.scope.name``, ``otel.scope.version``). The answer is
    the ``limit`` traces with a matching span, the one with the latest matching span first,
    each trace whole.
    """

    service: str
    start_ns: int
    end_ns: int
    operation: str = ""
    tags: tuple[tuple[str, str], ...] = ()
    min_duration_ns: int | None = None
    max_duration_ns: int | None = None
    limit: int = 20


@dataclass(frozen=True, slots=True)
class SpanOperation:
    """An operation of a service: a span name and the kind of span carrying it."""

    name: str
    kind: str  # core.spans.SPAN_KINDS


@dataclass(frozen=True, slots=True)
class ServiceCall:
    """Calls from one service to another in a time window (an edge of the service graph)."""

    parent: str
    child: str
    calls: int


class TraceReader(Protocol):
    """Read access to stored spans, for Jaeger's query API.

    ``service_calls`` counts, among spans that started in the window, each span whose parent
    span belongs to another service (one call across a service boundary), and each client span
    naming a ``peer.service`` from which no child span came (a database, a cache, a third-party
    API that sends no traces itself), as Jaeger's dependency job counts them.
    """

    def trace(self, trace_id: str) -> list[Span]:
        """Every span of the trace (32 lower-hex digits), by start time; empty when unknown."""
        ...

    def find_traces(self, query: TraceQuery) -> list[list[Span]]:
        """The traces ``query`` finds, latest matching span first, each by start time."""
        ...

    def services(self) -> list[str]:
        """Sorted names of the services that sent spans."""
        ...

    def operations(self, service: str, kind: str = "") -> list[SpanOperation]:
        """The service's operations (only those of span ``kind`` when given), sorted."""
        ...

    def service_calls(self, start_ns: int, end_ns: int) -> list[ServiceCall]:
        """The service graph of the spans started in ``[start_ns, end_ns]``, sorted."""
        ...


@dataclass(frozen=True, slots=True)
class OperationLatency:
    """How long one operation of a service took in a window: its span count and the 95th
    percentile of its span durations (linear between the nearest ranks)."""

    service: str
    operation: str
    spans: int
    p95_ns: float


class SpanLatencyReader(Protocol):
    """Span durations per operation, for "why did this change" (``why.trace_operations``)."""

    def operation_latencies(
        self, start_ns: int, end_ns: int, limit: int = 1000
    ) -> list[OperationLatency]:
        """Per (service, span name) among the spans started in ``[start_ns, end_ns]``: the span
        count and p95 duration, the ``limit`` operations with most spans, sorted by service
        then name."""
        ...


class SpanSink(Protocol):
    """Where trace ingest puts accepted spans."""

    async def append(self, batch: SpanBatch) -> None:
        """Accept ``batch`` durably: return only once it is in the fsynced write-ahead log."""
        ...


@dataclass(frozen=True, slots=True)
class StateDocument:
    """One stored document: a JSON object under ``(kind, key)``.

    ``version`` changes on every write and is never reused, not even after the document is
    deleted and created again, so a writer holding an old version cannot overwrite a newer
    document by accident. ``updated_ms`` is when it was last written; ``expires_ms``, when set, is
    when it stops being visible.
    """

    kind: str
    key: str
    value: dict[str, Any]
    version: int
    updated_ms: int
    expires_ms: int | None


@dataclass(frozen=True, slots=True)
class JournalEntry:
    """One entry of an append-only journal (a notification log, an incident's timeline)."""

    journal: str
    id: int
    time_ms: int
    value: dict[str, Any]


class StateStore(Protocol):
    """Small, durable, transactional control-plane state, shared by every Spyglass node.

    Two shapes of state:

    - **Documents**: JSON objects by ``(kind, key)`` with a version for optimistic concurrency.
      A write passes the version it read as ``expected_version`` and fails with ``Conflict`` if
      someone else wrote in between (``0``: the document must not exist yet; ``None``: write
      unconditionally). A document with an ``expires_ms`` at or before now is gone for every
      reader and writer; ``purge_expired`` reclaims its row.
    - **Journals**: append-only entries per journal name. Ids grow in commit order across the
      store, so a reader that remembers the last id it saw and reads after it misses nothing.

    Values are JSON objects (``dict`` with ``str`` keys, lists, strings, finite numbers, booleans,
    ``None``); anything that would not come back equal from JSON is refused with ``BadInput``, as
    are names (kinds, keys, journals) that are empty, longer than 1000 bytes in UTF-8, or hold
    NUL characters or lone surrogates. A returned value is the caller's own copy.
    Times are milliseconds since the epoch. Every call is synchronous and thread-safe (async
    callers use ``asyncio.to_thread``); a database that cannot be reached raises ``Unavailable``.
    """

    def get(self, kind: str, key: str) -> StateDocument | None:
        """The document, or ``None`` if there is none or it has expired."""
        ...

    def put(
        self,
        kind: str,
        key: str,
        value: dict[str, Any],
        *,
        expected_version: int | None = None,
        expires_ms: int | None = None,
    ) -> StateDocument:
        """Create or replace the document and return it with its new version.

        Raises ``Conflict`` when ``expected_version`` is given and is not the stored version (``0``
        when there is no document). ``expires_ms`` replaces any earlier expiry; ``None`` keeps the
        document until it is deleted.
        """
        ...

    def delete(self, kind: str, key: str, *, expected_version: int | None = None) -> bool:
        """Delete the document; ``False`` if there was none. ``Conflict`` as for ``put``."""
        ...

    def scan(
        self, kind: str, *, prefix: str = "", start_after: str = "", limit: int
    ) -> list[StateDocument]:
        """Documents of ``kind`` whose key starts with ``prefix``, in key order (by code point).

        At most ``limit`` documents, with keys after ``start_after``: pass the last key of one
        page to get the next.
        """
        ...

    def purge_expired(self, now_ms: int | None = None) -> int:
        """Delete every document expired at ``now_ms`` (default: now); how many went."""
        ...

    def append(self, journal: str, value: dict[str, Any], *, time_ms: int | None = None) -> int:
        """Append an entry (at ``time_ms``, default now) and return its id."""
        ...

    def read(self, journal: str, *, after_id: int = 0, limit: int) -> list[JournalEntry]:
        """Up to ``limit`` entries with ids above ``after_id``, oldest first."""
        ...

    def trim(self, journal: str, before_ms: int) -> int:
        """Delete the journal's entries timed before ``before_ms``; how many went."""
        ...


__all__ = [
    "FINITE_GRID_FUNCTIONS",
    "GRID_FUNCTIONS",
    "BatchQuerier",
    "ColumnQuerier",
    "ErrorEventQuery",
    "ErrorEventReader",
    "ErrorEventSink",
    "ExemplarReader",
    "ExemplarSink",
    "GridQuerier",
    "GridRequest",
    "GridSeries",
    "IssueStore",
    "IssueUpdate",
    "JournalEntry",
    "LabelIndex",
    "LineFilter",
    "LogCountRequest",
    "LogCounter",
    "LogCounts",
    "LogReader",
    "LogSelection",
    "LogSink",
    "MetadataReader",
    "NameCount",
    "Querier",
    "SampleSink",
    "Selection",
    "SeriesBound",
    "SeriesColumns",
    "SeriesData",
    "SeriesStats",
    "SeriesStatsReader",
    "ServiceCall",
    "SpanOperation",
    "SpanSink",
    "StateDocument",
    "StateStore",
    "TraceQuery",
    "TraceReader",
]
