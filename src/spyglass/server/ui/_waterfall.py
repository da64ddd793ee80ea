"""One trace laid out as a waterfall: its spans as rows in tree order, each with its depth, its
bar on the trace's time axis and the details a person opens it for.

The trace page renders these rows on the server, so what it shows does not wait for a script
and a test can check the layout without a browser; ``frontend/src/waterfall.js`` only folds
subtrees and opens a row's details. Rows come depth first, children by start time, as Jaeger's
UI orders them. A span whose parent is not in the trace (not sent yet, or lost) starts a tree of
its own and says so. Bars are SVG geometry in a box ``AXIS`` units wide: the page's CSP forbids
inline styles, and SVG attributes are not styles.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from spyglass.core.spans import Span, SpanEvent

AXIS = 1000.0
# A bar never thinner than this, so a span of a few microseconds in a long trace still shows.
MIN_BAR = 2.0
# Service colours are CSS classes ``svc-0`` .. ``svc-<COLOURS-1>`` (frontend/src/traces.css).
COLOURS = 12
# The attribute OpenTelemetry's semantic conventions give an ``exception`` event's stack.
STACKTRACE = "exception.stacktrace"


@dataclass(frozen=True)
class EventRow:
    """A span event: when (from the span's start), its name, its attributes without the stack
    trace, and the stack trace apart so the page shows it as preformatted text."""

    offset: str
    name: str
    attributes: tuple[tuple[str, str], ...]
    stacktrace: str


@dataclass(frozen=True)
class SpanRow:
    """One span of the waterfall."""

    span: Span
    depth: int
    children: int
    colour: int
    # Geometry in AXIS units.
    x: float
    width: float
    offset: str
    duration: str
    error: bool
    orphan: bool
    events: tuple[EventRow, ...]

    @property
    def span_id(self) -> str:
        """The span's id (the row's anchor)."""
        return self.span.span_id


@dataclass(frozen=True)
class Waterfall:
    """A trace's rows, and what its header says."""

    trace_id: str
    rows: tuple[SpanRow, ...]
    start_ns: int
    duration_ns: int
    services: tuple[tuple[str, int], ...]
    colours: Mapping[str, int]
    errors: int
    depth: int
    root: SpanRow

    @property
    def ticks(self) -> list[str]:
        """The time axis' labels at 0, ¼, ½, ¾ and the whole of the trace."""
        return [format_duration(self.duration_ns * i // 4) for i in range(5)]


def format_duration(ns: int) -> str:
    """A span's length as Jaeger's UI writes it: ``850μs``, ``12.35ms``, ``1.5s``, ``2m 3s``."""
    if ns < 1_000:
        return f"{ns}ns"
    if ns < 1_000_000:
        return f"{_trim(ns / 1_000)}μs"
    if ns < 1_000_000_000:
        return f"{_trim(ns / 1_000_000)}ms"
    if ns < 60_000_000_000:
        return f"{_trim(ns / 1_000_000_000)}s"
    minutes, rest = divmod(ns, 60_000_000_000)
    return f"{minutes}m {_trim(rest / 1_000_000_000)}s"


def _trim(value: float) -> str:
    return f"{value:.2f}".rstrip("0").rstrip(".")


def is_error(span: Span) -> bool:
    """A span in error: status Error, or an ``error`` attribute set (what Zipkin and older
    instrumentations send)."""
    return span.status_code == "Error" or span.attributes.get("error", "") in ("true", "1")


def waterfall(spans: Sequence[Span]) -> Waterfall:
    """The rows of a trace (``spans`` non-empty, all of one trace)."""
    if not spans:
        raise ValueError("a waterfall needs at least one span")
    ordered = sorted(spans, key=lambda s: (s.start_ns, s.span_id))
    ids = {s.span_id for s in ordered}
    children: dict[str, list[Span]] = {}
    roots: list[Span] = []
    for span in ordered:
        parent = span.parent_span_id
        if parent and parent in ids and parent != span.span_id:
            children.setdefault(parent, []).append(span)
        else:
            roots.append(span)
    start = ordered[0].start_ns
    end = max(s.end_ns for s in ordered)
    total = max(end - start, 1)
    colours: dict[str, int] = {}
    counts: dict[str, int] = {}
    for span in ordered:
        colours.setdefault(span.service_name, len(colours) % COLOURS)
        counts[span.service_name] = counts.get(span.service_name, 0) + 1
    rows: list[SpanRow] = []
    seen: set[str] = set()

    def visit(span: Span, depth: int) -> None:
        # Iterative, so a very deep trace cannot exhaust Python's stack; a cycle (a span its
        # own ancestor, from a broken client) is cut by ``seen``.
        stack: list[tuple[Span, int]] = [(span, depth)]
        while stack:
            current, level = stack.pop()
            if current.span_id in seen:
                continue
            seen.add(current.span_id)
            kids = [k for k in children.get(current.span_id, []) if k.span_id not in seen]
            rows.append(
                _row(
                    current,
                    depth=level,
                    children=len(kids),
                    trace_start=start,
                    total=total,
                    colours=colours,
                    ids=ids,
                )
            )
            stack.extend((k, level + 1) for k in reversed(kids))

    for root in roots:
        visit(root, 0)
    # Spans only reachable through a cycle: shown at the top level rather than lost.
    for span in ordered:
        if span.span_id not in seen:
            visit(span, 0)
    top = roots[0] if roots else ordered[0]
    root_row = next(r for r in rows if r.span is top)
    return Waterfall(
        trace_id=ordered[0].trace_id,
        rows=tuple(rows),
        start_ns=start,
        duration_ns=end - start,
        services=tuple(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))),
        colours=colours,
        errors=sum(1 for r in rows if r.error),
        depth=max(r.depth for r in rows) + 1,
        root=root_row,
    )


