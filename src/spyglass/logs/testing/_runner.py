"""Running ``.logqltest`` scripts over ``MemoryLogStore`` and reporting per file."""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from spyglass.core.errors import SpyglassError
from spyglass.core.labels import labels_of
from spyglass.core.logs import LogRecord
from spyglass.logs._engine import Engine, QueryResult
from spyglass.logs._series import SeriesLabels
from spyglass.logs.testing._script import Clear, Eval, Load, parse_script
from spyglass.storage.memory_logs import MemoryLogStore


@dataclass
class CaseResult:
    """The outcome of one ``eval``."""

    file: str
    line: int
    query: str
    status: str  # "pass" or "fail"
    reason: str = ""


@dataclass
class Report:
    """Every case's outcome."""

    cases: list[CaseResult] = field(default_factory=list)

    def count(self, status: str, file: str | None = None) -> int:
        """How many cases (of ``file``, when given) have ``status``."""
        return sum(1 for c in self.cases if c.status == status and (file is None or c.file == file))

    def failures(self) -> list[CaseResult]:
        """The failed cases, in script order."""
        return [c for c in self.cases if c.status == "fail"]

    def files(self) -> list[str]:
        """The scripts run, in order."""
        return list(dict.fromkeys(c.file for c in self.cases))

    def render(self) -> str:
        """A per-file table and every failure."""
        lines = []
        for f in self.files():
            p, n = self.count("pass", f), self.count("fail", f)
            lines.append(f"{f}: {p}/{p + n} pass")
        p, n = self.count("pass"), self.count("fail")
        lines.append(f"total: {p}/{p + n} pass")
        lines.extend(f"FAIL {c.file}:{c.line} {c.query}: {c.reason}" for c in self.failures())
        return "\n".join(lines)


def almost_equal(a: float, b: float) -> bool:
    """Equal, both NaN, or within a relative 1e-6 (the scripts print rounded values)."""
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    if math.isinf(a) or math.isinf(b):
        return a == b
    return a == b or abs(a - b) <= 1e-6 * max(abs(a), abs(b), 1e-300) or abs(a - b) < 1e-12


def _records(load: Load) -> Iterable[LogRecord]:
    for ll in load.lines:
        stream = labels_of(ll.labels)
        for i in range(ll.count):
            yield LogRecord(ll.at_ns + i * ll.every_ns, ll.line, stream, metadata=ll.metadata)


def _fmt(labels: SeriesLabels) -> str:
    return "{" + ", ".join(f'{k}="{v}"' for k, v in labels) + "}"


def _check(case: Eval, result: QueryResult, steps: list[int]) -> str:
    """Why ``result`` is not what ``case`` expects ("" when it is)."""
    if case.fail:
        return "expected an error, got a result"
    if result.result_type == "scalar":
        assert result.scalar is not None
        got_scalar = result.scalar[1]
        if len(case.expected) != 1 or case.expected[0][0] is not None:
            return f"got scalar {got_scalar}"
        scalar = case.expected[0][1]
        if len(scalar) != 1 or scalar[0] is None or not almost_equal(scalar[0], got_scalar):
            return f"got scalar {got_scalar}, want {scalar}"
        return ""
    got: dict[SeriesLabels, list[float | None]] = {}
    order: list[SeriesLabels] = []
    if result.result_type == "vector":
        for labels, _, value in result.vector:
            got[labels] = [value]
            order.append(labels)
    else:
        index = {t: j for j, t in enumerate(steps)}
        for labels, points in result.matrix:
            values: list[float | None] = [None] * len(steps)
            for t, v in points:
                values[index[t]] = v
            got[labels] = values
            order.append(labels)
    if case.empty:
        return (
            ""
            if not got
            else f"expected empty, got {len(got)} series: " + ", ".join(_fmt(k) for k in got)
        )
    want: dict[SeriesLabels, list[float | None]] = {}
    want_order: list[SeriesLabels] = []
    for expected_labels, expected_values in case.expected:
        key = tuple(sorted((expected_labels or {}).items()))
        want[key] = expected_values
        want_order.append(key)
    if set(got) != set(want):
        missing = [_fmt(k) for k in want if k not in got]
        extra = [_fmt(k) for k in got if k not in want]
        return f"series differ: missing {missing}, unexpected {extra}"
    for key, values in want.items():
        have = got[key]
        if len(values) != len(have):
            return f"{_fmt(key)}: want {len(values)} values, got {len(have)}"
        for w, h in zip(values, have, strict=True):
            if (w is None) != (h is None) or (
                w is not None and h is not None and not almost_equal(w, h)
            ):
                return f"{_fmt(key)}: want {values}, got {have}"
    if case.ordered and order != want_order:
        return f"order differs: got {[_fmt(k) for k in order]}"
    return ""


def run_script(text: str, name: str) -> list[CaseResult]:
    """Every ``eval`` of one script."""
    store = MemoryLogStore()
    engine = Engine(store)
    results: list[CaseResult] = []
    for command in parse_script(text):
        if isinstance(command, Clear):
            store.clear()
        elif isinstance(command, Load):
            store.load(_records(command))
        else:
            results.append(_run_eval(engine, command, name))
    return results


def _run_eval(engine: Engine, case: Eval, name: str) -> CaseResult:
    steps = (
        [case.start_ns]
        if case.instant
        else list(range(case.start_ns, case.end_ns + 1, case.step_ns))
    )
    try:
        if case.instant:
            result = engine.instant(case.query, case.start_ns)
        else:
            result = engine.range(case.query, case.start_ns, case.end_ns, case.step_ns)
    except (SpyglassError, ValueError) as exc:
        message = str(exc)
        if not case.fail:
            return CaseResult(name, case.line, case.query, "fail", f"unexpected error: {message}")
        if case.fail_msg is not None and case.fail_msg not in message:
            return CaseResult(
                name, case.line, case.query, "fail", f"error {message!r} lacks {case.fail_msg!r}"
            )
        if case.fail_regex is not None and not re.search(case.fail_regex, message):
            return CaseResult(
                name, case.line, case.query, "fail", f"error {message!r} !~ {case.fail_regex!r}"
            )
        return CaseResult(name, case.line, case.query, "pass")
    reason = _check(case, result, steps)
    return CaseResult(name, case.line, case.query, "fail" if reason else "pass", reason)


def run_files(paths: Iterable[Path]) -> Report:
    """Every script in ``paths``, named by file name."""
    report = Report()
    for path in paths:
        report.cases.extend(run_script(path.read_text(encoding="utf-8"), path.name))
    return report


__all__ = ["CaseResult", "Report", "almost_equal", "run_files", "run_script"]
