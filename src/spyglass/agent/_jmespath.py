"""The part of JMESPath that Promtail's ``json`` stage configs use: paths.

``expressions`` in Promtail configs are almost always a key (``level``), a dotted path
(``request.user.id``), a quoted key (``"user-agent"``, ``"@timestamp"``) or an index
(``tags[0]``, ``tags[-1]``). This module reads exactly those; anything else of JMESPath
(filters, projections, functions, pipes) is refused at config load with a clear message rather
than evaluated wrongly.
"""

from __future__ import annotations

import json
import re
from typing import Any

_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_QUOTED = re.compile(r'"(?:[^"\\]|\\.)*"')
_INDEX = re.compile(r"\[(-?\d+)\]")

Path = tuple[str | int, ...]


class PathError(ValueError):
    """An expression outside the supported subset (the message says why)."""


def parse_path(expression: str) -> Path:
    """``a.b[0]."c d"`` as steps ``("a", "b", 0, "c d")``; ``PathError`` when unsupported."""
    steps: list[str | int] = []
    pos = 0
    text = expression.strip()
    expect_key = True
    while pos < len(text):
        if expect_key:
            m = _IDENT.match(text, pos)
            if m is not None:
                steps.append(m.group(0))
            else:
                m = _QUOTED.match(text, pos)
                if m is None:
                    break
                try:
                    steps.append(json.loads(m.group(0)))
                except ValueError:
                    break
            pos = m.end()
            expect_key = False
            continue
        m = _INDEX.match(text, pos)
        if m is not None:
            steps.append(int(m.group(1)))
            pos = m.end()
            continue
        if text[pos] == ".":
            pos += 1
            expect_key = True
            continue
        break
    if pos != len(text) or expect_key:
        raise PathError(
            f"unsupported JMESPath expression {expression!r}: spyglass agent reads keys, quoted "
            'keys, dotted paths and [index] (e.g. request.user."user-agent", tags[0])'
        )
    return tuple(steps)


def search(path: Path, document: Any) -> Any:
    """The value at ``path`` in a decoded JSON document, ``None`` where the path leads nowhere
    (JMESPath's null)."""
    node = document
    for step in path:
        if isinstance(step, str):
            if not isinstance(node, dict):
                return None
            node = node.get(step)
        else:
            if not isinstance(node, list) or not -len(node) <= step < len(node):
                return None
            node = node[step]
        if node is None:
            return None
    return node


__all__ = ["Path", "PathError", "parse_path", "search"]
