"""Loki's ``pattern`` expressions: literals and ``<name>`` captures (``<_>`` captures nothing).

``| pattern "<ip> - <_> [<ts>] <msg>"`` extracts labels; ``|> "GET <_> 200"`` filters lines a
pattern matches as a whole. Extraction follows Loki's matcher: a leading literal must start the
line, each capture runs to the first occurrence of the literal after it, the last capture takes
the rest of the line, and when a literal is not found the capture takes the rest and matching
stops there (so a short line fills only the leading captures).
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

_CAPTURE = re.compile(r"<([A-Za-z_][A-Za-z0-9_]*)>")


@dataclass(frozen=True, slots=True)
class Pattern:
    """A compiled pattern: alternating literal (str) and capture (``<name>``) nodes."""

    nodes: tuple[tuple[bool, str], ...]  # (is_capture, literal text or capture name)
    whole: re.Pattern[str]

    @property
    def names(self) -> list[str]:
        return [v for cap, v in self.nodes if cap and v != "_"]

    def extract(self, line: str) -> list[tuple[str, str]]:
        """``(name, value)`` captures of ``line``, in pattern order (Loki's partial matching)."""
        out: list[tuple[str, str]] = []
        if not line or not self.nodes:
            return out
        nodes = list(self.nodes)
        rest = line
        if not nodes[0][0]:
            lit = nodes[0][1]
            if not rest.startswith(lit):
                return out
            rest = rest[len(lit) :]
            nodes = nodes[1:]
        while nodes:
            name = nodes[0][1]
            if len(nodes) == 1:
                if name != "_":
                    out.append((name, rest))
                return out
            lit = nodes[1][1]
            nodes = nodes[2:]
            i = rest.find(lit)
            if i < 0:
                if name != "_":
                    out.append((name, rest))
                return out
            if name != "_":
                out.append((name, rest[:i]))
            rest = rest[i + len(lit) :]
        return out

    def matches(self, line: str) -> bool:
        """Whether the whole ``line`` fits the pattern (the ``|>`` line filter)."""
        return self.whole.fullmatch(line) is not None


@functools.lru_cache(maxsize=512)
def compile_pattern(text: str, *, line_filter: bool) -> Pattern:
    """``text`` compiled; ``ValueError`` with Loki's reason when it is not a valid pattern."""
    nodes: list[tuple[bool, str]] = []
    pos = 0
    for m in _CAPTURE.finditer(text):
        if m.start() > pos:
            nodes.append((False, text[pos : m.start()]))
        elif nodes and nodes[-1][0]:
            raise ValueError(f"found consecutive capture '{m.group()}': invalid pattern")
        nodes.append((True, m.group(1)))
        pos = m.end()
    if pos < len(text):
        nodes.append((False, text[pos:]))
    names = [v for cap, v in nodes if cap and v != "_"]
    if line_filter and names:
        raise ValueError("invalid pattern: named captures are not allowed in line filters")
    if not line_filter and not names:
        raise ValueError("at least one capture is required: invalid pattern")
    if len(set(names)) != len(names):
        raise ValueError("duplicate capture name: invalid pattern")
    parts = []
    for i, (cap, value) in enumerate(nodes):
        if cap:
            parts.append("(.*)" if i == len(nodes) - 1 else "(.*?)")
        else:
            parts.append(re.escape(value))
    return Pattern(tuple(nodes), re.compile("".join(parts), re.DOTALL))


__all__ = ["Pattern", "compile_pattern"]
