"""Pattern mining: log messages grouped into templates with Drain, per service and level.

Each (service, level) group has its own Drain tree (drain3's ``Drain``: a fixed-depth prefix
tree over the first tokens, then token-wise similarity against the group's clusters). Messages
are masked first (``_masking``), so the parameters Drain would otherwise have to discover one
line at a time are already ``<NUM>``, ``<UUID>``, ... Drain marks tokens that still vary with
``<*>``.

Lines of the *window* and of its *baseline* (the period just before, by default) go through the
same trees, baseline first and each in time order, and every cluster counts them apart. A
template is **new** when none of its lines fell in the baseline, and **growing** when its rate in
the window is at least ``growth_factor`` times its baseline rate and it has at least
``min_growth_count`` lines in the window. Only templates with lines in the window are reported.

Memory is bounded: a group holds at most ``max_templates`` clusters. Once a group is full, a
line that matches none of its clusters is counted as *unclustered* for that group rather than
growing it; the report says which groups were full and how many lines that left out.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from drain3.drain import Drain  # type: ignore[import-untyped]

from spyglass.core.log_fields import LineFields, line_fields
from spyglass.logs._masking import mask, tokens

# Drain's placeholder for a token that varies within a cluster.
WILDCARD = "<*>"
_PLACEHOLDER = re.compile(r"(?:<(?:\*|[A-Z]+)>)+")


@dataclass(frozen=True, slots=True)
class MinerOptions:
    """How templates are mined and judged.

    ``similarity``: Drain's threshold (0-1) of equal tokens for a message to join a cluster;
    ``depth``: Drain's prefix-tree depth (at least 3: the first ``depth - 3`` tokens without a
    digit route, so must be equal for messages to share a template);
    ``max_children``: most children of a prefix-tree node; ``max_templates``: most templates one
    (service, level) group keeps; ``growth_factor`` and ``min_growth_count``: when a template
    counts as growing.
    """

    similarity: float = 0.4
    depth: int = 4
    max_children: int = 100
    max_templates: int = 1000
    growth_factor: float = 2.0
    min_growth_count: int = 10

    def __post_init__(self) -> None:
        if not 0.0 <= self.similarity <= 1.0:
            raise ValueError("similarity must be between 0 and 1")
        if self.depth < 3:
            raise ValueError("depth must be at least 3")
        if self.max_templates < 1 or self.max_children < 1:
            raise ValueError("max_templates and max_children must be positive")


@dataclass(frozen=True, slots=True)
class Sample:
    """One line of a template: when, the line itself and its labels."""

    timestamp_ns: int
    line: str
    labels: Mapping[str, str]


@dataclass(frozen=True, slots=True)
class MinedPattern:
    """One template of a (service, level) group.

    ``count`` lines in the window (``first_seen_ns`` .. ``last_seen_ns``), ``baseline_count`` in
    the baseline; ``sample`` is the newest line of the window; ``users`` counts the window's lines
    per user (empty unless the miner tracks users); ``buckets`` counts them per step (empty unless
    the miner was given a step), keyed by the step's start.
    """

    service: str
    level: str
    template: str
    count: int
    baseline_count: int
    first_seen_ns: int
    last_seen_ns: int
    sample: Sample
    new: bool
    growing: bool
    users: Mapping[str, int] = field(default_factory=dict)
    buckets: Mapping[int, int] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class CappedGroup:
    """A group that reached ``max_templates``, and the window lines that joined no template."""

    service: str
    level: str
    unclustered: int


class _Stats:
    __slots__ = ("baseline", "buckets", "count", "first", "last", "sample", "users")

    def __init__(self) -> None:
        self.count = 0
        self.baseline = 0
        self.first = 0
        self.last = 0
        # The newest window line and its labels (its time is ``last``); a Sample only when
        # reported, as most lines are overwritten by a newer one.
        self.sample: tuple[str, Mapping[str, str]] | None = None
        self.users: Counter[str] | None = None
        self.buckets: dict[int, int] | None = None


class _Group:
    __slots__ = ("drain", "stats", "unclustered")

    def __init__(self, options: MinerOptions) -> None:
        self.drain: Any = Drain(
            sim_th=options.similarity,
            depth=options.depth,
            max_children=options.max_children,
            param_str=WILDCARD,
        )
        self.stats: dict[int, _Stats] = {}
        self.unclustered = 0


def loki_pattern(template: str) -> str:
    """``template`` in Loki's pattern syntax: every placeholder (``<*>``, ``<NUM>``, ...) is
    ``<_>``, the capture that captures nothing, and adjacent ones are one (Loki refuses two
    captures in a row), so the result works in ``|> "..."``."""
    return _PLACEHOLDER.sub("<_>", template)


class PatternMiner:
    """Mines the lines given to ``add`` into templates per (service, level)."""

    def __init__(
        self,
        options: MinerOptions | None = None,
        *,
        user_field: str = "user_id",
        track_users: bool = False,
        step_ns: int = 0,
    ) -> None:
        self.options = options or MinerOptions()
        self.user_field = user_field
        self.track_users = track_users
        self.step_ns = step_ns
        self._groups: dict[tuple[str, str], _Group] = {}

    def fields(self, labels: Mapping[str, str], line: str) -> LineFields:
        """The message, service, level and user of a line, as this miner reads them."""
        return line_fields(labels, line, self.user_field)

    def add(
        self,
        timestamp_ns: int,
        labels: Mapping[str, str],
        line: str,
        *,
        baseline: bool = False,
        fields: LineFields | None = None,
    ) -> None:
        """Mine one line; give lines in time order, all baseline lines first."""
        f = fields or self.fields(labels, line)
        key = (f.service, f.level)
        group = self._groups.get(key)
        if group is None:
            group = self._groups[key] = _Group(self.options)
        masked = mask(f.message)
        drain = group.drain
        if len(group.stats) >= self.options.max_templates:
            # Full: join an existing cluster or be left out, never grow the group.
            found = drain.tree_search(drain.root_node, tokens(masked), drain.sim_th, False)
            if found is None:
                if not baseline:
                    group.unclustered += 1
                return
        cluster, _ = drain.add_log_message(masked)
        stats = group.stats.get(cluster.cluster_id)
        if stats is None:
            stats = group.stats[cluster.cluster_id] = _Stats()
        if baseline:
            stats.baseline += 1
            return
        if stats.count == 0:
            stats.first = timestamp_ns
        stats.count += 1
        stats.last = timestamp_ns
        stats.sample = (line, labels)
        if self.track_users and f.user:
            if stats.users is None:
                stats.users = Counter()
            stats.users[f.user] += 1
        if self.step_ns > 0:
            if stats.buckets is None:
                stats.buckets = {}
            bucket = timestamp_ns - timestamp_ns % self.step_ns
            stats.buckets[bucket] = stats.buckets.get(bucket, 0) + 1

    def patterns(self, window_ns: int, baseline_ns: int) -> list[MinedPattern]:
        """Every template with lines in the window, most lines first.

        ``window_ns`` and ``baseline_ns`` are the lengths of the two periods, for their rates; a
        ``baseline_ns`` of 0 means no baseline was read, and then nothing is new or growing.
        """
        o = self.options
        out: list[MinedPattern] = []
        for (service, level), group in self._groups.items():
            clusters = {c.cluster_id: c for c in group.drain.clusters}
            for cluster_id, s in group.stats.items():
                if s.count == 0 or s.sample is None:
                    continue
                new = baseline_ns > 0 and s.baseline == 0
                growing = (
                    baseline_ns > 0
                    and not new
                    and s.count >= o.min_growth_count
                    and s.count * baseline_ns >= o.growth_factor * s.baseline * window_ns
                )
                out.append(
                    MinedPattern(
                        service=service,
                        level=level,
                        template=clusters[cluster_id].get_template(),
                        count=s.count,
                        baseline_count=s.baseline,
                        first_seen_ns=s.first,
                        last_seen_ns=s.last,
                        sample=Sample(s.last, *s.sample),
                        new=new,
                        growing=growing,
                        users=dict(s.users or {}),
                        buckets=dict(sorted((s.buckets or {}).items())),
                    )
                )
        out.sort(key=lambda p: (-p.count, p.service, p.level, p.template))
        return out

    def capped(self) -> list[CappedGroup]:
        """The groups that reached ``max_templates``."""
        return [
            CappedGroup(service, level, g.unclustered)
            for (service, level), g in sorted(self._groups.items())
            if len(g.stats) >= self.options.max_templates
        ]


__all__ = [
    "CappedGroup",
    "MinedPattern",
    "MinerOptions",
    "PatternMiner",
    "Sample",
    "loki_pattern",
]
