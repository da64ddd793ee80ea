"""Duration expressions (Prometheus 3, experimental): ``x[5m+30s]``, ``x[step()*2:10s]``,
``x offset -(min_of(step(), 1s))``.

``promql-parser`` 0.12 predates them, so the engine rewrites each one into a plain duration before
parsing, once the query's step and range are known (``step()`` and ``range()`` depend on them).
Inside brackets the whole text is an arithmetic expression; after ``offset`` only one term is
(a literal, a parenthesised expression or a function call, with an optional sign), so that
``x offset 100 + 2`` still adds 2 to the selected value, as in Prometheus. Numbers without a unit
are seconds.
"""

from __future__ import annotations

import math
import re

from spyglass.core.errors import BadInput, ParseError
from spyglass.core.times import MAX_INT64, parse_duration_ms

_PLAIN_DURATION = re.compile(r"^\s*(?:\d+(?:ms|y|w|d|h|m|s))+\s*$")
_TOKEN = re.compile(
    r"\s*(?:(?P<dur>(?:\d+(?:ms|y|w|d|h|m|s))+)(?![\w.])|(?P<num>(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)"
    r"|(?P<name>[A-Za-z_]\w*)|(?P<op>[-+*/%^(),]))"
)


class _Expr:
    """Recursive-descent evaluator of one duration expression, in seconds."""

    def __init__(self, text: str, step_s: float, range_s: float) -> None:
        self.tokens: list[tuple[str, str]] = []
        pos = 0
        text = text.strip()
        while pos < len(text):
            m = _TOKEN.match(text, pos)
            if m is None or m.end() == pos:
                raise ParseError(
                    f"parse error: invalid duration expression {text!r}", line=1, column=1
                )
            kind = m.lastgroup or ""
            self.tokens.append((kind, m.group(kind)))
            pos = m.end()
            while pos < len(text) and text[pos].isspace():
                pos += 1
        self.i = 0
        self.step_s = step_s
        self.range_s = range_s

    def peek(self) -> tuple[str, str]:
        return self.tokens[self.i] if self.i < len(self.tokens) else ("", "")

    def take(self, value: str | None = None) -> tuple[str, str]:
        tok = self.peek()
        if not tok[0] or (value is not None and tok[1] != value):
            raise ParseError("parse error: invalid duration expression", line=1, column=1)
        self.i += 1
        return tok

    def parse(self) -> float:
        try:
            value = self.additive()
        except RecursionError:
            raise ParseError(
                "parse error: duration expression nested too deeply", line=1, column=1
            ) from None
        if self.i != len(self.tokens):
            raise ParseError("parse error: invalid duration expression", line=1, column=1)
        return value

    def additive(self) -> float:
        value = self.multiplicative()
        while self.peek()[1] in ("+", "-") and self.peek()[0] == "op":
            op = self.take()[1]
            rhs = self.multiplicative()
            value = value + rhs if op == "+" else value - rhs
        return value

    def multiplicative(self) -> float:
        value = self.unary()
        while self.peek()[1] in ("*", "/", "%") and self.peek()[0] == "op":
            op = self.take()[1]
            rhs = self.unary()
            if op == "*":
                value *= rhs
            elif op == "/":
                value = value / rhs if rhs else math.inf
            else:
                value = math.fmod(value, rhs) if rhs else math.nan
        return value

    def unary(self) -> float:
        # As in PromQL, ^ binds tighter than a leading sign: -2 ^ 2 is -4.
        if self.peek() in (("op", "-"), ("op", "+")):
            sign = -1.0 if self.take()[1] == "-" else 1.0
            return sign * self.unary()
        return self.power()

    def power(self) -> float:
        base = self.atom()
        if self.peek() == ("op", "^"):
            self.take()
            exponent = self.unary()
            try:
                return math.pow(base, exponent)
            except (ValueError, OverflowError, ZeroDivisionError):
                return math.nan  # Go's math.Pow gives NaN/Inf; either way not a duration
        return base

    def atom(self) -> float:
        kind, text = self.take()
        if kind == "num":
            return float(text)
        if kind == "dur":
            return parse_duration_ms(text) / 1000.0
        if kind == "op" and text == "(":
            value = self.additive()
            self.take(")")
            return value
        if kind == "name":
            name = text.lower()
            self.take("(")
            args: list[float] = []
            if self.peek() != ("op", ")"):
                args.append(self.additive())
                while self.peek() == ("op", ","):
                    self.take()
                    args.append(self.additive())
            self.take(")")
            if name == "step" and not args:
                return self.step_s
            if name == "range" and not args:
                return self.range_s
            if name in ("min_of", "max_of") and len(args) == 2:
                return min(args) if name == "min_of" else max(args)
        raise ParseError(
            f"parse error: unexpected {text!r} in duration expression", line=1, column=1
        )


