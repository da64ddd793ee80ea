"""Running promtool's rule unit tests on ``MemoryStore``, the PromQL ``Engine`` and ``RuleGroup``.

Each test group starts from empty storage and fresh rule state, and follows promtool step by
step: input series become visible up to the evaluation time (as promtool's lazy loader appends
them), every group is evaluated at each ``evaluation_interval`` from the start to the latest
``eval_time`` (in ``group_eval_order``), and what the rules return is written back; alert tests
look at the firing alerts of the evaluation at or just before their ``eval_time``; PromQL tests
query the final storage. A rule failing ends its test group, as in promtool. Messages are
promtool's, so a diff against its output reads the same.

LogQL rules (Spyglass's extension, ``_testfile``) run the same way: each test group's
``input_logs`` go into a ``MemoryLogStore`` that the groups' LogQL evaluator reads, what the
rules record is written to the metrics store as in the server, and ``logql_expr_test`` queries
the log store at the end, with the messages of ``promql_expr_test``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from spyglass.core.errors import SpyglassError
from spyglass.core.labels import Labels
from spyglass.core.logs import LogRecord
from spyglass.core.matchers import Matcher
from spyglass.logs import Engine as LogQLEngine
from spyglass.promql import Engine, EngineOptions
from spyglass.promql.testing import parse_points, parse_series_labels
from spyglass.rules._alerting import ALERT_NAME, AlertingRule
from spyglass.rules._gofmt import (
    float_e,
    go_duration,
    go_quote,
    labels_string,
    model_duration,
)
from spyglass.rules._group import RuleGroup
from spyglass.rules._language import Languages, LogQLEvaluator, check_expression
from spyglass.rules._model import GroupSpec
from spyglass.rules._rule import query_vector
from spyglass.rules._rulefmt import RuleFileError, load_rule_file
from spyglass.rules._template import TemplateExpander
from spyglass.rules.testing._testfile import (
    PromqlTest,
    UnitTestFile,
    UnitTestGroup,
    load_unit_test_file,
)
from spyglass.storage.memory import MemoryStore
from spyglass.storage.memory_logs import MemoryLogStore
from spyglass.storage.ports import SeriesData

NATIVE_HISTOGRAMS = "native histograms are not supported by Spyglass yet"

Pair = tuple[Labels, Labels]  # an alert's labels and annotations


@dataclass
class GroupReport:
    """The outcome of one test group: its errors, promtool's messages."""

    name: str
    errors: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        """Whether the group had no error."""
        return not self.errors


@dataclass
class FileReport:
    """The outcome of one unit-test file."""

    path: str
    errors: list[str] = field(default_factory=list)  # the file itself did not load
    warnings: list[str] = field(default_factory=list)
    groups: list[GroupReport] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        """Whether the file loaded and every test group that ran passed."""
        return not self.errors and all(g.passed for g in self.groups)

    def all_errors(self) -> list[str]:
        """Every error in promtool's order: file errors, then each group's."""
        return [*self.errors, *(e for g in self.groups for e in g.errors)]


def run_unit_tests(
    paths: Sequence[str | Path],
    *,
    expander: TemplateExpander,
    run: Sequence[str] = (),
    ignore_unknown_fields: bool = False,
) -> list[FileReport]:
    """Run unit-test files; ``run`` holds regexes selecting test groups by name (``--run``)."""
    selector = re.compile("|".join(run)) if run else None
    return [
        run_unit_test_file(
            p, expander=expander, selector=selector, ignore_unknown_fields=ignore_unknown_fields
        )
        for p in paths
    ]


