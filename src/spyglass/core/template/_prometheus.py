"""Prometheus' template functions and the data of an alerting rule's labels and annotations.

``expand_alert_template`` does what Prometheus' rule evaluation does for each label and
annotation of a firing alert: it prefixes the text with ``{{$labels := .Labels}}
{{$externalLabels := .ExternalLabels}}{{$externalURL := .ExternalURL}}{{$value := .Value}}``,
names the template ``__alert_<rule name>``, runs it with ``missingkey=zero`` (a missing label
is ``""``) and offers the functions of Prometheus' template reference, with the same number
formatting (``humanize`` of 1234567 is ``1.235M``).
"""

from __future__ import annotations

import functools
import ipaddress
import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar
from urllib.parse import quote_plus, urlsplit

from spyglass.core.errors import TemplateError
from spyglass.core.template import _text
from spyglass.core.template._gotime import GoDuration, GoTime, TimeError
from spyglass.core.template._nodes import underscore_ok
from spyglass.core.template._printing import format_float, go_quote
from spyglass.core.template._template import Template
from spyglass.core.template._values import StringMap, type_name

_NS = 1_000_000_000
_MAX_INT64 = (1 << 63) - 1
_MIN_INT64 = -(1 << 63)


@dataclass(frozen=True, slots=True)
class QuerySample:
    """One element of what ``query`` returns; templates read ``.Labels`` and ``.Value``."""

    labels: Mapping[str, str]
    value: float

    __go_type__: ClassVar[str] = "*template.sample"
    __go_pointer__: ClassVar[bool] = True
    __go_fields__: ClassVar[dict[str, str]] = {"Labels": "labels", "Value": "value"}


QueryFunc = Callable[[str], Sequence[QuerySample]]
"""Evaluates an instant PromQL query at the rule's evaluation time."""


class QueryResult(list[QuerySample]):
    """What ``query`` returns (Go's ``queryResult``)."""

    __go_type__: ClassVar[str] = "template.queryResult"


class SafeHTML(str):
    """``html/template.HTML``: text marked as safe HTML (``safeHtml``)."""

    __slots__ = ()
    __go_type__: ClassVar[str] = "template.HTML"


@dataclass(frozen=True, slots=True)
class _AlertData:
    labels: StringMap
    external_labels: StringMap
    external_url: str
    value: float

    __go_type__: ClassVar[str] = (
        "struct { Labels map[string]string; ExternalLabels map[string]string; "
        "ExternalURL string; Value interface {} }"
    )
    __go_fields__: ClassVar[dict[str, str]] = {
        "Labels": "labels",
        "ExternalLabels": "external_labels",
        "ExternalURL": "external_url",
        "Value": "value",
    }


# --- numbers ---------------------------------------------------------------------------------


_DECIMAL = re.compile(r"[+-]?(?:[0-9_]+\.?[0-9_]*|\.[0-9_]+)(?:[eE][+-]?[0-9_]+)?")
_HEXADECIMAL = re.compile(
    r"[+-]?0[xX](?:[0-9a-fA-F_]+\.?[0-9a-fA-F_]*|\.[0-9a-fA-F_]+)[pP][+-]?[0-9_]+"
)


def parse_go_float(s: str) -> float:
    """Go's ``strconv.ParseFloat(s, 64)`` with its error text."""
    body = s[1:] if s[:1] in "+-" else s
    low = body.lower()
    if low in ("inf", "infinity"):
        return -math.inf if s[:1] == "-" else math.inf
    if low == "nan" and body == s:
        return math.nan
    hexa = _HEXADECIMAL.fullmatch(s) is not None
    if (hexa or _DECIMAL.fullmatch(s)) and any(c.isdigit() for c in s) and underscore_ok(s):
        text = s.replace("_", "")
        value = float.fromhex(text) if hexa else float(text)
        if math.isinf(value):
            raise ValueError(f"strconv.ParseFloat: parsing {go_quote(s)}: value out of range")
        return value
    raise ValueError(f"strconv.ParseFloat: parsing {go_quote(s)}: invalid syntax")


def convert_to_float(i: object) -> float:
    """Prometheus' ``ConvertToFloat``: numbers, numeric strings and durations."""
    if isinstance(i, GoDuration):
        return int(i) / _NS
    if isinstance(i, float):
        return i
    if isinstance(i, str):
        return parse_go_float(i)
    if isinstance(i, int) and not isinstance(i, bool):
        return float(i)
    raise ValueError(f"can't convert {type_name(i)} to float")


def _g4(v: float) -> str:
    return format_float(v, "g", 4)


