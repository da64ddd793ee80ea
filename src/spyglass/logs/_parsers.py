"""The parser stages: ``json``, ``logfmt``, ``regexp``, ``pattern`` and ``unpack``.

Each reads the current line and returns the labels it extracts as ``(name, value)`` pairs, in
the order Loki adds them, or raises ``ExtractError`` with the ``__error__`` value Loki sets
(``JSONParserErr``, ``LogfmtParserErr``) and its details. Names are sanitized as Loki does: any
character other than ``[a-zA-Z0-9_]`` becomes ``_`` and a leading digit gets a ``_`` prefix;
nested json keys join with ``_``. Clash handling (``_extracted``) belongs to the pipeline.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable
from typing import Any

from spyglass.logs._patterns import compile_pattern
from spyglass.logs._regex import compile_go_regex

_BAD_KEY_CHAR = re.compile(r"[^a-zA-Z0-9_]")
_JSON_PATH_PART = re.compile(r'\.?([A-Za-z_][A-Za-z0-9_\-]*)|\[(\d+)\]|\["((?:[^"\\]|\\.)*)"\]')


class ExtractError(Exception):
    """A parser failed on a line: ``kind`` goes to ``__error__``, ``details`` to the details."""

    def __init__(self, kind: str, details: str) -> None:
        super().__init__(details)
        self.kind = kind
        self.details = details


@functools.lru_cache(maxsize=65536)
def sanitize_key(key: str) -> str:
    """A parsed field name as a label name (Loki's ``sanitizeLabelKey``)."""
    key = key.strip()
    if not key:
        return key
    if key[0].isdigit() and key[0].isascii():
        key = "_" + key
    return _BAD_KEY_CHAR.sub("_", key)


# -- json ----------------------------------------------------------------------------------
def _keep_first(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    fast = dict(pairs)
    if len(fast) == len(pairs):
        return fast
    out: dict[str, Any] = {}
    for k, v in pairs:
        out.setdefault(k, v)
    return out


def _load_json(line: str) -> Any:
    try:
        return _DECODER.decode(line)
    except (ValueError, RecursionError) as exc:
        raise ExtractError("JSONParserErr", str(exc)) from None


class _Number(str):
    """A json number, kept as the text it was written as."""


# One decoder for every line (building one per call costs more than decoding a short line).
# Numbers keep their text (Loki copies the literal), duplicate keys keep the first.
_DECODER = json.JSONDecoder(object_pairs_hook=_keep_first, parse_float=_Number, parse_int=_Number)


def _scalar_text(value: Any) -> str | None:
    if value is None:
        return None
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, str):
        return str(value)
    return None


def json_all(line: str) -> list[tuple[str, str]]:
    """Every scalar field of a json object line, nested keys joined with ``_``."""
    doc = _load_json(line)
    if not isinstance(doc, dict):
        raise ExtractError("JSONParserErr", "Value is not an object")
    out: list[tuple[str, str]] = []

    def walk(prefix: str, obj: dict[str, Any]) -> None:
        for key, value in obj.items():
            name = sanitize_key(key)
            if not name:
                continue
            full = f"{prefix}_{name}" if prefix else name
            if isinstance(value, str):
                out.append((full, value))
            elif isinstance(value, dict):
                walk(full, value)
            elif value is True or value is False:
                out.append((full, "true" if value else "false"))

    walk("", doc)
    return out


def parse_json_path(expression: str) -> tuple[str | int, ...]:
    """A json label expression (``user.id``, ``tags[0]``, ``headers["User-Agent"]``) as path
    steps; ``ValueError`` when it is not one."""
    steps: list[str | int] = []
    pos = 0
    while pos < len(expression):
        m = _JSON_PATH_PART.match(expression, pos)
        if m is None or (m.group(0).startswith(".") and pos == 0):
            raise ValueError(expression)
        if m.group(1) is not None:
            if pos and not m.group(0).startswith("."):
                raise ValueError(expression)
            steps.append(m.group(1))
        elif m.group(2) is not None:
            steps.append(int(m.group(2)))
        else:
            steps.append(json.loads(f'"{m.group(3)}"'))
        pos = m.end()
    if not steps:
        raise ValueError(expression)
    return tuple(steps)


def json_paths(line: str, params: tuple[tuple[str, str], ...]) -> list[tuple[str, str]]:
    """The fields ``params`` name (``label="path"``); a path with no match gives ``""``."""
    doc = _load_json(line)
    out: list[tuple[str, str]] = []
    for label, expression in params:
        node: Any = doc
        for step in parse_json_path(expression):
            found = isinstance(step, int) and isinstance(node, list) and step < len(node)
            found = found or (isinstance(step, str) and isinstance(node, dict) and step in node)
            if found:
                node = node[step]
            else:
                node = None
                break
        if isinstance(node, (dict, list)):
            text = json.dumps(node, separators=(",", ":"), ensure_ascii=False)
        else:
            text = _scalar_text(node) or ""
        out.append((label, text))
    return out


def unpack(line: str) -> tuple[list[tuple[str, str]], str | None]:
    """String fields of a json object line, and the ``_entry`` field that replaces the line."""
    doc = _load_json(line)
    if not isinstance(doc, dict):
        raise ExtractError("JSONParserErr", "expecting json object")
    out: list[tuple[str, str]] = []
    entry: str | None = None
    for key, value in doc.items():
        if not isinstance(value, str) or isinstance(value, _Number):
            continue
        if key == "_entry":
            entry = str(value)
            continue
        name = sanitize_key(key)
        if name:
            out.append((name, str(value)))
    return out, entry


# -- logfmt --------------------------------------------------------------------------------
def _logfmt_pairs(line: str) -> tuple[list[tuple[str, str, bool]], str | None]:
    """``(key, value, had_equals)`` pairs and, when the line is malformed, the error."""
    pairs: list[tuple[str, str, bool]] = []
    i, n = 0, len(line)
    while i < n:
        while i < n and line[i] <= " ":
            i += 1
        if i >= n:
            break
        start = i
        while i < n and line[i] > " " and line[i] not in '="':
            i += 1
        key = line[start:i]
        if i < n and line[i] == '"':
            return pairs, f"logfmt syntax error at pos {i + 1} on line 1: unexpected '\"'"
        if not key:
            if i < n and line[i] == "=":
                return pairs, f"logfmt syntax error at pos {i + 1} on line 1: unexpected '='"
            continue
        if i >= n or line[i] != "=":
            pairs.append((key, "", False))
            continue
        i += 1
        if i < n and line[i] == '"':
            j = i + 1
            buf: list[str] = []
            closed = False
            while j < n:
                c = line[j]
                if c == "\\" and j + 1 < n:
                    nxt = line[j + 1]
                    buf.append({"n": "\n", "t": "\t", "r": "\r"}.get(nxt, nxt))
                    j += 2
                    continue
                if c == '"':
                    closed = True
                    j += 1
                    break
                buf.append(c)
                j += 1
            if not closed:
                return (
                    pairs,
                    f"logfmt syntax error at pos {n + 1} on line 1: unterminated quoted value",
                )
            pairs.append((key, "".join(buf), True))
            i = j
        else:
            start = i
            while i < n and line[i] > " ":
                if line[i] in '="':
                    return (
                        pairs,
                        f"logfmt syntax error at pos {i + 1} on line 1: unexpected '{line[i]}'",
                    )
                i += 1
            pairs.append((key, line[start:i], True))
    return pairs, None


def logfmt(
    line: str, params: tuple[tuple[str, str], ...], *, strict: bool, keep_empty: bool
) -> list[tuple[str, str]]:
    """logfmt pairs of ``line`` (only those ``params`` name, renamed, when given)."""
    pairs, error = _logfmt_pairs(line)
    if error is not None and strict:
        raise ExtractError("LogfmtParserErr", error)
    if params:
        found: dict[str, str] = {}
        for key, value, _ in pairs:
            found.setdefault(key, value)
        return [(label, found[key]) for label, key in params if key in found]
    out: list[tuple[str, str]] = []
    for key, value, _ in pairs:
        if not value and not keep_empty:
            continue
        name = sanitize_key(key)
        if name:
            out.append((name, value))
    return out


# -- regexp and pattern --------------------------------------------------------------------
def regexp_extractor(expression: str) -> Callable[[str], list[tuple[str, str]]]:
    """A function giving the named groups of the regexp's first match in a line."""
    regex = compile_go_regex(expression)

    def extract(line: str) -> list[tuple[str, str]]:
        m = regex.search(line)
        if m is None:
            return []
        return [(name, m.group(name) or "") for name in regex.groupindex]

    return extract


def pattern_extractor(expression: str) -> Callable[[str], list[tuple[str, str]]]:
    """A function giving a pattern's captures in a line."""
    return compile_pattern(expression, line_filter=False).extract


__all__ = [
    "ExtractError",
    "json_all",
    "json_paths",
    "logfmt",
    "parse_json_path",
    "pattern_extractor",
    "regexp_extractor",
    "sanitize_key",
    "unpack",
]
