"""LogQL's syntax tree: log queries (a stream selector and its pipeline) and metric queries.

Nodes are frozen dataclasses, so one parse can serve many evaluations. ``str()`` of a node prints
it back as LogQL that parses to an equal tree (Loki's own ``String()`` shape), which is what
``/loki/api/v1/format_query`` answers and what the round-trip property test checks.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field

from spyglass.core.matchers import Matcher
from spyglass.logs._units import format_duration


def quote(value: str) -> str:
    """A string as a LogQL (Go) double-quoted literal."""
    return json.dumps(value, ensure_ascii=False)


def matcher_text(m: Matcher) -> str:
    """A matcher as LogQL writes it (``name=~"value"``, value quoted with Go escapes)."""
    return f"{m.name}{m.op.value}{quote(m.value)}"


# --- pipeline stages --------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class FilterValue:
    """One operand of a line filter: a string, or ``ip("...")`` when ``ip`` is set."""

    value: str
    ip: bool = False

    def __str__(self) -> str:
        return f"ip({quote(self.value)})" if self.ip else quote(self.value)


@dataclass(frozen=True, slots=True)
class LineFilter:
    """``|= "a" or "b"``: ``op`` is ``|=``, ``!=``, ``|~``, ``!~``, ``|>`` or ``!>``; the operands
    are or-ed (a negated filter keeps lines matching none of them)."""

    op: str
    values: tuple[FilterValue, ...]

    def __str__(self) -> str:
        return f"{self.op} " + " or ".join(str(v) for v in self.values)


@dataclass(frozen=True, slots=True)
class Parser:
    """``| json``, ``| logfmt``, ``| regexp "..."``, ``| pattern "..."`` or ``| unpack``.

    ``params`` are ``label="expression"`` extractions (json, logfmt); ``flags`` logfmt's
    ``--strict``/``--keep-empty``; ``expression`` the regexp or pattern text.
    """

    kind: str
    params: tuple[tuple[str, str], ...] = ()
    flags: tuple[str, ...] = ()
    expression: str = ""

    def __str__(self) -> str:
        out = f"| {self.kind}"
        if self.flags:
            out += " " + " ".join(self.flags)
        if self.kind in ("regexp", "pattern"):
            out += f" {quote(self.expression)}"
        if self.params:
            out += " " + ", ".join(f"{k}={quote(v)}" for k, v in self.params)
        return out


@dataclass(frozen=True, slots=True)
class LabelCompare:
    """``name op value``: ``kind`` is ``string`` (``=``, ``!=``, ``=~``, ``!~``), ``number``,
    ``duration``, ``bytes`` (``==``, ``=``, ``!=``, ``>``, ``>=``, ``<``, ``<=``) or ``ip``
    (``=``, ``!=``). ``value`` is the literal's text; ``number`` its value in base units."""

    name: str
    op: str
    kind: str
    value: str
    number: float = 0.0

    def __str__(self) -> str:
        if self.kind == "string":
            return f"{self.name}{self.op}{quote(self.value)}"
        if self.kind == "ip":
            return f"{self.name}{self.op}ip({quote(self.value)})"
        return f"{self.name}{self.op}{self.value}"


@dataclass(frozen=True, slots=True)
class LabelBinary:
    """``left and right`` / ``left or right`` of label filters."""

    op: str
    left: LabelExpr
    right: LabelExpr

    def __str__(self) -> str:
        return f"( {self.left} {self.op} {self.right} )"


LabelExpr = LabelCompare | LabelBinary


@dataclass(frozen=True, slots=True)
class LabelFilter:
    """``| <label filter expression>``."""

    expr: LabelExpr

    def __str__(self) -> str:
        return f"| {self.expr}"


@dataclass(frozen=True, slots=True)
class LineFormat:
    """``| line_format "template"``."""

    template: str

    def __str__(self) -> str:
        return f"| line_format {quote(self.template)}"


@dataclass(frozen=True, slots=True)
class LabelFormatItem:
    """``dst=src`` (a rename) or ``dst="template"``."""

    dst: str
    src: str
    template: bool

    def __str__(self) -> str:
        return f"{self.dst}={quote(self.src) if self.template else self.src}"


@dataclass(frozen=True, slots=True)
class LabelFormat:
    """``| label_format a=b, c="{{...}}"``."""

    items: tuple[LabelFormatItem, ...]

    def __str__(self) -> str:
        return "| label_format " + ",".join(str(i) for i in self.items)


@dataclass(frozen=True, slots=True)
class DropKeep:
    """``| drop a, b="v"`` or ``| keep ...``: names, or name matchers."""

    kind: str
    names: tuple[str, ...]
    matchers: tuple[Matcher, ...]

    def __str__(self) -> str:
        items = list(self.names) + [matcher_text(m) for m in self.matchers]
        return f"| {self.kind} " + ",".join(items)


@dataclass(frozen=True, slots=True)
class Decolorize:
    """``| decolorize``: strip ANSI colour sequences from the line."""

    def __str__(self) -> str:
        return "| decolorize"


Stage = LineFilter | Parser | LabelFilter | LineFormat | LabelFormat | DropKeep | Decolorize


