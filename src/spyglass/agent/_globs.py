"""``__path__`` and ``__path_exclude__`` globs, with the doublestar syntax Promtail uses.

``*`` and ``?`` stay within one path segment, ``**`` spans any number of directories (zero
included), ``[abc]`` is a class and ``{a,b}`` an alternation. ``expand`` lists the regular files a
pattern matches now; ``compile_glob`` gives a matcher for exclusions.
"""

from __future__ import annotations

import glob
import os
import re


def braces(pattern: str) -> list[str]:
    """``/var/{a,b}/*.log`` as ``["/var/a/*.log", "/var/b/*.log"]`` (nested braces too)."""
    depth = 0
    start = -1
    for i, c in enumerate(pattern):
        if c == "{":
            if depth == 0:
                start = i
            depth += 1
        elif c == "}" and depth:
            depth -= 1
            if depth == 0:
                options = _split_top(pattern[start + 1 : i])
                head, tail = pattern[:start], pattern[i + 1 :]
                return [p for o in options for p in braces(head + o + tail)]
    return [pattern]


def _split_top(body: str) -> list[str]:
    parts: list[str] = []
    depth = 0
    current: list[str] = []
    for c in body:
        if c == "," and depth == 0:
            parts.append("".join(current))
            current = []
            continue
        depth += (c == "{") - (c == "}")
        current.append(c)
    parts.append("".join(current))
    return parts


def _regex(pattern: str) -> str:
    out: list[str] = []
    i = 0
    n = len(pattern)
    while i < n:
        c = pattern[i]
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif pattern.startswith("**", i):
            out.append(".*")
            i += 2
        elif c == "*":
            out.append("[^/]*")
            i += 1
        elif c == "?":
            out.append("[^/]")
            i += 1
        elif c == "[":
            end = pattern.find("]", i + 2)
            if end < 0:
                out.append(re.escape(c))
                i += 1
                continue
            body = pattern[i + 1 : end]
            if body.startswith("!"):
                body = "^" + body[1:]
            out.append(f"[{body}]")
            i = end + 1
        else:
            out.append(re.escape(c))
            i += 1
    return "".join(out)


def compile_glob(pattern: str) -> re.Pattern[str]:
    """A regex whose ``fullmatch`` tells whether the glob matches a path."""
    return re.compile("|".join(f"(?:{_regex(p)})" for p in braces(pattern)), re.DOTALL)


def expand(pattern: str) -> list[str]:
    """The regular files ``pattern`` matches, sorted."""
    found: set[str] = set()
    for p in braces(pattern):
        for path in glob.glob(p, recursive=True):
            if os.path.isfile(path):
                found.add(path)
    return sorted(found)


__all__ = ["braces", "compile_glob", "expand"]
