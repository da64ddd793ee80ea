"""PromQL syntax tree: Spyglass's own frozen nodes, built from ``promql-parser``'s AST.

``promql-parser`` (a Rust port of Prometheus' grammar) does the parsing; this module converts its
objects into small frozen dataclasses with times in integer milliseconds, so the evaluator never
touches ``timedelta``/``datetime`` or the binding's enums, and wraps its errors in Prometheus'
error shape (``1:14: parse error: ...``). The binding reports no positions, so the position is
found by re-parsing prefixes of the query (see ``_locate``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Literal

import promql_parser as pp

from spyglass.core.errors import BadInput, ParseError
from spyglass.core.labels import METRIC_NAME
from spyglass.core.matchers import Matcher, MatchOp
from spyglass.promql._parse_errors import parse_error
from spyglass.promql._preparse import (
    INFO_PLACEHOLDER,
    MODIFIER_MARKER,
    MODIFIER_RE,
    mark_modifiers,
    parse_info_selectors,
)

ValueKind = Literal["scalar", "vector", "matrix", "string"]


@dataclass(frozen=True, slots=True)
class At:
    """An ``@`` modifier: a fixed time in ms, or ``start()``/``end()`` of the query."""

    kind: Literal["at", "start", "end"]
    time_ms: int = 0


@dataclass(frozen=True, slots=True)
class NumberLiteral:
    """A float literal."""

    value: float


@dataclass(frozen=True, slots=True)
class StringLiteral:
    """A string literal."""

    value: str


@dataclass(frozen=True, slots=True)
class VectorSelector:
    """``name{matchers} @ t offset d``: matchers include the ``__name__`` one."""

    name: str
    matchers: tuple[Matcher, ...]
    offset_ms: int = 0
    at: At | None = None
    pos: int = field(default=0, compare=False)
    modifier: str = ""  # "anchored" or "smoothed" (experimental extended selectors)


@dataclass(frozen=True, slots=True)
class MatrixSelector:
    """``selector[range]``."""

    selector: VectorSelector
    range_ms: int


@dataclass(frozen=True, slots=True)
class Subquery:
    """``expr[range:step] @ t offset d``; ``step_ms == 0`` means the engine's default step."""

    expr: Expr
    range_ms: int
    step_ms: int
    offset_ms: int = 0
    at: At | None = None


@dataclass(frozen=True, slots=True)
class Call:
    """A function call."""

    name: str
    args: tuple[Expr, ...]
    pos: int = field(default=0, compare=False)


@dataclass(frozen=True, slots=True)
class Aggregate:
    """An aggregation; ``grouping`` holds the ``by``/``without`` labels."""

    op: str
    expr: Expr
    param: Expr | None
    grouping: tuple[str, ...]
    without: bool
    pos: int = field(default=0, compare=False)


@dataclass(frozen=True, slots=True)
class Binary:
    """A binary operation with its vector-matching modifiers.

    ``on`` is None when neither ``on`` nor ``ignoring`` was given; ``card`` is one of
    ``one-to-one``, ``many-to-one`` (group_left), ``one-to-many`` (group_right), ``many-to-many``.
    """

    op: str
    lhs: Expr
    rhs: Expr
    return_bool: bool = False
    card: str = "one-to-one"
    on: bool | None = None
    matching: tuple[str, ...] = ()
    include: tuple[str, ...] = ()
    fill_lhs: float | None = None
    fill_rhs: float | None = None


@dataclass(frozen=True, slots=True)
class Unary:
    """Unary minus (unary plus is dropped while converting)."""

    expr: Expr


Expr = (
    NumberLiteral
    | StringLiteral
    | VectorSelector
    | MatrixSelector
    | Subquery
    | Call
    | Aggregate
    | Binary
    | Unary
)

COMPARISON_OPS = frozenset({"==", "!=", ">", "<", ">=", "<="})
SET_OPS = frozenset({"and", "or", "unless"})

# Functions whose result type is not "vector"; everything else returns an instant vector.
_SCALAR_FUNCS = frozenset({"scalar", "time", "pi"})
# Date functions default to vector(time()) when called without argument.


