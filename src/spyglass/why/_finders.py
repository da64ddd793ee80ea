"""Findings from the other signals for "why did this change".

Each finder looks at the window and its baseline in one signal and reports what is new there:
log patterns that appeared or grew (``log_patterns``), error issues first seen or regressed in
the window (``error_issues``). Trace operations join as their store lands.
"""

from __future__ import annotations

import logging

from spyglass.core.error_issues import Issue, IssueQuery
from spyglass.core.errors import SpyglassError
from spyglass.logs import LogAnalysis
from spyglass.storage.ports import IssueStore
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


__all__ = ["error_issues", "log_patterns"]
