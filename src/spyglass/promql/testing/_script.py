"""Reading Prometheus' promqltest scripts (``.test`` files) into commands.

The format: ``load <step>`` (or ``load_with_nhcb``) followed by indented ``<series> <points>``
lines, ``clear``, and ``eval instant at <t> <expr>`` / ``eval range from <t> to <t> step <d>
<expr>`` followed by ``expect ...`` lines and expected series. Deprecated spellings
(``eval_fail``, ``eval_warn``, ``eval_info``, ``eval_ordered``, ``expected_fail_message``,
``expected_fail_regexp``) are read too. Points use the expanding syntax ``a+bxn``, ``a-bxn``,
``axn``, ``_``, ``_xn``, ``stale``; native histogram points (``{{...}}``) are recorded as such
so the runner can skip what depends on them.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

import promql_parser as pp

from spyglass.core.errors import BadInput
from spyglass.core.labels import METRIC_NAME, Labels, labels_of
from spyglass.core.samples import STALE_NAN
from spyglass.core.times import MAX_INT64, parse_duration_ms


class ScriptError(ValueError):
    """A line of a test script that cannot be read."""

    def __init__(self, path: str, line: int, message: str) -> None:
        super().__init__(f"{path}:{line}: {message}")


@dataclass
class SeriesPoints:
    """A series and its points: ``None`` means no sample at that position."""

    labels: Labels
    values: list[float | None]
    histogram: bool = False


@dataclass
class Load:
    """``load``: add series with samples every ``step_ms`` from time 0."""

    line: int
    step_ms: int
    series: list[SeriesPoints]
    nhcb: bool = False


@dataclass
class Clear:
    """``clear``: forget every series."""

    line: int


@dataclass
class Expect:
    """An ``expect`` line: kind (fail, warn, info, no_warn, no_info, ordered) and message."""

    kind: str
    match: str = ""  # "", "msg" or "regex"
    text: str = ""


@dataclass
class Eval:
    """An ``eval`` command with its expectations."""

    line: int
    query: str
    instant: bool
    time_ms: int = 0
    start_ms: int = 0
    end_ms: int = 0
    step_ms: int = 0
    expects: list[Expect] = field(default_factory=list)
    series: list[SeriesPoints] = field(default_factory=list)
    scalar: float | None = None
    string: str | None = None
    range_vector: tuple[int, int, int] | None = None
    has_histogram: bool = False

    def wants(self, kind: str) -> list[Expect]:
        """The expectations of one kind."""
        return [e for e in self.expects if e.kind == kind]


@dataclass
class Broken:
    """A command this reader cannot understand; the runner reports it as a failed case."""

    line: int
    text: str
    message: str


Command = Load | Clear | Eval | Broken

_UNSIGNED = r"(?:0[xX][0-9a-fA-F]+|(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?|[iI]nf|NaN|nan)"
_SEQ_RE = re.compile(rf"^([-+]?{_UNSIGNED})(?:([-+])({_UNSIGNED}))?x(\d+)$")
_BLANK_SEQ_RE = re.compile(r"^_x(\d+)$")
_EVAL_INSTANT_RE = re.compile(r"^eval(?:_(fail|warn|info|ordered))?\s+instant\s+at\s+(\S+)\s+(.*)$")
_EVAL_RANGE_RE = re.compile(
    r"^eval(?:_(fail|warn|info|ordered))?\s+range\s+from\s+(\S+)\s+to\s+(\S+)\s+step\s+(\S+)\s+(.*)$"
)
_EXPECT_RE = re.compile(r"^expect\s+(\w+)(?:\s+(msg|regex)\s*:\s*(.*))?$")
_RANGE_VECTOR_RE = re.compile(
    r"^expect\s+range\s+vector\s+from\s+(\S+)\s+to\s+(\S+)\s+step\s+(\S+)$"
)


def parse_number(text: str) -> float:
    """A float in the test format (Go's ParseFloat spellings, hex integers)."""
    t = text.strip()
    sign = 1.0
    body = t
    if body[:1] in "+-":
        sign = -1.0 if body[0] == "-" else 1.0
        body = body[1:]
    if body.lower().startswith("0x"):
        return sign * float(int(body, 16))
    if body.lower() in ("inf", "+inf"):
        return sign * math.inf
    if body.lower() == "nan":
        return math.nan
    return sign * float(body)


def parse_time(text: str) -> int:
    """A time or duration in the test format (``10m``, ``0``, ``-5s``), in milliseconds."""
    t = text.strip()
    neg = t.startswith("-")
    if neg:
        t = t[1:]
    try:
        ms = parse_duration_ms(t)
    except BadInput:
        seconds = float(t)  # ValueError for anything else
        if not math.isfinite(seconds):
            raise ValueError(f"not a finite time: {text.strip()}") from None
        ms = round(seconds * 1000)
    if ms > MAX_INT64:  # times are int64 milliseconds, as in Prometheus
        raise ValueError(f"time out of range: {text.strip()}")
    return -ms if neg else ms


def _split_series(text: str) -> tuple[str, str]:
    """Split ``metric{labels} points`` into the series part and the points part."""
    depth = 0
    quote = ""
    i = 0
    while i < len(text):
        c = text[i]
        if quote:
            if c == "\\":
                i += 2
                continue
            if c == quote:
                quote = ""
        elif c in "\"'`":
            quote = c
        elif c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
            if depth == 0:
                return text[: i + 1], text[i + 1 :]
        elif c.isspace() and depth == 0:
            return text[:i], text[i:]
        i += 1
    return text, ""


def parse_series_labels(text: str) -> Labels:
    """The label set written as a selector (``name{a="b"}`` or ``{a="b"}``)."""
    text = text.strip()
    if re.fullmatch(r"\{\s*\}", text):
        return ()
    node = pp.parse(text)
    if not isinstance(node, pp.VectorSelector):
        raise ValueError(f"not a series: {text}")
    pairs = {m.name: m.value for m in node.matchers.matchers}
    if node.name:
        pairs[METRIC_NAME] = node.name
    return labels_of(pairs)


def _tokens(points: str) -> list[str]:
    """Point tokens; a ``{{...}}`` histogram is one token."""
    out = []
    i = 0
    n = len(points)
    while i < n:
        if points[i].isspace():
            i += 1
            continue
        if points.startswith("{{", i):
            j = points.find("}}", i)
            j = n if j < 0 else j + 2
            while j < n and not points[j].isspace():  # "{{...}}x3" or "{{...}}+{{...}}x3"
                k = (
                    points.find("}}", j)
                    if points.startswith("{{", j) or points.startswith(("+{{", "-{{"), j)
                    else -1
                )
                j = k + 2 if k >= 0 else j + 1
            out.append(points[i:j])
            i = j
            continue
        j = i
        while j < n and not points[j].isspace():
            j += 1
        out.append(points[i:j])
        i = j
    return out


def parse_points(points: str) -> tuple[list[float | None], bool]:
    """Expand a points specification; also says whether it had histogram points."""
    values: list[float | None] = []
    histogram = "{{" in points
    for tok in _tokens(points):
        if histogram and ("{" in tok or "}" in tok or ":" in tok):
            # Parts of a native histogram sequence: not stored, the runner skips such cases.
            values.append(None)
            continue
        if tok.startswith("{{"):
            histogram = True
            values.append(None)
            continue
        if tok == "_":
            values.append(None)
            continue
        if tok == "stale":
            values.append(STALE_NAN)
            continue
        m = _BLANK_SEQ_RE.match(tok)
        if m:
            values.extend([None] * int(m.group(1)))
            continue
        m = _SEQ_RE.match(tok)
        if m:
            start = parse_number(m.group(1))
            delta = parse_number(m.group(3)) if m.group(3) else 0.0
            if m.group(2) == "-":
                delta = -delta
            v = start
            for _ in range(int(m.group(4)) + 1):
                values.append(v)
                v += delta
            continue
        values.append(parse_number(tok))
    return values, histogram


def parse_script(text: str, path: str = "<script>", *, strict: bool = False) -> list[Command]:
    """Read a whole test script.

    A command that cannot be read becomes ``Broken`` (or raises ``ScriptError`` when strict).
    """
    lines = text.splitlines()
    commands: list[Command] = []
    i = 0
    while i < len(lines):
        raw = lines[i]
        stripped = raw.strip()
        lineno = i + 1
        i += 1
        if not stripped or stripped.startswith("#"):
            continue
        if stripped == "clear":
            commands.append(Clear(lineno))
            continue
        body: list[tuple[int, str]] = []
        while i < len(lines):
            nxt = lines[i]
            s = nxt.strip()
            if not s:
                break
            # An unindented line starts a new command unless it is an expectation.
            if not nxt[:1].isspace() and re.match(r"^(load|clear|eval)", s):
                break
            if not s.startswith("#"):
                body.append((i + 1, s))
            i += 1
        try:
            commands.append(_command(stripped, lineno, body))
        except (ValueError, BadInput) as exc:
            if strict:
                raise ScriptError(path, lineno, str(exc)) from None
            commands.append(Broken(lineno, stripped, str(exc)))
    return commands


def _command(head: str, lineno: int, body: list[tuple[int, str]]) -> Command:
    if head.startswith("load"):
        parts = head.split()
        if len(parts) != 2 or parts[0] not in ("load", "load_with_nhcb"):
            raise ValueError(f"expected 'load <step>', got: {head}")
        step = parse_time(parts[1])
        series = []
        for _, s in body:
            sel, pts = _split_series(s)
            values, hist = parse_points(pts)
            series.append(SeriesPoints(parse_series_labels(sel), values, hist))
        last = max((len(p.values) for p in series), default=1) - 1
        if abs(step) * last > MAX_INT64:
            raise ValueError(f"load runs past int64 milliseconds: {head}")
        return Load(lineno, step, series, parts[0] == "load_with_nhcb")
    m = _EVAL_INSTANT_RE.match(head)
    if m:
        ev = Eval(lineno, m.group(3).strip(), True, time_ms=parse_time(m.group(2)))
        legacy = m.group(1)
    else:
        m = _EVAL_RANGE_RE.match(head)
        if not m:
            raise ValueError(f"unknown command: {head}")
        ev = Eval(
            lineno,
            m.group(5).strip(),
            False,
            start_ms=parse_time(m.group(2)),
            end_ms=parse_time(m.group(3)),
            step_ms=parse_time(m.group(4)),
        )
        legacy = m.group(1)
    if legacy:
        ev.expects.append(Expect(legacy))
    for _, s in body:
        _eval_line(ev, s)
    return ev


def _eval_line(ev: Eval, s: str) -> None:
    if s.startswith("expected_fail_message"):
        ev.expects = [e for e in ev.expects if e.kind != "fail"]
        ev.expects.append(Expect("fail", "msg", s[len("expected_fail_message") :].strip()))
        return
    if s.startswith("expected_fail_regexp"):
        ev.expects = [e for e in ev.expects if e.kind != "fail"]
        ev.expects.append(Expect("fail", "regex", s[len("expected_fail_regexp") :].strip()))
        return
    m = _RANGE_VECTOR_RE.match(s)
    if m:
        ev.range_vector = (parse_time(m.group(1)), parse_time(m.group(2)), parse_time(m.group(3)))
        return
    if s.startswith("expect string"):
        rest = s[len("expect string") :].strip()
        ev.string = _unquote(rest)
        return
    m = _EXPECT_RE.match(s)
    if m:
        text = (m.group(3) or "").strip()
        if m.group(2) and len(text) >= 2 and text[0] == text[-1] == '"':
            text = text[1:-1]
        ev.expects.append(Expect(m.group(1), m.group(2) or "", text))
        return
    if s.startswith(('"', "'", "`")):
        ev.string = _unquote(s)
        return
    sel, pts = _split_series(s)
    if not pts.strip():
        try:
            ev.scalar = parse_number(sel)
            return
        except ValueError:
            pass
    values, hist = parse_points(pts)
    ev.has_histogram |= hist
    ev.series.append(SeriesPoints(parse_series_labels(sel), values, hist))


def _unquote(text: str) -> str:
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "\"'`":
        body = text[1:-1]
        if text[0] == "`":
            return body
        return bytes(body, "utf-8").decode("unicode_escape").encode("latin-1").decode("utf-8")
    return text


__all__ = [
    "Broken",
    "Clear",
    "Command",
    "Eval",
    "Expect",
    "Load",
    "ScriptError",
    "SeriesPoints",
    "parse_number",
    "parse_points",
    "parse_script",
    "parse_series_labels",
    "parse_time",
]