def position_of(expr: Expr) -> int:
    """Offset in the query text where ``expr`` starts (best effort, see ``_Converter``)."""
    if isinstance(expr, (VectorSelector, Call, Aggregate)):
        return expr.pos
    if isinstance(expr, MatrixSelector):
        return expr.selector.pos
    if isinstance(expr, Subquery):
        return position_of(expr.expr)
    if isinstance(expr, Binary):
        return position_of(expr.lhs)
    if isinstance(expr, Unary):
        return max(position_of(expr.expr) - 1, 0)
    return 0


def children(expr: Expr) -> tuple[Expr, ...]:
    """Direct sub-expressions, in textual order."""
    if isinstance(expr, MatrixSelector):
        return (expr.selector,)
    if isinstance(expr, (Subquery, Unary)):
        return (expr.expr,)
    if isinstance(expr, Call):
        return expr.args
    if isinstance(expr, Aggregate):
        return (expr.expr,) if expr.param is None else (expr.param, expr.expr)
    if isinstance(expr, Binary):
        return (expr.lhs, expr.rhs)
    return ()


def selectors(expr: Expr) -> list[VectorSelector]:
    """Every vector selector in ``expr``, also those of range selectors, in textual order
    (Prometheus' ``parser.ExtractSelectors``, which ``/api/v1/query_exemplars`` reads with)."""
    if isinstance(expr, VectorSelector):
        return [expr]
    return [sel for child in children(expr) for sel in selectors(child)]


def kind_of(expr: Expr) -> ValueKind:
    """The PromQL type an expression evaluates to."""
    if isinstance(expr, NumberLiteral):
        return "scalar"
    if isinstance(expr, StringLiteral):
        return "string"
    if isinstance(expr, (MatrixSelector, Subquery)):
        return "matrix"
    if isinstance(expr, Call):
        return "scalar" if expr.name in _SCALAR_FUNCS else "vector"
    if isinstance(expr, Unary):
        return kind_of(expr.expr)
    if isinstance(expr, Binary):
        if kind_of(expr.lhs) == "scalar" and kind_of(expr.rhs) == "scalar":
            return "scalar"
        return "vector"
    return "vector"


# -- conversion -------------------------------------------------------------------------------

_MATCH_OPS = {
    "Equal": MatchOp.EQUAL,
    "NotEqual": MatchOp.NOT_EQUAL,
    "Re": MatchOp.REGEX,
    "NotRe": MatchOp.NOT_REGEX,
}
_CARDS = {
    "OneToOne": "one-to-one",
    "ManyToOne": "many-to-one",
    "OneToMany": "one-to-many",
    "ManyToMany": "many-to-many",
}


def _name(enum_value: Any) -> str:
    # The binding's enums expose no ``.name``; their str() is "Type.Member".
    return str(enum_value).rsplit(".", 1)[-1]


def _ms(delta: timedelta | None) -> int:
    if delta is None:
        return 0
    return round(delta / timedelta(milliseconds=1))


_AT_NUMBER = re.compile(r"@\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)")
_MAX_AT_MS = 2**62


def _at(node: Any, text: str = "", cursor: int = 0) -> At | None:
    if node is None:
        return None
    kind = _name(node.type)
    if kind == "Start":
        return At("start")
    if kind == "End":
        return At("end")
    written = _AT_NUMBER.search(text, cursor)
    if written is not None and written.group(1).startswith("-"):
        # The binding panics reading times before 1970; take the number as written.
        return At("at", round(float(written.group(1)) * 1000))
    try:
        ms = round(node.at.timestamp() * 1000)
    except BaseException as exc:
        if isinstance(exc, (KeyboardInterrupt, SystemExit)):
            raise
        # Read the number from the text instead (the @ after the selector just converted).
        m = _AT_NUMBER.search(text, cursor)
        if m is None:
            raise ParseError("parse error: invalid @ timestamp", line=1, column=1) from None
        ms = round(float(m.group(1)) * 1000)
    if abs(ms) > _MAX_AT_MS:
        raise ParseError("parse error: timestamp out of bounds for @ modifier", line=1, column=1)
    return At("at", ms)


