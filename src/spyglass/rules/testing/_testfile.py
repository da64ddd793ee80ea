"""promtool's rule unit-test files (``promtool test rules``), read field by field.

The format (Prometheus docs, "Unit testing for rules")::

    rule_files: [rules.yml]            # relative to this file; globs allowed
    evaluation_interval: 1m            # default 1m
    group_eval_order: [g1, g2]         # optional partial order of groups
    fuzzy_compare: false               # compare floats within one ULP
    tests:
      - name: ...                      # for --run
        interval: 1m                   # of input_series; default evaluation_interval
        input_series: [{series: 'up{job="a"}', values: '1+0x10'}]
        external_labels: {...}
        external_url: ...
        start_timestamp: 0             # unix seconds or RFC 3339
        alert_rule_test: [{eval_time, alertname, exp_alerts: [{exp_labels, exp_annotations}]}]
        promql_expr_test: [{expr, eval_time, exp_samples: [{labels, value, histogram}]}]

Unknown fields are errors, as promtool reads these files strictly.

Spyglass's extension for LogQL rules (``type: logql`` groups; Loki has no test format of its
own): ``logs_rule_files`` names Loki ruler files (LogQL in every group without ``type``, as
``--logs-rule-files``), a test group's ``input_logs`` gives log streams in the notation of
``_input_logs``, and ``logql_expr_test`` checks LogQL metric queries as ``promql_expr_test``
checks PromQL. promtool refuses these fields, so a file using them is Spyglass's alone.
"""

from __future__ import annotations

import glob
from dataclasses import dataclass, field
from pathlib import Path

from spyglass.core.config import Node, load_yaml
from spyglass.core.errors import BadInput, ConfigError, SpyglassError
from spyglass.core.labels import Labels
from spyglass.core.times import parse_api_time_ms
from spyglass.rules._decode import Decoder, join
from spyglass.rules._rulefmt import RuleFileError
from spyglass.rules.testing._input_logs import parse_log_line, parse_stream_labels

DEFAULT_EVALUATION_INTERVAL_MS = 60_000

_FILE_FIELDS = (
    "rule_files",
    "evaluation_interval",
    "group_eval_order",
    "tests",
    "fuzzy_compare",
    "logs_rule_files",
)
_GROUP_FIELDS = (
    "interval",
    "input_series",
    "alert_rule_test",
    "promql_expr_test",
    "external_labels",
    "external_url",
    "name",
    "start_timestamp",
    "input_logs",
    "logql_expr_test",
)


@dataclass(frozen=True, slots=True)
class InputSeries:
    """``series`` and ``values`` in the series notation."""

    series: str
    values: str
    line: int = 0


@dataclass(frozen=True, slots=True)
class InputLogs:
    """One stream of ``input_logs``: its labels and its lines as ``(ms after the start, line)``,
    in the order the items give them."""

    labels: Labels
    lines: tuple[tuple[int, str], ...] = ()
    line: int = 0


@dataclass(frozen=True, slots=True)
class ExpectedAlert:
    """One alert ``exp_alerts`` lists."""

    labels: dict[str, str] = field(default_factory=dict)
    annotations: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class AlertTest:
    """``alert_rule_test``: the firing alerts of ``alertname`` at ``eval_time``."""

    eval_time_ms: int
    alertname: str
    alerts: tuple[ExpectedAlert, ...] = ()


@dataclass(frozen=True, slots=True)
class ExpectedSample:
    """One sample ``exp_samples`` lists; ``histogram`` set means a native histogram."""

    labels: str = ""
    value: float = 0.0
    histogram: str = ""


@dataclass(frozen=True, slots=True)
class PromqlTest:
    """``promql_expr_test`` (and ``logql_expr_test``): an instant query's result at
    ``eval_time``."""

    expr: str
    eval_time_ms: int
    samples: tuple[ExpectedSample, ...] = ()


@dataclass(frozen=True, slots=True)
class UnitTestGroup:
    """One entry of ``tests``."""

    name: str = ""
    interval_ms: int = 0
    input_series: tuple[InputSeries, ...] = ()
    alert_tests: tuple[AlertTest, ...] = ()
    promql_tests: tuple[PromqlTest, ...] = ()
    input_logs: tuple[InputLogs, ...] = ()
    logql_tests: tuple[PromqlTest, ...] = ()
    external_labels: dict[str, str] = field(default_factory=dict)
    external_url: str = ""
    start_ms: int | None = None

    def max_eval_time_ms(self) -> int:
        """How far the rules must be evaluated: the latest ``eval_time`` of any test."""
        times = [t.eval_time_ms for t in self.alert_tests]
        times += [t.eval_time_ms for t in self.promql_tests]
        times += [t.eval_time_ms for t in self.logql_tests]
        return max(times, default=0)


