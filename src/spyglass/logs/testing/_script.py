"""Loki's ``.logqltest`` script format, read into commands.

::

    clear
    load
      {app="a"} "line" @ 20s [repeat every 20s for 4] [metadata k="v"]
    eval instant at 60s count_over_time({app="a"}[1m])
      {app="a"} 3
    eval range from 40s to 80s step 20s <query>
      {app="a"} 2 3 _
      expect fail msg: <text>      (or ``regex: <re>``; bare ``expect fail``: any error)
      expect empty
      expect ordered

``repeat every D for N`` writes N lines in all, D apart. Lines are Go string literals
(``"..."`` or `` `...` ``); ``_`` marks a step without a value.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from spyglass.logs._lexer import unquote
from spyglass.logs._units import literal_duration_ns

_LOAD_LINE = re.compile(
    r"^(\{.*?\})\s+(\"(?:[^\"\\]|\\.)*\"|`[^`]*`)\s+@\s+(\S+)"
    r"(?:\s+\[repeat\s+every\s+(\S+)\s+for\s+(\d+)\s*\])?(?:\s+\[metadata ([^\]]*)\])?\s*(?:#.*)?$"
)
_PAIR = re.compile(r'\s*([A-Za-z_][A-Za-z0-9_]*)\s*=\s*("(?:[^"\\]|\\.)*"|`[^`]*`)\s*,?')
_INSTANT = re.compile(r"^eval instant at (\S+) (.+)$")
_RANGE = re.compile(r"^eval range from (\S+) to (\S+) step (\S+) (.+)$")


class ScriptError(ValueError):
    """A script line that is not in the format."""


@dataclass
class LoadLine:
    """One line (repeated ``count`` times, ``every_ns`` apart) of a stream."""

    labels: dict[str, str]
    line: str
    at_ns: int
    every_ns: int
    count: int
    metadata: dict[str, str]


@dataclass
class Load:
    """A ``load`` block."""

    lines: list[LoadLine]


@dataclass
class Clear:
    """``clear``: forget every stored line."""


@dataclass
class Eval:
    """One ``eval`` and what it expects."""

    line: int
    query: str
    start_ns: int
    end_ns: int
    step_ns: int
    instant: bool
    expected: list[tuple[dict[str, str] | None, list[float | None]]] = field(default_factory=list)
    fail: bool = False
    fail_msg: str | None = None
    fail_regex: str | None = None
    empty: bool = False
    ordered: bool = False


Command = Load | Clear | Eval


def parse_labels(text: str) -> dict[str, str]:
    """``{a="b", c="d"}`` as a dict."""
    text = text.strip()
    if not (text.startswith("{") and text.endswith("}")):
        raise ScriptError(f"not a label set: {text}")
    body = text[1:-1]
    out: dict[str, str] = {}
    pos = 0
    while pos < len(body):
        if not body[pos:].strip():
            break
        m = _PAIR.match(body, pos)
        if m is None:
            raise ScriptError(f"bad label set: {text}")
        out[m.group(1)] = unquote(m.group(2), m.group(2), 0)
        pos = m.end()
    return out


def _value(text: str) -> float | None:
    if text == "_":
        return None
    return float(text.replace("Inf", "inf"))


def _duration(text: str) -> int:
    return literal_duration_ns(text)


def _expected(line: str) -> tuple[dict[str, str] | None, list[float | None]]:
    if line.startswith("{"):
        end = _labels_end(line)
        labels = parse_labels(line[:end])
        values = line[end:].split("#", 1)[0].split()
        return labels, [_value(v) for v in values]
    return None, [_value(v) for v in line.split("#", 1)[0].split()]


def _labels_end(line: str) -> int:
    in_string = ""
    i = 0
    while i < len(line):
        c = line[i]
        if in_string:
            if c == "\\" and in_string == '"':
                i += 2
                continue
            if c == in_string:
                in_string = ""
        elif c in '"`':
            in_string = c
        elif c == "}":
            return i + 1
        i += 1
    raise ScriptError(f"unterminated label set: {line}")


def parse_script(text: str) -> list[Command]:
    """The commands of a script, in order."""
    commands: list[Command] = []
    current: Load | Eval | None = None
    for number, raw in enumerate(text.splitlines(), start=1):
        stripped = raw.strip()
        if not stripped or stripped.startswith("#"):
            continue
        indented = raw[:1].isspace()
        if not indented:
            current = None
            if stripped == "clear":
                commands.append(Clear())
            elif stripped == "load":
                current = Load([])
                commands.append(current)
            elif m := _INSTANT.match(stripped):
                at = _duration(m.group(1))
                current = Eval(number, m.group(2), at, at, 0, True)
                commands.append(current)
            elif m := _RANGE.match(stripped):
                current = Eval(
                    number,
                    m.group(4),
                    _duration(m.group(1)),
                    _duration(m.group(2)),
                    _duration(m.group(3)),
                    False,
                )
                commands.append(current)
            else:
                raise ScriptError(f"line {number}: unknown command: {stripped}")
            continue
        if isinstance(current, Load):
            m = _LOAD_LINE.match(stripped)
            if m is None:
                raise ScriptError(f"line {number}: bad load line: {stripped}")
            metadata = parse_labels("{" + m.group(6) + "}") if m.group(6) else {}
            current.lines.append(
                LoadLine(
                    parse_labels(m.group(1)),
                    unquote(m.group(2), m.group(2), 0),
                    _duration(m.group(3)),
                    _duration(m.group(4)) if m.group(4) else 0,
                    int(m.group(5)) if m.group(5) else 1,
                    metadata,
                )
            )
        elif isinstance(current, Eval):
            if stripped.startswith("expect fail"):
                current.fail = True
                rest = stripped[len("expect fail") :].strip()
                if rest.startswith("msg:"):
                    current.fail_msg = rest[4:].strip()
                elif rest.startswith("regex:"):
                    current.fail_regex = rest[6:].strip()
            elif stripped == "expect empty":
                current.empty = True
            elif stripped == "expect ordered":
                current.ordered = True
            elif stripped.startswith("skip "):
                continue
            else:
                current.expected.append(_expected(stripped))
        else:
            raise ScriptError(f"line {number}: indented line outside a block: {stripped}")
    return commands


__all__ = [
    "Clear",
    "Command",
    "Eval",
    "Load",
    "LoadLine",
    "ScriptError",
    "parse_labels",
    "parse_script",
]
