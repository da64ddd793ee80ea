"""Running promqltest scripts against the engine and reporting per category.

Settings follow Prometheus' own harness: lookback 5m, default subquery step 1m, at most 10,000
samples per query, delayed ``__name__`` removal and experimental functions on. Each ``eval`` is
counted in one category: native histograms (skipped until they are stored), experimental
features, or the core float subset.
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import numpy as np

from spyglass.core.errors import SpyglassError
from spyglass.core.labels import METRIC_NAME, Labels, format_labels, labels_of
from spyglass.core.matchers import matches_all
from spyglass.promql._ast import Expr, VectorSelector, children, parse_query
from spyglass.promql._engine import Engine, EngineOptions, QueryResult
from spyglass.promql.testing._grid import GridMemoryStore
from spyglass.promql.testing._script import (
    Broken,
    Clear,
    Eval,
    Load,
    SeriesPoints,
    parse_script,
)
from spyglass.storage.memory import MemoryStore
from spyglass.storage.ports import Querier

CORE = "core"
EXPERIMENTAL = "experimental"
NATIVE = "native histograms"
CATEGORIES = (CORE, EXPERIMENTAL, NATIVE)

HARNESS_OPTIONS = EngineOptions(
    lookback_delta_ms=300_000,
    max_samples=10_000,
    timeout_s=60.0,
    default_subquery_step_ms=60_000,
    delayed_name_removal=True,
    experimental_functions=True,
)

_EXPERIMENTAL_FILES = frozenset(
    {
        "info.test",
        "limit.test",
        "duration_expression.test",
        "extended_vectors.test",
        "fill-modifier.test",
        "type_and_unit.test",
        "start_timestamps.test",
    }
)
_EXPERIMENTAL_FUNCS = re.compile(
    r"\b(sort_by_label(_desc)?|mad_over_time|ts_of_\w+|limitk|limit_ratio|first_over_time"
    r"|double_exponential_smoothing|info)\s*\("
)
_NATIVE_FILES = frozenset({"native_histograms.test"})


@dataclass
class CaseResult:
    """The outcome of one ``eval``."""

    file: str
    line: int
    query: str
    category: str
    status: str  # "pass", "fail" or "skip"
    reason: str = ""


@dataclass
class Report:
    """All outcomes, with per-category counts."""

    cases: list[CaseResult] = field(default_factory=list)
    seconds: float = 0.0

    def count(self, category: str, status: str) -> int:
        """How many cases of a category ended with a status."""
        return sum(1 for c in self.cases if c.category == category and c.status == status)

    def failures(self, category: str | None = None) -> list[CaseResult]:
        """Failed cases, optionally of one category."""
        return [
            c
            for c in self.cases
            if c.status == "fail" and (category is None or c.category == category)
        ]

    def summary(self) -> str:
        """``N passed, N failed, N skipped`` per category and in total."""
        lines = []
        for cat in CATEGORIES:
            lines.append(
                f"{cat}: {self.count(cat, 'pass')} passed, {self.count(cat, 'fail')} failed, "
                f"{self.count(cat, 'skip')} skipped"
            )
        total = [sum(1 for c in self.cases if c.status == s) for s in ("pass", "fail", "skip")]
        lines.append(f"total: {total[0]} passed, {total[1]} failed, {total[2]} skipped")
        return "\n".join(lines)

    def render(self) -> str:
        """Every failure (file:line, category, query, reason) and then the summary."""
        out = [
            f"FAIL {c.file}:{c.line} [{c.category}] {c.query}\n    {c.reason}"
            for c in self.failures()
        ]
        out.append(self.summary())
        return "\n".join(out)


def almost_equal(a: float, b: float, epsilon: float = 1e-6) -> bool:
    """Prometheus' float comparison for test results (NaN equals NaN)."""
    if a == b:
        return True
    if math.isnan(a) and math.isnan(b):
        return True
    if math.isnan(a) or math.isnan(b) or math.isinf(a) or math.isinf(b):
        return False
    abs_sum = abs(a) + abs(b)
    diff = abs(a - b)
    tiny = 2.2250738585072014e-308
    if a == 0 or b == 0 or abs_sum < tiny:
        return diff < epsilon * tiny
    return diff / min(abs_sum, 1.7976931348623157e308) < epsilon


