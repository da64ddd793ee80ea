"""SLO specs: Sloth's ``prometheus/v1`` files and OpenSLO v1 ``SLO`` objects, as one model.

A Sloth file holds a service and its ``slos``; an OpenSLO file holds one or more YAML documents,
and those of ``kind: SLO`` with a ratio indicator become SLOs here (other kinds are skipped,
since an OpenSLO repository mixes them). Both read into ``SLO`` values: an objective in percent,
an SLI as an error-ratio expression with a ``{{.window}}`` placeholder, a period, and the page and
ticket alerts. Every error names the file, the line and the field, and a query that does not
parse as PromQL is caught here, at the field that holds it, not later in generated rules.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from spyglass.core.config import Node, load_yaml
from spyglass.core.config.fields import Section
from spyglass.core.errors import ConfigError, SpyglassError
from spyglass.core.labels import LABEL_NAME_RE
from spyglass.core.times import format_duration
from spyglass.promql import parse_query

SLOTH_VERSION = "prometheus/v1"
OPENSLO_VERSION = "openslo/v1"
DEFAULT_PERIOD_MS = 30 * 86_400_000
WINDOW = "{{.window}}"
# Sloth's names: lowercase words and digits joined by dashes or underscores.
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*$")
_WINDOW_TEMPLATE = re.compile(r"\{\{\s*\.window\s*\}\}")


@dataclass(frozen=True, slots=True)
class AlertSpec:
    """The page or ticket alert of an SLO."""

    disable: bool = False
    labels: dict[str, str] = field(default_factory=dict)
    annotations: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class SLO:
    """One SLO, whatever format it came in.

    ``error_ratio`` is a PromQL expression of the ratio of bad events over ``{{.window}}``;
    when the spec gave it as bad events over all events, ``error_query`` and ``total_query``
    keep the two as written (the web editor shows them apart). ``objective`` is in percent
    (99.9). ``period_ms`` is the rolling window of the budget, or the length of a calendar
    period when ``calendar`` is ``"week"`` or ``"month"``.
    """

    service: str
    name: str
    objective: float
    error_ratio: str
    description: str = ""
    labels: dict[str, str] = field(default_factory=dict)
    alert_name: str = ""
    alert_labels: dict[str, str] = field(default_factory=dict)
    alert_annotations: dict[str, str] = field(default_factory=dict)
    page: AlertSpec = AlertSpec()
    ticket: AlertSpec = AlertSpec()
    period_ms: int = DEFAULT_PERIOD_MS
    calendar: str = ""  # "", "week" or "month"
    spec: str = SLOTH_VERSION
    file: str = ""
    line: int = 0
    error_query: str = ""
    total_query: str = ""

    @property
    def id(self) -> str:
        """Sloth's id: ``<service>-<slo>``."""
        return f"{self.service}-{self.name}"

    @property
    def error_budget(self) -> float:
        """The share of events that may fail: 1 - objective/100."""
        return 1 - self.objective / 100

    def sli_at(self, window: str) -> str:
        """The SLI expression for ``window`` (a PromQL duration)."""
        return _WINDOW_TEMPLATE.sub(window, self.error_ratio)


def load_slo_file(path: str | Path) -> list[SLO]:
    """Every SLO of a Sloth or OpenSLO file."""
    p = Path(path)
    try:
        text = p.read_text()
    except OSError as exc:
        raise ConfigError(f"cannot read SLO file: {exc.strerror}", file=str(p)) from None
    return parse_slo_file(text, str(p))


def parse_slo_file(text: str, file: str = "") -> list[SLO]:
    """The SLOs of a spec's text; the format is told by ``version`` (Sloth) or ``apiVersion``."""
    slos: list[SLO] = []
    for offset, doc_text in _documents(text):
        if not doc_text.strip():
            continue
        root = load_yaml(("\n" * offset) + doc_text, file)
        if not isinstance(root.value, dict):
            raise root.error("an SLO spec must be a mapping")
        if "apiVersion" in root.value:
            slos.extend(_openslo(root))
        else:
            slos.extend(_sloth(root))
    names = [s.id for s in slos]
    for s in slos:
        if names.count(s.id) > 1:
            raise ConfigError(f"SLO {s.id!r} is defined twice", file=file, line=s.line)
    return slos


