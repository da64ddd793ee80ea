"""Findings from the other signals for "why did this change".

Each finder looks at the window and its baseline in one signal and reports what is new there:
log patterns that appeared or grew (``log_patterns``), error issues first seen or regressed in
the window (``error_issues``), and the trace operations whose 95th percentile duration grew
most against the baseline (``trace_operations``).
"""

from __future__ import annotations

import logging

from spyglass.core.error_issues import Issue, IssueQuery
from spyglass.core.errors import SpyglassError
from spyglass.logs import LogAnalysis
from spyglass.storage.ports import IssueStore, OperationLatency, SpanLatencyReader
from spyglass.why._explain import Finder, Finding

log = logging.getLogger("spyglass.why")
MS = 1_000_000  # ns per ms
ALL_STREAMS = '{service_name=~".+"}'


def log_patterns(analysis: LogAnalysis, query: str = ALL_STREAMS, limit: int = 5) -> Finder:
    """Log templates new in the window or growing against the baseline, most lines first."""

    def find(start: int, end: int, base_start: int, base_end: int) -> list[Finding]:
        try:
            report = analysis.patterns(
                query, start * MS, end * MS, baseline=(base_start * MS, base_end * MS)
            )
        except SpyglassError as exc:  # no logs store, a timeout: the other clues still count
            log.info("why: log patterns skipped: %s", exc)
            return []
        out = []
        for p in report.patterns:
            if not (p.new or p.growing):
                continue
            what = "new" if p.new else "growing"
            out.append(
                Finding(
                    "log_pattern",
                    f"{what} log pattern in {p.service or '(no service)'} ({p.level}): "
                    + p.template,
                    {
                        "service": p.service,
                        "level": p.level,
                        "template": p.template,
                        "count": p.count,
                        "baselineCount": p.baseline_count,
                        "new": p.new,
                        "firstSeen": p.first_seen_ns / 1e9,
                    },
                )
            )
        return out[:limit]

    return find


def error_issues(issues: IssueStore, limit: int = 5) -> Finder:
    """Error issues first seen in the window, and issues that came back (regressed) in it."""

    def find(start: int, end: int, base_start: int, base_end: int) -> list[Finding]:
        del base_start, base_end  # an issue's first sighting is its own baseline
        try:
            newest = issues.search(IssueQuery(sort="first_seen", limit=50)).issues
            recent = issues.search(IssueQuery(sort="last_seen", limit=200)).issues
        except SpyglassError as exc:
            log.info("why: error issues skipped: %s", exc)
            return []
        out = []
        for issue in newest:
            if start <= issue.first_seen_ms <= end:
                out.append(_issue_finding("new error issue", issue))
        for issue in recent:
            if issue.regressed and start <= issue.last_seen_ms <= end:
                out.append(_issue_finding("regressed error issue", issue))
        return out[:limit]

    return find


# An operation counts as slower when its p95 grew by this factor at least: smaller moves are
# the noise of a few spans more or less.
MIN_GROWTH = 1.2


def trace_operations(spans: SpanLatencyReader, limit: int = 5, min_spans: int = 3) -> Finder:
    """The operations whose p95 span duration grew most from the baseline to the window.

    Ranked by the time the p95 added (so 40 ms more of a checkout leads 2 ms more of a cache
    read, however their ratios compare); an operation needs ``min_spans`` spans in each window
    and a p95 at least ``MIN_GROWTH`` times the baseline's. An operation absent from the
    baseline is not slower, only new: it is left out.
    """

    def find(start: int, end: int, base_start: int, base_end: int) -> list[Finding]:
        try:
            now = spans.operation_latencies(start * MS, end * MS)
            before = {
                (op.service, op.operation): op
                for op in spans.operation_latencies(base_start * MS, base_end * MS - 1)
            }
        except SpyglassError as exc:
            log.info("why: trace operations skipped: %s", exc)
            return []
        slower: list[tuple[OperationLatency, OperationLatency]] = []
        for op in now:
            old = before.get((op.service, op.operation))
            if (
                old is not None
                and min(op.spans, old.spans) >= min_spans
                and op.p95_ns >= old.p95_ns * MIN_GROWTH
                and op.p95_ns > old.p95_ns
            ):
                slower.append((op, old))
        slower.sort(key=lambda pair: (-(pair[0].p95_ns - pair[1].p95_ns), pair[0].service))
        return [_operation_finding(op, old) for op, old in slower[:limit]]

    return find


def _operation_finding(op: OperationLatency, old: OperationLatency) -> Finding:
    now_ms, before_ms = op.p95_ns / 1e6, old.p95_ns / 1e6
    growth = op.p95_ns / old.p95_ns if old.p95_ns > 0 else None
    times = f" ({growth:.1f}x)" if growth is not None else ""
    return Finding(
        "trace_operation",
        f"slower trace operation {op.service} {op.operation}: p95 {before_ms:.4g} ms → "
        f"{now_ms:.4g} ms{times}",
        {
            "service": op.service,
            "operation": op.operation,
            "p95Ms": now_ms,
            "baselineP95Ms": before_ms,
            "growth": growth,
            "spans": op.spans,
            "baselineSpans": old.spans,
        },
    )


def _issue_finding(what: str, issue: Issue) -> Finding:
    return Finding(
        "error_issue",
        f"{what} #{issue.id}: {issue.title}" + (f" in {issue.culprit}" if issue.culprit else ""),
        {
            "id": issue.id,
            "title": issue.title,
            "culprit": issue.culprit,
            "level": issue.level,
            "count": issue.count,
            "users": issue.users,
            "firstSeen": issue.first_seen_ms / 1000,
            "lastSeen": issue.last_seen_ms / 1000,
            "regressed": issue.regressed,
        },
    )


__all__ = ["MIN_GROWTH", "error_issues", "log_patterns", "trace_operations"]
