"""Why did this change: which label values carry a metric's change, and what else changed then.

Given a PromQL expression and a time, the window before the time (default 15 minutes) is
compared with a baseline before it (default the hour before the window). The expression is
taken apart down to the series it adds up: outer aggregations (``sum``, ``avg``, ``min``,
``max``, ``count``) and parentheses are removed, and of a ratio (``errors / total``) the
numerator is kept, since the change of a ratio is the change of what it counts; of an alert's
condition (``... > 0.05``) the side compared with a number is kept. Each series'
mean in the window minus its mean in the baseline is its contribution; for every label value,
and every pair of label values, the contributions of its series add up to its share of the whole
change. The ranking puts first what carries most of the change, and among equal shares the more
specific pair, so "route /checkout on instance b" leads when one route of one instance is at
fault.

Other signals add findings through ``Finder`` callables (log patterns that appeared or grew,
new or regressed error issues, the slowest trace operations); the metric series themselves show
deploys, as a ``version`` or ``release`` label value first seen in the window. Series that differ
only in such a label are added up before ranking, so a deploy does not split a series in two.
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import promql_parser

from spyglass.core.errors import BadInput
from spyglass.promql import Engine

DEFAULT_WINDOW_MS = 15 * 60_000
DEFAULT_BASELINE_MS = 60 * 60_000
POINTS = 60  # steps per window and baseline
DEPLOY_LABELS = ("version", "release", "app_version", "service_version", "image_tag")
_AGGREGATIONS = ("sum", "avg", "min", "max", "count")
_COMPARISONS = (">", "<", ">=", "<=", "==", "!=")
_EMPTY_BRACES = re.compile(r"([A-Za-z_:][A-Za-z0-9_:]*)\{\}")
MAX_LABEL_VALUES = 200  # per label: a label with more values (an id) is not a cause


Key = tuple[tuple[str, str], ...]


@dataclass(frozen=True, slots=True)
class Contributor:
    """A label value (or a pair) and how much of the change its series carry."""

    labels: dict[str, str]
    window: float
    baseline: float
    delta: float
    share: float


@dataclass(frozen=True, slots=True)
class Finding:
    """Something else that changed in the window (a deploy, a log pattern, an error issue)."""

    kind: str
    title: str
    detail: dict[str, Any] = field(default_factory=dict)


# (window start, window end, baseline start, baseline end) in ms -> findings.
Finder = Callable[[int, int, int, int], list[Finding]]


@dataclass(frozen=True, slots=True)
class Explanation:
    """The answer to "why did this change"."""

    query: str
    explained: str  # the expression whose series were compared
    time_ms: int
    window: tuple[int, int]
    baseline: tuple[int, int]
    total_window: float
    total_baseline: float
    contributors: list[Contributor]
    findings: list[Finding]
    series: int


def series_expression(query: str) -> str:
    """The expression whose series add up to ``query`` (see the module docstring)."""
    try:
        node: Any = promql_parser.parse(query)
    except ValueError as exc:
        raise BadInput(f"invalid PromQL: {exc}") from None
    while True:
        kind = type(node).__name__
        if kind == "ParenExpr" or (kind == "AggregateExpr" and str(node.op) in _AGGREGATIONS):
            node = node.expr
        elif kind == "BinaryExpr" and str(node.op) == "/":
            node = node.lhs
        elif (
            kind == "BinaryExpr"
            and str(node.op) in _COMPARISONS
            and type(node.rhs).__name__ == "NumberLiteral"
        ):
            # An alert's condition (``errors > 5``): what changed is the left side.
            node = node.lhs
        else:
            # promql_parser prints a bare metric name as ``name{}``: show it as written.
            return _EMPTY_BRACES.sub(r"\1", str(node))


def _means(engine: Engine, expr: str, start: int, end: int) -> dict[Key, float]:
    """Each series' mean over the steps of ``(start, end]``, a step without a value counting
    as 0: a series that appears halfway weighs half."""
    step = max((end - start) // POINTS, 1000)
    first = start + step
    steps = (end - first) // step + 1
    result = engine.range_query(expr, first, end, step)
    out: dict[Key, float] = {}
    for labels, times, values in result.matrix:
        finite = np.where(np.isfinite(values), values, 0.0)
        key = tuple((k, v) for k, v in labels if k != "__name__")
        out[key] = float(finite.sum()) / steps if len(times) else 0.0
    return out


def explain(
    engine: Engine,
    query: str,
    time_ms: int,
    *,
    window_ms: int = DEFAULT_WINDOW_MS,
    baseline_ms: int = DEFAULT_BASELINE_MS,
    limit: int = 10,
    finders: Sequence[Finder] = (),
) -> Explanation:
    """Compare the window before ``time_ms`` with the baseline before it."""
    if window_ms <= 0 or baseline_ms <= 0:
        raise BadInput("window and baseline must be positive durations")
    expr = series_expression(query)
    window = (time_ms - window_ms, time_ms)
    baseline = (window[0] - baseline_ms, window[0])
    raw_now = _means(engine, expr, *window)
    raw_before = _means(engine, expr, *baseline)
    # A deploy changes a series' version label, and so its identity: add up the series that
    # differ only in such labels, and report the deploy as a finding instead.
    now, before = _without_deploy_labels(raw_now), _without_deploy_labels(raw_before)
    keys = set(now) | set(before)
    deltas = {k: now.get(k, 0.0) - before.get(k, 0.0) for k in keys}
    total_now, total_before = sum(now.values()), sum(before.values())
    change = total_now - total_before
    contributors = _rank(keys, now=now, before=before, deltas=deltas, change=change, limit=limit)
    findings = _deploys(raw_now, raw_before)
    for finder in finders:
        findings.extend(finder(window[0], window[1], baseline[0], baseline[1]))
    return Explanation(
        query=query,
        explained=expr,
        time_ms=time_ms,
        window=window,
        baseline=baseline,
        total_window=total_now,
        total_baseline=total_before,
        contributors=contributors,
        findings=findings,
        series=len(keys),
    )


def _rank(
    keys: set[Key],
    *,
    now: dict[Key, float],
    before: dict[Key, float],
    deltas: dict[Key, float],
    change: float,
    limit: int,
) -> list[Contributor]:
    if not keys or change == 0 or not math.isfinite(change):
        return []
    values: dict[str, set[str]] = {}
    for k in keys:
        for name, value in k:
            values.setdefault(name, set()).add(value)
    # Labels with one value say nothing; labels with a value per series are identities.
    names = sorted(n for n, vs in values.items() if 1 < len(vs) <= MAX_LABEL_VALUES)
    groups: dict[tuple[tuple[str, str], ...], list[Key]] = {}
    for k in keys:
        own = dict(k)
        present = [n for n in names if n in own]
        for n in present:
            groups.setdefault(((n, own[n]),), []).append(k)
        for a, b in itertools.combinations(present, 2):
            groups.setdefault(((a, own[a]), (b, own[b])), []).append(k)
    out = []
    for group, members in groups.items():
        delta = sum(deltas[m] for m in members)
        out.append(
            Contributor(
                labels=dict(group),
                window=sum(now.get(m, 0.0) for m in members),
                baseline=sum(before.get(m, 0.0) for m in members),
                delta=delta,
                share=delta / change,
            )
        )
    # Most of the change first; among (nearly) equal shares the more specific group, then the
    # one whose series changed least elsewhere (fewest members).
    out.sort(key=lambda c: (-round(c.share, 3), -len(c.labels), sorted(c.labels.items())))
    return out[:limit]


def _without_deploy_labels(means: dict[Key, float]) -> dict[Key, float]:
    out: dict[Key, float] = {}
    for key, value in means.items():
        bare = tuple((k, v) for k, v in key if k not in DEPLOY_LABELS)
        out[bare] = out.get(bare, 0.0) + value
    return out


def _deploys(now: dict[Key, float], before: dict[Key, float]) -> list[Finding]:
    findings = []
    for label in DEPLOY_LABELS:
        seen_now = {dict(k)[label] for k in now if label in dict(k)}
        seen_before = {dict(k)[label] for k in before if label in dict(k)}
        for value in sorted(seen_now - seen_before):
            if seen_before:
                findings.append(
                    Finding(
                        "deploy",
                        f'{label}="{value}" appeared in the window',
                        {"label": label, "value": value, "before": sorted(seen_before)},
                    )
                )
    return findings


__all__ = [
    "DEFAULT_BASELINE_MS",
    "DEFAULT_WINDOW_MS",
    "Contributor",
    "Explanation",
    "Finder",
    "Finding",
    "explain",
    "series_expression",
]
