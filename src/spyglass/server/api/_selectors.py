"""``match[]`` series selectors, parsed with the PromQL parser and turned into matchers."""

from __future__ import annotations

import promql_parser

from spyglass.core.errors import ParseError
from spyglass.core.labels import METRIC_NAME
from spyglass.core.matchers import Matcher, MatchOp
from spyglass.promql import parse_native

_OPS = {
    "MatchOp.Equal": MatchOp.EQUAL,
    "MatchOp.NotEqual": MatchOp.NOT_EQUAL,
    "MatchOp.Re": MatchOp.REGEX,
    "MatchOp.NotRe": MatchOp.NOT_REGEX,
}


def parse_selector(text: str) -> list[Matcher]:
    """Parse one series selector (``up{job="api"}``) into matchers.

    Raises ``ParseError`` for anything that is not a plain instant vector selector, with
    Prometheus' wording where it has one.
    """
    try:
        expr = parse_native(text)
    except ValueError as exc:
        raise ParseError(f"parse error: {exc}") from None
    if not isinstance(expr, promql_parser.VectorSelector):
        raise ParseError("parse error: match[] must be a series selector, not an expression")
    matchers: list[Matcher] = []
    if expr.name:
        matchers.append(Matcher.of(METRIC_NAME, MatchOp.EQUAL, expr.name))
    for m in expr.matchers.matchers:
        op = _OPS.get(str(m.op))
        if op is None:  # a newer parser version with an operator we do not know
            raise ParseError(f"parse error: unsupported matcher operator {m.op}")
        matchers.append(Matcher.of(m.name, op, m.value))
    if all(m.matches_empty() for m in matchers):
        raise ParseError("parse error: vector selector must contain at least one non-empty matcher")
    return matchers


def parse_selectors(texts: list[str]) -> list[list[Matcher]]:
    """Parse every ``match[]`` value."""
    return [parse_selector(t) for t in texts]


__all__ = ["parse_selector", "parse_selectors"]