def _selectors(expr: Expr) -> list[VectorSelector]:
    if isinstance(expr, VectorSelector):
        return [expr]
    return [s for child in children(expr) for s in _selectors(child)]


def _touches(query: str, histogram_series: set[Labels]) -> bool:
    """Whether any selector of ``query`` selects a series that holds native histograms."""
    if not histogram_series:
        return False
    try:
        expr = parse_query(query)
    except SpyglassError:
        return False
    return any(
        matches_all(sel.matchers, labels) for sel in _selectors(expr) for labels in histogram_series
    )


def _category(file: str, ev: Eval, histogram_series: set[Labels]) -> str:
    if file in _NATIVE_FILES or ev.has_histogram or _touches(ev.query, histogram_series):
        return NATIVE
    if file in _EXPERIMENTAL_FILES or _EXPERIMENTAL_FUNCS.search(ev.query):
        return EXPERIMENTAL
    return CORE


def _load(store: ScriptStore, cmd: Load, histogram_series: set[Labels]) -> None:
    for s in cmd.series:
        if s.histogram:
            histogram_series.add(s.labels)
        name = _name(s.labels)
        if cmd.nhcb and name.endswith("_bucket"):
            # load_with_nhcb also builds a native histogram under the base name, without "le".
            base = {**dict(s.labels), METRIC_NAME: name[: -len("_bucket")]}
            base.pop("le", None)
            histogram_series.add(labels_of(base))
        ts = [j * cmd.step_ms for j, v in enumerate(s.values) if v is not None]
        vs = [v for v in s.values if v is not None]
        if ts:
            store.add(s.labels, ts, vs)


def _name(labels: Labels) -> str:
    for n, v in labels:
        if n == METRIC_NAME:
            return v
    return ""


class ScriptStore(Querier, Protocol):
    """What a script runs against: a ``Querier`` that ``load`` adds to and ``clear`` empties."""

    def add(self, labels: Labels, timestamps: Iterable[int], values: Iterable[float]) -> None:
        """Add samples of one series."""
        ...

    def clear(self) -> None:
        """Forget every series."""
        ...


def run_script(
    text: str,
    file: str = "<script>",
    options: EngineOptions = HARNESS_OPTIONS,
    make_engine: Callable[[ScriptStore, EngineOptions], Engine] = Engine,
    store: ScriptStore | None = None,
) -> list[CaseResult]:
    """Run every command of a script; one result per ``eval``.

    The store is a fresh ``MemoryStore`` unless given; with push-down on, a
    ``GridMemoryStore``, so range functions go through the planner's port. ``make_engine``
    builds the engine (tests pass one that answers range queries through the range cache).
    """
    if store is None:
        store = GridMemoryStore() if options.push_down else MemoryStore()
    engine = make_engine(store, options)
    histogram_series: set[Labels] = set()
    results = []
    for cmd in parse_script(text, file):
        if isinstance(cmd, Clear):
            store.clear()
            histogram_series.clear()
        elif isinstance(cmd, Load):
            _load(store, cmd, histogram_series)
        elif isinstance(cmd, Broken):
            if "{{" in cmd.text or file in _NATIVE_FILES:
                category = NATIVE
            elif file in _EXPERIMENTAL_FILES or _EXPERIMENTAL_FUNCS.search(cmd.text):
                category = EXPERIMENTAL
            else:
                category = CORE
            results.append(
                CaseResult(
                    file,
                    cmd.line,
                    cmd.text,
                    category,
                    "fail",
                    f"cannot read command: {cmd.message}",
                )
            )
        elif isinstance(cmd, Eval):
            category = _category(file, cmd, histogram_series)
            if category == NATIVE:
                results.append(
                    CaseResult(
                        file,
                        cmd.line,
                        cmd.query,
                        category,
                        "skip",
                        "native histograms are not supported yet",
                    )
                )
                continue
            reason = check_eval(engine, cmd)
            results.append(
                CaseResult(
                    file, cmd.line, cmd.query, category, "fail" if reason else "pass", reason
                )
            )
    return results


