"""Findings from the other signals for "why did this change".

Each finder looks at the window and its baseline in one signal and reports what is new there:
log patterns that appeared or grew (``log_patterns``). Error issues and trace operations join as
their stores land.
"""

from __future__ import annotations

import logging

from spyglass.core.errors import SpyglassError
from spyglass.logs import LogAnalysis
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


__all__ = ["log_patterns"]