def _ms_text(seconds: float) -> str:
    if math.isnan(seconds) or math.isinf(seconds):
        raise ParseError("parse error: duration expression is not finite", line=1, column=1)
    ms = seconds * 1000
    if not abs(ms) <= MAX_INT64:  # durations are int64 milliseconds, as in Prometheus
        raise ParseError("parse error: duration expression out of range", line=1, column=1)
    whole = round(ms)
    return f"-{-whole}ms" if whole < 0 else f"{whole}ms"


def _scan_to(text: str, i: int, closing: str) -> int:
    """Index of the ``closing`` bracket matching the opener just before ``i``."""
    depth = 0
    while i < len(text):
        c = text[i]
        if c in "([{":
            depth += 1
        elif c in ")]}":
            if depth == 0:
                return i if c == closing else -1
            depth -= 1
        i += 1
    return -1


def _split_colon(body: str) -> list[str]:
    depth = 0
    for i, c in enumerate(body):
        if c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
        elif c == ":" and depth == 0:
            return [body[:i], body[i + 1 :]]
    return [body]


def _rewrite_bracket(body: str, step_s: float, range_s: float) -> str:
    parts = _split_colon(body)
    out = []
    for part in parts:
        if not part.strip() or _PLAIN_DURATION.match(part):
            out.append(part)
        else:
            out.append(_ms_text(_Expr(part, step_s, range_s).parse()))
    return ":".join(out)


_OFFSET_TERM = re.compile(
    r"\s*[-+]?\s*(?:\(|[A-Za-z_]\w*\s*\(|(?:\d+(?:ms|y|w|d|h|m|s))+(?![\w.])"
    r"|(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)"
)


def expand_durations(query: str, step_ms: int, range_ms: int) -> str:
    """``query`` with every duration expression replaced by a literal duration."""
    if "[" not in query and "offset" not in query.lower():
        return query
    step_s, range_s = step_ms / 1000.0, range_ms / 1000.0
    out: list[str] = []
    i = 0
    n = len(query)
    while i < n:
        c = query[i]
        if c in "\"'`":
            j = i + 1
            while j < n and query[j] != c:
                j += 2 if query[j] == "\\" and c != "`" else 1
            out.append(query[i : j + 1])
            i = j + 1
            continue
        if c == "[":
            j = _scan_to(query, i + 1, "]")
            if j < 0:
                out.append(query[i:])
                break
            out.append("[" + _rewrite_bracket(query[i + 1 : j], step_s, range_s) + "]")
            i = j + 1
            continue
        m = re.compile(r"offset\b", re.IGNORECASE).match(query, i)
        if m and (i == 0 or not (query[i - 1].isalnum() or query[i - 1] in "_:")):
            term = _OFFSET_TERM.match(query, m.end())
            if term is None:
                out.append(query[i : m.end()])
                i = m.end()
                continue
            end = term.end()
            if query[end - 1] == "(":
                close = _scan_to(query, end, ")")
                if close < 0:
                    out.append(query[i:])
                    break
                end = close + 1
            text = query[m.end() : end]
            plain = re.fullmatch(r"\s*-?\s*(?:\d+(?:ms|y|w|d|h|m|s))+\s*", text)
            if plain:
                out.append(query[i:end])
            else:
                value = _ms_text(_Expr(text, step_s, range_s).parse())
                # The parser refuses "0ms" but takes a bare 0 for a zero offset.
                out.append("offset " + ("0" if value == "0ms" else value))
            i = end
            continue
        out.append(c)
        i += 1
    return "".join(out)


def has_duration_expression(query: str) -> bool:
    """Cheap check: anything that might need ``expand_durations``."""
    try:
        return expand_durations(query, 0, 0) != query
    except (ParseError, BadInput):
        return True


__all__ = ["expand_durations", "has_duration_expression"]
