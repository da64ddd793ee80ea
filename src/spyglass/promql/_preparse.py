"""Rewrites that let ``promql-parser`` 0.12 read syntax newer than it knows.

``info(m, {data=~".*"})`` may use a selector that only matches the empty string (the binding
requires a non-empty matcher), and Prometheus 3's ``anchored``/``smoothed`` selector modifiers
are unknown to it. Both are rewritten into marker matchers that the converter in ``_ast`` removes
again (``INFO_PLACEHOLDER``, ``MODIFIER_MARKER``).
"""

from __future__ import annotations

import re
from typing import Any

import promql_parser as pp

INFO_PLACEHOLDER = "__spyglass_info__"
MODIFIER_MARKER = "__spyglass_modifier__"
MODIFIER_RE = re.compile(r"(?<![\w:.\"'])(anchored|smoothed)(?![\w:])")
_SUFFIX_RE = re.compile(r"(?:offset\s+[-+]?[\w.]+|@\s*(?:[-+]?[\w.]+(?:\(\))?))\s*$")


def parse_native(text: str) -> Any:
    """``promql_parser.parse``, with a panic of the Rust parser raised as ``ValueError``.

    The binding panics on some input (``x offset 1e308`` overflows its Duration), and pyo3
    raises a panic as ``PanicException``, a ``BaseException`` that ``except Exception`` misses.
    """
    try:
        return pp.parse(text)
    except ValueError:
        raise
    except BaseException as exc:
        if isinstance(exc, (KeyboardInterrupt, SystemExit)):
            raise
        raise ValueError(str(exc) or type(exc).__name__) from None


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
    for m in reversed(list(MODIFIER_RE.finditer(query))):
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
            glue = (
                marker
                if not inner.strip()
                else (marker if inner.rstrip().endswith(",") else "," + marker)
            )
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


def parse_info_selectors(query: str, message: str) -> Any:
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
                    text = f'{text[:at]}{INFO_PLACEHOLDER}="1",{text[at:]}'
                break
            i += 1
    try:
        return parse_native(text)
    except ValueError:
        return None


__all__ = [
    "INFO_PLACEHOLDER",
    "MODIFIER_MARKER",
    "MODIFIER_RE",
    "mark_modifiers",
    "parse_info_selectors",
    "parse_native",
]