class _Converter:
    """Builds the tree; finds each node's offset in the text, in textual order.

    The binding reports no positions. Annotations need them (``... (1:25)``), so function names,
    aggregation operators and selectors are searched for from a cursor that only moves forward:
    the tree is walked in the order its parts appear in the text.
    """

    def __init__(self, text: str) -> None:
        self.text = text
        self.cursor = 0

    def find(self, pattern: str) -> int:
        m = re.compile(pattern).search(self.text, self.cursor)
        if m is None:
            return self.cursor
        self.cursor = m.end()
        return m.start()

    def selector(self, node: Any) -> VectorSelector:
        name = node.name or ""
        pos = self.find(rf"(?<![\w:]){re.escape(name)}(?![\w:])") if name else self.find(r"\{")
        matchers: list[Matcher] = []
        modifier = ""
        if name:
            matchers.append(Matcher.of(METRIC_NAME, MatchOp.EQUAL, name))
        for m in node.matchers.matchers:
            if m.name == INFO_PLACEHOLDER:
                continue
            if m.name == MODIFIER_MARKER:
                modifier = m.value
                continue
            op = _MATCH_OPS[_name(m.op)]
            matchers.append(_matcher(m.name, op, m.value))
            if m.name == METRIC_NAME and op is MatchOp.EQUAL:
                name = m.value
        if node.matchers.or_matchers:
            raise ParseError(
                "parse error: 'or' inside a selector is not supported", line=1, column=1
            )
        return VectorSelector(
            name,
            tuple(matchers),
            _ms(node.offset),
            _at(node.at, self.text, self.cursor),
            pos,
            modifier,
        )

    def convert(self, node: Any) -> Expr:
        if isinstance(node, pp.ParenExpr):
            return self.convert(node.expr)
        if isinstance(node, pp.NumberLiteral):
            return NumberLiteral(float(node.val))
        if isinstance(node, pp.StringLiteral):
            return StringLiteral(node.val)
        if isinstance(node, pp.VectorSelector):
            return self.selector(node)
        if isinstance(node, pp.MatrixSelector):
            return MatrixSelector(self.selector(node.vector_selector), _ms(node.range))
        if isinstance(node, pp.SubqueryExpr):
            inner = self.convert(node.expr)
            return Subquery(
                inner,
                _ms(node.range),
                _ms(node.step),
                _ms(node.offset),
                _at(node.at, self.text, self.cursor),
            )
        if isinstance(node, pp.Call):
            name = node.func.name
            pos = self.find(rf"(?<![\w:]){re.escape(name)}\s*\(")
            return Call(name, tuple(self.convert(a) for a in node.args), pos)
        if isinstance(node, pp.AggregateExpr):
            op = str(node.op)
            pos = self.find(rf"(?<![\w:]){re.escape(op)}(?![\w:])")
            mod = node.modifier
            grouping = tuple(mod.labels) if mod is not None else ()
            without = mod is not None and _name(mod.type) == "Without"
            param = self.convert(node.param) if node.param is not None else None
            return Aggregate(op, self.convert(node.expr), param, grouping, without, pos)
        if isinstance(node, pp.UnaryExpr):
            inner = self.convert(node.expr)
            if isinstance(inner, NumberLiteral):
                return NumberLiteral(-inner.value)
            return Unary(inner)
        if isinstance(node, pp.BinaryExpr):
            return self.binary(node)
        raise ParseError(
            f"parse error: unsupported expression {type(node).__name__}", line=1, column=1
        )

    def binary(self, node: Any) -> Binary:
        op = str(node.op)
        bmod: Any = node.modifier
        lhs = self.convert(node.lhs)
        rhs = self.convert(node.rhs)
        if bmod is None:
            card = "many-to-many" if op in SET_OPS else "one-to-one"
            return Binary(op, lhs, rhs, card=card)
        on: bool | None = None
        matching: tuple[str, ...] = ()
        if bmod.matching is not None:
            on = _name(bmod.matching.type) == "Include"
            matching = tuple(bmod.matching.labels)
        fill = bmod.fill_values
        fill_lhs = None if fill is None or fill.lhs is None else float(fill.lhs)
        fill_rhs = None if fill is None or fill.rhs is None else float(fill.rhs)
        card = _CARDS[_name(bmod.card)]
        if op in SET_OPS:
            card = "many-to-many"
        return Binary(
            op,
            lhs,
            rhs,
            bool(bmod.return_bool),
            card,
            on,
            matching,
            tuple(bmod.group_labels or ()),
            fill_lhs,
            fill_rhs,
        )