def run_unit_test_file(
    path: str | Path,
    *,
    expander: TemplateExpander,
    selector: re.Pattern[str] | None = None,
    ignore_unknown_fields: bool = False,
) -> FileReport:
    """Run one unit-test file."""
    report = FileReport(str(path))
    try:
        spec = load_unit_test_file(path)
    except RuleFileError as exc:
        report.errors = [str(e) for e in exc.errors]
        return report
    report.warnings = [f"no file match pattern {p}" for p in spec.unmatched]
    order: dict[str, int] = {}
    for i, name in enumerate(spec.group_eval_order):
        if name in order:
            report.errors = [f"group name repeated in evaluation order: {name}"]
            return report
        order[name] = i
    groups, load_errors = _load_groups(spec, ignore_unknown_fields)
    # promtool's sort is not stable; groups it leaves unordered keep their file order here.
    groups.sort(key=lambda g: order.get(g.name, 0))
    for i, tg in enumerate(spec.tests):
        if selector is not None and not selector.search(tg.name):
            continue
        name = tg.name or f"unnamed#{i}"
        if load_errors:
            report.groups.append(GroupReport(name, list(load_errors)))
            continue
        runner = _GroupRun(spec, tg, groups, expander)
        report.groups.append(GroupReport(name, runner.run()))
    return report


def _load_groups(
    spec: UnitTestFile, ignore_unknown_fields: bool
) -> tuple[list[GroupSpec], list[str]]:
    groups: list[GroupSpec] = []
    # A file named in both lists is a Prometheus rule file, as the rule manager reads it.
    logs_only = [f for f in spec.logs_rule_files if f not in spec.rule_files]
    files = [(f, "promql") for f in spec.rule_files] + [(f, "logql") for f in logs_only]
    for file, language in files:
        try:
            rule_file = load_rule_file(
                file,
                ignore_unknown_fields=ignore_unknown_fields,
                default_language="logql" if language == "logql" else "promql",
            )
        except RuleFileError as exc:
            return [], [str(e) for e in exc.errors]
        groups.extend(rule_file.groups)
    return groups, []


class _Visible:
    """Storage as promtool's lazy loader shows it: nothing after ``until``."""

    def __init__(self, store: MemoryStore) -> None:
        self.store = store
        self.until = 0

    def select(self, matchers: Sequence[Matcher], start_ms: int, end_ms: int) -> list[SeriesData]:
        end = min(end_ms, self.until)
        return self.store.select(matchers, start_ms, end) if start_ms <= end else []

    def series(
        self, matcher_sets: Sequence[Sequence[Matcher]], start_ms: int, end_ms: int
    ) -> list[Labels]:
        end = min(end_ms, self.until)
        return self.store.series(matcher_sets, start_ms, end) if start_ms <= end else []

    def label_names(
        self, matcher_sets: Sequence[Sequence[Matcher]], start_ms: int, end_ms: int
    ) -> list[str]:
        end = min(end_ms, self.until)
        return self.store.label_names(matcher_sets, start_ms, end) if start_ms <= end else []

    def label_values(
        self, name: str, matcher_sets: Sequence[Sequence[Matcher]], start_ms: int, end_ms: int
    ) -> list[str]:
        end = min(end_ms, self.until)
        if start_ms > end:
            return []
        return self.store.label_values(name, matcher_sets, start_ms, end)


