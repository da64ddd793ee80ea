"""PromQL's pretty printer, as ``/api/v1/format_query`` uses it.

Prometheus' ``Prettify`` writes an expression on one line when it fits in 100 characters and
otherwise breaks it at its operators, aggregations and function calls, indenting each level by
two spaces. The Rust parser under ``promql-parser`` carries a port of it; this module validates
the query with Spyglass's own parser first, so an invalid query fails with the same message as
``/api/v1/query``, and rewrites number literals the way Go prints them (``fmt.Sprint``:
``1e-07``, ``+Inf``), where Rust's printer writes ``0.0000001`` and ``Inf``.
"""

from __future__ import annotations

import re

import promql_parser as pp

from spyglass.core.template import format_float
from spyglass.promql._ast import parse_query

# A string literal (skipped), an ``@`` timestamp (kept: Prometheus prints it with %.3f), or a
# bare number literal: not part of a name, a duration (``5m``) or another number.
_TOKEN = re.compile(
    r""""(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`"""
    r"|@ *[-+]?[0-9.]+"
    r"|(?<![\w.])(?P<num>(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?|Inf|NaN)(?![\w.=])"
)


def prettify(query: str) -> str:
    """``query`` formatted as Prometheus' ``Prettify`` does; ``ParseError`` if it is invalid.

    Syntax only Spyglass's parser reads (Prometheus 3's ``info()`` on older binding versions)
    has no printer: such a query comes back trimmed but otherwise as written.
    """
    parse_query(query)
    try:
        text = str(pp.parse(query).prettify())
    except ValueError:
        return query.strip()
    return _TOKEN.sub(_go_number, text)


def _go_number(match: re.Match[str]) -> str:
    literal = match.group("num")
    if literal is None:
        return match.group(0)
    if literal == "Inf" and match.string[match.start() - 1 : match.start()] == "-":
        return literal  # "-Inf" is one literal, printed with its own sign
    return go_float(float(literal))


def go_float(value: float) -> str:
    """``fmt.Sprint(value)`` of a Go float64, ``strconv.FormatFloat(v, 'g', -1, 64)``: the
    shortest digits that round-trip, in exponent form when the decimal exponent is below -4 or
    at least 6 (``1e+06``, ``1.23456789e+08``, ``1e-05``), ``+Inf``, ``-Inf``, ``NaN``."""
    return format_float(value, "g", -1)


__all__ = ["go_float", "prettify"]