@dataclass(frozen=True, slots=True)
class UnitTestFile:
    """A whole unit-test file; ``rule_files`` resolved against its folder and globbed."""

    path: str
    rule_files: tuple[str, ...] = ()
    logs_rule_files: tuple[str, ...] = ()  # Loki ruler files: LogQL unless a group says not
    unmatched: tuple[str, ...] = ()  # rule_files patterns that matched no file
    evaluation_interval_ms: int = DEFAULT_EVALUATION_INTERVAL_MS
    group_eval_order: tuple[str, ...] = ()
    fuzzy_compare: bool = False
    tests: tuple[UnitTestGroup, ...] = ()


def load_unit_test_file(path: str | Path) -> UnitTestFile:
    """Read a unit-test file; raises ``RuleFileError`` listing every problem."""
    name = str(path)
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise RuleFileError(
            [ConfigError(f"cannot read test file: {exc.strerror or exc}", file=name)]
        ) from None
    try:
        root = load_yaml(data, name)
    except ConfigError as exc:
        raise RuleFileError([exc]) from None
    reader = _Reader(name)
    result = reader.file(root, Path(path).parent)
    if reader.d.errors:
        raise RuleFileError(reader.d.errors)
    return result


class _Reader:
    def __init__(self, file: str) -> None:
        self.d = Decoder(file)

    def file(self, root: Node, directory: Path) -> UnitTestFile:
        d = self.d
        top = d.mapping(root, "main.unitTestFile", "", _FILE_FIELDS)
        if not top:
            return UnitTestFile(self.d.file)
        unmatched: list[str] = []
        files = self.globs(top, "rule_files", directory, unmatched)
        logs_files = self.globs(top, "logs_rule_files", directory, unmatched)
        interval = (
            d.duration(top["evaluation_interval"], "evaluation_interval")
            if "evaluation_interval" in top
            else 0
        )
        order = (
            d.strings(top["group_eval_order"], "group_eval_order")
            if "group_eval_order" in top
            else []
        )
        fuzzy = (
            d.boolean(top["fuzzy_compare"], "fuzzy_compare") if "fuzzy_compare" in top else False
        )
        tests = []
        if "tests" in top:
            for i, node in enumerate(d.sequence(top["tests"], "tests", "[]main.testGroup")):
                tests.append(self.group(node, f"tests[{i}]"))
        return UnitTestFile(
            self.d.file,
            tuple(files),
            tuple(logs_files),
            tuple(unmatched),
            interval or DEFAULT_EVALUATION_INTERVAL_MS,
            tuple(order),
            fuzzy,
            tuple(tests),
        )

    def globs(
        self, top: dict[str, Node], key: str, directory: Path, unmatched: list[str]
    ) -> list[str]:
        """The files a list of globs names, relative to the test file; patterns that match
        nothing go to ``unmatched``."""
        patterns = self.d.strings(top[key], key) if key in top else []
        files: list[str] = []
        for given in patterns:
            pattern = given if not given or Path(given).is_absolute() else str(directory / given)
            matches = sorted(glob.glob(pattern))
            if not matches:
                unmatched.append(pattern)
            files.extend(matches)
        return files

    def group(self, node: Node, path: str) -> UnitTestGroup:
        d = self.d
        f = d.mapping(node, "main.testGroup", path, _GROUP_FIELDS)
        if not f:
            return UnitTestGroup()
        series = []
        if "input_series" in f:
            spath = join(path, "input_series")
            for i, item in enumerate(d.sequence(f["input_series"], spath, "[]main.series")):
                ipath = f"{spath}[{i}]"
                sf = d.mapping(item, "main.series", ipath, ("series", "values")) or {}
                series.append(
                    InputSeries(
                        d.string(sf["series"], join(ipath, "series")) if "series" in sf else "",
                        d.string(sf["values"], join(ipath, "values")) if "values" in sf else "",
                        item.line,
                    )
                )
        alerts = []
        if "alert_rule_test" in f:
            apath = join(path, "alert_rule_test")
            for i, item in enumerate(
                d.sequence(f["alert_rule_test"], apath, "[]main.alertTestCase")
            ):
                alerts.append(self.alert_test(item, f"{apath}[{i}]"))
        queries = self.query_tests(f, path, "promql_expr_test")
        log_queries = self.query_tests(f, path, "logql_expr_test")
        logs = []
        if "input_logs" in f:
            lpath = join(path, "input_logs")
            for i, item in enumerate(d.sequence(f["input_logs"], lpath, "[]inputLogs")):
                logs.append(self.input_logs(item, f"{lpath}[{i}]"))
        start_ms = None
        if "start_timestamp" in f and not f["start_timestamp"].is_null:
            text = d.string(f["start_timestamp"], join(path, "start_timestamp"))
            try:
                start_ms = parse_api_time_ms(text) if text else None
            except BadInput:
                d.error(
                    f["start_timestamp"].line,
                    join(path, "start_timestamp"),
                    f'cannot parse "{text}" to a valid timestamp',
                )
        return UnitTestGroup(
            name=d.string(f["name"], join(path, "name")) if "name" in f else "",
            interval_ms=d.duration(f["interval"], join(path, "interval")) if "interval" in f else 0,
            input_series=tuple(series),
            alert_tests=tuple(alerts),
            promql_tests=tuple(queries),
            input_logs=tuple(logs),
            logql_tests=tuple(log_queries),
            external_labels=(
                d.string_map(f["external_labels"], join(path, "external_labels"))
                if "external_labels" in f
                else {}
            ),
            external_url=(
                d.string(f["external_url"], join(path, "external_url"))
                if "external_url" in f
                else ""
            ),
            start_ms=start_ms or None,
        )

    def query_tests(self, f: dict[str, Node], path: str, key: str) -> list[PromqlTest]:
        """``promql_expr_test`` or ``logql_expr_test``: the same fields."""
        if key not in f:
            return []
        qpath = join(path, key)
        nodes = self.d.sequence(f[key], qpath, "[]main.promqlTestCase")
        return [self.promql_test(item, f"{qpath}[{i}]") for i, item in enumerate(nodes)]

    def input_logs(self, node: Node, path: str) -> InputLogs:
        """One stream of ``input_logs``; each bad label set or item is an error at its line."""
        d = self.d
        f = d.mapping(node, "inputLogs", path, ("labels", "lines")) or {}
        labels: Labels = ()
        if "labels" not in f:
            d.error(node.line, join(path, "labels"), "a stream needs its labels")
        else:
            text = d.string(f["labels"], join(path, "labels"))
            try:
                labels = parse_stream_labels(text)
            except SpyglassError as exc:
                d.error(f["labels"].line, join(path, "labels"), f"{text!r}: {exc}")
        lines: list[tuple[int, str]] = []
        if "lines" in f:
            lpath = join(path, "lines")
            for i, item in enumerate(d.sequence(f["lines"], lpath, "[]string")):
                ipath = f"{lpath}[{i}]"
                if not isinstance(item.value, str):
                    d.error(item.line, ipath, "a line is a string: '<time> <line>'")
                    continue
                try:
                    lines.extend(parse_log_line(item.value))
                except BadInput as exc:
                    d.error(item.line, ipath, str(exc))
        return InputLogs(labels, tuple(lines), node.line)

    def alert_test(self, node: Node, path: str) -> AlertTest:
        d = self.d
        f = d.mapping(node, "main.alertTestCase", path, ("eval_time", "alertname", "exp_alerts"))
        if not f:
            return AlertTest(0, "")
        expected = []
        if "exp_alerts" in f:
            epath = join(path, "exp_alerts")
            for i, item in enumerate(d.sequence(f["exp_alerts"], epath, "[]main.alert")):
                ipath = f"{epath}[{i}]"
                af = d.mapping(item, "main.alert", ipath, ("exp_labels", "exp_annotations")) or {}
                expected.append(
                    ExpectedAlert(
                        d.string_map(af["exp_labels"], join(ipath, "exp_labels"))
                        if "exp_labels" in af
                        else {},
                        d.string_map(af["exp_annotations"], join(ipath, "exp_annotations"))
                        if "exp_annotations" in af
                        else {},
                    )
                )
        return AlertTest(
            d.duration(f["eval_time"], join(path, "eval_time")) if "eval_time" in f else 0,
            d.string(f["alertname"], join(path, "alertname")) if "alertname" in f else "",
            tuple(expected),
        )

    def promql_test(self, node: Node, path: str) -> PromqlTest:
        d = self.d
        f = d.mapping(node, "main.promqlTestCase", path, ("expr", "eval_time", "exp_samples"))
        if not f:
            return PromqlTest("", 0)
        samples = []
        if "exp_samples" in f:
            spath = join(path, "exp_samples")
            for i, item in enumerate(d.sequence(f["exp_samples"], spath, "[]main.sample")):
                ipath = f"{spath}[{i}]"
                sf = d.mapping(item, "main.sample", ipath, ("labels", "value", "histogram")) or {}
                samples.append(
                    ExpectedSample(
                        d.string(sf["labels"], join(ipath, "labels")) if "labels" in sf else "",
                        d.floating(sf["value"], join(ipath, "value")) if "value" in sf else 0.0,
                        d.string(sf["histogram"], join(ipath, "histogram"))
                        if "histogram" in sf
                        else "",
                    )
                )
        return PromqlTest(
            d.string(f["expr"], join(path, "expr")) if "expr" in f else "",
            d.duration(f["eval_time"], join(path, "eval_time")) if "eval_time" in f else 0,
            tuple(samples),
        )


__all__ = [
    "DEFAULT_EVALUATION_INTERVAL_MS",
    "AlertTest",
    "ExpectedAlert",
    "ExpectedSample",
    "InputLogs",
    "InputSeries",
    "PromqlTest",
    "UnitTestFile",
    "UnitTestGroup",
    "load_unit_test_file",
]
