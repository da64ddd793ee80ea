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
"""

from __future__ import annotations

import glob
from dataclasses import dataclass, field
from pathlib import Path

from spyglass.core.config import Node, load_yaml
from spyglass.core.errors import BadInput, ConfigError
from spyglass.core.times import parse_api_time_ms
from spyglass.rules._decode import Decoder, join
from spyglass.rules._rulefmt import RuleFileError

DEFAULT_EVALUATION_INTERVAL_MS = 60_000

_FILE_FIELDS = ("rule_files", "evaluation_interval", "group_eval_order", "tests", "fuzzy_compare")
_GROUP_FIELDS = (
    "interval",
    "input_series",
    "alert_rule_test",
    "promql_expr_test",
    "external_labels",
    "external_url",
    "name",
    "start_timestamp",
)


@dataclass(frozen=True, slots=True)
class InputSeries:
    """``series`` and ``values`` in the series notation."""

    series: str
    values: str
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
    """``promql_expr_test``: an instant query's result at ``eval_time``."""

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
    external_labels: dict[str, str] = field(default_factory=dict)
    external_url: str = ""
    start_ms: int | None = None

    def max_eval_time_ms(self) -> int:
        """How far the rules must be evaluated: the latest ``eval_time`` of any test."""
        times = [t.eval_time_ms for t in self.alert_tests]
        times += [t.eval_time_ms for t in self.promql_tests]
        return max(times, default=0)


@dataclass(frozen=True, slots=True)
class UnitTestFile:
    """A whole unit-test file; ``rule_files`` resolved against its folder and globbed."""

    path: str
    rule_files: tuple[str, ...] = ()
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
        patterns = d.strings(top["rule_files"], "rule_files") if "rule_files" in top else []
        files: list[str] = []
        unmatched: list[str] = []
        for given in patterns:
            pattern = given if not given or Path(given).is_absolute() else str(directory / given)
            matches = sorted(glob.glob(pattern))
            if not matches:
                unmatched.append(pattern)
            files.extend(matches)
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
            tuple(unmatched),
            interval or DEFAULT_EVALUATION_INTERVAL_MS,
            tuple(order),
            fuzzy,
            tuple(tests),
        )

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
        queries = []
        if "promql_expr_test" in f:
            qpath = join(path, "promql_expr_test")
            nodes = d.sequence(f["promql_expr_test"], qpath, "[]main.promqlTestCase")
            for i, item in enumerate(nodes):
                queries.append(self.promql_test(item, f"{qpath}[{i}]"))
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
    "InputSeries",
    "PromqlTest",
    "UnitTestFile",
    "UnitTestGroup",
    "load_unit_test_file",
]
