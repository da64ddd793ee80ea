"""``line_format`` and ``label_format`` templates: Go templates over a line's labels.

The data is the line's label set as a ``map[string]string`` with ``missingkey=zero`` (a missing
label renders empty), and the functions are Loki's: the strings package's (``ToUpper``,
``TrimSpace``, ...), the Sprig subset Loki offers (``upper``, ``trunc``, ``regexReplaceAll``,
``default``, arithmetic, ...) and ``__line__``/``__timestamp__``, which read the line being
formatted. The template engine itself is ``spyglass.core.template``.
"""

from __future__ import annotations

import base64
import functools
import math
import re
import urllib.parse
from collections.abc import Callable
from typing import Any

from spyglass.core.template import GoTime, StringMap, Template
from spyglass.logs._regex import compile_go_regex


class _Current:
    """The line and timestamp ``__line__``/``__timestamp__`` read during one execution."""

    __slots__ = ("line", "ts_ns")

    def __init__(self) -> None:
        self.line = ""
        self.ts_ns = 0


def _int(v: object) -> int:
    if isinstance(v, bool):
        return int(v)
    if isinstance(v, int):
        return v
    if isinstance(v, float):
        return int(v) if math.isfinite(v) else 0
    try:
        return int(float(str(v)))
    except ValueError:
        return 0


def _float(v: object) -> float:
    if isinstance(v, (int, float)):
        return float(v)
    try:
        return float(str(v))
    except ValueError:
        return 0.0


def _trunc(n: object, s: str) -> str:
    c = _int(n)
    if c < 0 and len(s) + c > 0:
        return s[len(s) + c :]
    if c >= 0 and len(s) > c:
        return s[:c]
    return s


def _substr(start: object, end: object, s: str) -> str:
    a, b = _int(start), _int(end)
    if a < 0:
        return s[:b]
    if b < 0 or b > len(s):
        return s[a:]
    return s[a:b]


def _title(s: str) -> str:
    return re.sub(r"(^|\s)(\S)", lambda m: m.group(1) + m.group(2).upper(), s)


def _default(d: object, *given: object) -> object:
    if not given:
        return d
    v = given[0]
    if v is None or v is False or v in ("", 0):
        return d
    return v


def _regex_replace_all(regex: str, s: str, repl: str) -> str:
    # Go's ${1} and $1 expansion.
    py_repl = re.sub(r"\$\{(\w+)\}|\$(\w+)", lambda m: f"\\g<{m.group(1) or m.group(2)}>", repl)
    return str(compile_go_regex(regex).sub(py_repl.replace("\\\\", "\\"), s))


def _regex_replace_all_literal(regex: str, s: str, repl: str) -> str:
    return str(compile_go_regex(regex).sub(lambda _: repl, s))


def _count(sub: str, s: str) -> int:
    return len(compile_go_regex(sub).findall(s))