def run_files(
    paths: Iterable[Path | str],
    options: EngineOptions = HARNESS_OPTIONS,
    make_engine: Callable[[ScriptStore, EngineOptions], Engine] = Engine,
    store: ScriptStore | None = None,
) -> Report:
    """Run several script files (against ``store`` when given, cleared before each file)."""
    report = Report()
    started = time.monotonic()
    for p in paths:
        path = Path(p)
        if store is not None:
            store.clear()
        report.cases.extend(run_script(path.read_text(), path.name, options, make_engine, store))
    report.seconds = time.monotonic() - started
    return report


def check_eval(engine: Engine, ev: Eval) -> str:
    """Run one ``eval``; return why it failed, or ``""`` when it passed."""
    fails = ev.wants("fail")
    try:
        if ev.instant:
            result = engine.instant_query(ev.query, ev.time_ms)
        else:
            result = engine.range_query(ev.query, ev.start_ms, ev.end_ms, ev.step_ms)
    except SpyglassError as exc:
        if not fails:
            return f"unexpected error: {exc}"
        message = str(exc)
        for f in fails:
            if f.match == "msg" and f.text != message:
                return f"error {message!r}, expected {f.text!r}"
            if f.match == "regex" and not re.search(f.text, message):
                return f"error {message!r} does not match {f.text!r}"
        return ""
    except Exception as exc:  # noqa: BLE001 - a crash is a failed case, reported with its type
        return f"crash: {type(exc).__name__}: {exc}"
    if fails:
        return "expected an error, query succeeded"
    problem = _check_annotations(ev, result)
    if problem:
        return problem
    if ev.string is not None:
        if result.result_type != "string" or result.string != ev.string:
            return f"expected string {ev.string!r}, got {_show(result)}"
        return ""
    if ev.scalar is not None:
        if result.result_type != "scalar" or result.scalar is None:
            return f"expected scalar {ev.scalar}, got {_show(result)}"
        if not almost_equal(result.scalar, ev.scalar):
            return f"expected scalar {ev.scalar}, got {result.scalar}"
        return ""
    if not ev.instant:
        grid = np.arange(ev.start_ms, ev.end_ms + 1, ev.step_ms, dtype=np.int64)
        return _compare_matrix(result, ev.series, grid)
    if ev.range_vector is not None:
        start, end, step = ev.range_vector
        grid = np.arange(start, end + 1, step, dtype=np.int64)
        return _compare_matrix(result, ev.series, grid)
    problem = _compare_vector(result, ev.series, ordered=bool(ev.wants("ordered")))
    if problem or ev.wants("ordered") or result.result_type != "vector":
        return problem
    if _QUERY_RANGE_FUNCS.search(ev.query):
        return ""  # the answer depends on the query's own range, so range mode differs
    return _check_range_mode(engine, ev)


_QUERY_RANGE_FUNCS = re.compile(r"(?<![\w:])(step|range|start|end)\s*\(\s*\)", re.IGNORECASE)


def _check_range_mode(engine: Engine, ev: Eval) -> str:
    """Like Prometheus' harness: the instant result must equal the middle step of a range query
    from t-1m to t+1m."""
    try:
        rng = engine.range_query(ev.query, ev.time_ms - 60_000, ev.time_ms + 60_000, 60_000)
    except SpyglassError as exc:
        return f"range-mode evaluation failed: {exc}"
    rows = []
    for labels, ts, vs in rng.matrix:
        hit = np.flatnonzero(ts == ev.time_ms)
        if len(hit):
            rows.append((labels, float(vs[hit[0]])))
    problem = _compare_vector(QueryResult("vector", vector=rows), ev.series, ordered=False)
    return f"range mode: {problem}" if problem else ""