def humanize(i: object) -> str:
    """1234567 -> ``1.235M``, 0.012 -> ``12m``: SI prefixes, four significant digits."""
    v = convert_to_float(i)
    if v == 0 or math.isnan(v) or math.isinf(v):
        return _g4(v)
    if abs(v) >= 1:
        prefix = ""
        for p in ("k", "M", "G", "T", "P", "E", "Z", "Y"):
            if abs(v) < 1000:
                break
            prefix = p
            v /= 1000
        return _g4(v) + prefix
    prefix = ""
    for p in ("m", "u", "n", "p", "f", "a", "z", "y"):
        if abs(v) >= 1:
            break
        prefix = p
        v *= 1000
    return _g4(v) + prefix


def humanize1024(i: object) -> str:
    """1048576 -> ``1Mi``: binary prefixes."""
    v = convert_to_float(i)
    if abs(v) <= 1 or math.isnan(v) or math.isinf(v):
        return _g4(v)
    prefix = ""
    for p in ("ki", "Mi", "Gi", "Ti", "Pi", "Ei", "Zi", "Yi"):
        if abs(v) < 1024:
            break
        prefix = p
        v /= 1024
    return _g4(v) + prefix


def _go_int64(v: float) -> int:
    # Go's float64 -> int64 conversion of an out-of-range value gives MinInt64 on amd64.
    if not math.isfinite(v) or v >= 2**63 or v < -(2**63):
        return _MIN_INT64
    return math.trunc(v)


def _go_div(a: int, b: int) -> int:
    q = abs(a) // b
    return q if (a >= 0) == (b >= 0) else -q


def _go_mod(a: int, b: int) -> int:
    return a - _go_div(a, b) * b


def humanize_duration(i: object) -> str:
    """3661 -> ``1h 1m 1s``, 0.1 -> ``100ms``: seconds as a human duration."""
    v = convert_to_float(i)
    if math.isnan(v) or math.isinf(v):
        return _g4(v)
    if v == 0:
        return _g4(v) + "s"
    if abs(v) >= 1:
        sign = ""
        if v < 0:
            sign = "-"
            v = -v
        duration = _go_int64(v)
        seconds = _go_mod(duration, 60)
        minutes = _go_mod(_go_div(duration, 60), 60)
        hours = _go_mod(_go_div(_go_div(duration, 60), 60), 24)
        days = _go_div(_go_div(_go_div(duration, 60), 60), 24)
        if days != 0:
            return f"{sign}{days}d {hours}h {minutes}m {seconds}s"
        if hours != 0:
            return f"{sign}{hours}h {minutes}m {seconds}s"
        if minutes != 0:
            return f"{sign}{minutes}m {seconds}s"
        return f"{sign}{_g4(v)}s"
    prefix = ""
    for p in ("m", "u", "n", "p", "f", "a", "z", "y"):
        if abs(v) >= 1:
            break
        prefix = p
        v *= 1000
    return f"{_g4(v)}{prefix}s"


def humanize_percentage(i: object) -> str:
    """0.1234 -> ``12.34%``."""
    return _g4(convert_to_float(i) * 100) + "%"


def float_to_time(v: float) -> GoTime:
    """Seconds since the epoch as a UTC time, truncated to the millisecond as Prometheus does."""
    if math.isnan(v) or math.isinf(v):
        raise TimeError("value is NaN or Inf")
    timestamp = v * 1e9
    if timestamp > float(_MAX_INT64) or timestamp < float(_MIN_INT64):
        raise TimeError(
            f"{format_float(v, 'g', -1)} cannot be represented as a nanoseconds timestamp "
            "since it overflows int64"
        )
    ns = _go_int64(timestamp)
    return GoTime(_go_div(ns, 1_000_000) * 1_000_000)


def humanize_timestamp(i: object) -> str:
    """Seconds since the epoch -> ``2015-06-23 13:19:44.128 +0000 UTC``."""
    v = convert_to_float(i)
    if math.isnan(v) or math.isinf(v):
        return _g4(v)
    return float_to_time(v).string()


def to_time(i: object) -> GoTime:
    """Seconds since the epoch -> a time (``.Format`` and friends work on it)."""
    return float_to_time(convert_to_float(i))


def to_duration(i: object) -> GoDuration:
    """Seconds -> a duration (``.String`` gives ``30m0s``)."""
    v = convert_to_float(i) * _NS
    return GoDuration(_go_int64(v))