def _documents(text: str) -> list[tuple[int, str]]:
    """Split a multi-document YAML text, keeping each document's starting line."""
    out: list[tuple[int, str]] = []
    start, lines = 0, text.split("\n")
    current: list[str] = []
    for i, line in enumerate(lines):
        if line.rstrip() == "---":
            out.append((start, "\n".join(current)))
            start, current = i + 1, []
        else:
            current.append(line)
    out.append((start, "\n".join(current)))
    return out


def _check_query(s: Section, key: str, *, needs_window: bool) -> str:
    query = s.text(key)
    if not query.strip():
        raise s.error(key, "query is required")
    if needs_window and not _WINDOW_TEMPLATE.search(query):
        raise s.error(key, "the query must use {{.window}} for its range, as Sloth's do")
    try:
        parse_query(_WINDOW_TEMPLATE.sub("5m", query))
    except SpyglassError as exc:
        raise s.error(key, f"invalid PromQL: {exc}") from None
    return query


def _labels(s: Section, key: str) -> dict[str, str]:
    labels = s.strmap(key)
    for name in labels:
        if not LABEL_NAME_RE.match(name):
            raise s.error(key, f"invalid label name {name!r}")
    return labels


def _objective(s: Section, key: str) -> float:
    node = s.at(key)
    value = node.value
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise s.error(key, "objective must be a number, in percent (99.9)")
    if not 0 < float(value) < 100:
        raise s.error(key, f"objective must be above 0 and below 100, not {value}")
    return float(value)


def _period(s: Section, key: str) -> tuple[int, str]:
    if key not in s:
        return DEFAULT_PERIOD_MS, ""
    text = s.text(key)
    if text in ("week", "month"):
        return (7 if text == "week" else 30) * 86_400_000, text
    ms = s.dur(key)
    if ms < 3_600_000:
        raise s.error(key, "the period must be at least 1h (or week, month)")
    return ms, ""


def _alert(s: Section, key: str) -> AlertSpec:
    if key not in s:
        return AlertSpec()
    a = s.sub(key, "alerting." + key, ("disable", "labels", "annotations"))
    return AlertSpec(a.flag("disable", False), _labels(a, "labels"), a.strmap("annotations"))


_SLOTH_ROOT = ("version", "service", "labels", "slos", "period")
_SLOTH_SLO = ("name", "objective", "description", "labels", "sli", "alerting", "period")


