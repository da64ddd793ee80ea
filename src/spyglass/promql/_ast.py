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
            if m.name == _INFO_PLACEHOLDER:
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
            name, tuple(matchers), _ms(node.offset), _at(node.at), pos, modifier
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
                inner, _ms(node.range), _ms(node.step), _ms(node.offset), _at(node.at)
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
            op, lhs, rhs, bool(bmod.return_bool), card, on, matching,
            tuple(bmod.group_labels or ()), fill_lhs, fill_rhs,
        )


def _matcher(name: str, op: MatchOp, value: str) -> Matcher:
    try:
        return Matcher.of(name, op, value)
    except BadInput:
        # RE2 allows flags such as (?i) in the middle of a group; Python only at the start.
        return Matcher(name, op, value, re.compile(f"(?s:^(?:{scope_flags(value)})$)"))


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
    if "unclosed left parenthesis" in message:
        return _unclosed_paren(query)
    if any(word in message for word in _INCOMPLETE):
        return len(query)
    tokens = [(m.start(), m.end()) for m in _TOKEN_RE.finditer(query)][:_MAX_LOCATE_TOKENS]
    if message == "invalid promql query":
        # The generic message: the error is at the first token after which no continuation
        # can make the query valid.
        for start, end in tokens:
            if query[start:end].strip() and not _viable(query[:end]):
                return start
        return len(query)
    for start, end in tokens:
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


_COMPLETIONS = ("", " x", "x", " (x)", "(x)", " 1", "1", "5m]", "[5m]", "x[5m]", ' "x"', '"x"',
                "=\"x\"", " (x) (x)", ":1m]", " 5m", "x) (x)", ") (x)", " x) (x)")


def _closers(text: str) -> str:
    """The brackets that would close everything ``text`` leaves open."""
    pairs = {"(": ")", "[": "]", "{": "}"}
    stack: list[str] = []
    quote = ""
    i = 0
    while i < len(text):
        c = text[i]
        if quote:
            if c == "\\" and quote != "`":
                i += 1
            elif c == quote:
                quote = ""
        elif c in "\"'`":
            quote = c
        elif c in pairs:
            stack.append(pairs[c])
        elif c in ")]}" and stack and stack[-1] == c:
            stack.pop()
        i += 1
    return quote + "".join(reversed(stack))


def _viable(prefix: str) -> bool:
    """Whether some short continuation turns ``prefix`` into a query that parses."""
    for tail in _COMPLETIONS:
        text = prefix + tail
        try:
            pp.parse(text + _closers(text))
        except BaseException:  # noqa: BLE001, S112 - any failure: try the next continuation
            continue
        return True
    return False


def _unclosed_paren(query: str) -> int:
    """Offset of the "(" that is never closed (Prometheus points there)."""
    stack: list[int] = []
    quote = ""
    i = 0
    while i < len(query):
        c = query[i]
        if quote:
            if c == "\\" and quote != "`":
                i += 1
            elif c == quote:
                quote = ""
        elif c in "\"'`":
            quote = c
        elif c == "#":
            nl = query.find("\n", i)
            i = len(query) if nl < 0 else nl
        elif c == "(":
            stack.append(i)
        elif c == ")" and stack:
            stack.pop()
        i += 1
    return stack[0] if stack else len(query)


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
    if _MODIFIER_RE.search(query):
        query = mark_modifiers(query)
    try:
        tree = pp.parse(query)
    except ValueError as exc:
        tree = _parse_info_selectors(query, str(exc))
        if tree is None:
            raise _fail(query, str(exc)) from None
    except BaseException as exc:
        if isinstance(exc, (KeyboardInterrupt, SystemExit)):
            raise
        raise ParseError(f"parse error: {exc}", line=1, column=1) from None
    try:
        expr = _Converter(query).convert(tree)
    except BadInput as exc:
        if isinstance(exc, ParseError):
            raise
        raise ParseError(f"parse error: {exc}", line=1, column=1) from None
    _check(expr)
    return expr