def span_row(spans: Sequence[Span], span_id: str) -> SpanRow | None:
    """The row ``waterfall(spans)`` has for span ``span_id``, without laying out the whole
    trace (its ``depth`` and ``children``, which only the tree walk knows, are 0): what a span's
    details show. None when no span of ``spans`` has that id."""
    target = next((s for s in spans if s.span_id == span_id), None)
    if target is None:
        return None
    ordered = sorted(spans, key=lambda s: (s.start_ns, s.span_id))
    colours: dict[str, int] = {}
    for span in ordered:
        colours.setdefault(span.service_name, len(colours) % COLOURS)
    start = ordered[0].start_ns
    total = max(max(s.end_ns for s in ordered) - start, 1)
    ids = {s.span_id for s in ordered}
    return _row(
        target, depth=0, children=0, trace_start=start, total=total, colours=colours, ids=ids
    )


def _row(
    span: Span,
    *,
    depth: int,
    children: int,
    trace_start: int,
    total: int,
    colours: Mapping[str, int],
    ids: set[str],
) -> SpanRow:
    x = (span.start_ns - trace_start) / total * AXIS
    width = max(span.duration_ns / total * AXIS, MIN_BAR)
    x = min(x, AXIS - MIN_BAR)
    return SpanRow(
        span=span,
        depth=depth,
        children=children,
        colour=colours[span.service_name],
        x=round(x, 2),
        width=round(min(width, AXIS - x), 2),
        offset=format_duration(span.start_ns - trace_start),
        duration=format_duration(span.duration_ns),
        error=is_error(span),
        orphan=bool(span.parent_span_id) and span.parent_span_id not in ids,
        events=tuple(_event(e, span.start_ns) for e in span.events),
    )


def _event(event: SpanEvent, span_start: int) -> EventRow:
    attributes = tuple(sorted((k, v) for k, v in event.attributes.items() if k != STACKTRACE))
    return EventRow(
        offset=format_duration(max(event.timestamp_ns - span_start, 0)),
        name=event.name,
        attributes=attributes,
        stacktrace=event.attributes.get(STACKTRACE, ""),
    )


__all__ = [
    "AXIS",
    "COLOURS",
    "EventRow",
    "SpanRow",
    "Waterfall",
    "format_duration",
    "span_row",
    "waterfall",
]