@dataclass(frozen=True, slots=True)
class Unwrap:
    """``| unwrap [duration|duration_seconds|bytes](label)`` and the label filters after it."""

    label: str
    conversion: str = ""
    post_filters: tuple[LabelFilter, ...] = ()

    def __str__(self) -> str:
        name = f"{self.conversion}({self.label})" if self.conversion else self.label
        return f"| unwrap {name}" + "".join(f" {f}" for f in self.post_filters)


# --- expressions ------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class LogQuery:
    """``{selector} pipeline``: a log query, or the log side of a range aggregation."""

    matchers: tuple[Matcher, ...]
    stages: tuple[Stage, ...] = ()

    def __str__(self) -> str:
        selector = "{" + ", ".join(matcher_text(m) for m in self.matchers) + "}"
        return " ".join([selector, *(str(s) for s in self.stages)])


@dataclass(frozen=True, slots=True)
class LogRange:
    """A log query over a window: ``{...} | ... [5m] offset 1m`` (with its unwrap, if any)."""

    query: LogQuery
    range_ns: int
    offset_ns: int = 0
    unwrap: Unwrap | None = None

    def __str__(self) -> str:
        out = str(self.query)
        if self.unwrap is not None:
            out += f" {self.unwrap}"
        out += f" [{format_duration(self.range_ns)}]"
        if self.offset_ns:
            out += f" offset {format_duration(self.offset_ns)}"
        return out


@dataclass(frozen=True, slots=True)
class Grouping:
    """``by (a, b)`` or ``without (a)``."""

    labels: tuple[str, ...]
    without: bool = False

    def __str__(self) -> str:
        return f"{'without' if self.without else 'by'} ({','.join(self.labels)})"


@dataclass(frozen=True, slots=True)
class RangeAggregation:
    """``count_over_time({...}[1m])``, ``quantile_over_time(0.9, ... | unwrap x [1m]) by (a)``."""

    op: str
    range: LogRange
    param: float | None = None
    grouping: Grouping | None = None

    def __str__(self) -> str:
        param = "" if self.param is None else f"{_num(self.param)},"
        out = f"{self.op}({param}{self.range})"
        return out + (f" {self.grouping}" if self.grouping else "")


@dataclass(frozen=True, slots=True)
class VectorAggregation:
    """``sum by (a) (...)``, ``topk(3, ...)``, ``sort_desc(...)``."""

    op: str
    expr: Expr
    grouping: Grouping | None = None
    param: float | None = None

    def __str__(self) -> str:
        grouping = f" {self.grouping}" if self.grouping else ""
        param = "" if self.param is None else f"{_num(self.param)},"
        return f"{self.op}{grouping}({param}{self.expr})"


@dataclass(frozen=True, slots=True)
class VectorMatching:
    """``on(...)``/``ignoring(...)`` with ``group_left(...)``/``group_right(...)``."""

    on: bool = False
    labels: tuple[str, ...] = ()
    card: str = ""  # "", "group_left" or "group_right"
    include: tuple[str, ...] = ()

    def __str__(self) -> str:
        out = ""
        if self.on or self.labels:
            out = f" {'on' if self.on else 'ignoring'}({','.join(self.labels)})"
        if self.card:
            out += f" {self.card}({','.join(self.include)})"
        return out


@dataclass(frozen=True, slots=True)
class BinaryOp:
    """``left op right`` with ``bool`` and vector matching."""

    op: str
    left: Expr
    right: Expr
    bool_modifier: bool = False
    matching: VectorMatching = field(default_factory=VectorMatching)

    def __str__(self) -> str:
        modifier = " bool" if self.bool_modifier else ""
        return f"({self.left} {self.op}{modifier}{self.matching} {self.right})"


@dataclass(frozen=True, slots=True)
class Literal:
    """A number."""

    value: float

    def __str__(self) -> str:
        return _num(self.value)


@dataclass(frozen=True, slots=True)
class VectorLiteral:
    """``vector(2)``: one ``{}`` sample at every step."""

    value: float

    def __str__(self) -> str:
        return f"vector({_num(self.value)})"


@dataclass(frozen=True, slots=True)
class LabelReplace:
    """``label_replace(expr, "dst", "replacement", "src", "regex")``."""

    expr: Expr
    dst: str
    replacement: str
    src: str
    regex: str

    def __str__(self) -> str:
        args = ",".join(quote(a) for a in (self.dst, self.replacement, self.src, self.regex))
        return f"label_replace({self.expr},{args})"


Expr = (
    LogQuery
    | RangeAggregation
    | VectorAggregation
    | BinaryOp
    | Literal
    | VectorLiteral
    | LabelReplace
)


def _num(value: float) -> str:
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    if value == int(value) and abs(value) < 1e15:
        return str(int(value))
    return repr(value)


__all__ = [
    "BinaryOp",
    "Decolorize",
    "DropKeep",
    "Expr",
    "FilterValue",
    "Grouping",
    "LabelBinary",
    "LabelCompare",
    "LabelExpr",
    "LabelFilter",
    "LabelFormat",
    "LabelFormatItem",
    "LabelReplace",
    "LineFilter",
    "LineFormat",
    "Literal",
    "LogQuery",
    "LogRange",
    "Parser",
    "RangeAggregation",
    "Stage",
    "Unwrap",
    "VectorAggregation",
    "VectorLiteral",
    "VectorMatching",
    "quote",
]