def _functions(current: _Current) -> dict[str, Callable[..., Any]]:
    def line() -> str:
        return current.line

    def timestamp() -> GoTime:
        return GoTime(current.ts_ns)

    return {
        "__line__": line,
        "__timestamp__": timestamp,
        # Go's strings package, as Loki names it.
        "ToLower": lambda s: str(s).lower(),
        "ToUpper": lambda s: str(s).upper(),
        "Replace": lambda s, old, new, n: str(s).replace(
            str(old), str(new), _int(n) if _int(n) >= 0 else -1
        ),
        "Trim": lambda s, cut: str(s).strip(str(cut)),
        "TrimLeft": lambda s, cut: str(s).lstrip(str(cut)),
        "TrimRight": lambda s, cut: str(s).rstrip(str(cut)),
        "TrimPrefix": lambda s, p: str(s).removeprefix(str(p)),
        "TrimSuffix": lambda s, p: str(s).removesuffix(str(p)),
        "TrimSpace": lambda s: str(s).strip(),
        # Sprig's, as Loki offers them.
        "lower": lambda s: str(s).lower(),
        "upper": lambda s: str(s).upper(),
        "title": lambda s: _title(str(s)),
        "trunc": lambda n, s: _trunc(n, str(s)),
        "substr": lambda a, b, s: _substr(a, b, str(s)),
        "contains": lambda sub, s: str(sub) in str(s),
        "hasPrefix": lambda p, s: str(s).startswith(str(p)),
        "hasSuffix": lambda p, s: str(s).endswith(str(p)),
        "indent": lambda n, s: "\n".join(" " * _int(n) + ln for ln in str(s).split("\n")),
        "nindent": lambda n, s: "\n" + "\n".join(" " * _int(n) + ln for ln in str(s).split("\n")),
        "replace": lambda old, new, s: str(s).replace(str(old), str(new)),
        "repeat": lambda n, s: str(s) * max(_int(n), 0),
        "trim": lambda s: str(s).strip(),
        "trimAll": lambda cut, s: str(s).strip(str(cut)),
        "trimPrefix": lambda p, s: str(s).removeprefix(str(p)),
        "trimSuffix": lambda p, s: str(s).removesuffix(str(p)),
        "regexReplaceAll": _regex_replace_all,
        "regexReplaceAllLiteral": _regex_replace_all_literal,
        "count": _count,
        "default": _default,
        "alignLeft": lambda n, s: str(s)[: _int(n)].ljust(_int(n)),
        "alignRight": lambda n, s: str(s)[-_int(n) :].rjust(_int(n)) if _int(n) else "",
        "urlencode": lambda s: urllib.parse.quote_plus(str(s)),
        "urldecode": lambda s: urllib.parse.unquote_plus(str(s)),
        "b64enc": lambda s: base64.b64encode(str(s).encode()).decode(),
        "b64dec": lambda s: base64.b64decode(str(s).encode()).decode(errors="replace"),
        "int": _int,
        "float64": _float,
        "add": lambda *a: sum(_int(x) for x in a),
        "sub": lambda a, b: _int(a) - _int(b),
        "mul": lambda *a: functools.reduce(lambda x, y: x * y, (_int(x) for x in a), 1),
        "div": lambda a, b: int(_int(a) / _int(b)),
        "mod": lambda a, b: int(math.fmod(_int(a), _int(b))),
        "addf": lambda *a: sum(_float(x) for x in a),
        "subf": lambda a, *b: _float(a) - sum(_float(x) for x in b),
        "mulf": lambda *a: functools.reduce(lambda x, y: x * y, (_float(x) for x in a), 1.0),
        "divf": lambda a, *b: functools.reduce(
            lambda x, y: x / y, (_float(x) for x in b), _float(a)
        ),
        "max": lambda a, *b: max(_int(x) for x in (a, *b)),
        "min": lambda a, *b: min(_int(x) for x in (a, *b)),
        "maxf": lambda a, *b: max(_float(x) for x in (a, *b)),
        "minf": lambda a, *b: min(_float(x) for x in (a, *b)),
        "ceil": lambda a: float(math.ceil(_float(a))),
        "floor": lambda a: float(math.floor(_float(a))),
        "round": lambda a, p=0, r=0.5: round(_float(a), _int(p)),
    }


class LineTemplate:
    """One compiled ``line_format``/``label_format`` template, run once per line."""

    def __init__(self, text: str) -> None:
        self._current = _Current()
        self._template = Template("line", funcs=_functions(self._current), missing_key="zero")
        self._template.parse(text)

    def render(self, labels: dict[str, str], line: str, ts_ns: int) -> str:
        """The template's output for a line with ``labels``; ``TemplateError`` on failure."""
        self._current.line = line
        self._current.ts_ns = ts_ns
        return self._template.execute(StringMap(labels))


def compile_template(text: str) -> LineTemplate:
    """``text`` compiled; ``TemplateError`` in Go's words when it does not parse.

    Not cached: a template holds the line being rendered, so each query (each thread) needs
    its own.
    """
    return LineTemplate(text)


__all__ = ["LineTemplate", "compile_template"]
