"""A ``VariableSource`` over a fixed list of series, for the variable and view tests."""

from __future__ import annotations

import re


class FakeSource:
    """Series as label dicts; ``label_values`` understands ``metric`` and ``metric{l="v"}``."""

    def __init__(self, series: list[dict[str, str]], values: dict[str, float] | None = None):
        self.series = series
        self.values = values or {}
        self.calls: list[tuple[str, ...]] = []

    def _match(self, match: str | None) -> list[dict[str, str]]:
        if not match:
            return self.series
        m = re.match(r"^([a-zA-Z_:][\w:]*)?(?:\{(.*)\})?$", match.strip())
        assert m, match
        name, body = m.group(1), m.group(2) or ""
        pairs = re.findall(r'(\w+)\s*(=~|=)\s*"([^"]*)"', body)
        out = []
        for s in self.series:
            if name and s.get("__name__") != name:
                continue
            ok = True
            for k, op, v in pairs:
                if op == "=" and s.get(k, "") != v:
                    ok = False
                if op == "=~" and not re.fullmatch(v, s.get(k, "")):
                    ok = False
            if ok:
                out.append(s)
        return out

    def label_values(self, label: str, match: str | None, start_ms: int, end_ms: int) -> list[str]:
        self.calls.append(("label_values", label, match or "", str(start_ms), str(end_ms)))
        return sorted({s[label] for s in self._match(match) if label in s})

    def label_names(self, match: str | None, start_ms: int, end_ms: int) -> list[str]:
        self.calls.append(("label_names", match or ""))
        return sorted({k for s in self._match(match) for k in s})

    def instant(self, expr: str, time_ms: int) -> list[tuple[dict[str, str], float]]:
        self.calls.append(("instant", expr, str(time_ms)))
        return [(s, self.values.get(s.get("__name__", ""), 1.0)) for s in self._match(expr)]


SERIES = [
    {"__name__": "http_requests_total", "job": "api", "route": "/users", "instance": "a:1"},
    {"__name__": "http_requests_total", "job": "api", "route": "/orders", "instance": "a:2"},
    {"__name__": "http_requests_total", "job": "web", "route": "/", "instance": "w:1"},
    {"__name__": "up", "job": "api", "instance": "a:1"},
    {"__name__": "up", "job": "web", "instance": "w:1"},
    {"__name__": "node_load1", "job": "node", "instance": "n:1"},
]