class _GroupRun:
    """One test group, run as promtool's ``testGroup.test``."""

    def __init__(
        self,
        spec: UnitTestFile,
        tg: UnitTestGroup,
        groups: list[GroupSpec],
        expander: TemplateExpander,
    ) -> None:
        self.tg = tg
        self.eval_interval_ms = spec.evaluation_interval_ms
        self.interval_ms = tg.interval_ms or spec.evaluation_interval_ms
        self.fuzzy = spec.fuzzy_compare
        self.mint = tg.start_ms or 0
        # promtool's engine: Prometheus' defaults, 10,000 samples per query, and subqueries
        # without a step use the evaluation interval.
        self.options = EngineOptions(
            max_samples=10_000,
            timeout_s=100.0,
            default_subquery_step_ms=self.eval_interval_ms,
        )
        self.store = MemoryStore()
        self.view = _Visible(self.store)
        # A LogQL instant query at t reads no line after t, so the log store needs no view.
        self.logs = MemoryLogStore()
        languages = Languages(promql=self.options, logs=self.logs)
        self.groups = [
            RuleGroup(
                g,
                expander=expander,
                engine_options=self.options,
                default_interval_ms=self.interval_ms,
                external_labels=tg.external_labels,
                external_url=tg.external_url,
                languages=languages,
            )
            for g in groups
        ]

    def run(self) -> list[str]:
        tg = self.tg
        errors = self.load_series()
        self.load_logs()
        for test in tg.alert_tests:
            if not test.alertname:
                where = f" (in TestGroup {tg.name})" if tg.name else ""
                return [
                    "an item under alert_rule_test misses required attribute alertname at "
                    f"eval_time {model_duration(test.eval_time_ms)}{where}"
                ]
        times = sorted({t.eval_time_ms for t in tg.alert_tests})
        maxt = self.mint + tg.max_eval_time_ms()
        current = 0
        ts = self.mint
        while ts <= maxt:
            self.view.until = ts
            failed = self.evaluate(ts)
            if failed:
                return errors + failed
            while (
                current < len(times)
                and ts - self.mint <= times[current] < ts + self.eval_interval_ms - self.mint
            ):
                errors.extend(self.check_alerts(times[current]))
                current += 1
            ts += self.eval_interval_ms
        errors.extend(self.check_queries())
        errors.extend(self.check_log_queries())
        return errors

    def load_series(self) -> list[str]:
        errors = []
        for s in self.tg.input_series:
            try:
                labels = parse_series_labels(s.series)
                values, histogram = parse_points(s.values)
            except (ValueError, SpyglassError) as exc:
                errors.append(f"    input series {go_quote(s.series)}: {exc}")
                continue
            if histogram:
                errors.append(f"    input series {go_quote(s.series)}: {NATIVE_HISTOGRAMS}")
                continue
            points = [
                (self.mint + i * self.interval_ms, v) for i, v in enumerate(values) if v is not None
            ]
            if points:
                self.store.add(labels, [t for t, _ in points], [v for _, v in points])
        return errors

    def load_logs(self) -> None:
        records = [
            LogRecord((self.mint + offset_ms) * 1_000_000, line, stream.labels)
            for stream in self.tg.input_logs
            for offset_ms, line in stream.lines
        ]
        # Ties keep the file's order, as lines pushed in one request keep theirs.
        records.sort(key=lambda r: r.timestamp_ns)
        self.logs.load(records)

    def evaluate(self, ts: int) -> list[str]:
        failed: list[str] = []
        for group in self.groups:
            result = group.evaluate(self.view, ts)
            self.store.write(result.batch())
            failed.extend(
                f"    rule: {r.name}, time: {go_duration(ts)}, err: {r.last_error}"
                for r in group.rules
                if r.last_error
            )
        return failed

    def check_alerts(self, eval_time_ms: int) -> list[str]:
        tests = [t for t in self.tg.alert_tests if t.eval_time_ms == eval_time_ms]
        wanted = {t.alertname for t in tests}
        got: dict[str, list[Pair]] = {}
        for group in self.groups:
            for rule in group.rules:
                if not isinstance(rule, AlertingRule) or rule.name not in wanted:
                    continue
                got.setdefault(rule.name, []).extend(
                    (a.labels, a.annotations) for a in rule.active_alerts() if a.state == "firing"
                )
        errors = []
        for test in tests:
            found = sorted(got.get(test.alertname, []))
            expected = sorted(
                (
                    tuple(sorted({**a.labels, ALERT_NAME: test.alertname}.items())),
                    tuple(sorted(a.annotations.items())),
                )
                for a in test.alerts
            )
            if found == expected:
                continue
            named = f"    name: {self.tg.name},\n" if self.tg.name else ""
            errors.append(
                f"{named}    alertname: {test.alertname}, time: {model_duration(eval_time_ms)}, \n"
                f"        exp:{_indent(_alerts_string(expected), ' ' * 12)}, \n"
                f"        got:{_indent(_alerts_string(found), ' ' * 12)}"
            )
        return errors

    def check_queries(self) -> list[str]:
        engine = Engine(self.view, self.options)
        return self.compare(self.tg.promql_tests, lambda expr, t: query_vector(engine, expr, t))

    def check_log_queries(self) -> list[str]:
        evaluator = LogQLEvaluator(LogQLEngine(self.logs))

        def instant(expr: str, time_ms: int) -> list[tuple[Labels, float]]:
            check_expression("logql", expr)  # a log query: Loki's ruler's words for it
            return evaluator.instant(expr, time_ms)

        return self.compare(self.tg.logql_tests, instant)

    def compare(
        self,
        tests: Sequence[PromqlTest],
        instant: Callable[[str, int], list[tuple[Labels, float]]],
    ) -> list[str]:
        """promtool's check of ``promql_expr_test``: each query's samples against the
        expected ones, ``instant`` evaluating it at a time in milliseconds."""
        errors = []
        for test in tests:
            when = model_duration(test.eval_time_ms)
            head = f"    expr: {go_quote(test.expr)}, time: {when}"
            try:
                got = instant(test.expr, self.mint + test.eval_time_ms)
            except SpyglassError as exc:
                errors.append(f"{head}, err: {exc}")
                continue
            expected: list[tuple[Labels, float]] = []
            problem = ""
            for sample in test.samples:
                try:
                    labels = parse_series_labels(sample.labels) if sample.labels.strip() else ()
                except (ValueError, SpyglassError) as exc:
                    problem = f"labels {go_quote(sample.labels)}: {exc}"
                    break
                if sample.histogram:
                    problem = f"labels {go_quote(sample.labels)}: {NATIVE_HISTOGRAMS}"
                    break
                expected.append((labels, sample.value))
            if problem:
                errors.append(f"{head}, err: {problem}")
                continue
            expected.sort(key=lambda s: s[0])
            got.sort(key=lambda s: s[0])
            if not self.same_samples(expected, got):
                errors.append(
                    f"{head},\n        exp: {_samples_string(expected)}\n"
                    f"        got: {_samples_string(got)}"
                )
        return errors

    def same_samples(
        self, expected: list[tuple[Labels, float]], got: list[tuple[Labels, float]]
    ) -> bool:
        if len(expected) != len(got):
            return False
        for (el, ev), (gl, gv) in zip(expected, got, strict=True):
            if el != gl:
                return False
            if ev == gv:
                continue
            # promtool's fuzzy_compare: equal within one unit in the last place.
            if not (
                self.fuzzy and gv in (math.nextafter(ev, -math.inf), math.nextafter(ev, math.inf))
            ):
                return False
        return True


def _alerts_string(alerts: list[Pair]) -> str:
    """promtool's ``labelsAndAnnotations.String()``."""
    if not alerts:
        return "[]"
    parts = []
    for i, (labels, notes) in enumerate(alerts):
        body = f"\nLabels:{labels_string(labels)}\nAnnotations:{labels_string(notes)}"
        parts.append(f"{i}:{_indent(body, '  ')}")
    return "[\n" + ",\n".join(parts) + "\n]"


def _samples_string(samples: list[tuple[Labels, float]]) -> str:
    if not samples:
        return "nil"
    return ", ".join(f"{labels_string(ls)} {float_e(v)}" for ls, v in samples)


def _indent(text: str, indent: str) -> str:
    """promtool's ``indentLines``: every line but the first gets ``indent``."""
    return ("\n" + indent).join(text.split("\n"))


__all__ = [
    "NATIVE_HISTOGRAMS",
    "FileReport",
    "GroupReport",
    "run_unit_test_file",
    "run_unit_tests",
]