def split_host_port(hostport: str) -> tuple[str, str]:
    """Go's ``net.SplitHostPort``; ``ValueError`` with Go's message."""

    def err(why: str) -> ValueError:
        return ValueError(f"address {hostport}: {why}")

    i = hostport.rfind(":")
    if i < 0:
        raise err("missing port in address")
    j = k = 0
    if hostport.startswith("["):
        end = hostport.find("]")
        if end < 0:
            raise err("missing ']' in address")
        if end + 1 == len(hostport):
            raise err("missing port in address")
        if end + 1 != i:
            if hostport[end + 1] == ":":
                raise err("too many colons in address")
            raise err("missing port in address")
        host = hostport[1:end]
        j, k = 1, end + 1
    else:
        host = hostport[:i]
        if ":" in host:
            raise err("too many colons in address")
    if "[" in hostport[j:]:
        raise err("unexpected '[' in address")
    if "]" in hostport[k:]:
        raise err("unexpected ']' in address")
    return host, hostport[i + 1 :]


def _is_ip(host: str) -> bool:
    if "%" in host:
        return False
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def strip_port(host_port: str) -> str:
    """``host:port`` -> ``host`` (and ``[::1]:80`` -> ``::1``); anything else unchanged."""
    try:
        host, _ = split_host_port(host_port)
    except ValueError:
        return host_port
    return host


def strip_domain(host_port: str) -> str:
    """``foo.example.com:9100`` -> ``foo:9100``; IP addresses stay as they are."""
    try:
        host, port = split_host_port(host_port)
    except ValueError:
        host, port = host_port, ""
    if _is_ip(host):
        return host_port
    host = host.split(".")[0]
    if port:
        return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    return host


def parse_duration(d: str) -> float:
    """A Prometheus duration (``1h2m10ms``, ``-5m``) in seconds."""
    text = d
    neg = text.startswith("-")
    if neg:
        text = text[1:]
    if text == "0":
        return 0.0
    units = (
        ("y", 365 * 86400_000),
        ("w", 7 * 86400_000),
        ("d", 86400_000),
        ("h", 3600_000),
        ("m", 60_000),
        ("s", 1000),
        ("ms", 1),
    )
    ms = 0
    rest = text
    seen = False
    for unit, size in units:
        j = 0
        while j < len(rest) and rest[j].isascii() and rest[j].isdigit():
            j += 1
        if j == 0 or not rest[j:].startswith(unit):
            continue
        after = rest[j + len(unit) :]
        if unit == "m" and after.startswith("s"):
            continue  # "ms" is its own unit
        ms += int(rest[:j]) * size
        rest = after
        seen = True
    if not seen or rest:
        raise ValueError(f"not a valid duration string: {go_quote(d)}")
    return (-ms if neg else ms) / 1000


def to_upper(s: str) -> str:
    """``strings.ToUpper``: each character's simple upper-case mapping."""
    return "".join(u if len(u := c.upper()) == 1 else c for c in s)


def to_lower(s: str) -> str:
    """``strings.ToLower``: each character's simple lower-case mapping."""
    out = []
    for c in s:
        low = c.lower()
        out.append(low if len(low) == 1 else ("i" if c == "\u0130" else c))
    return "".join(out)


def query_escape(s: str) -> str:
    """``url.QueryEscape``."""
    return quote_plus(s, safe="")


# --- the function map ------------------------------------------------------------------------


def _first(v: QueryResult) -> QuerySample:
    if v:
        return v[0]
    raise ValueError("first() called on vector with no elements")


def _label(label: str, s: QuerySample) -> str:
    return _sample(s).labels.get(label, "")


def _value(s: QuerySample) -> object:
    return _sample(s).value


def _strvalue(s: QuerySample) -> str:
    return _sample(s).labels.get("__value__", "")


def _sample(s: QuerySample | None) -> QuerySample:
    if s is None:
        raise ValueError("runtime error: invalid memory address or nil pointer dereference")
    return s


def _args(*args: object) -> dict[str, object]:
    return {f"arg{i}": a for i, a in enumerate(args)}


def _re_replace_all(pattern: str, repl: str, text: str) -> str:
    return _text.replace_all(_text.must_compile(pattern), text, repl)


def _safe_html(text: str) -> SafeHTML:
    return SafeHTML(text)


def _match(pattern: str, s: str) -> bool:
    return _text.match_string(pattern, s)


def _title(s: str) -> str:
    return _text.title(s, lower_rest=False)


def _graph_link(expr: str) -> str:
    return f"/graph?g0.expr={query_escape(expr)}&g0.tab=0"


def _table_link(expr: str) -> str:
    return f"/graph?g0.expr={query_escape(expr)}&g0.tab=1"