def _sloth(root: Node) -> list[SLO]:
    top = Section(root, "prometheus.v1.Spec", "", _SLOTH_ROOT)
    version = top.text("version")
    if version != SLOTH_VERSION:
        raise top.error("version", f'unsupported version {version!r}: want "{SLOTH_VERSION}"')
    service = top.text("service")
    if not _NAME.match(service):
        raise top.error("service", f"invalid service name {service!r}")
    service_labels = _labels(top, "labels")
    period = _period(top, "period")
    slos = top.seq("slos")
    if not slos:
        raise top.error("slos", "at least one SLO is required")
    out = []
    for i, node in enumerate(slos):
        s = Section(node, "prometheus.v1.SLO", f"slos[{i}]", _SLOTH_SLO)
        name = s.text("name")
        if not _NAME.match(name):
            raise s.error("name", f"invalid SLO name {name!r}")
        sli = s.sub("sli", "prometheus.v1.SLI", ("events", "raw", "plugin"))
        if "plugin" in sli:
            raise sli.error(
                "plugin", "SLI plugins are not supported by Spyglass: use events or raw"
            )
        if ("events" in sli) == ("raw" in sli):
            raise sli.error("events", "exactly one of events and raw is required")
        if "events" in sli:
            ev = sli.sub("events", "prometheus.v1.SLIEvents", ("error_query", "total_query"))
            bad = _check_query(ev, "error_query", needs_window=True)
            total = _check_query(ev, "total_query", needs_window=True)
            ratio = f"({bad})\n/\n({total})"
        else:
            raw = sli.sub("raw", "prometheus.v1.SLIRaw", ("error_ratio_query",))
            ratio = _check_query(raw, "error_ratio_query", needs_window=True)
            bad = total = ""
        alerting = s.sub(
            "alerting",
            "prometheus.v1.Alerting",
            ("name", "labels", "annotations", "page_alert", "ticket_alert"),
        )
        page, ticket = _alert(alerting, "page_alert"), _alert(alerting, "ticket_alert")
        alert_name = alerting.text("name")
        if not alert_name and not (page.disable and ticket.disable):
            raise alerting.error(
                "name", "alerting.name is required unless both alerts are disabled"
            )
        slo_period = _period(s, "period") if "period" in s else period
        out.append(
            SLO(
                service=service,
                name=name,
                objective=_objective(s, "objective"),
                error_ratio=ratio,
                description=s.text("description"),
                labels={**service_labels, **_labels(s, "labels")},
                alert_name=alert_name,
                alert_labels=_labels(alerting, "labels"),
                alert_annotations=alerting.strmap("annotations"),
                page=page,
                ticket=ticket,
                period_ms=slo_period[0],
                calendar=slo_period[1],
                spec=SLOTH_VERSION,
                file=root.file,
                line=node.line,
                error_query=bad,
                total_query=total,
            )
        )
    return out


def _openslo(root: Node) -> list[SLO]:
    top = Section(root, "openslo.Object", "", None)
    if top.text("apiVersion") != OPENSLO_VERSION:
        raise top.error("apiVersion", f'unsupported apiVersion: want "{OPENSLO_VERSION}"')
    if top.text("kind") != "SLO":
        return []  # Service, SLI, AlertPolicy, ... objects live beside SLOs in OpenSLO files
    meta = top.sub("metadata", "openslo.Metadata")
    spec = top.sub("spec", "openslo.SLOSpec")
    name = meta.text("name")
    if not _NAME.match(name):
        raise meta.error("name", f"invalid SLO name {name!r}")
    service = spec.text("service")
    if not _NAME.match(service):
        raise spec.error("service", f"invalid service name {service!r}")
    if "indicatorRef" in spec:
        raise spec.error("indicatorRef", "indicatorRef is not supported: inline the indicator")
    indicator = spec.sub("indicator", "openslo.SLI", None)
    ind_spec = indicator.sub("spec", "openslo.SLISpec", None)
    if "ratioMetric" not in ind_spec:
        raise ind_spec.error("ratioMetric", "only ratioMetric indicators are supported")
    ratio = ind_spec.sub(
        "ratioMetric", "openslo.RatioMetric", ("counter", "good", "bad", "total", "rawType", "raw")
    )
    counter = ratio.flag("counter", True)
    total = _openslo_query(ratio, "total", counter)
    bad = ""
    if "bad" in ratio:
        bad = _openslo_query(ratio, "bad", counter)
        error_ratio = f"({bad})\n/\n({total})"
    elif "good" in ratio:
        error_ratio = f"1 - (\n({_openslo_query(ratio, 'good', counter)})\n/\n({total})\n)"
    else:
        raise ratio.error("good", "a ratioMetric needs good or bad, and total")
    objectives = spec.seq("objectives")
    if len(objectives) != 1:
        raise spec.error("objectives", "exactly one objective is supported")
    objective = Section(objectives[0], "openslo.Objective", f"{spec.p('objectives')}[0]", None)
    target = objective.at("target").value
    if isinstance(target, bool) or not isinstance(target, (int, float)) or not 0 < target < 1:
        raise objective.error("target", "target must be a ratio above 0 and below 1 (0.999)")
    period_ms, calendar = _openslo_window(spec)
    if spec.text("budgetingMethod", "Occurrences") != "Occurrences":
        raise spec.error("budgetingMethod", "only the Occurrences budgeting method is supported")
    return [
        SLO(
            service=service,
            name=name,
            objective=round(float(target) * 100, 10),
            error_ratio=error_ratio,
            description=spec.text("description"),
            alert_name=f"{_camel(service)}{_camel(name)}BudgetBurn",
            period_ms=period_ms,
            calendar=calendar,
            spec=OPENSLO_VERSION,
            file=root.file,
            line=root.line,
            error_query=bad,
            total_query=total if bad else "",
        )
    ]


