"""Template variables: their options and current values, as Grafana resolves them.

Types: ``query`` (Prometheus' ``label_values(label)``, ``label_values(metric, label)``,
``label_names()``, ``metrics(regex)``, ``query_result(expr)``, with the variable's ``regex``
filtering and capturing, and its ``sort``), ``custom`` (``a,b,c`` or ``text : value``),
``interval`` (with ``auto``), ``constant``, ``textbox``. Variables resolve in dashboard order, so
one may use those before it in its query (chained variables). The URL's ``var-<name>`` values
win over what the dashboard saved; a saved value no longer among the options falls back to
the first option, as in Grafana.

Queries go to a ``VariableSource`` (the server wires it to the Prometheus API's engine), so this
module does no I/O of its own.
"""

from __future__ import annotations

import contextlib
import importlib
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from spyglass.dashboards._interpolate import ALL_TEXT, ALL_VALUE, VariableValue, interpolate
from spyglass.dashboards._interval import interval_to_seconds, round_interval, seconds_to_hms

# google-re2 (a dependency) has no type stubs; its regexes run in linear time whatever a
# dashboard's variable regex holds.
re2: Any = importlib.import_module("re2")

VARIABLE_TYPES = ("query", "custom", "interval", "constant", "textbox", "datasource", "adhoc")
# Most options one variable offers; a label with more values is cut, and says so.
MAX_OPTIONS = 10_000

_LABEL_VALUES = re.compile(r"^label_values\((?:(.+),\s*)?([a-zA-Z_][a-zA-Z0-9_]*)\)\s*$", re.S)
_LABEL_NAMES = re.compile(r"^label_names\((.*)\)\s*$", re.S)
_METRICS = re.compile(r"^metrics\((.*)\)\s*$", re.S)
_QUERY_RESULT = re.compile(r"^query_result\((.+)\)\s*$", re.S)
_JS_REGEX = re.compile(r"^/(.*)/([gimsuy]*)$", re.S)
_CUSTOM_SPLIT = re.compile(r"(?<!\\),")
_CUSTOM_PAIR = re.compile(r"^\s*(.+?)\s+:\s+(.+)$", re.S)


class VariableSource(Protocol):
    """What query variables ask: the Prometheus API's data over the dashboard's time range."""

    def label_values(self, label: str, match: str | None, start_ms: int, end_ms: int) -> list[str]:
        """Values of ``label`` over series matching the selector ``match`` (all when None)."""
        ...

    def label_names(self, match: str | None, start_ms: int, end_ms: int) -> list[str]:
        """Label names over series matching ``match``."""
        ...

    def instant(self, expr: str, time_ms: int) -> list[tuple[dict[str, str], float]]:
        """An instant query's samples: each series' labels and value."""
        ...


@dataclass(frozen=True)
class Option:
    """One choice of a variable: what the picker shows and what queries get."""

    text: str
    value: str


@dataclass(frozen=True)
class ResolvedVariable:
    """A variable with its options and its selection, ready for a picker and for queries."""

    name: str
    label: str
    type: str
    hide: int
    multi: bool
    include_all: bool
    options: tuple[Option, ...]
    selected: tuple[str, ...]
    """The selected values; ``(ALL_VALUE,)`` when All is selected."""
    value: VariableValue
    error: str = ""

    def as_json(self) -> dict[str, Any]:
        """The variable as the dashboard page's script reads it."""
        return {
            "name": self.name,
            "label": self.label,
            "type": self.type,
            "hide": self.hide,
            "multi": self.multi,
            "includeAll": self.include_all,
            "options": [{"text": o.text, "value": o.value} for o in self.options],
            "current": list(self.selected),
            "error": self.error,
        }


def _str(value: Any, default: str = "") -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool) or value is None:
        return default
    if isinstance(value, int | float):
        return str(value)
    return default


def _saved_current(var: Mapping[str, Any]) -> list[str]:
    current = var.get("current")
    if not isinstance(current, dict):
        return []
    value = current.get("value")
    if isinstance(value, list):
        return [_str(v) for v in value if isinstance(v, str | int | float)]
    if isinstance(value, str | int | float) and not isinstance(value, bool):
        return [_str(value)]
    return []


def compile_js_regex(pattern: str) -> Any:
    """A variable's ``regex`` (``/.../flags`` or bare) compiled with RE2, which runs in linear
    time whatever the dashboard holds. Raises ``ValueError`` for a pattern RE2 refuses."""
    m = _JS_REGEX.match(pattern)
    body, flags = (m.group(1), m.group(2)) if m else (pattern, "")
    # JavaScript's named groups are (?<name>...); RE2 wants (?P<name>...).
    body = re.sub(r"\(\?<(?![=!])", "(?P<", body)
    options = re2.Options()
    options.case_sensitive = "i" not in flags
    options.dot_nl = "s" in flags
    try:
        return re2.compile(body, options)
    except re2.error as exc:
        raise ValueError(f"invalid regex {pattern!r}: {exc}") from None