def _sort_by_label(label: str, v: QueryResult) -> QueryResult:
    v.sort(key=lambda s: s.labels.get(label, ""))  # stable, in place, as Go's sort.Stable
    return v


def prometheus_functions(
    *,
    query: QueryFunc | None = None,
    timestamp_ms: int = 0,
    external_url: str = "",
) -> dict[str, Callable[..., Any]]:
    """The functions of Prometheus' template reference for one expansion.

    ``query`` answers ``query`` (an instant query at ``timestamp_ms``), ``external_url`` is
    Prometheus' ``--web.external-url`` (``externalURL``, ``pathPrefix``), ``timestamp_ms`` is
    what ``now`` returns.
    """

    def run_query(q: str) -> QueryResult:
        if query is None:
            raise ValueError("queries are not available here")
        return QueryResult(QuerySample(StringMap(s.labels), s.value) for s in query(q))

    def now() -> float:
        return timestamp_ms / 1000.0

    def path_prefix() -> str:
        return urlsplit(external_url).path

    def external() -> str:
        return external_url

    return {
        "query": run_query,
        "first": _first,
        "label": _label,
        "value": _value,
        "strvalue": _strvalue,
        "args": _args,
        "reReplaceAll": _re_replace_all,
        "safeHtml": _safe_html,
        "match": _match,
        "title": _title,
        "toUpper": to_upper,
        "toLower": to_lower,
        "graphLink": _graph_link,
        "tableLink": _table_link,
        "sortByLabel": _sort_by_label,
        "stripPort": strip_port,
        "stripDomain": strip_domain,
        "humanize": humanize,
        "humanize1024": humanize1024,
        "humanizeDuration": humanize_duration,
        "humanizePercentage": humanize_percentage,
        "humanizeTimestamp": humanize_timestamp,
        "toTime": to_time,
        "toDuration": to_duration,
        "now": now,
        "pathPrefix": path_prefix,
        "externalURL": external,
        "parseDuration": parse_duration,
        "urlQueryEscape": query_escape,
    }


def console_functions(template: Template) -> dict[str, Callable[..., Any]]:
    """Functions Prometheus adds for console (HTML) templates: ``tmpl`` runs a named template."""

    def tmpl(name: str, data: object) -> SafeHTML:
        return SafeHTML(template.execute(data, name=name))

    return {"tmpl": tmpl}


ALERT_DEFINITIONS = (
    "{{$labels := .Labels}}{{$externalLabels := .ExternalLabels}}"
    "{{$externalURL := .ExternalURL}}{{$value := .Value}}"
)


def expand_alert_template(
    text: str,
    *,
    name: str,
    labels: Mapping[str, str],
    value: float,
    external_labels: Mapping[str, str] | None = None,
    external_url: str = "",
    timestamp_ms: int = 0,
    query: QueryFunc | None = None,
) -> str:
    """Expand one annotation or label template of an alerting rule as Prometheus does: the text is
    prefixed with the $labels/$externalLabels/$externalURL/$value definitions; raises TemplateError.

    ``name`` is the alerting rule's name; the template is called ``__alert_<name>``, so errors
    read as Prometheus' (``error executing template __alert_X: template: __alert_X:1:91: ...``;
    positions count the definitions). Prometheus writes a failed expansion as
    ``<error expanding template: {error}>`` in place of the text.
    """
    tmpl_name = "__alert_" + name
    data = _AlertData(
        labels=StringMap(labels),
        external_labels=StringMap(external_labels),
        external_url=external_url,
        value=value,
    )
    funcs = prometheus_functions(query=query, timestamp_ms=timestamp_ms, external_url=external_url)
    try:
        template = _parsed_alert_template(tmpl_name, text).clone().add_funcs(funcs)
    except TemplateError as exc:
        raise _wrapped(f"error parsing template {tmpl_name}", exc) from None
    try:
        return template.execute(data)
    except TemplateError as exc:
        raise _wrapped(f"error executing template {tmpl_name}", exc) from None


@functools.lru_cache(maxsize=4096)
def _parsed_alert_template(tmpl_name: str, text: str) -> Template:
    """An alert template parsed once: every evaluation expands the same texts for every alert,
    and parsing was most of the cost. Callers clone it and add their own functions (the
    names, all parsing checks, are the same for every call)."""
    template = Template(tmpl_name, funcs=prometheus_functions(), missing_key="zero")
    return template.parse(ALERT_DEFINITIONS + text)


def _wrapped(prefix: str, exc: TemplateError) -> TemplateError:
    return TemplateError(
        f"{prefix}: {exc.message}", name=exc.name, line=exc.line, column=exc.column
    )
