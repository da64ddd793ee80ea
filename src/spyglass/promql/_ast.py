"""PromQL syntax tree: Spyglass's own frozen nodes, built from ``promql-parser``'s AST.

``promql-parser`` (a Rust port of Prometheus' grammar) does the parsing; this module converts its
objects into small frozen dataclasses with times in integer milliseconds, so the evaluator never
touches ``timedelta``/``datetime`` or the binding's enums, and wraps its errors in Prometheus'
error shape (``1:14: parse error: ...``). The binding reports no positions, so the position is
found by re-parsing prefixes of the query (see ``_locate``).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Literal

import promql_parser as pp

from spyglass.core.errors import BadInput, ParseError
from spyglass.core.labels import METRIC_NAME
from spyglass.core.matchers import Matcher, MatchOp

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


@dataclass(frozen=True, slots=True)
class Aggregate:
    """An aggregation; ``grouping`` holds the ``by``/``without`` labels."""

    op: str
    expr: Expr
    param: Expr | None
    grouping: tuple[str, ...]
    without: bool


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


def _at(node: Any) -> At | None:
    if node is None:
        return None
    kind = _name(node.type)
    if kind == "Start":
        return At("start")
    if kind == "End":
        return At("end")
    return At("at", round(node.at.timestamp() * 1000))


def _selector(node: Any) -> VectorSelector:
    matchers: list[Matcher] = []
    name = node.name or ""
    if name:
        matchers.append(Matcher.of(METRIC_NAME, MatchOp.EQUAL, name))
    for m in node.matchers.matchers:
        op = _MATCH_OPS[_name(m.op)]
        matchers.append(Matcher.of(m.name, op, m.value))
        if m.name == METRIC_NAME and op is MatchOp.EQUAL:
            name = m.value
    if node.matchers.or_matchers:
        raise ParseError("parse error: 'or' inside a selector is not supported", line=1, column=1)
    return VectorSelector(name, tuple(matchers), _ms(node.offset), _at(node.at))


def _convert(node: Any) -> Expr:
    if isinstance(node, pp.ParenExpr):
        return _convert(node.expr)
    if isinstance(node, pp.NumberLiteral):
        return NumberLiteral(float(node.val))
    if isinstance(node, pp.StringLiteral):
        return StringLiteral(node.val)
    if isinstance(node, pp.VectorSelector):
        return _selector(node)
    if isinstance(node, pp.MatrixSelector):
        return MatrixSelector(_selector(node.vector_selector), _ms(node.range))
    if isinstance(node, pp.SubqueryExpr):
        return Subquery(
            _convert(node.expr), _ms(node.range), _ms(node.step), _ms(node.offset), _at(node.at)
        )
    if isinstance(node, pp.Call):
        return Call(node.func.name, tuple(_convert(a) for a in node.args))
    if isinstance(node, pp.AggregateExpr):
        mod = node.modifier
        grouping = tuple(mod.labels) if mod is not None else ()
        without = mod is not None and _name(mod.type) == "Without"
        param = _convert(node.param) if node.param is not None else None
        return Aggregate(str(node.op), _convert(node.expr), param, grouping, without)
    if isinstance(node, pp.UnaryExpr):
        inner = _convert(node.expr)
        if isinstance(inner, NumberLiteral):
            return NumberLiteral(-inner.value)
        return Unary(inner)
    if isinstance(node, pp.BinaryExpr):
        op = str(node.op)
        bmod: Any = node.modifier
        lhs, rhs = _convert(node.lhs), _convert(node.rhs)
        if bmod is None:
            card = "many-to-many" if op in SET_OPS else "one-to-one"
            return Binary(op, lhs, rhs, card=card)
        on: bool | None = None
        matching: tuple[str, ...] = ()
        if bmod.matching is not None:
            on = _name(bmod.matching.type) == "Include"
            matching = tuple(bmod.matching.labels)
        fill = bmod.fill_values
        if fill is not None and (fill.lhs is not None or fill.rhs is not None):
            raise ParseError("parse error: fill modifiers are not supported", line=1, column=1)
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
        )
    raise ParseError(f"parse error: unsupported expression {type(node).__name__}", line=1, column=1)


# -- errors with positions --------------------------------------------------------------------

_TOKEN_RE = re.compile(
    r"""\s+|"(?:[^"\\]|\\.)*"?|'(?:[^'\\]|\\.)*'?|`[^`]*`?|[A-Za-z_:][A-Za-z0-9_:.]*"""
    r"""|\d[\w.+]*|=~|!~|!=|==|>=|<=|.""",
    re.DOTALL,
)
_INCOMPLETE = ("end of input", "unclosed", "unterminated")
_MAX_LOCATE_TOKENS = 400


def _position(query: str, offset: int) -> tuple[int, int]:
    before = query[:offset]
    line = before.count("\n") + 1
    column = offset - (before.rfind("\n") + 1) + 1
    return line, column


def _locate(query: str, message: str) -> int:
    """Offset of the token where parsing first fails with ``message``.

    The binding gives no positions; re-parsing growing prefixes finds the first token after which
    the same error appears. Errors about a missing end point just past the query.
    """
    if any(word in message for word in _INCOMPLETE):
        return len(query)
    starts = [m.start() for m in _TOKEN_RE.finditer(query)]
    ends = [m.end() for m in _TOKEN_RE.finditer(query)]
    for start, end in list(zip(starts, ends, strict=True))[:_MAX_LOCATE_TOKENS]:
        if not query[start:end].strip():
            continue
        try:
            pp.parse(query[:end])
        except ValueError as exc:
            if str(exc) == message:
                return start
        except BaseException:  # noqa: BLE001, S112 - a panic on a prefix just means "keep looking"
            continue
    return len(query)


def _fail(query: str, message: str) -> ParseError:
    line, column = _position(query, _locate(query, message))
    return ParseError(f"parse error: {message}", line=line, column=column)


def parse_query(query: str) -> Expr:
    """Parse PromQL text into Spyglass's syntax tree.

    Raises ``ParseError`` (line and column 1-based) for anything that does not parse or fails
    Prometheus' static type checks.
    """
    if not query.strip():
        raise ParseError("parse error: no expression found in input", line=1, column=1)
    if "\x00" in query:
        raise ParseError("parse error: unexpected character: '\\x00'", line=1, column=1)
    try:
        tree = pp.parse(query)
    except ValueError as exc:
        raise _fail(query, str(exc)) from None
    except BaseException as exc:
        if isinstance(exc, (KeyboardInterrupt, SystemExit)):
            raise
        raise ParseError(f"parse error: {exc}", line=1, column=1) from None
    try:
        expr = _convert(tree)
    except BadInput as exc:
        if isinstance(exc, ParseError):
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
        for a in expr.args:
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


def is_finite_number(expr: Expr) -> bool:
    """Whether ``expr`` is a finite number literal."""
    return isinstance(expr, NumberLiteral) and math.isfinite(expr.value)


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
    "kind_of",
    "parse_query",
]
