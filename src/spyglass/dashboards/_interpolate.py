"""Template variable interpolation, as Grafana does it for the Prometheus data source.

References: ``$var``, ``${var}``, ``${var:format}``, ``[[var]]`` and ``[[var:format]]``; a name
that is not a variable stays as written. Without a format a value is escaped for PromQL the
way Grafana's Prometheus data source does it: a single-value variable escapes ``\\`` and ``'``
for a string literal; a multi-value or include-All variable escapes regex characters (for a
``=~`` matcher) and joins several values as ``(a|b)``. A custom All value (``allValue``) is put
in unescaped, since it is usually a regex like ``.*``.

Formats: ``csv``, ``distributed``, ``doublequote``, ``glob``, ``json``, ``lucene``,
``percentencode``, ``pipe``, ``raw``, ``regex``, ``singlequote``, ``sqlstring``, ``text``,
``queryparam``; an unknown format is treated as ``glob`` (Grafana's fallback).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from urllib.parse import quote

ALL_VALUE = "$__all"
ALL_TEXT = "All"

# Grafana's variable reference pattern (templateSrv's variableRegex).
_REFERENCE = re.compile(
    r"\$(\w+)|\[\[(\w+?)(?::(\w+))?\]\]|\$\{(\w+)(?:\.([^:^}]+))?(?::([^}]+))?\}"
)
_REGEX_SPECIAL = re.compile(r"[\\^$*+?.()|\[\]{}/]")
_PROM_REGEX_SPECIAL = re.compile(r"[$^*{}\[\]'+?.()|]")
_LUCENE_SPECIAL = re.compile(r'([+\-=&|><!(){}\[\]^"~*?:\\/ ])')


@dataclass(frozen=True)
class VariableValue:
    """What one variable holds now.

    ``values``/``texts``: the selected values and their display texts (for All: every
    option's). ``multi``: the variable is multi-value or has an All option, which makes
    PromQL's default format a regex. ``all_value``: the custom All value when All is selected.
    """

    values: tuple[str, ...]
    texts: tuple[str, ...] = ()
    multi: bool = False
    is_all: bool = False
    all_value: str | None = None
    name: str = ""

    @staticmethod
    def single(value: str, name: str = "") -> VariableValue:
        """A plain value (constants, text boxes, built-in macros)."""
        return VariableValue((value,), (value,), name=name)


@dataclass
class _Scope:
    variables: Mapping[str, VariableValue]
    depth: int = 0
    seen: set[str] = field(default_factory=set)


def prometheus_string_escape(value: str) -> str:
    """Grafana's ``prometheusRegularEscape``: ``\\`` and ``'`` escaped for a string literal."""
    return value.replace("\\", "\\\\").replace("'", "\\\\'")


def prometheus_regex_escape(value: str) -> str:
    """Grafana's ``prometheusSpecialRegexEscape``: regex characters escaped inside a PromQL
    string (so the backslash itself is doubled)."""
    return _PROM_REGEX_SPECIAL.sub(lambda m: "\\\\" + m.group(0), value.replace("\\", "\\\\\\\\"))


def regex_escape(value: str) -> str:
    """Grafana's ``kbn.regexEscape``: regex characters escaped with one backslash."""
    return _REGEX_SPECIAL.sub(lambda m: "\\" + m.group(0), value)


def _prometheus(v: VariableValue) -> str:
    if not v.multi:
        return prometheus_string_escape(v.values[0] if v.values else "")
    escaped = [prometheus_regex_escape(x) for x in v.values]
    if len(escaped) == 1:
        return escaped[0]
    return "(" + "|".join(escaped) + ")"


def _regex(v: VariableValue) -> str:
    escaped = [regex_escape(x) for x in v.values]
    if len(escaped) == 1:
        return escaped[0]
    return "(" + "|".join(escaped) + ")"


def _glob(v: VariableValue) -> str:
    if len(v.values) > 1:
        return "{" + ",".join(v.values) + "}"
    return v.values[0] if v.values else ""


def _lucene(v: VariableValue) -> str:
    def esc(x: str) -> str:
        return _LUCENE_SPECIAL.sub(r"\\\1", x)

    if len(v.values) == 1:
        return esc(v.values[0])
    if not v.values:
        return "__empty__"
    return "(" + " OR ".join(f'"{esc(x)}"' for x in v.values) + ")"


def _json(v: VariableValue) -> str:
    if v.multi or len(v.values) != 1:
        return json.dumps(list(v.values), separators=(",", ":"))
    return json.dumps(v.values[0])


def _percent(v: VariableValue) -> str:
    return quote(",".join(v.values), safe="-_.!~*'()")


def _queryparam(v: VariableValue) -> str:
    name = quote(f"var-{v.name}", safe="-_.!~*'()")
    return "&".join(f"{name}={quote(x, safe='-_.!~*()')}" for x in v.values)


def _distributed(v: VariableValue) -> str:
    if len(v.values) <= 1:
        return v.values[0] if v.values else ""
    first, *rest = v.values
    return ",".join([first, *(f"{v.name}={x}" for x in rest)])


_FORMATS: dict[str, Callable[[VariableValue], str]] = {
    "csv": lambda v: ",".join(v.values),
    "distributed": _distributed,
    "doublequote": lambda v: ",".join('"' + x.replace('"', '\\"') + '"' for x in v.values),
    "glob": _glob,
    "json": _json,
    "lucene": _lucene,
    "percentencode": _percent,
    "pipe": lambda v: "|".join(v.values),
    "raw": lambda v: ",".join(v.values),
    "regex": _regex,
    "singlequote": lambda v: ",".join("'" + x.replace("'", "\\'") + "'" for x in v.values),
    "sqlstring": lambda v: ",".join("'" + x.replace("'", "''") + "'" for x in v.values),
    "text": lambda v: " + ".join(v.texts or v.values),
    "queryparam": _queryparam,
}
FORMATS: tuple[str, ...] = tuple(sorted(_FORMATS))

# A custom All value may itself hold variables; Grafana expands it again. Chains deeper than
# this are a loop (a variable whose All value names itself).
_MAX_DEPTH = 8


def _format(v: VariableValue, fmt: str | None, scope: _Scope) -> str:
    if v.is_all and v.all_value is not None and fmt not in ("text", "queryparam"):
        if scope.depth >= _MAX_DEPTH:
            return v.all_value
        inner = _Scope(scope.variables, scope.depth + 1)
        return _replace(v.all_value, inner, None)
    if v.is_all and fmt == "text":
        return ALL_TEXT
    if fmt is None:
        return _prometheus(v)
    return _FORMATS.get(fmt, _glob)(v)


def _replace(text: str, scope: _Scope, default_format: str | None) -> str:
    def sub(m: re.Match[str]) -> str:
        name = m.group(1) or m.group(2) or m.group(4)
        fmt = m.group(3) or m.group(6) or default_format
        v = scope.variables.get(name)
        if v is None:
            return m.group(0)
        return _format(v, fmt, scope)

    return _REFERENCE.sub(sub, text)


def interpolate(
    text: str, variables: Mapping[str, VariableValue], default_format: str | None = None
) -> str:
    """``text`` with every variable reference replaced (see the module docstring).

    ``default_format`` applies to references without one; ``None`` is the Prometheus data
    source's own escaping.
    """
    return _replace(text, _Scope(variables), default_format)


def references(text: str) -> list[str]:
    """The variable names ``text`` refers to, in order (with repeats)."""
    return [m.group(1) or m.group(2) or m.group(4) for m in _REFERENCE.finditer(text)]


def multi(values: Sequence[str], name: str = "") -> VariableValue:
    """A multi-value selection (tests and repeats build them)."""
    return VariableValue(tuple(values), tuple(values), multi=True, name=name)


__all__ = [
    "ALL_TEXT",
    "ALL_VALUE",
    "FORMATS",
    "VariableValue",
    "interpolate",
    "multi",
    "prometheus_regex_escape",
    "prometheus_string_escape",
    "references",
    "regex_escape",
]