def _openslo_query(ratio: Section, key: str, counter: bool) -> str:
    part = ratio.sub(key, "openslo.MetricSourceHolder", ("metricSource",))
    source = part.sub("metricSource", "openslo.MetricSource", ("type", "metricSourceRef", "spec"))
    if source.text("type", "Prometheus") != "Prometheus":
        raise source.error("type", "only Prometheus metric sources are supported")
    q = source.sub("spec", "openslo.PrometheusSpec", ("query",))
    query = q.text("query")
    if not query.strip():
        raise q.error("query", "query is required")
    if _WINDOW_TEMPLATE.search(query):
        text = query
    elif counter:
        text = f"sum(rate({query}[{WINDOW}]))"
    else:
        text = f"sum(avg_over_time({query}[{WINDOW}]))"
    try:
        parse_query(_WINDOW_TEMPLATE.sub("5m", text))
    except SpyglassError as exc:
        raise q.error("query", f"invalid PromQL: {exc}") from None
    return text


def _openslo_window(spec: Section) -> tuple[int, str]:
    windows = spec.seq("timeWindow")
    if len(windows) != 1:
        raise spec.error("timeWindow", "exactly one time window is required")
    w = Section(
        windows[0],
        "openslo.TimeWindow",
        f"{spec.p('timeWindow')}[0]",
        ("duration", "isRolling", "calendar"),
    )
    duration = w.text("duration")
    if w.flag("isRolling", False):
        m = re.fullmatch(r"(\d+)([mhdw])", duration)
        if not m:
            raise w.error("duration", f"invalid rolling duration {duration!r} (28d, 4w, 720h)")
        unit = {"m": 60_000, "h": 3_600_000, "d": 86_400_000, "w": 7 * 86_400_000}[m.group(2)]
        return int(m.group(1)) * unit, ""
    if duration in ("1w", "1W"):
        return 7 * 86_400_000, "week"
    if duration in ("1M",):
        return 30 * 86_400_000, "month"
    raise w.error("duration", "calendar windows of 1w or 1M are supported")


def _camel(text: str) -> str:
    return "".join(part[:1].upper() + part[1:] for part in re.split(r"[-_]", text) if part)


def period_text(slo: SLO) -> str:
    """The period as a PromQL duration in days when whole (``30d``, as Sloth names it)."""
    if slo.period_ms % 86_400_000 == 0:
        return f"{slo.period_ms // 86_400_000}d"
    return format_duration(slo.period_ms)


class _Dumper(yaml.SafeDumper):
    """Multi-line strings (expressions) as literal blocks, as hand-written rule files have them."""


def _str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _str)


def dump_yaml(data: object) -> str:
    """YAML as the generated rule files are written (block style, keys in order)."""
    return yaml.dump(data, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=1000)


__all__ = [
    "DEFAULT_PERIOD_MS",
    "OPENSLO_VERSION",
    "SLO",
    "SLOTH_VERSION",
    "AlertSpec",
    "dump_yaml",
    "load_slo_file",
    "parse_slo_file",
    "period_text",
]