def apply_regex(pattern: str, texts: Sequence[str]) -> list[Option]:
    """Grafana's variable regex: keep the texts it matches; a capture group (or the named
    groups ``text`` and ``value``) becomes the option. Duplicates go."""
    rx = compile_js_regex(pattern)
    out: list[Option] = []
    seen: set[str] = set()
    for t in texts:
        m = rx.search(t)
        if m is None:
            continue
        groups = m.groupdict() if rx.groupindex else {}
        if groups.get("text") is not None or groups.get("value") is not None:
            value = groups.get("value") or groups.get("text") or ""
            text = groups.get("text") or value
        elif m.lastindex:
            value = text = next((g for g in m.groups() if g is not None), "")
        else:
            value = text = t
        if value not in seen:
            seen.add(value)
            out.append(Option(text, value))
    return out


def _natural_key(text: str) -> tuple[int, float, str]:
    m = re.search(r"-?\d+(\.\d+)?", text)
    return (0, float(m.group(0)), text) if m else (1, 0.0, text)


def sort_options(options: list[Option], sort: int) -> list[Option]:
    """Grafana's variable ``sort``: 0 none, 1/2 alphabetical asc/desc, 3/4 numerical asc/desc
    (the first number in the text), 5/6 alphabetical case-insensitive asc/desc."""
    if sort in (1, 2):
        return sorted(options, key=lambda o: o.text, reverse=sort == 2)
    if sort in (3, 4):
        return sorted(options, key=lambda o: _natural_key(o.text), reverse=sort == 4)
    if sort in (5, 6):
        return sorted(options, key=lambda o: o.text.lower(), reverse=sort == 6)
    return options


def custom_options(query: str) -> list[Option]:
    """A custom variable's options: comma-separated (``\\,`` keeps a comma), ``text : value``
    pairs allowed."""
    out: list[Option] = []
    for raw in _CUSTOM_SPLIT.split(query):
        item = raw.strip().replace("\\,", ",")
        if not item:
            continue
        pair = _CUSTOM_PAIR.match(item)
        out.append(Option(pair.group(1), pair.group(2)) if pair else Option(item, item))
    return out


def _query_text(var: Mapping[str, Any]) -> str:
    query = var.get("query")
    if isinstance(query, dict):  # Grafana 9+ saves {"query": "...", "refId": ...}
        query = query.get("query")
    return _str(query)


def query_texts(query: str, source: VariableSource, start_ms: int, end_ms: int) -> list[str]:
    """The raw texts a Prometheus variable query gives (before ``regex``).

    ``ValueError`` for a query none of the five functions (``label_values``, ``label_names``,
    ``metrics``, ``query_result``) reads.
    """
    q = query.strip()
    if m := _LABEL_VALUES.match(q):
        metric, label = m.group(1), m.group(2)
        return source.label_values(label, metric.strip() if metric else None, start_ms, end_ms)
    if m := _LABEL_NAMES.match(q):
        match = m.group(1).strip() or None
        return source.label_names(match, start_ms, end_ms)
    if m := _METRICS.match(q):
        names = source.label_values("__name__", None, start_ms, end_ms)
        pattern = m.group(1).strip()
        if not pattern:
            return names
        rx = compile_js_regex(pattern)
        return [n for n in names if rx.search(n)]
    if m := _QUERY_RESULT.match(q):
        out = []
        for labels, value in source.instant(m.group(1), end_ms):
            name = labels.get("__name__", "")
            parts = ",".join(f'{k}="{v}"' for k, v in labels.items() if k != "__name__")
            out.append(f"{name}{{{parts}}} {_sample_text(value)} {end_ms}")
        return out
    if q:
        raise ValueError(
            f"unsupported variable query {q!r}: use label_values(), label_names(), metrics() "
            "or query_result()"
        )
    return []


def _sample_text(value: float) -> str:
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    return str(int(value)) if value.is_integer() else repr(value)


@dataclass(frozen=True)
class TimeContext:
    """The dashboard's time range (ms) for variable queries and ``auto`` intervals."""

    start_ms: int
    end_ms: int


def _auto_interval(var: Mapping[str, Any], time: TimeContext) -> str:
    count = var.get("auto_count")
    n = int(count) if isinstance(count, int | float) and count > 0 else 30
    ms = round_interval((time.end_ms - time.start_ms) / n)
    low = _str(var.get("auto_min"), "10s")
    with contextlib.suppress(ValueError):
        ms = max(ms, int(interval_to_seconds(low) * 1000))
    return seconds_to_hms(ms / 1000)