def _matcher(name: str, op: MatchOp, value: str) -> Matcher:
    try:
        return Matcher.of(name, op, value)
    except BadInput as first:
        # RE2 allows flags such as (?i) in the middle of a group; Python only at the start.
        try:
            compiled = re.compile(f"(?s:^(?:{scope_flags(value)})\\Z)")
        except re.error:
            raise ParseError(f"parse error: {first}", line=1, column=1) from None
        return Matcher(name, op, value, compiled)


def scope_flags(pattern: str) -> str:
    """Rewrite RE2's mid-pattern ``(?i)`` into Python's scoped ``(?i:...)`` (to group end)."""
    out: list[str] = []
    closers: list[int] = []  # per open group: how many extra ")" to add when it closes
    extra_at_end = 0
    i = 0
    in_class = False
    while i < len(pattern):
        c = pattern[i]
        if c == "\\":
            out.append(pattern[i : i + 2])
            i += 2
            continue
        if in_class:
            if c == "]":
                in_class = False
            out.append(c)
            i += 1
            continue
        if c == "[":
            in_class = True
            out.append(c)
            i += 1
            continue
        m = re.match(r"\(\?([imsU-]+)\)", pattern[i:])
        if m:
            out.append(f"(?{m.group(1).replace('U', '')}:")
            if closers:
                closers[-1] += 1
            else:
                extra_at_end += 1
            i += m.end()
            continue
        if c == "(":
            closers.append(0)
        elif c == ")" and closers:
            out.append(")" * closers.pop())
        out.append(c)
        i += 1
    return "".join(out) + ")" * extra_at_end


def parse_query(query: str) -> Expr:
    """Parse PromQL text into Spyglass's syntax tree.

    Raises ``ParseError`` (line and column 1-based) for anything that does not parse or fails
    Prometheus' static type checks.
    """
    if not query.strip():
        raise ParseError("parse error: no expression found in input", line=1, column=1)
    if "\x00" in query:
        raise ParseError("parse error: unexpected character: '\\x00'", line=1, column=1)
    if MODIFIER_RE.search(query):
        query = mark_modifiers(query)
    try:
        tree = pp.parse(query)
    except ValueError as exc:
        tree = parse_info_selectors(query, str(exc))
        if tree is None:
            raise parse_error(query, str(exc)) from None
    except BaseException as exc:
        if isinstance(exc, (KeyboardInterrupt, SystemExit)):
            raise
        raise ParseError(f"parse error: {exc}", line=1, column=1) from None
    try:
        expr = _Converter(query).convert(tree)
    except ParseError:
        raise
    except BadInput as exc:
        raise ParseError(f"parse error: {exc}", line=1, column=1) from None
    except BaseException as exc:
        if isinstance(exc, (KeyboardInterrupt, SystemExit)):
            raise
        raise ParseError(f"parse error: {exc}", line=1, column=1) from None
    _check(expr)
    return expr


def _check(expr: Expr) -> None:
    """Static checks the binding leaves out."""
    if isinstance(expr, VectorSelector):
        if not any(not m.matches_empty() for m in expr.matchers):
            raise ParseError(
                "parse error: vector selector must contain at least one non-empty matcher",
                line=1,
                column=1,
            )
        return
    if isinstance(expr, MatrixSelector):
        _check(expr.selector)
        return
    if isinstance(expr, Subquery):
        _check(expr.expr)
        return
    if isinstance(expr, Call):
        # info()'s data-label selector may match the empty string only.
        for a in expr.args[:1] if expr.name == "info" else expr.args:
            _check(a)
        return
    if isinstance(expr, Aggregate):
        _check(expr.expr)
        if expr.param is not None:
            _check(expr.param)
        return
    if isinstance(expr, Binary):
        _check(expr.lhs)
        _check(expr.rhs)
        return
    if isinstance(expr, Unary):
        _check(expr.expr)


__all__ = [
    "COMPARISON_OPS",
    "SET_OPS",
    "Aggregate",
    "At",
    "Binary",
    "Call",
    "Expr",
    "MatrixSelector",
    "NumberLiteral",
    "StringLiteral",
    "Subquery",
    "Unary",
    "ValueKind",
    "VectorSelector",
    "children",
    "kind_of",
    "parse_query",
    "position_of",
]