def _check_annotations(ev: Eval, result: QueryResult) -> str:
    for kind, got in (("warn", result.warnings), ("info", result.infos)):
        wanted = ev.wants(kind)
        if ev.wants(f"no_{kind}") and got:
            return f"unexpected {kind} annotations: {got}"
        if not wanted:
            continue
        if not got:
            return f"expected {kind} annotation, got none"
        for w in wanted:
            if w.match and not any(_matches(w.match, w.text, g) for g in got):
                return f"no {kind} annotation matches {w.text!r}; got {got}"
        for g in got:
            if not any(not w.match or _matches(w.match, w.text, g) for w in wanted):
                return f"unexpected {kind} annotation {g!r}"
    return ""


def _matches(match: str, text: str, got: str) -> bool:
    if match == "msg":
        return got == text
    return re.search(text, got) is not None


def _show(result: QueryResult) -> str:
    if result.result_type == "scalar":
        return f"scalar {result.scalar}"
    if result.result_type == "string":
        return f"string {result.string!r}"
    if result.result_type == "vector":
        return "vector " + ", ".join(f"{format_labels(ls)} {v}" for ls, v in result.vector[:6])
    return "matrix " + ", ".join(
        f"{format_labels(ls)} {vs.tolist()[:8]}" for ls, _, vs in result.matrix[:6]
    )


def _compare_vector(result: QueryResult, expected: Sequence[SeriesPoints], ordered: bool) -> str:
    if result.result_type != "vector":
        return f"expected vector, got {_show(result)}"
    want = []
    for s in expected:
        if len(s.values) != 1 or s.values[0] is None:
            return f"bad expectation for instant vector: {format_labels(s.labels)}"
        want.append((s.labels, s.values[0]))
    got = result.vector
    if len(got) != len(want):
        return f"expected {len(want)} series, got {len(got)}: {_show(result)}"
    if ordered:
        for (gl, gv), (wl, wv) in zip(got, want, strict=True):
            if gl != wl or not almost_equal(gv, wv):
                return (
                    f"order/value mismatch: got {format_labels(gl)} {gv}, want "
                    f"{format_labels(wl)} {wv}"
                )
        return ""
    by_labels = dict(got)
    if len(by_labels) != len(got):
        return "result has duplicate label sets"
    for wl, wv in want:
        if wl not in by_labels:
            return f"missing {format_labels(wl)}; got {_show(result)}"
        if not almost_equal(by_labels[wl], wv):
            return f"{format_labels(wl)}: expected {wv}, got {by_labels[wl]}"
    return ""


def _compare_matrix(result: QueryResult, expected: Sequence[SeriesPoints], grid: np.ndarray) -> str:
    if result.result_type != "matrix":
        return f"expected matrix, got {_show(result)}"
    got = {ls: (ts, vs) for ls, ts, vs in result.matrix}
    if len(got) != len(result.matrix):
        return "result has duplicate label sets"
    want = {s.labels: s for s in expected}
    extra = [ls for ls in got if ls not in want]
    if extra:
        return f"unexpected series {format_labels(extra[0])}; got {_show(result)}"
    for labels, s in want.items():
        points = [
            (int(grid[i]), v) for i, v in enumerate(s.values) if v is not None and i < len(grid)
        ]
        if labels not in got:
            if points:
                return f"missing series {format_labels(labels)}; got {_show(result)}"
            continue
        ts, vs = got[labels]
        if [t for t, _ in points] != ts.tolist():
            return (
                f"{format_labels(labels)}: expected points at {[t for t, _ in points]}, "
                f"got {ts.tolist()} (values {vs.tolist()})"
            )
        for (_, w), g in zip(points, vs.tolist(), strict=True):
            if not almost_equal(g, w):
                return (
                    f"{format_labels(labels)}: expected {[v for _, v in points]}, got {vs.tolist()}"
                )
    return ""


__all__ = [
    "CATEGORIES",
    "CORE",
    "EXPERIMENTAL",
    "HARNESS_OPTIONS",
    "NATIVE",
    "CaseResult",
    "Report",
    "ScriptStore",
    "almost_equal",
    "check_eval",
    "run_files",
    "run_script",
]