_INFO_PLACEHOLDER = "__spyglass_info__"
MODIFIER_MARKER = "__spyglass_modifier__"
_MODIFIER_RE = re.compile(r"(?<![\w:.\"'])(anchored|smoothed)(?![\w:])")
_SUFFIX_RE = re.compile(r"(?:offset\s+[-+]?[\w.]+|@\s*(?:[-+]?[\w.]+(?:\(\))?))\s*$")


def _match_back(text: str, close: int, opener: str) -> int:
    """Index of the opener matching the bracket at ``close`` (strings inside are skipped)."""
    depth = 0
    closer = text[close]
    i = close
    while i >= 0:
        c = text[i]
        if c == closer:
            depth += 1
        elif c == opener:
            depth -= 1
            if depth == 0:
                return i
        i -= 1
    return -1


def mark_modifiers(query: str) -> str:
    """Move ``anchored``/``smoothed`` (Prometheus 3 extended selectors, which the binding does
    not know) into a marker matcher on the selector they follow; the converter takes it out."""
    out = query
    for m in reversed(list(_MODIFIER_RE.finditer(query))):
        if _in_string(out, m.start()):
            continue
        j = m.start() - 1
        while j >= 0 and out[j].isspace():
            j -= 1
        while True:
            suffix = _SUFFIX_RE.search(out[: j + 1])
            if suffix:
                j = suffix.start() - 1
                while j >= 0 and out[j].isspace():
                    j -= 1
                continue
            if j >= 0 and out[j] == "]":
                j = _match_back(out, j, "[") - 1
                while j >= 0 and out[j].isspace():
                    j -= 1
                continue
            break
        marker = f'{MODIFIER_MARKER}="{m.group(1)}"'
        rest = out[: m.start()] + out[m.end() :]
        if j >= 0 and out[j] == "}":
            k = _match_back(out, j, "{")
            inner = out[k + 1 : j]
            glue = marker if not inner.strip() else (
                marker if inner.rstrip().endswith(",") else "," + marker)
            out = rest[:j] + glue + rest[j:]
        elif j >= 0 and (out[j].isalnum() or out[j] in "_:"):
            out = rest[: j + 1] + "{" + marker + "}" + rest[j + 1 :]
        # anything else (a subquery, a parenthesis): leave it for the parser to reject
    return out


def _in_string(text: str, pos: int) -> bool:
    quote = ""
    for c in text[:pos]:
        if quote:
            if c == quote:
                quote = ""
        elif c in "\"'`":
            quote = c
    return bool(quote)


def _parse_info_selectors(query: str, message: str) -> Any:
    """Retry a query whose ``info()`` data-label selector has only empty-matching matchers.

    Prometheus allows ``info(m, {data=~".*"})``; the binding applies the general rule that a
    selector needs a non-empty matcher. A placeholder matcher makes it parse; the converter
    drops it again.
    """
    if "non-empty matcher" not in message or "info" not in query:
        return None
    text = query
    for m in reversed(list(re.finditer(r"(?<![\w:])info\s*\(", query))):
        depth = 0
        i = m.end()
        quote = ""
        while i < len(text):
            c = text[i]
            if quote:
                if c == "\\":
                    i += 1
                elif c == quote:
                    quote = ""
            elif c in "\"'`":
                quote = c
            elif c in "([{":
                depth += 1
            elif c in ")]}":
                if depth == 0:
                    break
                depth -= 1
            elif c == "," and depth == 0:
                rest = text[i + 1 :]
                brace = len(rest) - len(rest.lstrip())
                if rest[brace : brace + 1] == "{":
                    at = i + 1 + brace + 1
                    text = f'{text[:at]}{_INFO_PLACEHOLDER}="1",{text[at:]}'
                break
            i += 1
    try:
        return pp.parse(text)
    except ValueError:
        return None


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
