"""logfmt lines (``level=info msg="took 3s" user=7``) as key/value pairs, as go-logfmt reads them.

Promtail's ``logfmt`` stage decodes a line with go-logfmt: keys run to ``=`` or a space, values
are bare words or double-quoted strings with Go escapes, a key without ``=`` has an empty
value. A malformed line yields the pairs before the fault, which is what the stage keeps.
"""

from __future__ import annotations

import json

_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\", "/": "/", "b": "\b", "f": "\f"}


def parse_logfmt(line: str) -> tuple[list[tuple[str, str]], str | None]:
    """The pairs of ``line`` in order and, when the line is malformed, what is wrong."""
    pairs: list[tuple[str, str]] = []
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
        if not key:
            return pairs, f"unexpected {line[i]!r} at position {i + 1}"
        if i >= n or line[i] != "=":
            pairs.append((key, ""))
            continue
        i += 1
        if i < n and line[i] == '"':
            j = i + 1
            buf: list[str] = []
            while j < n and line[j] != '"':
                if line[j] == "\\" and j + 1 < n:
                    nxt = line[j + 1]
                    if nxt == "u" and j + 6 <= n:
                        try:
                            buf.append(json.loads(f'"{line[j : j + 6]}"'))
                        except ValueError:
                            return pairs, f"invalid escape at position {j + 1}"
                        j += 6
                        continue
                    buf.append(_ESCAPES.get(nxt, nxt))
                    j += 2
                    continue
                buf.append(line[j])
                j += 1
            if j >= n:
                return pairs, "unterminated quoted value"
            pairs.append((key, "".join(buf)))
            i = j + 1
        else:
            start = i
            while i < n and line[i] > " ":
                if line[i] in '="':
                    return pairs, f"unexpected {line[i]!r} at position {i + 1}"
                i += 1
            pairs.append((key, line[start:i]))
    return pairs, None


__all__ = ["parse_logfmt"]