def resolve_variables(
    variables: Sequence[Mapping[str, Any]],
    url_values: Mapping[str, Sequence[str]],
    source: VariableSource,
    time: TimeContext,
    builtins: Mapping[str, VariableValue] | None = None,
) -> list[ResolvedVariable]:
    """Every variable's options and selection, in order (see the module docstring).

    A variable whose query fails keeps no options and carries the error; the others still
    resolve. ``builtins`` (``__from``, ``__to``, ...) are visible to variable queries.
    """
    scope: dict[str, VariableValue] = dict(builtins or {})
    out: list[ResolvedVariable] = []
    for var in variables:
        resolved = _resolve_one(var, url_values, source, time, scope)
        scope[resolved.name] = resolved.value
        out.append(resolved)
    return out


def _resolve_one(
    var: Mapping[str, Any],
    url_values: Mapping[str, Sequence[str]],
    source: VariableSource,
    time: TimeContext,
    scope: Mapping[str, VariableValue],
) -> ResolvedVariable:
    name = _str(var.get("name"))
    kind = _str(var.get("type"), "query")
    multi = bool(var.get("multi")) and kind in ("query", "custom", "datasource")
    include_all = bool(var.get("includeAll")) and kind in ("query", "custom", "datasource")
    all_value_raw = var.get("allValue")
    all_value = all_value_raw if isinstance(all_value_raw, str) and all_value_raw else None
    hide_raw = var.get("hide")
    hide = int(hide_raw) if isinstance(hide_raw, int) and not isinstance(hide_raw, bool) else 0
    error = ""
    options: list[Option] = []
    query = _query_text(var)
    try:
        if kind == "query":
            texts = query_texts(interpolate(query, scope), source, time.start_ms, time.end_ms)
            regex = _str(var.get("regex"))
            if regex:
                options = apply_regex(interpolate(regex, scope, "regex"), texts)
            else:
                options = [Option(t, t) for t in dict.fromkeys(texts)]
            sort = var.get("sort")
            options = sort_options(options, sort if isinstance(sort, int) else 0)
        elif kind == "custom":
            options = custom_options(query)
        elif kind == "interval":
            options = custom_options(query)
            if var.get("auto"):
                options.insert(0, Option("auto", _auto_interval(var, time)))
        elif kind in ("constant", "textbox"):
            options = [Option(query, query)]
        elif kind == "datasource":
            options = [Option("Spyglass", "Spyglass")]
    except ValueError as exc:
        error = str(exc)
    except Exception as exc:  # noqa: BLE001 - a failing query shows in its picker; the dashboard still draws
        error = f"{kind} variable {name}: {exc}"
    if len(options) > MAX_OPTIONS:
        options = options[:MAX_OPTIONS]
        error = error or f"more than {MAX_OPTIONS} values; the first {MAX_OPTIONS} are offered"
    if include_all:
        options.insert(0, Option(ALL_TEXT, ALL_VALUE))

    wanted = list(url_values.get(name, ())) or _saved_current(var)
    selected = _select(kind, wanted, options, multi, query)
    return ResolvedVariable(
        name=name,
        label=_str(var.get("label")) or name,
        type=kind,
        hide=2 if kind == "constant" else hide,
        multi=multi,
        include_all=include_all,
        options=tuple(options),
        selected=tuple(selected),
        value=_value(
            name,
            kind=kind,
            selected=selected,
            options=options,
            regex_form=multi or include_all,
            all_value=all_value,
        ),
        error=error,
    )


def _select(
    kind: str, wanted: list[str], options: list[Option], multi: bool, query: str
) -> list[str]:
    if kind == "textbox":
        return [wanted[0] if wanted else query]
    if kind == "constant":
        return [query]
    values = {o.value for o in options}
    texts = {o.text: o.value for o in options}
    if ALL_VALUE in wanted and ALL_VALUE in values:
        return [ALL_VALUE]
    # A URL may name an option by its text (Grafana accepts both).
    chosen = [v if v in values else texts[v] for v in wanted if v in values or v in texts]
    chosen = list(dict.fromkeys(chosen))
    if not multi:
        chosen = chosen[:1]
    if not chosen and options:
        chosen = [options[0].value]
    return chosen


def _value(
    name: str,
    *,
    kind: str,
    selected: list[str],
    options: list[Option],
    regex_form: bool,
    all_value: str | None,
) -> VariableValue:
    text_of = {o.value: o.text for o in options}
    if selected == [ALL_VALUE]:
        every = [o for o in options if o.value != ALL_VALUE]
        return VariableValue(
            tuple(o.value for o in every),
            tuple(o.text for o in every),
            multi=True,
            is_all=True,
            all_value=all_value,
            name=name,
        )
    return VariableValue(
        tuple(selected),
        tuple(text_of.get(v, v) for v in selected),
        multi=regex_form and kind != "textbox",
        name=name,
    )


__all__ = [
    "MAX_OPTIONS",
    "VARIABLE_TYPES",
    "Option",
    "ResolvedVariable",
    "TimeContext",
    "VariableSource",
    "apply_regex",
    "compile_js_regex",
    "custom_options",
    "query_texts",
    "resolve_variables",
    "sort_options",
]
