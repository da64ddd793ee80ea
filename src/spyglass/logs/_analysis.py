"""Log analysis over LogQL: the patterns of a log query's lines, and the users its errors hit.

Both read their lines through the LogQL ``Engine`` (a log query: a selector and any pipeline, so
``{service_name="api"} |= "timeout" | json`` narrows what is analysed, and parsed fields become
labels ``_fields`` can read). Reads are bounded: at most ``max_lines`` lines per period, the
newest ones, and the report says when that cap cut a period short.

``patterns`` mines the window and its baseline (``_mining``); ``impact`` keeps the window's
error-level lines (``_fields.ERROR_LEVELS``) and counts the distinct users they name, overall,
per service and per template, with the users hit most.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field

from spyglass.core.errors import BadInput
from spyglass.core.log_fields import ERROR_LEVELS
from spyglass.logs._ast import LogQuery
from spyglass.logs._engine import Engine
from spyglass.logs._mining import CappedGroup, MinedPattern, MinerOptions, PatternMiner, Sample


@dataclass(frozen=True, slots=True)
class AnalysisOptions:
    """Limits and defaults of analysis requests."""

    miner: MinerOptions = field(default_factory=MinerOptions)
    max_lines: int = 50_000  # per period read
    user_field: str = "user_id"
    top_users: int = 10


@dataclass(frozen=True, slots=True)
class PatternReport:
    """The templates of a window against its baseline, and what was read to find them."""

    patterns: list[MinedPattern]
    total: int  # templates found, before ``limit``
    window_lines: int
    baseline_lines: int
    truncated: bool  # a period had more than ``max_lines`` lines: only the newest were read
    capped: list[CappedGroup]


@dataclass(frozen=True, slots=True)
class Impact:
    """Error lines and the distinct users they name, with the users named most."""

    error_lines: int
    users: int
    top_users: list[tuple[str, int]]


@dataclass(frozen=True, slots=True)
class ServiceImpact:
    """The impact of one service's errors."""

    service: str
    impact: Impact


@dataclass(frozen=True, slots=True)
class PatternImpact:
    """The impact of one error template."""

    service: str
    level: str
    template: str
    sample: Sample
    impact: Impact


@dataclass(frozen=True, slots=True)
class ImpactReport:
    """Users hit by errors in a window: overall, per service and per template."""

    user_field: str
    lines: int  # lines read
    truncated: bool
    error_lines_without_user: int
    overall: Impact
    services: list[ServiceImpact]
    patterns: list[PatternImpact]


Entry = tuple[int, Mapping[str, str], str]


def _impact(users: Counter[str], error_lines: int, top: int) -> Impact:
    ranked = sorted(users.items(), key=lambda kv: (-kv[1], kv[0]))[:top]
    return Impact(error_lines, len(users), ranked)


class LogAnalysis:
    """Patterns and user impact of the lines a LogQL log query selects."""

    def __init__(self, engine: Engine, options: AnalysisOptions | None = None) -> None:
        self.engine = engine
        self.options = options or AnalysisOptions()

    def read(self, query: str, start_ns: int, end_ns: int) -> tuple[list[Entry], bool]:
        """The query's lines in ``[start_ns, end_ns)``, oldest first: the newest ``max_lines``,
        and whether there were more."""
        if not isinstance(self.engine.parse(query), LogQuery):
            raise BadInput(
                "log analysis needs a log query (a selector and its pipeline), not a metric query"
            )
        if end_ns <= start_ns:
            return [], False
        cap = self.options.max_lines
        result = self.engine.range(
            query, start_ns, end_ns, 10**9, direction="backward", limit=cap + 1
        )
        entries: list[Entry] = []
        for stream in result.streams:
            labels = dict(stream.labels)
            entries.extend((ts, labels, line) for ts, line in stream.entries)
        entries.sort(key=lambda e: e[0])
        truncated = len(entries) > cap
        return (entries[-cap:] if truncated else entries), truncated

    def patterns(
        self,
        query: str,
        start_ns: int,
        end_ns: int,
        *,
        baseline: tuple[int, int] | None = None,
        limit: int | None = None,
        step_ns: int = 0,
    ) -> PatternReport:
        """The templates of the window ``[start_ns, end_ns)``, judged against ``baseline``
        (``(start, end)``; ``None``: the same length just before the window; an empty range:
        no baseline, so nothing is new or growing), most lines first, cut to ``limit``."""
        if baseline is None:
            baseline = (2 * start_ns - end_ns, start_ns)
        window, cut_window = self.read(query, start_ns, end_ns)
        before, cut_before = self.read(query, *baseline)
        miner = PatternMiner(self.options.miner, step_ns=step_ns)
        for ts, labels, line in before:
            miner.add(ts, labels, line, baseline=True)
        for ts, labels, line in window:
            miner.add(ts, labels, line)
        found = miner.patterns(end_ns - start_ns, max(baseline[1] - baseline[0], 0))
        # New and growing templates are what a reader came for: they go first.
        found.sort(key=lambda p: (not (p.new or p.growing), -p.count))
        return PatternReport(
            patterns=found if limit is None else found[:limit],
            total=len(found),
            window_lines=len(window),
            baseline_lines=len(before),
            truncated=cut_window or cut_before,
            capped=miner.capped(),
        )

    def impact(
        self,
        query: str,
        start_ns: int,
        end_ns: int,
        *,
        user_field: str | None = None,
        limit: int | None = None,
    ) -> ImpactReport:
        """The distinct users (by ``user_field``, default the configured one) that error-level
        lines in ``[start_ns, end_ns)`` name; ``limit`` cuts the per-template list."""
        name = user_field or self.options.user_field
        top = self.options.top_users
        entries, truncated = self.read(query, start_ns, end_ns)
        miner = PatternMiner(self.options.miner, user_field=name, track_users=True)
        users: Counter[str] = Counter()
        per_service: dict[str, tuple[Counter[str], list[int]]] = {}
        errors = 0
        anonymous = 0
        for ts, labels, line in entries:
            f = miner.fields(labels, line)
            if f.level not in ERROR_LEVELS:
                continue
            errors += 1
            service_users, service_lines = per_service.setdefault(f.service, (Counter(), [0]))
            service_lines[0] += 1
            if f.user:
                users[f.user] += 1
                service_users[f.user] += 1
            else:
                anonymous += 1
            miner.add(ts, labels, line, fields=f)
        patterns = [
            PatternImpact(
                p.service, p.level, p.template, p.sample, _impact(Counter(p.users), p.count, top)
            )
            for p in miner.patterns(end_ns - start_ns, 0)
        ]
        patterns.sort(key=lambda p: (-p.impact.users, -p.impact.error_lines, p.template))
        services = [
            ServiceImpact(service, _impact(counter, lines[0], top))
            for service, (counter, lines) in per_service.items()
        ]
        services.sort(key=lambda s: (-s.impact.users, -s.impact.error_lines, s.service))
        return ImpactReport(
            user_field=name,
            lines=len(entries),
            truncated=truncated,
            error_lines_without_user=anonymous,
            overall=_impact(users, errors, top),
            services=services,
            patterns=patterns if limit is None else patterns[:limit],
        )


__all__ = [
    "AnalysisOptions",
    "Impact",
    "ImpactReport",
    "LogAnalysis",
    "PatternImpact",
    "PatternReport",
    "ServiceImpact",
]
